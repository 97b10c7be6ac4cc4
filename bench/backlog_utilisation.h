#pragma once
// Bench (b): how much of the allowed rate the shared limiter lets a backlog use. N threads, each
// with its own Redis connection and SharedRateLimiter (as N worker processes, possibly in several
// clusters), drain an endless backlog of one account: try_acquire; when refused, sleep wait_ms
// (the worker sleeps on its latch that long); when admitted, note the time and "send" the request.
// Besides the limit under test, the limiter gets an audit window longer than the run, whose limit
// is never reached: Redis then keeps every admission's time on its own clock for the check.
#include <chrono>
#include <string>
#include <vector>

#include "admission_log.h"
#include "core/limiter/redis_connection.h"

namespace dwu::bench {

struct BacklogSettings {
    RedisOptions redis;
    std::string key_prefix;
    long limit = 40;  // requests per window, for the account
    int window_seconds = 2;
    std::chrono::seconds duration{30};
    std::chrono::milliseconds request_cost{5};  // each admitted request keeps its worker this long
    long margin_ms = 50;                        // added to the window by the limiter; the checks use the bare window
};

struct BacklogResult {
    int workers = 0;
    long admitted = 0;  // before the end
    // limit × ceil(duration / window): a full window's worth at 0, W, 2W, … before the end.
    long allowed = 0;
    long refusals = 0;
    WindowCheck by_worker_clock;
    bool provable_breach = false;  // looked for only when by_worker_clock exceeds the limit
    WindowCheck by_redis_clock;
    std::vector<std::string> errors;  // one per worker stopped by an exception
};

// `account` should be fresh (no entries left by an earlier run).
BacklogResult run_backlog(const BacklogSettings& settings, int workers, const std::string& account);

}  // namespace dwu::bench
