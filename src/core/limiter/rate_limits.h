#pragma once
#include "core/pg_free.h"
// What every rate limiter here shares: the limits of one Dinamize account (a sliding window log
// per window: at most `limit` requests in any `window_seconds`), the answer to "may I send now?",
// and the monotonic clock the in-process parts read (injectable so tests need no sleeps).
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dwu {

struct WindowLimit {
    int window_seconds;
    long limit;  // 0 disables this window
};

// One class of callers held to a share of every window of the account (the dinamize_* SQL
// functions: "api"), so that the others (the sync workers) always have the rest. A limiter given
// one counts each request it admits in the account's windows, as every limiter does, AND in the
// windows of the sub-account "<account>:<name>", whose limits are share_limit() of the account's.
struct CallerShare {
    std::string name;    // non-empty, no ':'
    double share = 1.0;  // in (0, 1]
};

struct RateLimits {
    // Dinamize allows 60 requests per minute per account; the hour window is off unless configured.
    std::vector<WindowLimit> windows{{60, 60}, {3600, 0}};
    // Added to every window's length. A request is admitted here a moment before Dinamize sees it,
    // and that moment varies; without the margin a request admitted exactly one window after an
    // earlier, slower-travelling one can reach Dinamize inside the same window and get 240024.
    long margin_ms = 0;
    // Set for the limiter of a class of callers that may use only a share of each window.
    std::optional<CallerShare> caller_share;
};

// The limit of window `w` for the callers of `share`: max(1, floor(limit * share)); 0 stays 0.
long share_limit(const CallerShare& share, const WindowLimit& w);

// The length a limiter enforces for window `w`: its seconds plus the margin.
std::chrono::milliseconds enforced_length(const RateLimits& limits, const WindowLimit& w);

// Throws std::invalid_argument: a window <= 0 s, a negative limit, or two windows of one length
// (they would share one Redis key), a negative margin, a caller share outside (0, 1] or with an
// empty name or one holding ':'.
void validate(const RateLimits& limits);

// The windows that limit anything (limit > 0).
std::vector<WindowLimit> active_windows(const RateLimits& limits);

struct Admission {
    bool admitted = false;
    long wait_ms = 0;  // when refused: how long until a request can be admitted (>= 1)
    // The shared limiter's, when admitted: each of the account's windows' count after this
    // admission, every process's requests together (empty otherwise).
    std::vector<long> window_totals;
};

using MonotonicClock = std::function<std::chrono::steady_clock::time_point()>;
std::chrono::steady_clock::time_point steady_now();

}  // namespace dwu
