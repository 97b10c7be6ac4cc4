#include "core/limiter/rate_gate.h"

#include <algorithm>
#include <stdexcept>

#include "core/dinamize/dinamize_errors.h"

namespace dwu {

RateGate::RateGate(RateLimiter& limiter, Sleep sleep, long inline_wait_ms, long recheck_ms)
    : limiter_(limiter), sleep_(std::move(sleep)), inline_wait_ms_(inline_wait_ms), recheck_ms_(recheck_ms) {
    if (!sleep_) throw std::invalid_argument("rate gate: no sleep function");
    if (inline_wait_ms_ < 0) throw std::invalid_argument("rate gate: negative inline wait");
    if (recheck_ms_ < 0) throw std::invalid_argument("rate gate: negative recheck interval");
}

long RateGate::capped(long wait_ms) const { return recheck_ms_ > 0 ? std::min(wait_ms, recheck_ms_) : wait_ms; }

RateDecision RateGate::ask(const std::string& account) {
    RateDecision d = limiter_.try_acquire(account);
    if (d.change) changes_.push_back(std::move(*d.change));
    restored_ += d.restored;
    return d;
}

long RateGate::admit_job(const std::string& account) {
    prepaid_.clear();
    for (;;) {
        const RateDecision d = ask(account);
        if (d.admitted) {
            prepaid_ = account;
            return 0;
        }
        if (d.wait_ms > inline_wait_ms_) return capped(d.wait_ms);
        if (!sleep_(capped(d.wait_ms))) throw Interrupted();
    }
}

void RateGate::before_request(const std::string& account) {
    if (!prepaid_.empty() && prepaid_ == account) {
        prepaid_.clear();
        return;
    }
    for (;;) {
        const RateDecision d = ask(account);
        if (d.admitted) return;
        if (max_wait_ms_ >= 0 && d.wait_ms > max_wait_ms_) {
            const int seconds = static_cast<int>((d.wait_ms + 999) / 1000);
            throw DinamizeError(ErrorCategory::RateLimit, "",
                                "no free request slot for Dinamize account " + account +
                                    " soon enough: its rate limit is reached, or Dinamize paused it (240024)",
                                true, seconds);
        }
        if (!sleep_(capped(d.wait_ms))) throw Interrupted();
    }
}

long RateGate::try_admit(const std::string& account) {
    const RateDecision d = ask(account);
    return d.admitted ? 0 : capped(std::max(1L, d.wait_ms));
}

void RateGate::block(const std::string& account, long seconds) {
    if (auto change = limiter_.block(account, seconds)) changes_.push_back(std::move(*change));
}

std::vector<ModeChange> RateGate::take_changes() {
    std::vector<ModeChange> out;
    out.swap(changes_);
    return out;
}

}  // namespace dwu
