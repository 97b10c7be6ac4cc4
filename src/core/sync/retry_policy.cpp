#include "core/sync/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace dwu {

RetryDecision decide(const SyncOutcome& outcome, const RetryPolicy& policy, double random01) {
    if (outcome.ok) return {JobFate::Completed};
    if (outcome.category == ErrorCategory::RateLimit)
        return {JobFate::Retry, std::max(1, outcome.retry_after_seconds) * 1000L, true};
    if (!outcome.retryable || outcome.attempt >= policy.max_attempts) return {JobFate::Failed};
    const int exponent = std::clamp(outcome.attempt - 1, 0, 20);
    const double base_ms = policy.base_delay_seconds * 1000.0 * std::ldexp(1.0, exponent);
    const double factor = 1.0 + policy.jitter * (2.0 * random01 - 1.0);
    return {JobFate::Retry, std::lround(std::min(base_ms, policy.max_delay_seconds * 1000.0) * factor)};
}

const char* fate_status(JobFate fate) {
    switch (fate) {
        case JobFate::Completed:
            return "completed";
        case JobFate::Retry:
            return "queued";
        case JobFate::Failed:
            return "failed";
    }
    return "failed";
}

}  // namespace dwu
