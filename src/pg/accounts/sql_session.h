#pragma once
// The Dinamize accounts as the SQL functions use them. Every Dinamize request of a SQL function
// goes through with_account_client(), over the same account store and session layer as the
// worker (account_store.h, account_sessions.h): a SQL function waits for a free slot of the
// account's shared rate limit (on its latch, so a cancel ends the wait) that is also free in the
// SQL functions' share of it (dwu_crm.api_rate_share: the backends of every server together use
// at most that share, the workers always have the rest), at most dwu_crm.rate_limit_max_wait;
// a 240024 it receives pauses the account for the worker and every other process too.
//
// Sessions are cached in this backend. A new one adopts the newest valid token the worker stored
// (crm_auth_tokens, sealed) and otherwise authenticates itself; tokens it obtains stay in this
// backend's memory and are never written (several tokens per account are fine, reference §2),
// so the reading functions write nothing and work in read-only transactions.
//
// A query cancel, statement_timeout or termination interrupts a request in flight within ~50 ms
// (dwu::Interrupted; the SQL function's boundary then lets PostgreSQL raise its own error).
#include <functional>
#include <optional>
#include <string>

#include "core/dinamize/dinamize_api.h"
#include "core/dinamize/dinamize_client.h"

// Runs `call` with the client of the account named `account` (nullopt: the default account).
// Errors before any request: 42704 unknown account / no default, 55000 disabled account, key
// problems as CryptoError.
void with_account_client(const std::optional<std::string>& account,
                         const std::function<void(dwu::DinamizeClient&)>& call);

// After an account's settings changed: the token other processes share for its Dinamize account
// (client code, base URL and user) is removed from Redis. Redis unreachable: a WARNING (a token shared meanwhile is
// bound to the old base URL and user, and the workers drop the ones they hold at the change).
void forget_shared_token(const std::string& client_code, const std::string& base_url, const std::string& user);

// What one multi-page read of a SQL function may read in all (all_pages, history, opt-outs, the
// catalog): dwu_crm.api_max_rows and dwu_crm.api_max_bytes, superuser-only. Past them the read
// stops (dwu::ReadLimitExceeded, SQLSTATE 54000).
dwu::ReadCaps sql_read_caps();
