#pragma once
// One Dinamize account with its newest usable stored token, as both the worker (by id) and the SQL
// functions (by name, or the default account) read it. Plain C data: safe to fill under pg_guarded
// or inside dwu_run_in_transaction.
#include "pg/pg_headers.h"

struct AccountRow {
    bool found;  // false: no such account, or a removed one
    int64 id;
    bool enabled;
    int32 config_version;
    char *name, *base_url, *user, *client_code, *list_code;
    bytea* password;  // the sealed blob
    int64 token_id;   // 0: no usable stored token
    bytea* token;     // the sealed token
    int64 issued_ms, last_used_ms;
};

// Reads the account `id` (when > 0), else the one named `name`, else (name NULL) the default one,
// copying its values into `into`. Needs an SPI connection; raises ERROR if the query fails.
void dwu_read_account_row(int64 id, const char* name, AccountRow* row, MemoryContext into);
