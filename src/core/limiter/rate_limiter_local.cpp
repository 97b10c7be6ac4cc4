#include "core/limiter/rate_limiter_local.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dwu {
namespace {

RateLimits scaled(RateLimits limits, double share) {
    if (!(share > 0.0 && share <= 1.0)) throw std::invalid_argument("local rate limit share must be in (0, 1]");
    validate(limits);
    // This process's requests are all of the caller share's class: its limits are the binding ones.
    if (limits.caller_share) {
        for (auto& w : limits.windows) w.limit = share_limit(*limits.caller_share, w);
        limits.caller_share.reset();
    }
    for (auto& w : limits.windows)
        if (w.limit > 0) w.limit = std::max(1L, static_cast<long>(std::floor(w.limit * share)));
    return limits;
}

long ceil_ms(std::chrono::steady_clock::duration d) {
    return static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(d).count());
}

}  // namespace

LocalRateLimiter::LocalRateLimiter(const RateLimits& account_limits, double share, MonotonicClock clock)
    : limits_(scaled(account_limits, share)), active_(active_windows(limits_)), clock_(std::move(clock)) {
    if (!clock_) throw std::invalid_argument("local rate limiter: no clock");
    for (const auto& w : active_windows(account_limits)) account_limits_.push_back(w.limit);
    account_limits_.resize(active_.size(), 0);
}

LocalRateLimiter::AccountLog& LocalRateLimiter::log_for(const std::string& account, TimePoint now) {
    if (account.empty()) throw std::invalid_argument("rate limiter: empty account");
    AccountLog& log = logs_[account];
    log.windows.resize(active_.size());
    log.others.resize(active_.size(), 0);
    log.others_until.resize(active_.size());
    log.last_totals.resize(active_.size(), 0);
    log.unknown.resize(active_.size(), 0);
    log.unknown_until.resize(active_.size());
    for (size_t i = 0; i < active_.size(); i++) {
        const TimePoint horizon = now - enforced_length(limits_, active_[i]);
        auto& entries = log.windows[i];
        while (!entries.empty() && entries.front() <= horizon) entries.pop_front();
    }
    return log;
}

Admission LocalRateLimiter::try_acquire(const std::string& account) {
    const TimePoint now = clock_();
    AccountLog& log = log_for(account, now);
    long wait = log.blocked_until > now ? ceil_ms(log.blocked_until - now) : 0;
    for (size_t i = 0; i < active_.size(); i++) {
        const auto& entries = log.windows[i];
        const auto limit = static_cast<size_t>(active_[i].limit);
        if (entries.size() < limit) continue;
        // One more fits once size - limit + 1 entries have left the window.
        const TimePoint leaves = entries[entries.size() - limit] + enforced_length(limits_, active_[i]);
        wait = std::max(wait, std::max(1L, ceil_ms(leaves - now)));
    }
    for (size_t i = 0; i < active_.size(); i++) {
        // What the other processes had sent through Redis still counts against the whole limit.
        if (account_limits_[i] <= 0) continue;
        const bool others = log.others_until[i] > now && log.others[i] > 0;
        const bool unknown = log.unknown_until[i] > now && log.unknown[i] > 0;
        if (!others && !unknown) continue;
        const auto& entries = log.windows[i];
        const long total =
            static_cast<long>(entries.size()) + (others ? log.others[i] : 0) + (unknown ? log.unknown[i] : 0);
        if (total < account_limits_[i]) continue;
        // Room comes when any part leaves: ours one by one, the others' each at its end.
        TimePoint room = others ? log.others_until[i] : log.unknown_until[i];
        if (unknown) room = std::min(room, log.unknown_until[i]);
        if (!entries.empty()) room = std::min(room, entries.front() + enforced_length(limits_, active_[i]));
        wait = std::max(wait, std::max(1L, ceil_ms(room - now)));
    }
    if (wait > 0) return {false, wait, {}};
    for (auto& entries : log.windows) entries.push_back(now);
    return {true, 0, {}};
}

void LocalRateLimiter::record(const std::string& account) {
    const TimePoint now = clock_();
    for (auto& entries : log_for(account, now).windows) entries.push_back(now);
}

void LocalRateLimiter::record(const std::string& account, const std::vector<long>& window_totals) {
    const TimePoint now = clock_();
    AccountLog& log = log_for(account, now);
    for (size_t i = 0; i < active_.size(); i++) {
        log.windows[i].push_back(now);
        if (i >= window_totals.size()) continue;
        log.others[i] = std::max(0L, window_totals[i] - static_cast<long>(log.windows[i].size()));
        log.others_until[i] = now + enforced_length(limits_, active_[i]);
        log.last_totals[i] = window_totals[i];
        log.unknown[i] = 0;  // what Redis said now is known
    }
}

void LocalRateLimiter::shared_lost() {
    const TimePoint now = clock_();
    for (auto& entry : logs_) {
        AccountLog& log = entry.second;  // sized by log_for when it was made
        for (size_t i = 0; i < active_.size(); i++) {
            if (log.others_until[i] <= now || log.others[i] <= 0 || account_limits_[i] <= 0) continue;
            log.unknown[i] = std::max(0L, account_limits_[i] - log.last_totals[i]);
            log.unknown_until[i] = now + enforced_length(limits_, active_[i]);
        }
    }
}

long LocalRateLimiter::block(const std::string& account, long seconds) {
    if (seconds <= 0) throw std::invalid_argument("rate limiter: block of <= 0 s");
    const TimePoint now = clock_();
    AccountLog& log = log_for(account, now);
    log.blocked_until = std::max(log.blocked_until, now + std::chrono::seconds(seconds));
    return ceil_ms(log.blocked_until - now);
}

}  // namespace dwu
