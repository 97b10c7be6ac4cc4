#include "pg/accounts/account_store.h"

#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/spi_values.h"

namespace dwu_accounts {
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

const char* const kNextTokenId = "SELECT nextval(pg_get_serial_sequence('dwu_crm.crm_auth_tokens', 'dwu_id'))";

// A new token replaces the account's others; Dinamize's rules: 1 h idle, 24 h at most.
const char* const kStoreToken = R"SQL(
WITH retired AS (
    UPDATE dwu_crm.crm_auth_tokens SET dwu_active = false, dwu_token = ''::bytea
     WHERE dwu_account_id = $2 AND dwu_id <> $1 AND (dwu_active OR length(dwu_token) > 0)
)
INSERT INTO dwu_crm.crm_auth_tokens
       (dwu_id, dwu_account_id, dwu_config_version, dwu_token_type, dwu_token, dwu_api_endpoint,
        dwu_issued_at, dwu_last_used_at, dwu_expires_at)
SELECT $1, $2, $3, 'SESSION', $4, a.dwu_base_url, to_timestamp($5 / 1000.0), to_timestamp($6 / 1000.0),
       least(to_timestamp($5 / 1000.0) + interval '24 hours', to_timestamp($6 / 1000.0) + interval '1 hour')
  FROM dwu_crm.crm_dinamize_accounts a WHERE a.dwu_id = $2
)SQL";

const char* const kTouchToken = R"SQL(
UPDATE dwu_crm.crm_auth_tokens
   SET dwu_last_used_at = to_timestamp($2 / 1000.0),
       dwu_expires_at = least(dwu_issued_at + interval '24 hours', to_timestamp($2 / 1000.0) + interval '1 hour')
 WHERE dwu_id = $1 AND dwu_active
)SQL";

const char* const kReplacePassword =
    "UPDATE dwu_crm.crm_dinamize_accounts SET dwu_password = $3 WHERE dwu_id = $1 AND dwu_password = $2";

// The row as the step copies it: plain C, in store_cxt (reset by each load).
struct AccountRow {
    bool found;
    int64 id;
    bool enabled;
    int32 config_version;
    char *name, *base_url, *user, *client_code, *list_code;
    bytea* password;
    int64 token_id;
    bytea* token;
    int64 issued_ms, last_used_ms;
};

MemoryContext store_cxt = nullptr;

struct LoadArgs {
    int64 id;
    const char* name;  // nullptr: the default account (when id is 0)
    AccountRow row;
};

