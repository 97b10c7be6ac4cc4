#include "pg/accounts/account_sessions.h"

#include <algorithm>
#include <chrono>

#include "core/crypto/account_secrets.h"
#include "core/limiter/cached_token.h"
#include "pg/accounts/code_store.h"
#include "pg/accounts/key_ring.h"
#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"

namespace dwu_accounts {
namespace {

// The client's side of Sessions::before_login / after_login.
class SessionLogins : public dwu::LoginCoordinator {
public:
    SessionLogins(Sessions& sessions, long long account_id) : sessions_(sessions), account_id_(account_id) {}
    bool before_login(dwu::DinamizeClient&) override { return sessions_.before_login(account_id_); }
    void after_login(dwu::DinamizeClient&, bool ok) noexcept override { sessions_.after_login(account_id_, ok); }

private:
    Sessions& sessions_;
    long long account_id_;
};

dwu::HttpOptions http_options_from_settings() {
    dwu::HttpOptions http;
    http.timeout_ms = dwu_request_timeout_ms;
    http.connect_timeout_ms = dwu_connect_timeout_ms;
    http.verify_tls = dwu_verify_tls;
    http.ca_file = dwu_ca_file ? dwu_ca_file : "";
    http.proxy = dwu_https_proxy ? dwu_https_proxy : "";
    // Valid: the setting's check hook parsed the same text.
    http.hosts =
        std::make_shared<const dwu::HostPolicy>(dwu::HostPolicy::parse(dwu_allowed_hosts ? dwu_allowed_hosts : ""));
    return http;
}

bool same(const dwu::HttpOptions& a, const dwu::HttpOptions& b) {
    return a.timeout_ms == b.timeout_ms && a.connect_timeout_ms == b.connect_timeout_ms &&
           a.verify_tls == b.verify_tls && a.ca_file == b.ca_file && a.proxy == b.proxy &&
           a.hosts->text() == b.hosts->text();
}

}  // namespace

bool Sessions::refresh(bool everything) {
    const dwu::HttpOptions http = http_options_from_settings();
    const std::string fingerprint = dwu_request_limits_fingerprint(user_);
    const bool new_http = everything || !http_ || !same(http, http_options_);
    const bool new_limits = everything || limits_fingerprint_.empty() || fingerprint != limits_fingerprint_;
    if (everything) ring_.reset();
    if (!new_http && !new_limits) return false;
    sessions_.clear();  // they refer to the transport and the gate
    if (new_http) {
        http_ = std::make_unique<dwu::HttpTransport>(http, interrupted_);
        http_options_ = http;
    }
    if (new_limits) {
        limits_ = RequestLimits{};
        limits_ = dwu_build_request_limits([this](long ms) { return sleep_on_latch(ms); }, user_);
        limits_fingerprint_ = fingerprint;
        if (!limits_.problem.empty()) {
            const char* problem = limits_.problem.c_str();
            pg_guarded([problem] { ereport(WARNING, (errmsg("%s", problem))); });
        }
    }
    return new_limits;
}

bool Sessions::sleep_on_latch(long ms) {
    if (interrupted_()) return false;
    pg_guarded([ms] {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    });
    return !interrupted_();
}

const dwu::KeyRing& Sessions::keys() {
    if (!ring_) ring_.emplace(dwu_load_key_ring());
    return *ring_;
}

bool Sessions::has_keys(std::string& why) {
    try {
        keys();
        return true;
    } catch (const dwu::CryptoError& e) {
        why = e.what();
        return false;
    }
}

// A blob sealed with a key version we do not hold yet (the key file gained a key and
// rotate_encryption_key() ran) makes us re-read the key file once.
std::string Sessions::open_secret(const std::string& blob, const std::string& aad) {
    try {
        return dwu::open(keys(), blob, aad);
    } catch (const dwu::CryptoError& e) {
        if (e.kind() != dwu::CryptoErrorKind::UnknownKeyVersion) throw;
    }
    ring_.reset();
    return dwu::open(keys(), blob, aad);
}

dwu::OpenedPassword Sessions::open_password(const std::string& blob, const dwu::PasswordBinding& binding) {
    try {
        return dwu::open_account_password(keys(), blob, binding);
    } catch (const dwu::CryptoError& e) {
        if (e.kind() != dwu::CryptoErrorKind::UnknownKeyVersion) throw;
    }
    ring_.reset();
    return dwu::open_account_password(keys(), blob, binding);
}

Session* Sessions::find(long long account_id, int config_version) {
    auto it = sessions_.find(account_id);
    if (it == sessions_.end() || it->second.config_version != config_version || !it->second.unusable.empty())
        return nullptr;
    return &it->second;
}

Session& Sessions::unusable(long long account_id, std::string why) {
    Session& s = sessions_[account_id];
    s = Session{};
    s.account_id = account_id;
    s.unusable = std::move(why);
    return s;
}

Session& Sessions::open(const StoredAccount& a, StepRunner reseal) {
    if (!http_) refresh();
    sessions_.erase(a.id);
    const std::string refused = http_options_.hosts->refusal(a.base_url);
    if (!refused.empty()) throw RefusedHost("Dinamize account " + a.name + ": " + refused);
    const dwu::PasswordBinding binding{a.id, a.base_url, a.user, a.client_code};
    dwu::OpenedPassword opened = open_password(a.password_blob, binding);
    std::string& password = opened.plaintext;
    if (opened.legacy && reseal) {
        // Sealed by 0.1.0 (bound to the row only): bind it to its settings now. Compared with the
        // blob read, so a dinamize_configure() committed meanwhile is never overwritten.
        const std::string blob = dwu::seal_account_password(keys(), password, binding);
        replace_password(reseal, a.id, a.password_blob, blob);
    }
    Session s;
    s.account_id = a.id;
    s.config_version = a.config_version;
    s.list_code = a.list_code;
    s.limiter_key = a.client_code;
    s.token_binding = a.client_code + "\n" + a.base_url + "\n" + a.user;
    s.login_key = dwu::LoginLock::account_key(a.client_code, s.token_binding);
    s.client = std::make_unique<dwu::DinamizeClient>(dwu::Account(a.base_url, a.user, password, a.client_code), *http_);
    dwu::wipe(password);
    s.client->set_login_interval(std::chrono::milliseconds(dwu_login_min_interval_ms));
    if (dwu::RateGate* gate = limits_.gate.get())
        s.client->set_before_request([gate, key = s.limiter_key] { gate->before_request(key); });
    if (a.token_id != 0 && !a.token_blob.empty()) {
        try {
            std::string token = open_secret(a.token_blob, dwu::auth_token_aad(a.token_id, a.id));
            s.client->adopt_token(std::move(token), dwu::from_epoch_ms(a.token_issued_ms),
                                  dwu::from_epoch_ms(a.token_last_used_ms));
            s.token_id = a.token_id;
        } catch (const dwu::CryptoError&) {
            // An unreadable stored token is simply not reused: the client authenticates anew.
        }
    }
    Session& placed = sessions_.emplace(a.id, std::move(s)).first->second;
    placed.logins = std::make_unique<SessionLogins>(*this, a.id);
    placed.client->set_login_coordinator(placed.logins.get());
    return placed;
}

void Sessions::refresh_codes(StepRunner run, std::chrono::milliseconds min_interval) {
    const auto now = std::chrono::steady_clock::now();
    if (!codes_version_.empty() && now - codes_checked_ < min_interval) return;
    std::string version;
    if (!load_codes_version(run, version)) return;
    codes_checked_ = now;
    if (version == codes_version_) return;
    codes_version_ = version;
    codes_.clear();
    for (auto& [id, s] : sessions_)
        if (s.client) attach_codes(run, s);
}

void Sessions::attach_codes(StepRunner run, Session& s) {
    if (!s.client) return;
    auto it = codes_.find(s.account_id);
    if (it == codes_.end()) {
        std::vector<StoredCode> rows;
        if (!load_codes(run, s.account_id, rows)) return;  // keeps the table it has
        std::vector<dwu::ResponseCodes::Entry> entries;
        for (const StoredCode& r : rows)
            if (auto cls =
                    dwu::codes::stored_class(r.meaning, r.category, r.retry, r.relogin, r.duplicate, r.not_found))
                entries.push_back({r.code, *cls});
        it = codes_.emplace(s.account_id, std::make_shared<const dwu::ResponseCodes>(entries)).first;
    }
    s.client->set_codes(it->second);
}

bool Sessions::redis_usable() const {
    return limits_.token_cache && ring_ && limits_.limiter && limits_.limiter->mode() == dwu::LimiterMode::Shared;
}

void Sessions::adopt_shared_token(Session& s) {
    dwu::DinamizeClient& c = *s.client;
    if (!redis_usable() || (c.has_token() && !c.token_due_for_renewal())) return;
    std::optional<std::string> blob;
    try {
        blob = limits_.token_cache->get(s.login_key);
    } catch (const dwu::RedisError&) {
        return;  // the limiter notices and reports the outage
    }
    if (!blob) return;
    std::optional<dwu::CachedToken> cached = dwu::open_cached_token(*ring_, *blob, s.token_binding);
    if (!cached) return;  // sealed with a key this server does not hold
    c.adopt_token(std::move(cached->token), cached->issued_at, cached->last_used);
    if (c.token_due_for_renewal()) {
        c.forget_token();
        return;
    }
    s.token_id = 0;  // not the token in crm_auth_tokens: persist_token() stores it there too
    s.shared_generation = c.token_generation();
}

void Sessions::share_token(Session& s) {
    if (!s.used || !s.client || !s.client->has_token() || !redis_usable()) return;
    if (s.client->token_generation() == s.shared_generation) return;
    put_shared_token(s);
}

void Sessions::put_shared_token(Session& s) {
    const dwu::DinamizeClient& c = *s.client;
    try {
        const std::string blob = dwu::seal_cached_token(*ring_, c, s.token_binding);
        limits_.token_cache->put(s.login_key, blob, dwu::cached_token_ttl(c, dwu::TokenRules{}, dwu::Clock::now()));
        s.shared_generation = c.token_generation();
    } catch (const dwu::RedisError&) {
    } catch (const dwu::CryptoError&) {
    }
}

bool Sessions::adopt_newer_shared_token(Session& s) {
    std::optional<std::string> blob;
    try {
        blob = limits_.token_cache->get(s.login_key);
    } catch (const dwu::RedisError&) {
        return false;
    }
    if (!blob) return false;
    std::optional<dwu::CachedToken> cached = dwu::open_cached_token(*ring_, *blob, s.token_binding);
    if (!cached) return false;
    dwu::DinamizeClient& c = *s.client;
    if (c.has_token() && cached->token == c.token()) {  // the very token that was refused
        dwu::wipe(cached->token);
        return false;
    }
    c.adopt_token(std::move(cached->token), cached->issued_at, cached->last_used);
    if (c.token_due_for_renewal()) {
        c.forget_token();
        return false;
    }
    s.token_id = 0;
    s.shared_generation = c.token_generation();
    return true;
}

bool Sessions::before_login(long long account_id) {
    auto it = sessions_.find(account_id);
    if (it == sessions_.end() || !it->second.client || !limits_.login_lock || !redis_usable()) return false;
    Session& s = it->second;
    // A login takes one request: the lock outlives it, and expires if this process dies.
    const std::chrono::milliseconds hold(std::max(1000, 2 * dwu_request_timeout_ms));
    const auto deadline = std::chrono::steady_clock::now() + hold;
    for (;;) {
        if (adopt_newer_shared_token(s)) return true;
        dwu::LoginLock::Outcome o;
        try {
            o = limits_.login_lock->try_acquire(s.login_key, hold);
        } catch (const dwu::RedisError&) {
            return false;  // the limiter notices; each process keeps to its own interval meanwhile
        }
        if (o == dwu::LoginLock::Outcome::Acquired) return false;
        if (o == dwu::LoginLock::Outcome::Recent)
            throw dwu::DinamizeError(dwu::ErrorCategory::Auth, "",
                                     "another process logged in to this Dinamize account less than "
                                     "dwu_crm.login_min_interval ago, and its token is not usable here",
                                     true);
        if (std::chrono::steady_clock::now() >= deadline) return false;  // the holder is too slow: log in
        if (!sleep_on_latch(50)) throw dwu::Interrupted();
    }
}

void Sessions::after_login(long long account_id, bool ok) noexcept {
    auto it = sessions_.find(account_id);
    if (it == sessions_.end() || !it->second.client) return;
    Session& s = it->second;
    try {
        if (ok && redis_usable()) put_shared_token(s);  // before the lock goes: whoever waits finds it
        if (limits_.login_lock)
            limits_.login_lock->release(s.login_key, ok, std::chrono::milliseconds(dwu_login_min_interval_ms));
    } catch (...) {
        // Redis went away meanwhile: the lock expires by itself, the limiter reports the outage.
    }
}

bool Sessions::forget_shared_token(const std::string& login_key, std::string& why) {
    if (!http_) refresh();
    if (!limits_.token_cache) return true;
    try {
        limits_.token_cache->invalidate(login_key);
        return true;
    } catch (const dwu::RedisError& e) {
        why = e.what();
        return false;
    }
}

void Sessions::persist_token(StepRunner run, Session& s) {
    if (!s.used || !s.client || !s.client->has_token() || !ring_) return;
    const dwu::DinamizeClient& c = *s.client;
    if (c.token_generation() == s.stored_generation && s.token_id != 0) {
        // Its last use, for the SQL functions that adopt it (a token is renewed after 55 minutes
        // idle): written at most every 10 s, not after every round, which cost a commit each.
        const auto now = std::chrono::steady_clock::now();
        if (now - s.touched_at < std::chrono::seconds(10)) return;
        if (touch_token(run, s.token_id, dwu::epoch_ms(c.token_last_used()))) s.touched_at = now;
        return;
    }
    long long id = 0;
    if (!reserve_token_id(run, id)) return;
    const std::string blob = dwu::seal(*ring_, c.token(), dwu::auth_token_aad(id, s.account_id));
    if (store_token(run, id, s.account_id, s.config_version, blob, dwu::epoch_ms(c.token_issued_at()),
                    dwu::epoch_ms(c.token_last_used()))) {
        s.token_id = id;
        s.stored_generation = c.token_generation();
    }
}

void Sessions::rate_limited(Session& s, int retry_after_seconds) {
    if (limits_.gate) limits_.gate->block(s.limiter_key, std::max(1, retry_after_seconds));
}

void Sessions::log_limiter_changes(int elevel, const char* who) {
    if (!limits_.gate) return;
    const double share = dwu_rate_limit_local_share * 100.0 / Max(1, dwu_workers) *
                         (user_ == LimiterUser::SqlFunctions ? dwu_api_rate_share : 1.0);
    for (const dwu::ModeChange& change : limits_.gate->take_changes()) {
        const char* reason = change.reason.c_str();
        if (change.to == dwu::LimiterMode::Local)
            pg_guarded([=] {
                ereport(elevel,
                        (errmsg("%s cannot use Redis for the shared rate limit: %s", who, reason),
                         errdetail("Until Redis answers again each process of this server sends at most %.0f%% of "
                                   "the limit (dwu_crm.rate_limit_local_share split among dwu_crm.workers).",
                                   share)));
            });
        else
            pg_guarded([=] { ereport(elevel, (errmsg("%s is back on the shared rate limit: %s", who, reason))); });
    }
    if (const long restored = limits_.gate->take_restored(); restored > 0)
        pg_guarded([=] {
            ereport(LOG, (errmsg("%s put %ld of its recent requests back into the shared rate limit", who, restored),
                          errdetail("Redis had lost them (a restart without persistence, FLUSHALL, a failover) "
                                    "or had not seen them (sent while Redis could not be reached).")));
        });
}

}  // namespace dwu_accounts
