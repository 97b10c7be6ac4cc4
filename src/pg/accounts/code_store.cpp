#include "pg/accounts/code_store.h"

#include "pg/pg_headers.h"
#include "pg/spi_values.h"

namespace dwu_accounts {
namespace {

const char* const kVersion =
    "SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM dwu_crm.crm_response_codes";
const char* const kCodes = R"SQL(
SELECT code, meaning, category, retry, relogin, duplicate, not_found FROM dwu_crm.response_codes_of($1)
)SQL";

// A table of a few dozen rows, but bounded all the same: what an admin inserted is data too.
constexpr uint64 kMaxCodes = 1000;

struct CodeRow {
    char *code, *meaning, *category;
    bool retry, relogin, duplicate, not_found;
};

MemoryContext codes_cxt = nullptr;

struct CodesArgs {
    int64 account_id;
    CodeRow* rows;
    uint64 count;
    char* version;
};

void reset_cxt() {
    if (!codes_cxt) codes_cxt = AllocSetContextCreate(TopMemoryContext, "dwu_crm response codes", ALLOCSET_SMALL_SIZES);
    MemoryContextReset(codes_cxt);
}

void version_step(void* p) {
    auto* a = static_cast<CodesArgs*>(p);
    reset_cxt();
    if (SPI_execute(kVersion, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dwu_crm: reading the version of crm_response_codes failed");
    a->version = dwu_spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, codes_cxt);
}

void codes_step(void* p) {
    auto* a = static_cast<CodesArgs*>(p);
    reset_cxt();
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(a->account_id)};
    if (SPI_execute_with_args(kCodes, 1, types, values, nullptr, true, kMaxCodes) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: reading the response codes failed");
    a->count = SPI_processed;
    a->rows = static_cast<CodeRow*>(MemoryContextAllocZero(codes_cxt, sizeof(CodeRow) * (a->count + 1)));
    for (uint64 i = 0; i < a->count; ++i) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        CodeRow& r = a->rows[i];
        r.code = dwu_spi_text(t, d, 1, codes_cxt);
        r.meaning = dwu_spi_text(t, d, 2, codes_cxt);
        r.category = dwu_spi_text(t, d, 3, codes_cxt);
        r.retry = dwu_spi_int(t, d, 4) != 0;
        r.relogin = dwu_spi_int(t, d, 5) != 0;
        r.duplicate = dwu_spi_int(t, d, 6) != 0;
        r.not_found = dwu_spi_int(t, d, 7) != 0;
    }
}

}  // namespace

bool load_codes_version(StepRunner run, std::string& version) {
    CodesArgs a{};
    if (!run("dwu_crm: reading the response codes' version", version_step, &a)) return false;
    version = dwu_or_empty(a.version);
    return true;
}

bool load_codes(StepRunner run, long long account_id, std::vector<StoredCode>& out) {
    CodesArgs a{};
    a.account_id = account_id;
    out.clear();
    if (!run("dwu_crm: reading the response codes", codes_step, &a)) return false;
    for (uint64 i = 0; i < a.count; ++i) {
        const CodeRow& r = a.rows[i];
        out.push_back({dwu_or_empty(r.code), dwu_or_empty(r.meaning), dwu_or_empty(r.category), r.retry, r.relogin,
                       r.duplicate, r.not_found});
    }
    return true;
}

}  // namespace dwu_accounts
