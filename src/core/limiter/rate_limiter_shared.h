#pragma once
#include "core/pg_free.h"
// The rate limiter every worker of every cluster shares through Redis: a sliding window log per
// account and window, checked and recorded by one Lua script (see rate_limit_scripts.h for keys
// and contract). Dinamize's limit is per account, not per process, so only a shared log keeps
// several workers or several clusters under it together.
//
// Redis may lose that log (a restart without persistence, FLUSHALL, a failover to a replica that
// lacks the latest writes) while Dinamize still counts the requests it held. So each limiter also
// remembers its own admissions of the longest window (member id and time; those it was told of
// while Redis could not be asked as well, see record_local) and puts them back before it admits
// anything more, whenever: the admit script finds the epoch marker missing or set by another
// server process (run_id, read once per connection with INFO), or set since by another limiter
// that found it so; or this limiter admitted without Redis. Putting back is one script call per
// account, atomic, and idempotent (ZADD NX of the same member ids). Every limiter puts back its
// own: the union is what was sent. The one that finds the data lost pauses admissions for
// `settle_ms` so the others can put theirs back before their slots are taken again.
// Not thread-safe (one RedisConnection); throws RedisError.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/limiter/rate_limits.h"
#include "core/limiter/redis_connection.h"
#include "core/limiter/redis_script.h"

namespace dwu {

class SharedRateLimiter {
public:
    // `redis` must outlive the limiter. `settle_ms` (>= 0; capped at the shortest window) is the
    // pause after a loss of Redis's data is found. Throws std::invalid_argument for invalid limits.
    SharedRateLimiter(RedisConnection& redis, RateLimits limits,
                      std::string key_prefix = "dwu_crm:", long settle_ms = 0, MonotonicClock clock = steady_now);

    // Admits and records one request for `account` if every window has room and the account is
    // not blocked; otherwise says how long to wait. One round trip (more after a reconnect or a
    // loss of Redis's data: INFO, then the restore). With a caller share (limits.caller_share)
    // the windows of "<account>:<name>" must have room too, and the request is recorded in both:
    // the account's windows stay the total of every caller.
    Admission try_acquire(const std::string& account);

    // Blocks `account` for every worker for `seconds` (e.g. Dinamize's retry-after on 240024),
    // never shortening a longer block. Returns the block's remaining ms (-1: no expiry).
    long block(const std::string& account, long seconds);

    // A request admitted without Redis (by the local limiter while Redis could not be asked): it
    // is put into Redis before this limiter admits anything there again.
    void record_local(const std::string& account);
    // Likewise a block set while Redis could not be asked.
    void record_local_block(const std::string& account, long seconds);

    std::string window_key(const std::string& account, int window_seconds) const;
    // <prefix>rl:<account>:<name>:<seconds>, the window of the caller share (only with one).
    std::string share_window_key(const std::string& account, int window_seconds) const;
    std::string block_key(const std::string& account) const;
    std::string epoch_key() const { return prefix_ + "rl-epoch"; }
    std::string settle_key() const { return prefix_ + "rl-settle"; }
    const RateLimits& limits() const { return limits_; }
    std::string endpoint() const { return redis_.endpoint(); }

    // The admissions of the longest window this limiter remembers for `account`.
    size_t remembered(const std::string& account) const;
    // Entries put back into Redis since the last call (for the log), and how many restores ran.
    long take_restored() {
        const long n = restored_;
        restored_ = 0;
        return n;
    }
    std::uint64_t restores() const { return restores_; }

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct OwnAdmission {
        std::string member;
        TimePoint at;
    };
    struct OwnLog {
        std::deque<OwnAdmission> admissions;  // oldest first
        TimePoint blocked_until{};
    };

    std::string next_member();
    void remember(const std::string& account, std::string member, TimePoint at);
    void prune(OwnLog& log, TimePoint now) const;
    void check_server();
    void restore_all();
    void restore(const std::string& account, const OwnLog& log, TimePoint now);
    std::vector<std::string> window_keys(const std::string& account) const;  // account's, then the share's
    std::vector<long> window_lengths_ms() const;                             // parallel to window_keys

    RedisConnection& redis_;
    RateLimits limits_;
    std::string prefix_;
    long settle_ms_;
    MonotonicClock clock_;
    RedisScript admit_;
    RedisScript restore_;
    RedisScript block_;
    std::string member_prefix_;  // random per instance, so ids of all processes differ
    std::uint64_t member_counter_ = 0;
    std::chrono::milliseconds longest_{0};  // the longest enforced window: how long to remember
    std::unordered_map<std::string, OwnLog> own_;
    std::string epoch_;                     // the marker's value when this limiter last put its admissions back
    std::string run_id_;                    // of the server behind the connection, '' if INFO is not allowed
    std::uint64_t checked_connection_ = 0;  // connect_count() when run_id_ was read
    bool restore_pending_ = false;
    long restored_ = 0;
    std::uint64_t restores_ = 0;
};

}  // namespace dwu
