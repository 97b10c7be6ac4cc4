#include "pg/worker/worker_state.h"

#include <algorithm>
#include <chrono>

#include "core/dinamize/account_fields.h"
#include "core/limiter/cached_token.h"
#include "pg/cpp_boundary.h"
#include "pg/worker/job_store.h"
#include "pg/accounts/key_ring.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"

namespace dwu_worker {
namespace {

long long to_ms(dwu::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
dwu::Clock::time_point from_ms(long long ms) { return dwu::Clock::time_point(std::chrono::milliseconds(ms)); }

}  // namespace

bool shutdown_requested() { return ProcDiePending; }

void wait_ms(long ms) {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

void pause_ms(long ms) {
    (void)WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION);
}

bool sleep_for_rate_limit(long ms) {
    if (shutdown_requested()) return false;
    pg_guarded([ms] { wait_ms(ms); });
    return !shutdown_requested();
}

void log_once(std::string& last, const std::string& message) {
    if (message == last) return;
    last = message;
    ereport(WARNING, (errmsg("%s", message.c_str())));
}

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

dwu::SyncOutcome send_job(WorkerState& w, AccountSession& s, const dwu::SyncJob& job) {
    dwu::SyncOutcome outcome = dwu::run_job(*s.client, job, w.field_map);
    if (w.limits.gate) {
        w.limits.gate->end_job();
        if (outcome.category == dwu::ErrorCategory::RateLimit)
            w.limits.gate->block(s.limiter_key, std::max(1, outcome.retry_after_seconds));
    }
    return outcome;
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

}  // namespace dwu_worker
