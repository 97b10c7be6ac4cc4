#pragma once
// Checks a run's admissions against the sliding-window limit after the fact, on two clocks.
// The worker's: it only knows its admission happened between sending try_acquire (`asked`) and
// reading the answer (`answered`). `answered` is when it would send its request to Dinamize, so it
// is what Dinamize's own count sees (less network jitter). Redis's: the time the script recorded.
#include <chrono>
#include <vector>

namespace dwu::bench {

struct AdmissionStamp {
    std::chrono::steady_clock::time_point asked;
    std::chrono::steady_clock::time_point answered;
};

struct WindowCheck {
    long max_in_window = 0;   // most admissions in any half-open window (t - W, t], as the limiter counts
    double min_span_ms = -1;  // least time from an admission to the `limit`-th after it (-1: too few)
};

// By the workers' clock (`answered`).
WindowCheck check_windows(const std::vector<AdmissionStamp>& stamps, std::chrono::nanoseconds window, long limit);
// Admission times in ns on any one clock (Redis's: its µs scores × 1000).
WindowCheck check_windows(std::vector<long long> times_ns, std::chrono::nanoseconds window, long limit);

// Whether some limit + 1 admissions' whole [asked, answered] intervals fit in less than a window:
// then Redis itself admitted too many. Quadratic: run it only on an excess by the workers' clock.
bool provable_breach(std::vector<AdmissionStamp> stamps, std::chrono::nanoseconds window, long limit);

}  // namespace dwu::bench
