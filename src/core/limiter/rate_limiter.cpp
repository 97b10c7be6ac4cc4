#include "core/limiter/rate_limiter.h"

#include <stdexcept>

namespace dwu {

RateLimiter::RateLimiter(std::unique_ptr<SharedRateLimiter> shared, LocalRateLimiter local,
                         std::chrono::milliseconds redis_retry_interval, MonotonicClock clock)
    : shared_(std::move(shared)),
      local_(std::move(local)),
      retry_interval_(redis_retry_interval),
      clock_(std::move(clock)),
      mode_(shared_ ? LimiterMode::Shared : LimiterMode::Local) {
    if (!clock_) throw std::invalid_argument("rate limiter: no clock");
    if (retry_interval_.count() <= 0) throw std::invalid_argument("rate limiter: redis retry interval must be > 0");
}

bool RateLimiter::shared_usable(std::chrono::steady_clock::time_point now) const {
    return shared_ && (mode_ == LimiterMode::Shared || now >= next_redis_attempt_);
}

std::optional<ModeChange> RateLimiter::note_success() {
    if (mode_ == LimiterMode::Shared) return std::nullopt;
    mode_ = LimiterMode::Shared;
    return ModeChange{LimiterMode::Shared, "redis " + shared_->endpoint() + " answers again"};
}

ModeChange RateLimiter::note_failure(const RedisError& e, std::chrono::steady_clock::time_point now) {
    if (mode_ == LimiterMode::Shared) local_.shared_lost();
    next_redis_attempt_ = now + retry_interval_;
    mode_ = LimiterMode::Local;
    return ModeChange{LimiterMode::Local, e.what()};
}

// Any RedisError falls back, Reply included (WRONGPASS, READONLY after a failover, OOM): the
// limiter must never stop the sync, and the one logged transition carries the server's message.
RateDecision RateLimiter::try_acquire(const std::string& account) {
    const auto now = clock_();
    RateDecision d;
    const LimiterMode before = mode_;
    if (shared_usable(now)) {
        try {
            const Admission a = shared_->try_acquire(account);
            d.change = note_success();
            d.restored = shared_->take_restored();
            // So that a fallback later knows our recent traffic, and the others' part of the window.
            if (a.admitted) local_.record(account, a.window_totals);
            d.admitted = a.admitted;
            d.wait_ms = a.wait_ms;
            d.mode = LimiterMode::Shared;
            return d;
        } catch (const RedisError& e) {
            ModeChange change = note_failure(e, now);
            if (before == LimiterMode::Shared) d.change = std::move(change);  // a failed retry is no news
        }
    }
    const Admission a = local_.try_acquire(account);
    // Sent without Redis knowing: put into Redis before the shared limiter admits again there.
    if (a.admitted && shared_) shared_->record_local(account);
    d.admitted = a.admitted;
    d.wait_ms = a.wait_ms;
    d.mode = LimiterMode::Local;
    return d;
}

std::optional<ModeChange> RateLimiter::block(const std::string& account, long seconds) {
    const auto now = clock_();
    local_.block(account, seconds);
    if (!shared_) return std::nullopt;
    if (!shared_usable(now)) {
        shared_->record_local_block(account, seconds);
        return std::nullopt;
    }
    const LimiterMode before = mode_;
    try {
        shared_->block(account, seconds);
        return note_success();
    } catch (const RedisError& e) {
        shared_->record_local_block(account, seconds);
        ModeChange change = note_failure(e, now);
        if (before == LimiterMode::Shared) return change;
        return std::nullopt;
    }
}

}  // namespace dwu
