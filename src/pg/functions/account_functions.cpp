// dinamize_configure() and rotate_encryption_key(): the only code that writes Dinamize secrets.
// Secrets are sealed in C++ (secret_box) and reach SQL only as ciphertext, through parameters.
#include <nlohmann/json.hpp>  // before any PostgreSQL header (sql_args.h): PG macros break it

#include <optional>
#include <string>
#include <vector>

#include "core/crypto/account_secrets.h"
#include "core/crypto/secret_box.h"
#include "core/dinamize/account_fields.h"
#include "core/dinamize/host_policy.h"
#include "pg/accounts/sql_session.h"
#include "pg/cpp_boundary.h"
#include "pg/functions/sql_args.h"
#include "pg/accounts/key_ring.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/shared_state.h"
#include "pg/spi_values.h"

namespace {

int64 first_int8(void) {
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? 0 : DatumGetInt64(d);
}

const char* const kFindAccount =
    "SELECT dwu_id, dwu_base_url, dwu_user, dwu_client_code FROM dwu_crm.crm_dinamize_accounts "
    "WHERE dwu_name = $1 FOR UPDATE";
const char* const kNextAccountId = "SELECT nextval(pg_get_serial_sequence('dwu_crm.crm_dinamize_accounts', 'dwu_id'))";
const char* const kInsertAccount = R"SQL(
INSERT INTO dwu_crm.crm_dinamize_accounts
       (dwu_id, dwu_name, dwu_base_url, dwu_user, dwu_client_code, dwu_list_code, dwu_password, dwu_is_default)
VALUES ($1, $2, $3, $4, $5, $6, $7,
        NOT EXISTS (SELECT 1 FROM dwu_crm.crm_dinamize_accounts WHERE dwu_is_default))
)SQL";
// Any change bumps the version: the worker drops its session and the old tokens are revoked.
const char* const kUpdateAccount = R"SQL(
UPDATE dwu_crm.crm_dinamize_accounts
   SET dwu_base_url = $3, dwu_user = $4, dwu_client_code = $5, dwu_list_code = $6,
       dwu_password = coalesce($7, dwu_password),
       dwu_config_version = dwu_config_version + 1,
       dwu_enabled = true, dwu_removed_at = NULL, updated_at = now()
 WHERE dwu_id = $1 AND dwu_name = $2
)SQL";
const char* const kRevokeTokens = R"SQL(
UPDATE dwu_crm.crm_auth_tokens SET dwu_active = false, dwu_token = ''::bytea
 WHERE dwu_account_id = $1 AND (dwu_active OR length(dwu_token) > 0)
)SQL";
const char* const kClearDefault =
    "UPDATE dwu_crm.crm_dinamize_accounts SET dwu_is_default = false WHERE dwu_is_default AND dwu_id <> $1";
const char* const kSetDefault = "UPDATE dwu_crm.crm_dinamize_accounts SET dwu_is_default = $2 WHERE dwu_id = $1";
const char* const kAudit = R"SQL(
INSERT INTO dwu_crm.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes)
VALUES ('CONFIGURE', 'dinamize_account', $1,
        jsonb_build_object('name', $2::text, 'base_url', $3::text, 'user', $4::text, 'client_code', $5::text,
                           'list_code', $6::text, 'password_changed', $7::boolean, 'by', session_user))
)SQL";

void exec(const char* sql, int nargs, Oid* types, Datum* values, const char* nulls, int expected) {
    int rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
    if (rc != expected) elog(ERROR, "dwu_crm: SPI returned %d for an account statement", rc);
}

