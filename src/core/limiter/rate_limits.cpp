#include "core/limiter/rate_limits.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

namespace dwu {

void validate(const RateLimits& limits) {
    if (limits.margin_ms < 0) throw std::invalid_argument("rate limit margin must be >= 0 ms");
    std::set<int> seen;
    for (const auto& w : limits.windows) {
        if (w.window_seconds <= 0) throw std::invalid_argument("rate limit window must be > 0 s");
        if (w.limit < 0) throw std::invalid_argument("rate limit must be >= 0 (0 disables the window)");
        if (!seen.insert(w.window_seconds).second)
            throw std::invalid_argument("two rate limit windows of " + std::to_string(w.window_seconds) + " s");
    }
    if (const auto& c = limits.caller_share) {
        if (!(c->share > 0.0 && c->share <= 1.0))
            throw std::invalid_argument("a caller share of the rate limit must be in (0, 1]");
        if (c->name.empty() || c->name.find(':') != std::string::npos)
            throw std::invalid_argument("a caller share of the rate limit needs a name without ':'");
    }
}

long share_limit(const CallerShare& share, const WindowLimit& w) {
    if (w.limit <= 0) return w.limit;
    return std::max(1L, static_cast<long>(std::floor(static_cast<double>(w.limit) * share.share)));
}

std::vector<WindowLimit> active_windows(const RateLimits& limits) {
    std::vector<WindowLimit> active;
    for (const auto& w : limits.windows)
        if (w.limit > 0) active.push_back(w);
    return active;
}

std::chrono::milliseconds enforced_length(const RateLimits& limits, const WindowLimit& w) {
    return std::chrono::seconds(w.window_seconds) + std::chrono::milliseconds(limits.margin_ms);
}

std::chrono::steady_clock::time_point steady_now() { return std::chrono::steady_clock::now(); }

}  // namespace dwu