void load_step(void* p) {
    auto* a = static_cast<LoadArgs*>(p);
    AccountRow* row = &a->row;
    memset(row, 0, sizeof *row);
    if (!store_cxt) store_cxt = AllocSetContextCreate(TopMemoryContext, "dwu_crm accounts", ALLOCSET_SMALL_SIZES);
    MemoryContextReset(store_cxt);
    Oid types[2] = {INT8OID, TEXTOID};
    Datum values[2] = {Int64GetDatum(a->id), a->name ? CStringGetTextDatum(a->name) : (Datum)0};
    const char nulls[3] = {a->id > 0 ? ' ' : 'n', a->name && a->id <= 0 ? ' ' : 'n', '\0'};
    if (SPI_execute_with_args(kReadAccount, 2, types, values, nulls, true, 1) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: reading the Dinamize account failed");
    if (SPI_processed != 1) return;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    row->found = true;
    row->id = dwu_spi_int(t, d, 1);
    row->enabled = dwu_spi_int(t, d, 2) != 0;
    row->config_version = static_cast<int32>(dwu_spi_int(t, d, 3));
    row->name = dwu_spi_text(t, d, 4, store_cxt);
    row->base_url = dwu_spi_text(t, d, 5, store_cxt);
    row->user = dwu_spi_text(t, d, 6, store_cxt);
    row->client_code = dwu_spi_text(t, d, 7, store_cxt);
    row->list_code = dwu_spi_text(t, d, 8, store_cxt);
    row->password = dwu_spi_bytea(t, d, 9, store_cxt);
    row->token_id = dwu_spi_int(t, d, 10);
    row->token = dwu_spi_bytea(t, d, 11, store_cxt);
    row->issued_ms = dwu_spi_int(t, d, 12);
    row->last_used_ms = dwu_spi_int(t, d, 13);
}

void next_token_id_step(void* p) {
    if (SPI_execute(kNextTokenId, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dwu_crm: nextval failed");
    *static_cast<int64*>(p) = dwu_spi_int(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

struct TokenArgs {
    int64 token_id, account_id;
    int32 config_version;
    const char* blob;  // null: only record the last use
    size_t blob_len;
    int64 issued_ms, last_used_ms;
};

void save_token_step(void* p) {
    auto* a = static_cast<TokenArgs*>(p);
    if (a->blob) {
        Oid types[6] = {INT8OID, INT8OID, INT4OID, BYTEAOID, INT8OID, INT8OID};
        Datum values[6] = {Int64GetDatum(a->token_id),       Int64GetDatum(a->account_id),
                           Int32GetDatum(a->config_version), PointerGetDatum(dwu_make_bytea(a->blob, a->blob_len)),
                           Int64GetDatum(a->issued_ms),      Int64GetDatum(a->last_used_ms)};
        if (SPI_execute_with_args(kStoreToken, 6, types, values, nullptr, false, 0) != SPI_OK_INSERT)
            elog(ERROR, "dwu_crm: storing the token failed");
    } else {
        Oid types[2] = {INT8OID, INT8OID};
        Datum values[2] = {Int64GetDatum(a->token_id), Int64GetDatum(a->last_used_ms)};
        if (SPI_execute_with_args(kTouchToken, 2, types, values, nullptr, false, 0) != SPI_OK_UPDATE)
            elog(ERROR, "dwu_crm: updating the token failed");
    }
}

struct ReplaceArgs {
    int64 account_id;
    const std::string* old_blob;
    const std::string* new_blob;
};

void replace_password_step(void* p) {
    auto* a = static_cast<ReplaceArgs*>(p);
    Oid types[3] = {INT8OID, BYTEAOID, BYTEAOID};
    Datum values[3] = {Int64GetDatum(a->account_id),
                       PointerGetDatum(dwu_make_bytea(a->old_blob->data(), a->old_blob->size())),
                       PointerGetDatum(dwu_make_bytea(a->new_blob->data(), a->new_blob->size()))};
    if (SPI_execute_with_args(kReplacePassword, 3, types, values, nullptr, false, 0) != SPI_OK_UPDATE)
        elog(ERROR, "dwu_crm: re-sealing the password failed");
}

void connected_step(void (*step)(void*), void* arg) {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "dwu_crm: SPI_connect failed");
    step(arg);
    SPI_finish();
}

}  // namespace

bool run_in_callers_transaction(const char*, void (*step)(void*), void* arg) {
    pg_guarded([step, arg] { connected_step(step, arg); });
    return true;
}

bool load_account(StepRunner run, long long id, const std::optional<std::string>& name, StoredAccount& out) {
    LoadArgs a{};
    a.id = id;
    a.name = name ? name->c_str() : nullptr;
    out = StoredAccount{};
    if (!run("dwu_crm: loading a Dinamize account", load_step, &a)) return false;
    const AccountRow& r = a.row;
    out.found = r.found;
    if (!r.found) return true;
    out.enabled = r.enabled;
    out.id = r.id;
    out.config_version = r.config_version;
    out.name = dwu_or_empty(r.name);
    out.base_url = dwu_or_empty(r.base_url);
    out.user = dwu_or_empty(r.user);
    out.client_code = dwu_or_empty(r.client_code);
    out.list_code = dwu_or_empty(r.list_code);
    out.password_blob = dwu_bytes_of(r.password);
    out.token_id = r.token ? r.token_id : 0;
    out.token_blob = dwu_bytes_of(r.token);
    out.token_issued_ms = r.issued_ms;
    out.token_last_used_ms = r.last_used_ms;
    return true;
}

bool reserve_token_id(StepRunner run, long long& id) {
    int64 v = 0;
    if (!run("dwu_crm: reserving a token id", next_token_id_step, &v)) return false;
    id = v;
    return true;
}

bool store_token(StepRunner run, long long token_id, long long account_id, int config_version, const std::string& blob,
                 long long issued_ms, long long last_used_ms) {
    TokenArgs a{token_id, account_id, config_version, blob.data(), blob.size(), issued_ms, last_used_ms};
    return run("dwu_crm: storing a token", save_token_step, &a);
}

bool touch_token(StepRunner run, long long token_id, long long last_used_ms) {
    TokenArgs a{token_id, 0, 0, nullptr, 0, 0, last_used_ms};
    return run("dwu_crm: recording token use", save_token_step, &a);
}

bool replace_password(StepRunner run, long long account_id, const std::string& old_blob, const std::string& new_blob) {
    ReplaceArgs a{account_id, &old_blob, &new_blob};
    return run("dwu_crm: re-sealing an account password", replace_password_step, &a);
}

}  // namespace dwu_accounts
