#pragma once
#include "core/pg_free.h"
// What every rate limiter here shares: the limits of one Dinamize account (a sliding window log
// per window: at most `limit` requests in any `window_seconds`), the answer to "may I send now?",
// and the monotonic clock the in-process parts read (injectable so tests need no sleeps).
#include <chrono>
#include <functional>
#include <vector>

namespace dwu {

struct WindowLimit {
    int window_seconds;
    long limit;  // 0 disables this window
};

struct RateLimits {
    // Dinamize allows 60 requests per minute per account; the hour window is off unless configured.
    std::vector<WindowLimit> windows{{60, 60}, {3600, 0}};
    // Added to every window's length. A request is admitted here a moment before Dinamize sees it,
    // and that moment varies; without the margin a request admitted exactly one window after an
    // earlier, slower-travelling one can reach Dinamize inside the same window and get 240024.
    long margin_ms = 0;
};

// The length a limiter enforces for window `w`: its seconds plus the margin.
std::chrono::milliseconds enforced_length(const RateLimits& limits, const WindowLimit& w);

// Throws std::invalid_argument: a window <= 0 s, a negative limit, or two windows of one length
// (they would share one Redis key), a negative margin.
void validate(const RateLimits& limits);

// The windows that limit anything (limit > 0).
std::vector<WindowLimit> active_windows(const RateLimits& limits);

struct Admission {
    bool admitted = false;
    long wait_ms = 0;  // when refused: how long until a request can be admitted (>= 1)
};

using MonotonicClock = std::function<std::chrono::steady_clock::time_point()>;
std::chrono::steady_clock::time_point steady_now();

}  // namespace dwu
