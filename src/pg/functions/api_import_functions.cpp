// The bulk import from SQL (reference §6): dinamize_import_leads sends CRM leads to a list in one
// multipart request (one call against the 60/min budget); dinamize_import_status reports on it.
#include <optional>
#include <string>
#include <vector>

#include "core/dinamize/api_rows.h"
#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_import.h"
#include "pg/accounts/sql_session.h"
#include "pg/cpp_boundary.h"
#include "pg/settings.h"
#include "pg/functions/sql_args.h"

extern "C" {
#include "utils/array.h"
}

namespace {

using V = SrfResult;  // V::text(...), V::json(...): the cell factories

constexpr size_t kMaxImportLeads = 100000;

const char* const kReadLeads =
    "SELECT l.dwu_id, to_jsonb(l)::text FROM dwu_crm.crm_leads l WHERE l.dwu_id = ANY($1) ORDER BY l.dwu_id";

// Leads read under pg_guarded, copied out of SPI memory (plain C).
struct LeadRows {
    int count;
    int64* ids;
    char** json;
};

void read_leads(const long long* ids, int n, LeadRows* out) {
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
    for (int i = 0; i < n; i++) elems[i] = Int64GetDatum(ids[i]);
    ArrayType* array = construct_array(elems, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    Oid types[1] = {INT8ARRAYOID};
    Datum values[1] = {PointerGetDatum(array)};
    if (SPI_execute_with_args(kReadLeads, 1, types, values, nullptr, true, 0) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: reading the leads failed");
    out->count = static_cast<int>(SPI_processed);
    out->ids = static_cast<int64*>(SPI_palloc(sizeof(int64) * (out->count + 1)));
    out->json = static_cast<char**>(SPI_palloc(sizeof(char*) * (out->count + 1)));
    for (int i = 0; i < out->count; i++) {
        bool isnull = false;
        HeapTuple t = SPI_tuptable->vals[i];
        out->ids[i] = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
        char* j = SPI_getvalue(t, SPI_tuptable->tupdesc, 2);
        out->json[i] = static_cast<char*>(SPI_palloc(strlen(j) + 1));
        strcpy(out->json[i], j);
    }
    SPI_finish();
}

// dinamize_import_leads(list_code, leads bigint[], account) -> the import code
Datum import_leads(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    std::optional<std::vector<long long>> ids = dwu_int_array_arg(fcinfo, 1, "leads");
    if (!ids) throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "leads must not be NULL");
    if (ids->empty()) throw SqlStateError(ERRCODE_INVALID_PARAMETER_VALUE, "leads must hold at least one lead id");
    if (ids->size() > kMaxImportLeads)
        throw SqlStateError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                            "at most " + std::to_string(kMaxImportLeads) + " leads per import",
                            "Split the leads into several imports.");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 2);
    const dwu::FieldMap field_map = dwu::parse_field_map(dwu_field_map ? dwu_field_map : "");

    LeadRows rows{0, nullptr, nullptr};
    const long long* id_data = ids->data();
    const int id_count = static_cast<int>(ids->size());
    pg_guarded([&] { read_leads(id_data, id_count, &rows); });
    std::vector<nlohmann::json> leads;
    for (int i = 0; i < rows.count; i++) leads.push_back(nlohmann::json::parse(rows.json[i]));
    for (long long id : *ids) {
        bool found = false;
        for (int i = 0; i < rows.count && !found; i++) found = rows.ids[i] == id;
        if (!found)
            throw SqlStateError(ERRCODE_NO_DATA_FOUND, "lead " + std::to_string(id) + " does not exist",
                                "The leads are dwu_crm.crm_leads.dwu_id values.");
    }
    const dwu::ContactImport im = dwu::rows::import_from_leads(list, leads, field_map);
    dwu::import_csv(im);  // validated before the account is looked up
    std::string code;
    with_account_client(account, [&](dwu::DinamizeClient& client) { code = dwu::import_contacts(client, im); });
    Datum result = 0;
    pg_guarded([&] { result = dwu_text_datum(code); });
    return result;
}

// dinamize_import_status(import_code, account) -> status, errors, report
Datum import_status(FunctionCallInfo fcinfo) {
    const std::string code = dwu_code_arg(fcinfo, 0, "import_code");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 1);
    dwu::ImportStatus st;
    with_account_client(account, [&](dwu::DinamizeClient& client) { st = dwu::get_import(client, code); });
    return dwu_row_datum(
        fcinfo, {V::text(dwu::rows::text_cell(st.body, "Status")), V::integer(st.errors), V::json(st.body.dump())});
}

}  // namespace

DWU_SQL_FUNCTION(dwu_crm_dinamize_import_leads, import_leads)
DWU_SQL_FUNCTION(dwu_crm_dinamize_import_status, import_status)
