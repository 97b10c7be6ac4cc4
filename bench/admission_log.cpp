#include "admission_log.h"

#include <algorithm>

namespace dwu::bench {

WindowCheck check_windows(std::vector<long long> times_ns, std::chrono::nanoseconds window, long limit) {
    std::sort(times_ns.begin(), times_ns.end());
    const long long w = window.count();
    WindowCheck check;
    size_t first = 0;
    for (size_t last = 0; last < times_ns.size(); last++) {
        while (times_ns[last] - times_ns[first] >= w) first++;  // an entry exactly W old has left the window
        check.max_in_window = std::max(check.max_in_window, static_cast<long>(last - first + 1));
    }
    for (size_t i = 0; i + static_cast<size_t>(limit) < times_ns.size(); i++) {
        const double span_ms = static_cast<double>(times_ns[i + limit] - times_ns[i]) / 1e6;
        if (check.min_span_ms < 0 || span_ms < check.min_span_ms) check.min_span_ms = span_ms;
    }
    return check;
}

WindowCheck check_windows(const std::vector<AdmissionStamp>& stamps, std::chrono::nanoseconds window, long limit) {
    std::vector<long long> answered_ns;
    answered_ns.reserve(stamps.size());
    for (const auto& s : stamps)
        answered_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(s.answered.time_since_epoch()).count());
    return check_windows(std::move(answered_ns), window, limit);
}

bool provable_breach(std::vector<AdmissionStamp> stamps, std::chrono::nanoseconds window, long limit) {
    std::sort(stamps.begin(), stamps.end(), [](const auto& a, const auto& b) { return a.asked < b.asked; });
    for (size_t i = 0; i < stamps.size(); i++) {
        const auto window_end = stamps[i].asked + window;
        long inside = 0;
        for (size_t j = i; j < stamps.size() && stamps[j].asked < window_end; j++)
            if (stamps[j].answered < window_end) inside++;
        if (inside > limit) return true;
    }
    return false;
}

}  // namespace dwu::bench
