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
}

LocalRateLimiter::AccountLog& LocalRateLimiter::log_for(const std::string& account, TimePoint now) {
    if (account.empty()) throw std::invalid_argument("rate limiter: empty account");
    const auto [it, made] = logs_.try_emplace(account);
    AccountLog& log = it->second;
    log.windows.resize(active_.size());
    log.held.resize(active_.size(), 0);
    log.held_until.resize(active_.size());
    // First seen since Redis failed: nothing of ours in its windows, so nothing until one has passed.
    if (made && lost_at_)
        for (size_t i = 0; i < active_.size(); i++)
            log.held_until[i] = *lost_at_ + enforced_length(limits_, active_[i]);
    prune(log, now);
    return log;
}

void LocalRateLimiter::prune(AccountLog& log, TimePoint now) const {
    for (size_t i = 0; i < active_.size(); i++) {
        const TimePoint horizon = now - enforced_length(limits_, active_[i]);
        auto& entries = log.windows[i];
        while (!entries.empty() && entries.front() <= horizon) entries.pop_front();
    }
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
        // Held to what we had in the window when Redis failed: one more once one of ours leaves.
        if (log.held_until[i] <= now) continue;
        const auto& entries = log.windows[i];
        const auto held = static_cast<size_t>(log.held[i]);
        if (entries.size() < held) continue;
        TimePoint room = log.held_until[i];
        if (held > 0) room = std::min(room, entries[entries.size() - held] + enforced_length(limits_, active_[i]));
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
        if (i < window_totals.size() && window_totals[i] > static_cast<long>(log.windows[i].size()))
            others_seen_ = true;
    }
}

void LocalRateLimiter::shared_lost() {
    if (!others_seen_) return;
    const TimePoint now = clock_();
    lost_at_ = now;
    for (auto& entry : logs_) {
        AccountLog& log = entry.second;  // sized by log_for when it was made
        prune(log, now);
        for (size_t i = 0; i < active_.size(); i++) {
            log.held[i] = static_cast<long>(log.windows[i].size());
            log.held_until[i] = now + enforced_length(limits_, active_[i]);
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