Datum configure(FunctionCallInfo fcinfo) {
    dwu::AccountFields f;
    f.name = dwu_required_text(fcinfo, 0, "account_name");
    f.base_url = dwu_required_text(fcinfo, 1, "base_url");
    f.user = dwu_required_text(fcinfo, 2, "user_name");
    std::optional<std::string> password = dwu_text_arg(fcinfo, 3);
    f.client_code = dwu_required_text(fcinfo, 4, "client_code");
    f.list_code = dwu_required_text(fcinfo, 5, "list_code");
    const bool default_given = !PG_ARGISNULL(6);
    const bool make_default = default_given && PG_GETARG_BOOL(6);
    try {
        dwu::validate_account_fields(f);
        if (password) dwu::validate_password(*password);
    } catch (const std::invalid_argument& e) {
        if (password) dwu::wipe(*password);
        throw SqlStateError(ERRCODE_INVALID_PARAMETER_VALUE, e.what(),
                            "dinamize_configure(account_name, base_url, user_name, password, client_code, "
                            "list_code [, make_default])");
    }
    // The key first: with no usable key, nothing is written.
    const dwu::KeyRing ring = dwu_load_key_ring();

    int64 id = 0;
    bool exists = false;
    char* stored[3] = {nullptr, nullptr, nullptr};  // base URL, user, client code, in the caller's context
    MemoryContext caller = CurrentMemoryContext;    // SPI's own goes at SPI_finish
    pg_guarded([&] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        Oid types[1] = {TEXTOID};
        Datum values[1] = {CStringGetTextDatum(f.name.c_str())};
        exec(kFindAccount, 1, types, values, nullptr, SPI_OK_SELECT);
        exists = SPI_processed > 0;
        if (exists) {
            id = first_int8();
            for (int i = 0; i < 3; i++)
                stored[i] = dwu_spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 2, caller);
        } else {
            exec(kNextAccountId, 0, nullptr, nullptr, nullptr, SPI_OK_SELECT);
            id = first_int8();
        }
    });
    if (!exists && !password)
        throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "password is required for a new account",
                            "Pass NULL as the password only to change other settings of an existing account.");
    // The stored password is bound to where it is sent (account_secrets.h): it is never re-sent
    // to a host, user or client code it was not given for.
    if (exists && !password &&
        (f.base_url != dwu_or_empty(stored[0]) || f.user != dwu_or_empty(stored[1]) ||
         f.client_code != dwu_or_empty(stored[2])))
        throw SqlStateError(
            ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "password is required to change the base URL, user or client code of account \"" + f.name + "\"",
            "Pass the password again: a stored password is only ever sent where it was given for.");
    const std::string refused = dwu::HostPolicy::parse(dwu_allowed_hosts ? dwu_allowed_hosts : "").refusal(f.base_url);
    if (!refused.empty()) {
        if (password) dwu::wipe(*password);
        throw SqlStateError(ERRCODE_INVALID_PARAMETER_VALUE, "base URL refused: " + refused,
                            "A superuser decides which hosts may be called: dwu_crm.allowed_hosts.");
    }
    std::string blob;
    if (password) {
        blob = dwu::seal_account_password(ring, *password, dwu::PasswordBinding{id, f.base_url, f.user, f.client_code});
        dwu::wipe(*password);
    }

    pg_guarded([&] {
        Oid types[7] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID};
        Datum values[7] = {Int64GetDatum(id),
                           CStringGetTextDatum(f.name.c_str()),
                           CStringGetTextDatum(f.base_url.c_str()),
                           CStringGetTextDatum(f.user.c_str()),
                           CStringGetTextDatum(f.client_code.c_str()),
                           CStringGetTextDatum(f.list_code.c_str()),
                           blob.empty() ? (Datum)0 : PointerGetDatum(dwu_make_bytea(blob.data(), blob.size()))};
        char nulls[8] = "       ";
        if (blob.empty()) nulls[6] = 'n';
        exec(exists ? kUpdateAccount : kInsertAccount, 7, types, values, nulls, exists ? SPI_OK_UPDATE : SPI_OK_INSERT);
        if (exists) exec(kRevokeTokens, 1, types, values, nullptr, SPI_OK_UPDATE);
        if (default_given) {
            Oid dtypes[2] = {INT8OID, BOOLOID};
            Datum dvalues[2] = {Int64GetDatum(id), BoolGetDatum(make_default)};
            if (make_default) exec(kClearDefault, 1, dtypes, dvalues, nullptr, SPI_OK_UPDATE);
            exec(kSetDefault, 2, dtypes, dvalues, nullptr, SPI_OK_UPDATE);
        }
        values[6] = BoolGetDatum(!blob.empty());
        types[6] = BOOLOID;
        exec(kAudit, 7, types, values, nullptr, SPI_OK_INSERT);
        SPI_finish();
        dwu_wake_worker_at_commit();  // the worker picks up the new settings at once
    });
    if (exists) {
        // Shared tokens are kept per client code, base URL and user: both the old and the new.
        forget_shared_token(dwu_or_empty(stored[2]), dwu_or_empty(stored[0]), dwu_or_empty(stored[1]));
        forget_shared_token(f.client_code, f.base_url, f.user);
    } else {
        // Five response codes are not published: the probe learns them (opt-in, a few requests).
        const std::string hint =
            "To learn the response codes Dinamize does not publish, run SELECT * FROM "
            "dwu_crm.dinamize_probe_codes('" +
            f.name +
            "') (harmless requests, counted "
            "against the rate limit).";
        pg_guarded([&] {
            ereport(NOTICE,
                    (errmsg("Dinamize account \"%s\" configured", f.name.c_str()), errhint("%s", hint.c_str())));
        });
    }
    return Int64GetDatum(id);
}

// Rows holding a sealed secret, copied out of SPI memory (plain C, safe under pg_guarded).
struct SealedRow {
    char kind;  // 'a' account password, 't' auth token
    int64 id;
    int64 account_id;
    bytea* blob;
    char *base_url, *user, *client_code;  // an account's settings its password is bound to (else null)
};

