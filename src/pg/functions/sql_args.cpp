#include <string>

#include "pg/functions/sql_args.h"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "access/htup_details.h"
#include "utils/lsyscache.h"
}

std::optional<std::string> dwu_text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const char* data = nullptr;
    int len = 0;
    pg_guarded([&] {
        text* t = PG_GETARG_TEXT_PP(n);
        data = VARDATA_ANY(t);
        len = VARSIZE_ANY_EXHDR(t);
    });
    return std::string(data, len);
}

std::string dwu_required_text(FunctionCallInfo fcinfo, int n, const char* name) {
    std::optional<std::string> v = dwu_text_arg(fcinfo, n);
    if (!v) throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(name) + " must not be NULL");
    return *v;
}

std::string dwu_code_arg(FunctionCallInfo fcinfo, int n, const char* name) {
    std::string v = dwu_required_text(fcinfo, n, name);
    bool digits = !v.empty() && v.size() <= 18;
    for (char c : v) digits = digits && c >= '0' && c <= '9';
    if (!digits)
        throw SqlStateError(ERRCODE_INVALID_PARAMETER_VALUE, std::string(name) +
                                                                 " must be a Dinamize code (1 to 18 digits), not \"" +
                                                                 v.substr(0, 40) + (v.size() > 40 ? "...\"" : "\""));
    return v;
}

nlohmann::json dwu_jsonb_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return nlohmann::json();
    char* text = nullptr;
    pg_guarded([&] {
        Jsonb* jb = PG_GETARG_JSONB_P(n);
        text = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
    });
    return nlohmann::json::parse(text);  // PostgreSQL wrote it: valid JSON
}

std::optional<long> dwu_int_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return PG_GETARG_INT32(n);
}

std::optional<bool> dwu_bool_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return PG_GETARG_BOOL(n);
}

std::optional<std::vector<long long>> dwu_int_array_arg(FunctionCallInfo fcinfo, int n, const char* name) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    Oid type = InvalidOid;
    pg_guarded([&] {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(n);
        type = ARR_ELEMTYPE(a);
        int16 len;
        bool byval;
        char align;
        get_typlenbyvalalign(type, &len, &byval, &align);
        deconstruct_array(a, type, len, byval, align, &elems, &nulls, &count);
    });
    std::vector<long long> out;
    out.reserve(count);
    for (int i = 0; i < count; i++) {
        if (nulls[i])
            throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(name) + " must not hold NULL elements");
        out.push_back(type == INT8OID ? DatumGetInt64(elems[i]) : DatumGetInt32(elems[i]));
    }
    return out;
}

Datum dwu_jsonb_datum(const std::string& json_text) {
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(json_text.c_str()));
}

Datum dwu_text_datum(const std::string& s) { return PointerGetDatum(cstring_to_text_with_len(s.data(), s.size())); }

SrfResult::SrfResult(FunctionCallInfo fcinfo) : store_(nullptr), desc_(nullptr) {
    void* store = nullptr;
    void* desc = nullptr;
    pg_guarded([&] {
        InitMaterializedSRF(fcinfo, 0);
        auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
        store = rsinfo->setResult;
        desc = rsinfo->setDesc;
    });
    store_ = store;
    desc_ = desc;
}

SrfResult::Value SrfResult::text(const std::optional<std::string>& v) {
    Value out;
    if (v) {
        out.kind = Value::Text;
        out.text = *v;
    }
    return out;
}

SrfResult::Value SrfResult::json(const std::string& json_text) {
    Value out;
    out.kind = Value::Json;
    out.text = json_text;
    return out;
}

SrfResult::Value SrfResult::boolean(const std::optional<bool>& v) {
    Value out;
    if (v) {
        out.kind = Value::Bool;
        out.flag = *v;
    }
    return out;
}

SrfResult::Value SrfResult::integer(const std::optional<long long>& v) {
    Value out;
    if (v) {
        out.kind = Value::Int;
        out.number = *v;
    }
    return out;
}

namespace {

// Plain C under pg_guarded: Datums of `values` for `desc` (palloc'd arrays).
void to_datums(TupleDesc desc, const SrfResult::Value* values, Datum* d, bool* isnull) {
    for (int i = 0; i < desc->natts; i++) {
        const SrfResult::Value& v = values[i];
        const Oid type = TupleDescAttr(desc, i)->atttypid;
        switch (v.kind) {
            case SrfResult::Value::Null:
                isnull[i] = true;
                break;
            case SrfResult::Value::Text:
                d[i] = dwu_text_datum(v.text);
                break;
            case SrfResult::Value::Json:
                d[i] = dwu_jsonb_datum(v.text);
                break;
            case SrfResult::Value::Bool:
                d[i] = BoolGetDatum(v.flag);
                break;
            case SrfResult::Value::Int:
                d[i] = type == INT8OID ? Int64GetDatum(v.number) : Int32GetDatum(static_cast<int32>(v.number));
                break;
        }
    }
}

void check_width(TupleDesc desc, size_t values) {
    if (static_cast<int>(values) != desc->natts)
        throw std::logic_error("a row of " + std::to_string(values) + " values for a result of " +
                               std::to_string(desc->natts) + " columns");
}

}  // namespace

void SrfResult::add_row(const std::vector<Value>& row) {
    auto* desc = static_cast<TupleDesc>(desc_);
    check_width(desc, row.size());
    const Value* values = row.data();
    pg_guarded([&] {
        Datum* d = static_cast<Datum*>(palloc0(sizeof(Datum) * desc->natts));
        bool* isnull = static_cast<bool*>(palloc0(sizeof(bool) * desc->natts));
        to_datums(desc, values, d, isnull);
        tuplestore_putvalues(static_cast<Tuplestorestate*>(store_), desc, d, isnull);
        pfree(d);
        pfree(isnull);
    });
}

Datum dwu_row_datum(FunctionCallInfo fcinfo, const std::vector<SrfResult::Value>& row) {
    TupleDesc desc = nullptr;
    pg_guarded([&] {
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "dwu_crm: function returning a row called in a context that cannot accept one");
        desc = BlessTupleDesc(desc);
    });
    check_width(desc, row.size());
    const SrfResult::Value* values = row.data();
    Datum result = 0;
    pg_guarded([&] {
        Datum* d = static_cast<Datum*>(palloc0(sizeof(Datum) * desc->natts));
        bool* isnull = static_cast<bool*>(palloc0(sizeof(bool) * desc->natts));
        to_datums(desc, values, d, isnull);
        result = HeapTupleGetDatum(heap_form_tuple(desc, d, isnull));
    });
    return result;
}
