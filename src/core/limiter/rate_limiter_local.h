#pragma once
#include "core/pg_free.h"
// The in-process stand-in for the shared limiter while Redis is unreachable: the same sliding
// window log, kept in memory, with every limit scaled down to this process's share. Failing open
// without any limit would let every worker of every cluster send at full rate at once; a share
// (e.g. 0.5 with two workers) keeps the account roughly under Dinamize's limit until Redis is back.
// Not thread-safe; reads time only from the injected clock.
#include <chrono>
#include <deque>
#include <optional>
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
    // whether other processes send through the shared limiter too, which shared_lost() needs.
    void record(const std::string& account, const std::vector<long>& window_totals);

    // The shared limiter just failed. Every window ending then held at most the limit, everyone's
    // requests together (Redis saw them all). So once others have been seen sending, this
    // process's requests in each window of each account are held, for one window from now, to no
    // more than it has in it now: each process only replaces its own as they leave, and every
    // account stays under the limit however the processes had shared the window and whatever was
    // sent after the totals each last saw. An account this process was idle for through the last
    // window (or never sent for) waits a window. A process that never saw anyone else's request
    // (a single worker) goes on with its share at once.
    void shared_lost();

    // Refuses `account` for `seconds`, never shortening a longer block. Returns the remaining ms.
    long block(const std::string& account, long seconds);

    const RateLimits& limits() const { return limits_; }  // the scaled limits

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct AccountLog {
        std::vector<std::deque<TimePoint>> windows;  // parallel to active_
        std::vector<long> held;                      // at most this many of ours in each window...
        std::vector<TimePoint> held_until;           // ...until then (shared_lost)
        TimePoint blocked_until{};
    };
    AccountLog& log_for(const std::string& account, TimePoint now);
    void prune(AccountLog& log, TimePoint now) const;

    RateLimits limits_;
    std::vector<WindowLimit> active_;
    MonotonicClock clock_;
    std::unordered_map<std::string, AccountLog> logs_;
    bool others_seen_ = false;          // a shared total once held requests not ours
    std::optional<TimePoint> lost_at_;  // the last shared_lost() that held the accounts
};

}  // namespace dwu
