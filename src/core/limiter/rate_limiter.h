#pragma once
#include "core/pg_free.h"
// What the worker asks before each Dinamize request. Uses the shared (Redis) limiter; when Redis
// cannot be used it fails open to the local limiter (this process's share of the limits, never
// unlimited) and asks Redis again only after a backoff, so a Redis outage costs one connect
// timeout per interval rather than one per job.
// Back on Redis, the shared limiter first puts into Redis what this process admitted without it
// (and whatever Redis lost of its recent admissions: see rate_limiter_shared.h).
// A change of mode comes back in the result instead of through a callback: the caller logs it
// with ereport, which must not run while C++ frames of ours are on the stack. Exactly one result
// carries each transition, so the log has one line per outage, not one per job.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/limiter/rate_limiter_local.h"
#include "core/limiter/rate_limiter_shared.h"

namespace dwu {

enum class LimiterMode { Shared, Local };

struct ModeChange {
    LimiterMode to;
    std::string reason;  // for Local: the RedisError's message (host:port, no password)
};

struct RateDecision {
    bool admitted = false;
    long wait_ms = 0;                        // when refused: sleep this long, then ask again
    LimiterMode mode = LimiterMode::Shared;  // which limiter decided
    std::optional<ModeChange> change;        // set on the one call that switched modes
    long restored = 0;                       // admissions this call put back into Redis first
};

class RateLimiter {
public:
    // shared may be null (Redis not configured): then always Local, without transitions.
    // The clock times the Redis backoff; pass the local limiter the same one.
    RateLimiter(std::unique_ptr<SharedRateLimiter> shared, LocalRateLimiter local,
                std::chrono::milliseconds redis_retry_interval = std::chrono::seconds(5),
                MonotonicClock clock = steady_now);

    RateDecision try_acquire(const std::string& account);

    // Blocks the account in both limiters (Dinamize answered 240024 with a retry-after), so the
    // block survives a switch of mode. Returns a mode change if Redis failed or came back.
    std::optional<ModeChange> block(const std::string& account, long seconds);

    LimiterMode mode() const { return mode_; }

private:
    bool shared_usable(std::chrono::steady_clock::time_point now) const;
    std::optional<ModeChange> note_success();
    ModeChange note_failure(const RedisError& e, std::chrono::steady_clock::time_point now);

    std::unique_ptr<SharedRateLimiter> shared_;
    LocalRateLimiter local_;
    std::chrono::milliseconds retry_interval_;
    MonotonicClock clock_;
    LimiterMode mode_;
    std::chrono::steady_clock::time_point next_redis_attempt_{};
};

}  // namespace dwu
