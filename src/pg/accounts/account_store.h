#pragma once
// The one store of Dinamize accounts, for the worker and the SQL functions alike: an account row
// (by id, by name, or the default one) with its newest usable stored token, and the tokens the
// worker stores (crm_auth_tokens). Secrets come and go only sealed (see key_ring.h for the keys).
//
// Each call is one step run by a StepRunner: the worker runs it in a short transaction of its own
// (dwu_run_in_transaction: false when it failed, the error already logged); a SQL function runs it
// inside its caller's transaction (dwu_run_in_callers_transaction: an error is thrown as
// PgException). No C++ object is alive in the step's frames.
#include <optional>
#include <string>

namespace dwu_accounts {

using StepRunner = bool (*)(const char* activity, void (*step)(void*), void* arg);

// A StepRunner for SQL functions: SPI inside the caller's transaction, under pg_guarded.
bool run_in_callers_transaction(const char* activity, void (*step)(void*), void* arg);

// An account's settings and its newest usable stored token, as sealed blobs (never plaintext).
struct StoredAccount {
    bool found = false;  // false: no such account, or a removed one
    bool enabled = false;
    long long id = 0;
    int config_version = 0;
    std::string name, base_url, user, client_code, list_code;
    std::string password_blob;
    long long token_id = 0;  // 0: no usable stored token
    std::string token_blob;
    long long token_issued_ms = 0, token_last_used_ms = 0;
};

// Reads account `id` when id > 0, else the one named `name`, else (no name) the default account.
bool load_account(StepRunner run, long long id, const std::optional<std::string>& name, StoredAccount& out);

// Tokens: reserve an id (it is part of the AAD), store a sealed token (it replaces the account's
// others), or record the last use of the stored one.
bool reserve_token_id(StepRunner run, long long& id);
bool store_token(StepRunner run, long long token_id, long long account_id, int config_version, const std::string& blob,
                 long long issued_ms, long long last_used_ms);
bool touch_token(StepRunner run, long long token_id, long long last_used_ms);

// Replaces the sealed password only if it still is `old_blob`; false when the step failed.
bool replace_password(StepRunner run, long long account_id, const std::string& old_blob, const std::string& new_blob);

}  // namespace dwu_accounts
