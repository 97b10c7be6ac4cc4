// The sync worker: claim a batch in one short transaction, call Dinamize with no transaction
// open, record the outcomes in another. Woken by commits that enqueue (see wake_at_commit.cpp).
// One client session per Dinamize account, rebuilt when the account's settings change.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/account_fields.h"
#include "core/backfill.h"
#include "core/cached_token.h"
#include "core/dinamize_client.h"
#include "core/outcome_record.h"
#include "core/retry_policy.h"
#include "core/secret_box.h"
#include "core/sync_job.h"
#include "pg/job_store.h"
#include "pg/cpp_boundary.h"
#include "pg/key_ring.h"
#include "pg/pull_runner.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/shared_state.h"
#include "pg/transaction.h"
#include "pg/request_limits.h"

namespace {

constexpr long kRetryAfterErrorMs = 1000;       // after a failed claim/record transaction
constexpr long kExtensionCheckMs = 1000;        // while CREATE EXTENSION has not run yet
constexpr long kUnusableAccountDelayMs = 30000;  // jobs of an account we cannot use wait this long

// Polled by libcurl's loop: only reads the flag that die() sets.
bool shutdown_requested() { return ProcDiePending; }

void wait_ms(long ms) {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

// The rate gate's sleep: on the latch, so SIGTERM ends it at once. Returns false when stopping.
bool sleep_for_rate_limit(long ms) {
    if (shutdown_requested()) return false;
    pg_guarded([ms] { wait_ms(ms); });
    return !shutdown_requested();
}

long long to_ms(dwu::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
dwu::Clock::time_point from_ms(long long ms) { return dwu::Clock::time_point(std::chrono::milliseconds(ms)); }

// Messages are logged only from here, outside any C++ exception handler.
void log_once(std::string& last, const std::string& message, int level = WARNING) {
    if (message == last) return;
    last = message;
    ereport(level, (errmsg("%s", message.c_str())));
}

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

void apply_settings(WorkerState& w) {
    w.field_map = dwu::parse_field_map(dwu_field_map ? dwu_field_map : "");  // validated by its check hook
    w.policy.max_attempts = dwu_max_attempts;
    w.policy.base_delay_seconds = dwu_retry_base_seconds;
    w.policy.max_delay_seconds = dwu_retry_max_seconds;
    dwu::HttpOptions http;
    http.timeout_ms = dwu_request_timeout_ms;
    http.connect_timeout_ms = dwu_connect_timeout_ms;
    http.verify_tls = dwu_verify_tls;
    w.accounts.clear();  // sessions hold references to the transport and the gate: drop them first
    w.http = std::make_unique<dwu::HttpTransport>(http, shutdown_requested);
    w.limits = dwu_build_request_limits(sleep_for_rate_limit);
    if (!w.limits.problem.empty()) ereport(WARNING, (errmsg("%s", w.limits.problem.c_str())));
    if (w.limits.description != w.limits_line) {
        w.limits_line = w.limits.description;
        ereport(LOG, (errmsg("dwu_crm worker rate limit: %s", w.limits_line.c_str())));
    }
    w.ring.reset();
    w.ring_error.clear();
    try {
        w.ring.emplace(dwu_load_key_ring());
    } catch (const dwu::CryptoError& e) {
        w.ring_error = e.what();
    }
}

// Opens a sealed secret; a blob sealed with a key version we do not hold yet (the key file gained
// a key and rotate_encryption_key() ran) makes us re-read the key file once.
std::string open_secret(WorkerState& w, const std::string& blob, const std::string& aad) {
    try {
        return dwu::open(*w.ring, blob, aad);
    } catch (const dwu::CryptoError& e) {
        if (e.kind() != dwu::CryptoErrorKind::UnknownKeyVersion) throw;
    }
    w.ring.emplace(dwu_load_key_ring());
    return dwu::open(*w.ring, blob, aad);
}

// Builds the client for an account from its stored (sealed) settings and token.
void open_session(WorkerState& w, long long account_id, AccountSession& s) {
    s = AccountSession{};
    if (!w.ring) {
        s.unusable = "dwu_crm worker cannot decrypt account credentials: " + w.ring_error;
        return;
    }
    StoredAccount stored;
    if (!dwu_load_account(account_id, stored)) {
        s.unusable = "dwu_crm worker could not read Dinamize account " + std::to_string(account_id);
        return;
    }
    if (!stored.found) {
        s.unusable = "Dinamize account " + std::to_string(account_id) + " is disabled or removed";
        return;
    }
    std::string password;
    try {
        password = open_secret(w, stored.password_blob, dwu::account_password_aad(account_id));
    } catch (const dwu::CryptoError& e) {
        s.unusable = "stored password of Dinamize account " + std::to_string(account_id) +
                     " cannot be decrypted (data corrupted or unknown key): " + e.what();
        return;
    }
    s.config_version = stored.config_version;
    s.list_code = stored.list_code;
    s.limiter_key = stored.client_code;
    s.client = std::make_unique<dwu::DinamizeClient>(
        dwu::Account(stored.base_url, stored.user, std::move(password), stored.client_code), *w.http);
    dwu::wipe(password);
    if (dwu::RateGate* gate = w.limits.gate.get())
        s.client->set_before_request([gate, key = s.limiter_key] { gate->before_request(key); });
    if (!stored.token_blob.empty()) {
        try {
            std::string token = open_secret(w, stored.token_blob, dwu::auth_token_aad(stored.token_id, account_id));
            s.client->adopt_token(std::move(token), from_ms(stored.token_issued_ms), from_ms(stored.token_last_used_ms));
            s.token_id = stored.token_id;
        } catch (const dwu::CryptoError&) {
            // An unreadable stored token is simply not reused: the client authenticates anew.
        }
    }
}

AccountSession& session_for(WorkerState& w, const dwu::SyncJob& job) {
    auto it = w.accounts.find(job.account_id);
    if (it == w.accounts.end() || it->second.config_version != job.config_version || !it->second.unusable.empty()) {
        AccountSession& s = w.accounts[job.account_id];
        open_session(w, job.account_id, s);
        return s;
    }
    return it->second;
}

// Writes a new token (sealed, bound to its row) or the last use of the current one.
void persist_token(WorkerState& w, long long account_id, AccountSession& s) {
    if (!s.used || !s.client || !s.client->has_token() || !w.ring) return;
    const dwu::DinamizeClient& c = *s.client;
    if (c.token_generation() == s.stored_generation && s.token_id != 0) {
        dwu_touch_token(s.token_id, to_ms(c.token_last_used()));
        return;
    }
    long long id = 0;
    if (!dwu_next_token_id(id)) return;
    const std::string blob = dwu::seal(*w.ring, c.token(), dwu::auth_token_aad(id, account_id));
    if (dwu_store_token(id, account_id, s.config_version, blob, to_ms(c.token_issued_at()), to_ms(c.token_last_used()))) {
        s.token_id = id;
        s.stored_generation = c.token_generation();
    }
}

bool redis_usable(const WorkerState& w) {
    return w.limits.token_cache && w.ring && w.limits.limiter->mode() == dwu::LimiterMode::Shared;
}

// Takes the token another worker (of any cluster) shared through Redis, when this session has
// none it may use: one login per account for all of them.
void adopt_shared_token(WorkerState& w, AccountSession& s) {
    dwu::DinamizeClient& c = *s.client;
    if (!redis_usable(w) || (c.has_token() && !c.token_due_for_renewal())) return;
    std::optional<std::string> blob;
    try {
        blob = w.limits.token_cache->get(s.limiter_key);
    } catch (const dwu::RedisError&) {
        return;  // the limiter notices and reports the outage
    }
    if (!blob) return;
    std::optional<dwu::CachedToken> cached = dwu::open_cached_token(*w.ring, *blob, s.limiter_key);
    if (!cached) return;  // sealed with a key this server does not hold
    c.adopt_token(std::move(cached->token), cached->issued_at, cached->last_used);
    if (c.token_due_for_renewal()) {
        c.forget_token();
        return;
    }
    s.token_id = 0;  // not the token in crm_auth_tokens: persist_token() stores it there too
    s.shared_generation = c.token_generation();
}

// Puts a token this worker obtained into Redis (sealed) for the others.
void share_token(WorkerState& w, AccountSession& s) {
    if (!s.used || !s.client || !s.client->has_token() || !redis_usable(w)) return;
    const dwu::DinamizeClient& c = *s.client;
    if (c.token_generation() == s.shared_generation) return;
    try {
        const std::string blob = dwu::seal_cached_token(*w.ring, c, s.limiter_key);
        w.limits.token_cache->put(s.limiter_key, blob, dwu::cached_token_ttl(c, dwu::TokenRules{}, dwu::Clock::now()));
        s.shared_generation = c.token_generation();
    } catch (const dwu::RedisError&) {
    } catch (const dwu::CryptoError&) {
    }
}

// The account's rate-limited client for the pulls (pull_runner.h), or nullptr with the reason.
dwu::DinamizeClient* account_client(WorkerState& w, long long account_id, int config_version, std::string& why) {
    dwu::SyncJob key;
    key.account_id = account_id;
    key.config_version = config_version;
    AccountSession& s = session_for(w, key);
    why = s.unusable;
    if (!s.unusable.empty()) return nullptr;
    adopt_shared_token(w, s);
    return s.client.get();
}

void log_limiter_changes(WorkerState& w) {
    if (!w.limits.gate) return;
    for (const dwu::ModeChange& change : w.limits.gate->take_changes()) {
        if (change.to == dwu::LimiterMode::Local)
            ereport(WARNING, (errmsg("dwu_crm worker cannot use Redis for the shared rate limit: %s", change.reason.c_str()),
                              errdetail("Until Redis answers again this worker alone sends at most %.0f%% of the limit "
                                        "(dwu_crm.rate_limit_local_share split among dwu_crm.workers).",
                                        dwu_rate_limit_local_share * 100.0 / Max(1, dwu_workers))));
        else
            ereport(LOG, (errmsg("dwu_crm worker is back on the shared rate limit: %s", change.reason.c_str())));
    }
}

// One claim → call → record round. Returns how long to sleep before the next (0 = go on).
long run_round(WorkerState& w, std::mt19937_64& rng) {
    std::vector<dwu::SyncJob> jobs;
    long next_due_ms = -1;
    if (!dwu_claim_jobs(dwu_batch_size, dwu_lease_seconds, jobs, next_due_ms)) return kRetryAfterErrorMs;
    const long idle_ms = dwu_idle_check_seconds * 1000L;
    if (jobs.empty()) return next_due_ms < 0 ? idle_ms : Min(Max(next_due_ms, 10L), idle_ms);

    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<dwu::DecidedOutcome> done;
    std::vector<long long> unattempted;
    std::map<long, std::vector<long long>> deferred;  // delay (ms) → jobs returned unattempted
    std::map<long long, long> paused;                 // account → how long its jobs wait (rate limit)
    std::string problem;
    for (auto& [id, s] : w.accounts) s.used = false;

    char activity[96];
    for (const auto& job : jobs) {
        if (!unattempted.empty() || shutdown_requested()) {
            unattempted.push_back(job.id);
            continue;
        }
        AccountSession& s = session_for(w, job);
        if (!s.unusable.empty()) {
            problem = s.unusable;
            deferred[kUnusableAccountDelayMs].push_back(job.id);
            continue;
        }
        if (auto pause = paused.find(job.account_id); pause != paused.end()) {
            deferred[pause->second].push_back(job.id);
            continue;
        }
        s.used = true;
        snprintf(activity, sizeof activity, "dwu_crm: sending job %lld (%s) to Dinamize account %lld", job.id,
                 job.operation.c_str(), job.account_id);
        pgstat_report_activity(STATE_RUNNING, activity);
        pgstat_report_wait_start(PG_WAIT_EXTENSION);  // no transaction is open while we wait on HTTP
        try {
            adopt_shared_token(w, s);
            const long wait = w.limits.gate ? w.limits.gate->admit_job(s.limiter_key) : 0;
            if (wait > 0) {
                // Not a failed attempt: the job and the account's others in this batch wait.
                paused[job.account_id] = wait;
                deferred[wait].push_back(job.id);
            } else {
                dwu::SyncOutcome outcome = dwu::run_job(*s.client, job, w.field_map);
                if (w.limits.gate) w.limits.gate->end_job();
                if (outcome.category == dwu::ErrorCategory::RateLimit) {
                    // Dinamize's own 240024: every worker everywhere pauses this account.
                    const long seconds = Max(1, outcome.retry_after_seconds);
                    if (w.limits.gate) w.limits.gate->block(s.limiter_key, seconds);
                    paused[job.account_id] = seconds * 1000L;
                }
                dwu::RetryDecision decision = dwu::decide(outcome, w.policy, uniform(rng));
                done.push_back({std::move(outcome), decision});
            }
        } catch (const dwu::Interrupted&) {
            unattempted.push_back(job.id);
        }
        pgstat_report_wait_end();
    }
    pgstat_report_activity(STATE_IDLE, nullptr);
    // Record even when shutting down: a finished call must not be sent again.
    const bool stopping = shutdown_requested();
    if (stopping) HOLD_INTERRUPTS();
    const std::string rows = dwu::outcome_rows(done).dump();
    const bool recorded = dwu_record_outcomes(rows);
    bool released = dwu_release_jobs(unattempted);
    for (const auto& [delay_ms, ids] : deferred) released = dwu_release_jobs(ids, delay_ms) && released;
    for (auto& [account_id, s] : w.accounts) {
        persist_token(w, account_id, s);
        share_token(w, s);
    }
    if (stopping) RESUME_INTERRUPTS();
    log_limiter_changes(w);
    if (!problem.empty()) log_once(w.last_warning, problem);
    return recorded && released ? 0 : kRetryAfterErrorMs;
}

// The outcome of a job that went through a bulk import, or whose import failed as a whole.
dwu::SyncOutcome import_outcome(const dwu::SyncJob& job) {
    dwu::SyncOutcome o;
    o.job_id = job.id;
    o.lead_id = job.lead_id;
    o.account_id = job.account_id;
    o.list_code = job.list_code;
    o.operation = job.operation;
    o.attempt = job.attempt;
    return o;
}

// A backfill round: up to dwu_crm.import_batch due creates of one account go to Dinamize as one
// bulk import; the codes are mapped back and recorded like single calls. Jobs the import could
// not carry (rejected rows, a lead gone, effectively a delete) are sent one by one.
long run_backfill_round(WorkerState& w, std::mt19937_64& rng, long long account_id) {
    std::vector<dwu::SyncJob> jobs;
    long next_due_ms = -1;
    const int lease = Max(dwu_lease_seconds, 1800);  // an import, its report and the list read back
    if (!dwu_claim_jobs(dwu_import_batch, lease, jobs, next_due_ms, account_id, true)) return kRetryAfterErrorMs;
    if (jobs.empty()) return 0;
    std::vector<long long> ids;
    for (const auto& job : jobs) ids.push_back(job.id);
    AccountSession& s = session_for(w, jobs.front());
    if (!s.unusable.empty()) {
        log_once(w.last_warning, s.unusable);
        return dwu_release_jobs(ids, kUnusableAccountDelayMs) ? 0 : kRetryAfterErrorMs;
    }
    s.used = true;

    std::map<long long, const dwu::SyncJob*> by_id;
    std::vector<dwu::BackfillItem> items;
    std::vector<long long> one_by_one;
    for (const auto& job : jobs) {
        by_id[job.id] = &job;
        dwu::BackfillItem item;
        item.job_id = job.id;
        bool importable = job.operation == "create" && !job.lead_json.empty();
        if (importable) {
            try {
                item.contact = dwu::contact_from_lead(nlohmann::json::parse(job.lead_json), w.field_map);
            } catch (const std::exception&) {
                importable = false;  // run_job reports the problem for this lead alone
            }
        }
        if (importable)
            items.push_back(std::move(item));
        else
            one_by_one.push_back(job.id);
    }

    char activity[128];
    snprintf(activity, sizeof activity, "dwu_crm: importing %zu new leads into Dinamize account %lld", items.size(),
             account_id);
    pgstat_report_activity(STATE_RUNNING, activity);
    pgstat_report_wait_start(PG_WAIT_EXTENSION);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<dwu::DecidedOutcome> done;
    std::vector<long long> unattempted;
    long deferred_ms = 0;
    try {
        adopt_shared_token(w, s);
        deferred_ms = w.limits.gate ? w.limits.gate->admit_job(s.limiter_key) : 0;
        if (deferred_ms == 0 && !items.empty()) {
            const auto started = std::chrono::steady_clock::now();
            try {
                const dwu::BackfillReport report =
                    dwu::backfill_contacts(*s.client, s.list_code, items, sleep_for_rate_limit);
                const long ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::steady_clock::now() - started)
                                                      .count());
                for (const auto& [job_id, code] : report.codes) {
                    dwu::SyncOutcome o = import_outcome(*by_id[job_id]);
                    o.ok = true;
                    o.contact_code = code;
                    o.message = "imported (Dinamize import " + report.import_code + ", " +
                                std::to_string(items.size()) + " leads, " + std::to_string(report.requests) +
                                " requests)";
                    o.request_unique = report.import_code;
                    o.duration_ms = ms;
                    dwu::RetryDecision decision = dwu::decide(o, w.policy, uniform(rng));
                    done.push_back({std::move(o), decision});
                }
                one_by_one.insert(one_by_one.end(), report.send_one_by_one.begin(), report.send_one_by_one.end());
            } catch (const dwu::DinamizeError& e) {
                // The import failed as a whole: every row gets that error, and the retry policy.
                if (e.category() == dwu::ErrorCategory::RateLimit && w.limits.gate)
                    w.limits.gate->block(s.limiter_key, Max(1, e.retry_after_seconds()));
                for (const auto& item : items) {
                    dwu::SyncOutcome o = import_outcome(*by_id[item.job_id]);
                    o.category = e.category();
                    o.error_code = e.dinamize_code();
                    o.message = std::string("bulk import failed: ") + e.what();
                    o.retryable = e.retryable();
                    o.retry_after_seconds = e.retry_after_seconds();
                    dwu::RetryDecision decision = dwu::decide(o, w.policy, uniform(rng));
                    done.push_back({std::move(o), decision});
                }
            }
            if (w.limits.gate) w.limits.gate->end_job();
            for (long long id : one_by_one) {
                if (shutdown_requested()) {
                    unattempted.push_back(id);
                    continue;
                }
                dwu::SyncOutcome outcome = dwu::run_job(*s.client, *by_id[id], w.field_map);
                dwu::RetryDecision decision = dwu::decide(outcome, w.policy, uniform(rng));
                done.push_back({std::move(outcome), decision});
            }
        } else if (deferred_ms == 0) {
            for (long long id : one_by_one) {
                dwu::SyncOutcome outcome = dwu::run_job(*s.client, *by_id[id], w.field_map);
                dwu::RetryDecision decision = dwu::decide(outcome, w.policy, uniform(rng));
                done.push_back({std::move(outcome), decision});
            }
        }
    } catch (const dwu::Interrupted&) {
        // Stopping: what has no outcome yet goes back (an import that may have landed is
        // harmless to repeat: it upserts by e-mail).
    }
    pgstat_report_wait_end();
    pgstat_report_activity(STATE_IDLE, nullptr);
    std::set<long long> decided;
    for (const auto& d : done) decided.insert(d.outcome.job_id);
    for (long long id : ids)
        if (!decided.count(id)) unattempted.push_back(id);

    const bool stopping = shutdown_requested();
    if (stopping) HOLD_INTERRUPTS();
    const bool recorded = dwu_record_outcomes(dwu::outcome_rows(done).dump());
    const bool released = dwu_release_jobs(unattempted, deferred_ms);
    persist_token(w, account_id, s);
    share_token(w, s);
    if (stopping) RESUME_INTERRUPTS();
    log_limiter_changes(w);
    return recorded && released ? 0 : kRetryAfterErrorMs;
}

void worker_loop() {
    std::mt19937_64 rng(std::random_device{}());
    WorkerState w;
    apply_settings(w);
    bool said_no_extension = false, recovered = false;
    std::chrono::steady_clock::time_point last_background{};
    for (;;) {
        dwu_check_for_interrupts();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            apply_settings(w);  // new key file, timeouts, field map: sessions start afresh
            w.last_warning.clear();
        }
        if (!dwu_extension_installed()) {
            if (!said_no_extension)
                ereport(LOG, (errmsg("dwu_crm worker is waiting for CREATE EXTENSION dwu_crm in database \"%s\"",
                                     dwu_database)));
            said_no_extension = true;
            recovered = false;
            wait_ms(kExtensionCheckMs);
            continue;
        }
        said_no_extension = false;
        if (!recovered) {
            int n = 0;
            recovered = dwu_recover_jobs(&n);
            if (n > 0) ereport(LOG, (errmsg("dwu_crm worker put %d unfinished job(s) back in the queue", n)));
        }
        long long backfill_account = 0;
        if (dwu_import_threshold > 0 && !dwu_find_backfill(dwu_import_threshold, backfill_account))
            backfill_account = 0;
        const long sleep_ms =
            backfill_account ? run_backfill_round(w, rng, backfill_account) : run_round(w, rng);
        // Pulls and webhooks: whenever the queue is idle, and at most once a second while it is busy
        // (their claims are short transactions of their own).
        long background_ms = 1000;
        const auto now = std::chrono::steady_clock::now();
        if (sleep_ms > 0 || now - last_background >= std::chrono::seconds(1)) {
            background_ms = dwu_run_background_tasks(
                [&w](long long id, int version, std::string& why) { return account_client(w, id, version, why); },
                w.field_map);
            last_background = now;
        }
        if (sleep_ms > 0) wait_ms(Min(sleep_ms, background_ms));
    }
}

}  // namespace

extern "C" PGDLLEXPORT void dwu_crm_worker_main(Datum);

void dwu_crm_worker_main(Datum database_oid) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(database_oid), InvalidOid, 0);
    pgstat_report_appname("dwu_crm sync worker");
    dwu_job_store_init();
    int slot = 0;
    memcpy(&slot, MyBgworkerEntry->bgw_extra, sizeof slot);
    dwu_publish_worker_latch(slot);

    // No C++ exception may reach PostgreSQL: catch here, log after the handler is left.
    char failure[512] = "";
    try {
        worker_loop();
    } catch (const std::exception& e) {
        snprintf(failure, sizeof failure, "%s", e.what());
    } catch (...) {
        snprintf(failure, sizeof failure, "unknown exception");
    }
    ereport(LOG, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("dwu_crm sync worker stopped: %s", failure)));
    proc_exit(1);
}