const char* const kSealedRows[2] = {
    "SELECT 'a', dwu_id, dwu_id, dwu_password, dwu_base_url, dwu_user, dwu_client_code "
    "FROM dwu_crm.crm_dinamize_accounts WHERE length(dwu_password) > 0 ORDER BY dwu_id FOR UPDATE",
    "SELECT 't', dwu_id, dwu_account_id, dwu_token, NULL, NULL, NULL FROM dwu_crm.crm_auth_tokens "
    "WHERE length(dwu_token) > 0 ORDER BY dwu_id FOR UPDATE"};

Datum rotate(FunctionCallInfo) {
    const dwu::KeyRing ring = dwu_load_key_ring();
    MemoryContext caller = CurrentMemoryContext;
    SealedRow* rows = nullptr;
    int count = 0;
    pg_guarded([&] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        for (const char* sql : kSealedRows) {
            exec(sql, 0, nullptr, nullptr, nullptr, SPI_OK_SELECT);
            const int n = static_cast<int>(SPI_processed);
            rows = static_cast<SealedRow*>(rows ? repalloc(rows, sizeof(SealedRow) * (count + n + 1))
                                                : palloc(sizeof(SealedRow) * (n + 1)));
            for (int i = 0; i < n; i++) {
                HeapTuple t = SPI_tuptable->vals[i];
                TupleDesc d = SPI_tuptable->tupdesc;
                bool isnull;
                SealedRow& r = rows[count++];
                r.kind = *TextDatumGetCString(SPI_getbinval(t, d, 1, &isnull));
                r.id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
                r.account_id = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
                r.blob = static_cast<bytea*>(SPI_palloc(VARSIZE_ANY(DatumGetPointer(SPI_getbinval(t, d, 4, &isnull)))));
                memcpy(r.blob, DatumGetPointer(SPI_getbinval(t, d, 4, &isnull)),
                       VARSIZE_ANY(DatumGetPointer(SPI_getbinval(t, d, 4, &isnull))));
                r.base_url = dwu_spi_text(t, d, 5, caller);
                r.user = dwu_spi_text(t, d, 6, caller);
                r.client_code = dwu_spi_text(t, d, 7, caller);
            }
        }
    });

    // Open everything first: one tampered secret stops the rotation before anything is written.
    std::vector<std::string> resealed(count);
    int changed = 0;
    for (int i = 0; i < count; i++) {
        const SealedRow& r = rows[i];
        const std::string_view blob(VARDATA_ANY(r.blob), VARSIZE_ANY_EXHDR(r.blob));
        if (r.kind == 'a') {
            // A password sealed by 0.1.0 (legacy AAD) is re-sealed bound to its settings, whatever its key.
            const dwu::PasswordBinding binding{r.id, dwu_or_empty(r.base_url), dwu_or_empty(r.user),
                                               dwu_or_empty(r.client_code)};
            dwu::OpenedPassword opened = dwu::open_account_password(ring, blob, binding);
            if (opened.legacy || dwu::blob_key_version(blob) != ring.current_version()) {
                resealed[i] = dwu::seal_account_password(ring, opened.plaintext, binding);
                changed++;
            }
            dwu::wipe(opened.plaintext);
            continue;
        }
        const std::string aad = dwu::auth_token_aad(r.id, r.account_id);
        std::string plain = dwu::open(ring, blob, aad);
        if (dwu::blob_key_version(blob) != ring.current_version()) {
            resealed[i] = dwu::seal(ring, plain, aad);
            changed++;
        }
        dwu::wipe(plain);
    }

    pg_guarded([&] {
        for (int i = 0; i < count; i++) {
            if (resealed[i].empty()) continue;
            Oid types[2] = {INT8OID, BYTEAOID};
            Datum values[2] = {Int64GetDatum(rows[i].id),
                               PointerGetDatum(dwu_make_bytea(resealed[i].data(), resealed[i].size()))};
            exec(
                rows[i].kind == 'a'
                    ? "UPDATE dwu_crm.crm_dinamize_accounts SET dwu_password = $2, updated_at = now() WHERE dwu_id = $1"
                    : "UPDATE dwu_crm.crm_auth_tokens SET dwu_token = $2 WHERE dwu_id = $1",
                2, types, values, nullptr, SPI_OK_UPDATE);
        }
        SPI_finish();
    });
    return Int64GetDatum(changed);
}

}  // namespace

DWU_SQL_FUNCTION_WITH_SECRET_ARGS(dwu_crm_dinamize_configure, configure)
DWU_SQL_FUNCTION(dwu_crm_rotate_encryption_key, rotate)
