#pragma once
// The sync worker's state: its settings, HTTP transport, key ring, rate limiting, and one Dinamize
// client session per account (rebuilt when the account's settings change), with the tokens they
// share through crm_auth_tokens and Redis. Used by the worker's rounds (worker_rounds.h).
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/http_transport.h"
#include "core/sync/retry_policy.h"
#include "core/crypto/secret_box.h"
#include "core/sync/sync_job.h"
#include "pg/accounts/request_limits.h"

namespace dwu_worker {

constexpr long kRetryAfterErrorMs = 1000;       // after a failed claim/record transaction
constexpr long kUnusableAccountDelayMs = 30000;  // jobs of an account we cannot use wait this long

// Polled by libcurl's loop: only reads the flag that die() sets.
bool shutdown_requested();
// Sleeps on the latch (woken by commits, SIGTERM, SIGHUP).
void wait_ms(long ms);
// Sleeps without the latch: commits cannot cut it short (at most a few ms).
void pause_ms(long ms);
// The rate gate's sleep: on the latch, so SIGTERM ends it at once. Returns false when stopping.
bool sleep_for_rate_limit(long ms);
// Logs `message` unless it is the last one logged through `last`.
void log_once(std::string& last, const std::string& message);

struct AccountSession {
    int config_version = 0;
    std::string list_code;
    std::unique_ptr<dwu::DinamizeClient> client;
    unsigned long stored_generation = 0;  // token generation last written to crm_auth_tokens
    long long token_id = 0;
    std::string limiter_key;  // the Dinamize account (client code) as the rate limiter and Redis know it
    unsigned long shared_generation = ~0UL;  // token generation last put in (or taken from) Redis
    bool used = false;  // in the current round
    std::string unusable;  // why jobs of this account cannot run now (empty: usable)
};

// Everything the worker derives from its GUCs and the accounts table.
struct WorkerState {
    dwu::FieldMap field_map;
    dwu::RetryPolicy policy;
    std::unique_ptr<dwu::HttpTransport> http;
    std::optional<dwu::KeyRing> ring;
    std::string ring_error;
    std::map<long long, AccountSession> accounts;
    RequestLimits limits;
    std::string limits_line;  // last logged description of the rate limit
    std::string last_warning;
};

// (Re)reads the GUCs: field map, retry policy, transport, key ring, rate limiting. Drops sessions.
void apply_settings(WorkerState& w);
// The account's session for a job, opened (or reopened after a settings change) as needed.
AccountSession& session_for(WorkerState& w, const dwu::SyncJob& job);
// The account's rate-limited client for work other than jobs (pulls); nullptr with the reason.
dwu::DinamizeClient* account_client(WorkerState& w, long long account_id, int config_version, std::string& why);
// Tokens: take one another worker shared through Redis; after a round, store a new one sealed
// in crm_auth_tokens (or record its last use) and share it through Redis.
void adopt_shared_token(WorkerState& w, AccountSession& s);
void persist_token(WorkerState& w, long long account_id, AccountSession& s);
void share_token(WorkerState& w, AccountSession& s);
// Sends one job through the account's rate-limited client; on Dinamize's own 240024 the account
// is paused everywhere (shared block) for its retry-after. Throws Interrupted when stopping.
dwu::SyncOutcome send_job(WorkerState& w, AccountSession& s, const dwu::SyncJob& job);

// Logs the rate limiter's switches (Redis lost / back) since the last call.
void log_limiter_changes(WorkerState& w);

}  // namespace dwu_worker
