#include "pg/accounts/account_row.h"

namespace {

const char* const kReadAccount = R"SQL(
SELECT a.dwu_id, a.dwu_enabled, a.dwu_config_version, a.dwu_name, a.dwu_base_url, a.dwu_user, a.dwu_client_code,
       a.dwu_list_code, a.dwu_password, t.dwu_id, t.dwu_token,
       (extract(epoch FROM t.dwu_issued_at) * 1000)::bigint, (extract(epoch FROM t.dwu_last_used_at) * 1000)::bigint
  FROM dwu_crm.crm_dinamize_accounts a
  LEFT JOIN LATERAL (SELECT * FROM dwu_crm.crm_auth_tokens t
                      WHERE t.dwu_account_id = a.dwu_id AND t.dwu_active AND length(t.dwu_token) > 0
                        AND t.dwu_config_version = a.dwu_config_version AND t.dwu_expires_at > now()
                      ORDER BY t.dwu_id DESC LIMIT 1) t ON true
 WHERE a.dwu_removed_at IS NULL
   AND CASE WHEN $1 IS NOT NULL THEN a.dwu_id = $1
            WHEN $2 IS NULL THEN a.dwu_is_default
            ELSE a.dwu_name = $2 END
)SQL";

char* copy_text(HeapTuple t, TupleDesc d, int col, MemoryContext into) {
    char* v = SPI_getvalue(t, d, col);
    return v ? MemoryContextStrdup(into, v) : nullptr;
}

bytea* copy_bytea(HeapTuple t, TupleDesc d, int col, MemoryContext into) {
    bool isnull = false;
    Datum v = SPI_getbinval(t, d, col, &isnull);
    if (isnull) return nullptr;
    bytea* b = DatumGetByteaPP(v);
    bytea* out = static_cast<bytea*>(MemoryContextAlloc(into, VARSIZE_ANY(b)));
    memcpy(out, b, VARSIZE_ANY(b));
    return out;
}

int64 int_value(HeapTuple t, TupleDesc d, int col) {
    bool isnull = false;
    Datum v = SPI_getbinval(t, d, col, &isnull);
    if (isnull) return 0;
    switch (SPI_gettypeid(d, col)) {
        case INT8OID:
            return DatumGetInt64(v);
        case BOOLOID:
            return DatumGetBool(v);
        default:
            return DatumGetInt32(v);
    }
}

}  // namespace

void dwu_read_account_row(int64 id, const char* name, AccountRow* row, MemoryContext into) {
    memset(row, 0, sizeof *row);
    Oid types[2] = {INT8OID, TEXTOID};
    Datum values[2] = {Int64GetDatum(id), name ? CStringGetTextDatum(name) : (Datum)0};
    const char nulls[3] = {id > 0 ? ' ' : 'n', name && id <= 0 ? ' ' : 'n', '\0'};
    if (SPI_execute_with_args(kReadAccount, 2, types, values, nulls, true, 1) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: reading the Dinamize account failed");
    if (SPI_processed != 1) return;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    row->found = true;
    row->id = int_value(t, d, 1);
    row->enabled = int_value(t, d, 2) != 0;
    row->config_version = static_cast<int32>(int_value(t, d, 3));
    row->name = copy_text(t, d, 4, into);
    row->base_url = copy_text(t, d, 5, into);
    row->user = copy_text(t, d, 6, into);
    row->client_code = copy_text(t, d, 7, into);
    row->list_code = copy_text(t, d, 8, into);
    row->password = copy_bytea(t, d, 9, into);
    row->token_id = int_value(t, d, 10);
    row->token = copy_bytea(t, d, 11, into);
    row->issued_ms = int_value(t, d, 12);
    row->last_used_ms = int_value(t, d, 13);
}
