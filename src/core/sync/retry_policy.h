#pragma once
#include "core/pg_free.h"
// What happens to a job after an attempt: done, retried later (exponential backoff with jitter),
// or failed for good. PostgreSQL-free and deterministic given the random draw.
#include "core/sync/sync_job.h"

namespace dwu {

struct RetryPolicy {
    int max_attempts = 3;
    int base_delay_seconds = 5;  // 5 s, 10 s, 20 s, …
    int max_delay_seconds = 3600;
    double jitter = 0.25;  // ± this share of the delay, so retries of a burst spread out
};

enum class JobFate { Completed, Retry, Failed };

struct RetryDecision {
    JobFate fate;
    long delay_ms = 0;            // for Retry
    bool refund_attempt = false;  // a rate-limited attempt does not count
};

// random01 is a uniform draw in [0, 1).
RetryDecision decide(const SyncOutcome& outcome, const RetryPolicy& policy, double random01);

// The queue status for a fate: completed, queued, failed.
const char* fate_status(JobFate fate);

}  // namespace dwu
