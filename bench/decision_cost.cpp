#include "decision_cost.h"

#include <hiredis/hiredis.h>

#include <chrono>
#include <stdexcept>

#include "core/limiter/rate_limiter_local.h"
#include "core/limiter/rate_limiter_shared.h"

namespace dwu::bench {
namespace {

constexpr int kWarmupCalls = 1000;

// Admits every call of the bench: the path where the script records (ZADD, PEXPIRE).
RateLimits always_admitting() {
    RateLimits limits;
    limits.windows = {{60, 100000000}};
    return limits;
}

// `decide` makes one decision and says whether its outcome was the expected one.
template <typename Decide>
DecisionCost time_calls(std::string limiter, std::string path, int calls, Decide decide) {
    for (int i = 0; i < kWarmupCalls; i++) decide();
    std::vector<double> samples_us;
    samples_us.reserve(static_cast<size_t>(calls));
    long unexpected = 0;
    for (int i = 0; i < calls; i++) {
        const auto start = std::chrono::steady_clock::now();
        const bool as_expected = decide();
        const auto end = std::chrono::steady_clock::now();
        samples_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
        if (!as_expected) unexpected++;
    }
    return {std::move(limiter), std::move(path), summarize(std::move(samples_us)), unexpected};
}

// Takes every slot of the account's windows, so that what follows is refused.
template <typename Limiter>
void fill(Limiter& limiter, const std::string& account) {
    for (int i = 0; i < 1000000; i++)
        if (!limiter.try_acquire(account).admitted) return;
    throw std::logic_error("bench: the deny account never filled up");
}

}  // namespace

std::vector<DecisionCost> measure_decision_cost(const RedisOptions& options, const std::string& key_prefix, int calls) {
    std::vector<DecisionCost> rows;
    RedisConnection redis(options);
    rows.push_back(time_calls("redis PING (round trip floor)", "-", calls,
                              [&] { return redis.command({"PING"})->type == REDIS_REPLY_STATUS; }));

    SharedRateLimiter shared_admit(redis, always_admitting(), key_prefix);
    rows.push_back(
        time_calls("shared (Redis)", "admit", calls, [&] { return shared_admit.try_acquire("cost-admit").admitted; }));
    // The production limits (60 per minute, hour window off): 60 admits, then only refusals.
    SharedRateLimiter shared_deny(redis, RateLimits{}, key_prefix);
    fill(shared_deny, "cost-deny");
    rows.push_back(
        time_calls("shared (Redis)", "deny", calls, [&] { return !shared_deny.try_acquire("cost-deny").admitted; }));

    LocalRateLimiter local_admit(always_admitting(), 1.0);
    rows.push_back(time_calls("local (in-process)", "admit", calls,
                              [&] { return local_admit.try_acquire("cost-admit").admitted; }));
    LocalRateLimiter local_deny(RateLimits{}, 1.0);
    fill(local_deny, "cost-deny");
    rows.push_back(
        time_calls("local (in-process)", "deny", calls, [&] { return !local_deny.try_acquire("cost-deny").admitted; }));
    return rows;
}

}  // namespace dwu::bench
