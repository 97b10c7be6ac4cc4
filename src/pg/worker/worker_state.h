#pragma once
// The sync worker's state: its settings (field map, retry policy) and the account sessions it
// shares with nothing else in the process (pg/accounts/account_sessions.h: clients, tokens,
// rate limiting). Used by the worker's rounds (worker_rounds.h).
#include <memory>
#include <string>

#include "core/inflight/job_threads.h"
#include "core/inflight/transfer_pump.h"
#include "core/sync/contact_mapping.h"
#include "core/sync/retry_policy.h"
#include "core/sync/sync_job.h"
#include "pg/accounts/account_sessions.h"

namespace dwu_worker {

constexpr long kRetryAfterErrorMs = 1000;        // after a failed transaction
constexpr long kUnusableAccountDelayMs = 30000;  // jobs of an account we cannot use wait this long

// Polled by libcurl's loop: only reads the flag that die() sets.
bool shutdown_requested();
// Sleeps on the latch (woken by commits, SIGTERM, SIGHUP).
void wait_ms(long ms);
// Sleeps without the latch: commits cannot cut it short (at most a few ms).
void pause_ms(long ms);
// Logs `message` unless it is the last one logged through `last`.
void log_once(std::string& last, const std::string& message);

using dwu_accounts::Session;

// Everything the worker derives from its GUCs and the accounts table.
struct WorkerState {
    dwu::FieldMap field_map;
    dwu::RetryPolicy policy;
    dwu_accounts::Sessions sessions{shutdown_requested};
    std::string limits_line;  // last logged description of the rate limit
    std::string last_warning;
    // dwu_crm.requests_in_flight > 1 (inflight_round.cpp): made at the first such round, remade
    // when the setting changes. The threads go first: their tasks refer to the pump.
    std::unique_ptr<dwu::TransferPump> pump;
    std::unique_ptr<dwu::JobThreads> job_threads;
};

// (Re)reads the GUCs: field map, retry policy, transport, key ring, rate limiting. Drops sessions.
void apply_settings(WorkerState& w);
// The account's session for a job, opened (or reopened after a settings change) as needed; when
// the account cannot be used now, a session saying why (Session::unusable).
Session& session_for(WorkerState& w, long long account_id, int config_version);
// The account's rate-limited client for work other than jobs (pulls); nullptr with the reason.
dwu::DinamizeClient* account_client(WorkerState& w, long long account_id, int config_version, std::string& why);
// After a round: stores the sessions' new tokens sealed in crm_auth_tokens (or their last use)
// and shares them through Redis.
void keep_tokens(WorkerState& w, Session& s);
// Sends one job through the account's rate-limited client; on Dinamize's own 240024 the account
// is paused everywhere (shared block) for its retry-after. Throws Interrupted when stopping.
dwu::SyncOutcome send_job(WorkerState& w, Session& s, const dwu::SyncJob& job);

}  // namespace dwu_worker
