#include "rate_limiter.h"

namespace sim {
namespace {
constexpr std::chrono::seconds kWindow{60};
}

std::optional<long> RateLimiter::admit(const std::string& account) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (limit_ == 0) return std::nullopt;
    auto now = Clock::now();
    auto& times = recent_[account];
    while (!times.empty() && now - times.front() >= kWindow) times.pop_front();
    if (times.size() >= limit_) {
        auto wait = std::chrono::ceil<std::chrono::seconds>(times.front() + kWindow - now).count();
        return wait < 1 ? 1 : static_cast<long>(wait);
    }
    times.push_back(now);
    return std::nullopt;
}

void RateLimiter::set_limit(unsigned per_minute) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = per_minute;
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
