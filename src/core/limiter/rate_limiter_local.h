#pragma once
#include "core/pg_free.h"
// The in-process stand-in for the shared limiter while Redis is unreachable: the same sliding
// window log, kept in memory, with every limit scaled down to this process's share. Failing open
// without any limit would let every worker of every cluster send at full rate at once; a share
// (e.g. 0.5 with two workers) keeps the account roughly under Dinamize's limit until Redis is back.
// Not thread-safe; reads time only from the injected clock.
#include <chrono>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/limiter/rate_limits.h"

namespace dwu {

class LocalRateLimiter {
public:
    // share in (0, 1]; each limit becomes max(1, floor(limit * share)), 0 stays disabled. With a
    // caller share (account_limits.caller_share) every request here is of that class: each limit
    // is first share_limit() of it, then scaled.
    // Throws std::invalid_argument for invalid limits or share.
    LocalRateLimiter(const RateLimits& account_limits, double share, MonotonicClock clock = steady_now);

    Admission try_acquire(const std::string& account);

    // Counts a request admitted elsewhere (by the shared limiter), so that when Redis goes away
    // this process's recent traffic still counts against its share.
    void record(const std::string& account);
    // The same, with the shared window's totals at that admission (Admission::window_totals):
    // the other processes' part of each is counted too, as if it stayed for a whole window (when
    // their requests leave is not known), so that a window straddling a switch to the local share
    // never holds more than the limit however unevenly the processes had shared it.
    void record(const std::string& account, const std::vector<long>& window_totals);

    // The shared limiter just failed. The others went on admitting after the totals we last saw,
    // up to the moment it failed, and how many is not known: where others had a part of the last
    // window, the rest of the whole limit counts as theirs until one window from now. A process
    // that saw no one else in the window (a single worker) goes on with its share at once.
    void shared_lost();

    // Refuses `account` for `seconds`, never shortening a longer block. Returns the remaining ms.
    long block(const std::string& account, long seconds);

    const RateLimits& limits() const { return limits_; }  // the scaled limits

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct AccountLog {
        std::vector<std::deque<TimePoint>> windows;  // parallel to active_
        std::vector<long> others;                    // other processes' requests in each window...
        std::vector<TimePoint> others_until;         // ...counted until then
        std::vector<long> last_totals;               // the shared totals last seen
        std::vector<long> unknown;                   // what the others may have admitted since...
        std::vector<TimePoint> unknown_until;        // ...counted until then (shared_lost)
        TimePoint blocked_until{};
    };
    AccountLog& log_for(const std::string& account, TimePoint now);

    RateLimits limits_;
    std::vector<WindowLimit> active_;
    std::vector<long> account_limits_;  // parallel to active_: the whole account's, not this share's
    MonotonicClock clock_;
    std::unordered_map<std::string, AccountLog> logs_;
};

}  // namespace dwu
