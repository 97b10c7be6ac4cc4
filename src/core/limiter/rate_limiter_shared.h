#pragma once
#include "core/pg_free.h"
// The rate limiter every worker of every cluster shares through Redis: a sliding window log per
// account and window, checked and recorded by one Lua script (see rate_limit_scripts.h for keys
// and contract). Dinamize's limit is per account, not per process, so only a shared log keeps
// several workers or several clusters under it together.
// Not thread-safe (one RedisConnection); throws RedisError.
#include <cstdint>
#include <string>

#include "core/limiter/rate_limits.h"
#include "core/limiter/redis_connection.h"
#include "core/limiter/redis_script.h"

namespace dwu {

class SharedRateLimiter {
public:
    // `redis` must outlive the limiter. Throws std::invalid_argument for invalid limits.
    SharedRateLimiter(RedisConnection& redis, RateLimits limits, std::string key_prefix = "dwu_crm:");

    // Admits and records one request for `account` if every window has room and the account is
    // not blocked; otherwise says how long to wait. One round trip. With a caller share
    // (limits.caller_share) the windows of "<account>:<name>" must have room too, and the request
    // is recorded in both: the account's windows stay the total of every caller.
    Admission try_acquire(const std::string& account);

    // Blocks `account` for every worker for `seconds` (e.g. Dinamize's retry-after on 240024),
    // never shortening a longer block. Returns the block's remaining ms (-1: no expiry).
    long block(const std::string& account, long seconds);

    std::string window_key(const std::string& account, int window_seconds) const;
    // <prefix>rl:<account>:<name>:<seconds>, the window of the caller share (only with one).
    std::string share_window_key(const std::string& account, int window_seconds) const;
    std::string block_key(const std::string& account) const;
    const RateLimits& limits() const { return limits_; }
    std::string endpoint() const { return redis_.endpoint(); }

private:
    std::string next_member();

    RedisConnection& redis_;
    RateLimits limits_;
    std::string prefix_;
    RedisScript admit_;
    RedisScript block_;
    std::string member_prefix_;  // random per instance, so ids of all processes differ
    std::uint64_t member_counter_ = 0;
};

}  // namespace dwu
