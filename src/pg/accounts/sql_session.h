#pragma once
// The Dinamize accounts as the SQL functions use them. Every Dinamize request of a SQL function
// goes through with_account_client(), which puts the rate limiter the worker uses (shared through
// Redis, see request_limits.h) in front of it: a SQL function waits for a free slot of the
// account (on its latch, so a cancel ends the wait), and a 240024 it receives pauses the account
// for the worker and every other process too.
//
// Sessions: one DinamizeClient per account, cached in this backend and rebuilt when the account's
// settings change (dwu_config_version) or the HTTP settings do (dwu_crm.request_timeout_ms,
// connect_timeout_ms, verify_tls). A new session adopts the newest valid token the worker stored
// (crm_auth_tokens, sealed) and otherwise authenticates itself; tokens it obtains stay in this
// backend's memory and are never written (several tokens per account are fine, reference §2),
// so the reading functions write nothing and work in read-only transactions.
//
// A query cancel, statement_timeout or termination interrupts a request in flight within ~50 ms
// (dwu::Interrupted; dwu_sql_entry then lets PostgreSQL raise its own error).
#include <functional>
#include <optional>
#include <string>

#include "core/dinamize/dinamize_client.h"

// Runs `call` with the client of the account named `account` (nullopt: the default account).
// Errors before any request: 42704 unknown account / no default, 55000 disabled account, key
// problems as CryptoError.
void with_account_client(const std::optional<std::string>& account,
                         const std::function<void(dwu::DinamizeClient&)>& call);
