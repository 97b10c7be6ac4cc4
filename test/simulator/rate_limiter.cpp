#include "rate_limiter.h"

namespace sim {
std::optional<long> RateLimiter::admit(const std::string& account) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (limit_ == 0) return std::nullopt;
    auto now = Clock::now();
    auto& times = recent_[account];
    while (!times.empty() && now - times.front() >= window_) times.pop_front();
    if (times.size() >= limit_) {
        auto wait = std::chrono::ceil<std::chrono::seconds>(times.front() + window_ - now).count();
        return wait < 1 ? 1 : static_cast<long>(wait);
    }
    times.push_back(now);
    return std::nullopt;
}

void RateLimiter::set_limit(unsigned limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = limit;
}

void RateLimiter::set_window(std::chrono::seconds window) {
    std::lock_guard<std::mutex> lock(mutex_);
    window_ = window;
}

std::chrono::seconds RateLimiter::window() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return window_;
}

unsigned RateLimiter::limit() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
}

void RateLimiter::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    recent_.clear();
}

}  // namespace sim
