#pragma once
#include "core/pg_free.h"
// The rate limiter in front of the worker's Dinamize requests. Every request (/auth included) is
// admitted by the limiter first; a refusal is either slept through (through the caller's sleep:
// the worker sleeps on its latch, so SIGTERM and new work still wake it) or, at the start of a
// job and when the wait is long, handed back so the job returns to the queue for that long and
// the batch's other accounts go on.
#include <functional>
#include <string>
#include <vector>

#include "core/limiter/rate_limiter.h"

namespace dwu {

class RateGate {
public:
    // Sleeps up to ms; returns false when the process must stop (RateGate then throws Interrupted).
    using Sleep = std::function<bool(long ms)>;

    // Waits up to `inline_wait_ms` at a job's start are slept through; longer ones defer the job.
    // With `recheck_ms` > 0 no sleep and no deferral is longer than it: the limiter is asked again
    // at least that often, so a process waiting for a slot soon sees that Redis lost its windows
    // (and puts its admissions back within the resync pause) or that Redis is back.
    RateGate(RateLimiter& limiter, Sleep sleep, long inline_wait_ms = 500, long recheck_ms = 0);

    // Before a job of `account`: admits its first request (returns 0), or returns how long the
    // job should wait (ms > 0) without taking a slot.
    long admit_job(const std::string& account);

    // DinamizeClient's before-request hook: the first request after admit_job() for the same
    // account uses the slot admitted there; any other is admitted now, sleeping as long as needed
    // — or, when that is longer than the maximum wait, throws DinamizeError(RATE_LIMIT, no code)
    // with the wait in whole seconds, sending nothing.
    void before_request(const std::string& account);

    // For a transfer pump's admission (core/inflight): asks once, never sleeps. 0 when the
    // request is admitted; else how long until the pump should ask again (ms, capped like any
    // sleep of this gate). Mode changes and restored admissions are kept for the caller as usual.
    long try_admit(const std::string& account);

    // For callers that must not wait long (a SQL function in psql); < 0: no maximum (the worker).
    void set_max_wait_ms(long ms) { max_wait_ms_ = ms; }

    // The job is over: an admitted slot it did not use is not carried to the next job.
    void end_job() { prepaid_.clear(); }

    // Dinamize answered 240024: the account pauses everywhere for `seconds`.
    void block(const std::string& account, long seconds);

    // Mode changes (Redis lost / back) since the last call, oldest first, for the caller to log.
    std::vector<ModeChange> take_changes();
    // Admissions put back into Redis (it had lost them) since the last call, for the caller to log.
    long take_restored() {
        const long n = restored_;
        restored_ = 0;
        return n;
    }

    LimiterMode mode() const { return limiter_.mode(); }

private:
    RateDecision ask(const std::string& account);
    long capped(long wait_ms) const;

    RateLimiter& limiter_;
    Sleep sleep_;
    long inline_wait_ms_;
    long recheck_ms_;
    long max_wait_ms_ = -1;
    std::string prepaid_;  // account whose next request is already admitted
    std::vector<ModeChange> changes_;
    long restored_ = 0;
};

}  // namespace dwu
