#pragma once
#include "core/pg_free.h"
// One login per Dinamize account at a time, across every worker, SQL session and server that
// shares Redis, and none within the minimum interval of the last one: a lock key taken with
// SET NX PX while a process logs in, and a marker key that lives for the interval after each
// login. Whoever finds the lock taken waits for the token the holder shares (TokenCache) instead
// of logging in too. Keys: <prefix>login:<account> and <prefix>login-at:<account>.
// Throws RedisError.
#include <chrono>
#include <cstdint>
#include <string>

#include "core/limiter/redis_connection.h"
#include "core/limiter/redis_script.h"

namespace dwu {

class LoginLock {
public:
    enum class Outcome {
        Acquired,  // log in, then release()
        Busy,      // another process is logging in: wait for its token
        Recent,    // a login of the account happened less than the interval ago
    };

    // `redis` must outlive the lock.
    explicit LoginLock(RedisConnection& redis, std::string key_prefix = "dwu_crm:");

    // What the lock is keyed by: one login serves one client code at one base URL as one user
    // (a token is bound to those), so "<client code>:" + the first 16 hex digits of SHA-256 over
    // the binding (the user's name never reaches Redis).
    static std::string account_key(const std::string& client_code, const std::string& token_binding);

    // Takes the lock for at most `hold` (it expires by itself if this process dies), unless a
    // login happened within the interval or another process holds it.
    Outcome try_acquire(const std::string& account, std::chrono::milliseconds hold);
    // Releases the lock this process holds; after a login (`logged_in`), the interval starts.
    void release(const std::string& account, bool logged_in, std::chrono::milliseconds interval);

    std::string lock_key(const std::string& account) const { return prefix_ + "login:" + account; }
    std::string recent_key(const std::string& account) const { return prefix_ + "login-at:" + account; }

private:
    RedisConnection& redis_;
    std::string prefix_;
    std::string owner_;  // random per instance: only the holder releases the lock
    RedisScript acquire_;
    RedisScript release_;
};

}  // namespace dwu
