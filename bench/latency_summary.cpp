#include "latency_summary.h"

#include <algorithm>
#include <cmath>

namespace dwu::bench {

LatencySummary summarize(std::vector<double> samples_us) {
    LatencySummary s;
    s.samples = samples_us.size();
    if (samples_us.empty()) return s;
    std::sort(samples_us.begin(), samples_us.end());
    const size_t n = samples_us.size();
    s.median_us = n % 2 ? samples_us[n / 2] : (samples_us[n / 2 - 1] + samples_us[n / 2]) / 2;
    const auto p99_rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(n)));
    s.p99_us = samples_us[std::max<size_t>(p99_rank, 1) - 1];
    s.max_us = samples_us.back();
    return s;
}

}  // namespace dwu::bench
