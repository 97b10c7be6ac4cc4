// Optional rate limit (reference §4: 60 requests/minute, 240024 with body "retry-after").
// Off (0) unless enabled with --rate-limit-per-minute or POST /__sim/config, so ordinary tests are
// not slowed down. Window: the last 60 s (shorter with --rate-limit-window-seconds, so tests of
// the limit run in seconds), per account (client_code), /auth included (§4 [I]).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sim {

class RateLimiter {
public:
    explicit RateLimiter(unsigned limit, std::chrono::seconds window = std::chrono::seconds(60))
        : limit_(limit), window_(window) {}

    // Records a request for `account` and returns nullopt, or, when over the limit, returns the
    // seconds to wait (>= 1) and records nothing.
    std::optional<long> admit(const std::string& account);

    void set_limit(unsigned limit);
    unsigned limit() const;  // requests per window
    void set_window(std::chrono::seconds window);
    std::chrono::seconds window() const;
    void reset();  // forget recorded requests

private:
    using Clock = std::chrono::steady_clock;
    mutable std::mutex mutex_;
    unsigned limit_;
    std::chrono::seconds window_;
    std::map<std::string, std::deque<Clock::time_point>> recent_;
};

}  // namespace sim
