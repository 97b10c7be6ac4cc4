#pragma once
// The one session layer over the account store, for the worker and the SQL functions alike: per
// account a Dinamize client built from the stored (sealed) settings, the stored token adopted,
// tokens shared with other workers through Redis and stored sealed in crm_auth_tokens, and every
// request paced by the rate limiter shared through Redis (request_limits.h).
//
// Sessions are cached by account id and rebuilt when the account's settings change
// (config_version) or when refresh() finds new HTTP or rate-limit settings.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/crypto/account_secrets.h"
#include "core/crypto/secret_box.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/http_transport.h"
#include "pg/accounts/account_store.h"
#include "pg/accounts/request_limits.h"

namespace dwu_accounts {

// An account whose base URL dwu_crm.allowed_hosts does not allow (any more).
class RefusedHost : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Session {
    long long account_id = 0;
    int config_version = 0;
    std::string list_code;
    std::string limiter_key;    // the Dinamize account (client code) as the rate limiter and Redis know it
    std::string token_binding;  // what a token shared through Redis is bound to: client code, base URL, user
    std::string login_key;      // that binding's key for the login lock and the token cache (LoginLock::account_key)
    // The client's logins go through it (declared first: the client, which refers to it, goes first).
    std::unique_ptr<dwu::LoginCoordinator> logins;
    std::unique_ptr<dwu::DinamizeClient> client;         // null when unusable
    long long token_id = 0;                              // the crm_auth_tokens row of the client's token (0: none)
    unsigned long stored_generation = 0;                 // token generation last written to crm_auth_tokens
    std::chrono::steady_clock::time_point touched_at{};  // when its last use was last written there
    unsigned long shared_generation = ~0UL;              // token generation last put in (or taken from) Redis
    bool used = false;                                   // by the worker's current round
    std::string unusable;                                // why it cannot be used now (empty: usable)
};

class Sessions {
public:
    // Polled by libcurl's loop and by the rate limiter's sleep: true when the caller must stop
    // (the worker: SIGTERM; a SQL function: also a cancel or statement_timeout).
    using Interrupted = bool (*)();
    // `user`: whose requests these are; the SQL functions' are held to dwu_crm.api_rate_share of
    // each account's limit (request_limits.h).
    explicit Sessions(Interrupted interrupted, LimiterUser user = LimiterUser::Worker)
        : interrupted_(interrupted), user_(user) {}
    Sessions(const Sessions&) = delete;  // the rate gate's sleep refers to this object
    Sessions& operator=(const Sessions&) = delete;

    // Re-reads the HTTP and rate-limit settings; whatever changed is rebuilt and every session
    // dropped (each holds the old transport and gate). `everything` also forgets the key ring (a
    // SIGHUP may bring a new key file). Returns true when the rate limiter was rebuilt.
    bool refresh(bool everything = false);
    const RequestLimits& limits() const { return limits_; }
    const dwu::HttpOptions& http_options() const { return http_options_; }
    dwu::RateGate* gate() { return limits_.gate.get(); }

    // The key ring, loaded at first use; throws dwu::CryptoError naming the setting.
    const dwu::KeyRing& keys();
    // The same without throwing: false with the reason.
    bool has_keys(std::string& why);

    // The cached usable session of the account at this config_version, or null.
    Session* find(long long account_id, int config_version);
    // A new session for an enabled stored account; throws RefusedHost when dwu_crm.allowed_hosts
    // refuses its base URL, dwu::CryptoError when its password cannot be opened. An unreadable
    // stored token is not reused (the client authenticates anew). With `reseal`, a password sealed
    // by 0.1.0 is re-sealed bound to the account's settings (the worker; a SQL function's caller
    // may not write the accounts table).
    Session& open(const StoredAccount& account, StepRunner reseal = nullptr);
    // Records why the account cannot be used now; its next find() misses, so it is opened again.
    Session& unusable(long long account_id, std::string why);
    std::map<long long, Session>& all() { return sessions_; }

    // Tokens: take one another process shared through Redis when this session has none it may use
    // (one login per account for all servers); share a new one; store it sealed (or its last use).
    void adopt_shared_token(Session& s);
    void share_token(Session& s);
    void persist_token(StepRunner run, Session& s);
    // One login per account at a time across processes (RequestLimits::login_lock; the client's
    // LoginCoordinator calls these): before a login, a newer token another process shared is
    // adopted instead, a login in progress elsewhere is waited for (its token taken), and within
    // dwu_crm.login_min_interval of another login none is made (a retryable AUTH error). Without
    // Redis, each process keeps to its own interval (dinamize_client.h).
    bool before_login(long long account_id);
    void after_login(long long account_id, bool ok) noexcept;

    // Removes the account's token from Redis (its settings changed). False with the reason when
    // Redis is configured and could not be reached; true when done or when there is no Redis.
    bool forget_shared_token(const std::string& login_key, std::string& why);

    // Response codes (code_store.h): re-read when crm_response_codes changed, checked at most once
    // per `min_interval`; every open session's client then gets its account's new table. A read
    // that fails keeps the tables there are.
    void refresh_codes(StepRunner run, std::chrono::milliseconds min_interval);
    // Gives the session's client its account's table (read once per version and account).
    void attach_codes(StepRunner run, Session& s);

    // Dinamize's own 240024: the account pauses everywhere (shared block) for its retry-after.
    void rate_limited(Session& s, int retry_after_seconds);
    // Logs the rate limiter's switches (Redis lost / back) since the last call, at `elevel`.
    void log_limiter_changes(int elevel, const char* who);
    // The rate limiter's sleep: on the latch, so SIGTERM (and, in a backend, a cancel) ends it at
    // once. Returns false when the caller must stop.
    bool sleep_on_latch(long ms);

private:
    std::string open_secret(const std::string& blob, const std::string& aad);
    dwu::OpenedPassword open_password(const std::string& blob, const dwu::PasswordBinding& binding);
    bool redis_usable() const;
    // A token in Redis other than the one the client holds, not due for renewal: adopted.
    bool adopt_newer_shared_token(Session& s);
    void put_shared_token(Session& s);

    Interrupted interrupted_;
    LimiterUser user_;
    // Declared in dependency order: sessions (which refer to the transport and the gate) go first.
    dwu::HttpOptions http_options_;
    std::unique_ptr<dwu::HttpTransport> http_;
    std::string limits_fingerprint_;
    RequestLimits limits_;
    std::optional<dwu::KeyRing> ring_;
    std::map<long long, Session> sessions_;
    std::string codes_version_;  // empty: not read yet
    std::chrono::steady_clock::time_point codes_checked_{};
    std::map<long long, std::shared_ptr<const dwu::ResponseCodes>> codes_;  // by account id
};

}  // namespace dwu_accounts
