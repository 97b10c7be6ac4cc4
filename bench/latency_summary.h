#pragma once
// Median, p99 and max of a set of timings.
#include <cstddef>
#include <vector>

namespace dwu::bench {

struct LatencySummary {
    size_t samples = 0;
    double median_us = 0;
    double p99_us = 0;  // nearest rank: the smallest value >= 99 % of the samples
    double max_us = 0;
};

LatencySummary summarize(std::vector<double> samples_us);

}  // namespace dwu::bench
