// The caller share of the rate limit (RateLimits::caller_share): the dinamize_* SQL functions'
// limiter counts each request in the account's windows AND in the windows of "<account>:api",
// limited to a share of each limit, so the backends together never take more than that share and
// the workers (a limiter without a share, same keys as ever) always have the rest. Against a real
// redis-server on loopback, and the local fallback with a fake clock.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dinamize/dinamize_errors.h"
#include "core/limiter/rate_gate.h"
#include "core/limiter/rate_limiter.h"
#include "core/limiter/rate_limiter_local.h"
#include "core/limiter/rate_limiter_shared.h"
#include "core/limiter/redis_connection.h"
#include "redis_server_process.h"

namespace dwu {
namespace {

RedisOptions options_for(int port) {
    RedisOptions o;
    o.port = port;
    o.connect_timeout_ms = 500;
    o.command_timeout_ms = 1000;
    return o;
}

RateLimits worker_limits(std::vector<WindowLimit> windows) {
    RateLimits l;
    l.windows = std::move(windows);
    return l;
}

RateLimits api_limits(std::vector<WindowLimit> windows, double share) {
    RateLimits l = worker_limits(std::move(windows));
    l.caller_share = CallerShare{"api", share};
    return l;
}

int admitted_of(SharedRateLimiter& limiter, const std::string& account, int tries) {
    int admitted = 0;
    for (int i = 0; i < tries; i++)
        if (limiter.try_acquire(account).admitted) admitted++;
    return admitted;
}

class RateShareTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new test::RedisServerProcess(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override {
        admin_ = std::make_unique<RedisConnection>(options_for(server_->port()));
        admin_->command({"FLUSHALL"});
    }
    long long zcard(const std::string& key) {
        ReplyPtr reply = admin_->command({"ZCARD", key});
        EXPECT_EQ(reply->type, REDIS_REPLY_INTEGER);
        return reply->integer;
    }
    std::vector<std::string> keys() {
        ReplyPtr reply = admin_->command({"KEYS", "*"});
        std::vector<std::string> out;
        for (size_t i = 0; i < reply->elements; i++) out.emplace_back(reply->element[i]->str);
        std::sort(out.begin(), out.end());
        return out;
    }
    static RedisOptions options() { return options_for(server_->port()); }

    static test::RedisServerProcess* server_;
    std::unique_ptr<RedisConnection> admin_;
};
test::RedisServerProcess* RateShareTest::server_ = nullptr;

TEST(RateShareLimitTest, IsTheFlooredShareButAtLeastOne) {
    const CallerShare half{"api", 0.5};
    EXPECT_EQ(share_limit(half, {60, 60}), 30);
    EXPECT_EQ(share_limit(half, {60, 7}), 3);
    EXPECT_EQ(share_limit(half, {60, 1}), 1);    // a limit of one: the share cannot be less than a request
    EXPECT_EQ(share_limit(half, {3600, 0}), 0);  // a disabled window stays disabled
    EXPECT_EQ(share_limit(CallerShare{"api", 1.0}, {60, 60}), 60);
    EXPECT_EQ(share_limit(CallerShare{"api", 0.01}, {60, 60}), 1);
}

TEST(RateShareLimitTest, InvalidSharesAreRefused) {
    EXPECT_THROW(validate(api_limits({{60, 60}}, 0.0)), std::invalid_argument);
    EXPECT_THROW(validate(api_limits({{60, 60}}, 1.5)), std::invalid_argument);
    RateLimits unnamed = api_limits({{60, 60}}, 0.5);
    unnamed.caller_share->name = "";
    EXPECT_THROW(validate(unnamed), std::invalid_argument);
    RateLimits colon = api_limits({{60, 60}}, 0.5);
    colon.caller_share->name = "a:b";  // would make its keys ambiguous with another account's
    EXPECT_THROW(validate(colon), std::invalid_argument);
    EXPECT_NO_THROW(validate(api_limits({{60, 60}}, 1.0)));
}

TEST_F(RateShareTest, TheApiShareStopsTheBackendsAndTheWorkerKeepsTheRest) {
    RedisConnection backend_redis(options());
    RedisConnection worker_redis(options());
    SharedRateLimiter backend(backend_redis, api_limits({{60, 4}}, 0.5));
    SharedRateLimiter worker(worker_redis, worker_limits({{60, 4}}));

    EXPECT_EQ(admitted_of(backend, "300001", 5), 2);  // half of 4
    const Admission refused = backend.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_GT(refused.wait_ms, 59000);  // until its oldest request leaves the api window
    EXPECT_LE(refused.wait_ms, 60000);

    EXPECT_EQ(admitted_of(worker, "300001", 5), 2);  // the rest of the account's 4, not more
    EXPECT_FALSE(worker.try_acquire("300001").admitted);

    // Every request counts in the account's window; the backends' also in their own. The worker's
    // keys are the ones it always used.
    EXPECT_EQ(zcard("dwu_crm:rl:300001:60"), 4);
    EXPECT_EQ(zcard("dwu_crm:rl:300001:api:60"), 2);
    EXPECT_EQ(keys(),
              (std::vector<std::string>{"dwu_crm:rl-epoch", "dwu_crm:rl:300001:60", "dwu_crm:rl:300001:api:60"}));
    EXPECT_EQ(backend.share_window_key("300001", 60), "dwu_crm:rl:300001:api:60");
    EXPECT_EQ(worker.window_key("300001", 60), "dwu_crm:rl:300001:60");
    EXPECT_THROW(worker.share_window_key("300001", 60), std::logic_error);
}

TEST_F(RateShareTest, TheBackendsShareCountsAgainstTheAccountsTotal) {
    RedisConnection redis(options());
    SharedRateLimiter worker(redis, worker_limits({{60, 4}}));
    SharedRateLimiter backend(redis, api_limits({{60, 4}}, 0.5));
    EXPECT_EQ(admitted_of(worker, "300001", 4), 4);  // the worker may use the whole limit
    const Admission a = backend.try_acquire("300001");
    EXPECT_FALSE(a.admitted);  // its share is unused, but the account is full
    EXPECT_GT(a.wait_ms, 0);
    EXPECT_EQ(zcard("dwu_crm:rl:300001:api:60"), 0);  // a refusal records nothing, anywhere
    EXPECT_EQ(zcard("dwu_crm:rl:300001:60"), 4);
}

TEST_F(RateShareTest, ManyBackendsTogetherStayWithinTheShare) {
    constexpr int kBackends = 4;
    std::vector<std::unique_ptr<RedisConnection>> connections;
    std::vector<std::unique_ptr<SharedRateLimiter>> backends;
    for (int i = 0; i < kBackends; i++) {
        connections.push_back(std::make_unique<RedisConnection>(options()));
        backends.push_back(std::make_unique<SharedRateLimiter>(*connections.back(), api_limits({{60, 10}}, 0.5)));
    }
    int admitted = 0;
    for (int round = 0; round < 5; round++)
        for (auto& b : backends)
            if (b->try_acquire("300001").admitted) admitted++;
    EXPECT_EQ(admitted, 5);
    RedisConnection worker_redis(options());
    SharedRateLimiter worker(worker_redis, worker_limits({{60, 10}}));
    EXPECT_EQ(admitted_of(worker, "300001", 10), 5);  // the other half is the worker's
}

TEST_F(RateShareTest, AccountsHaveTheirOwnShares) {
    RedisConnection redis(options());
    SharedRateLimiter backend(redis, api_limits({{60, 2}}, 0.5));
    EXPECT_TRUE(backend.try_acquire("300001").admitted);
    EXPECT_FALSE(backend.try_acquire("300001").admitted);
    EXPECT_TRUE(backend.try_acquire("300002").admitted);
}

TEST_F(RateShareTest, TheHourWindowIsSharedToo) {
    RedisConnection redis(options());
    SharedRateLimiter backend(redis, api_limits({{1, 100}, {3600, 4}}, 0.5));
    EXPECT_EQ(admitted_of(backend, "300001", 2), 2);
    const Admission a = backend.try_acquire("300001");
    EXPECT_FALSE(a.admitted);
    EXPECT_GT(a.wait_ms, 3500 * 1000L);  // the hour's share is used up, not the second's
    EXPECT_EQ(zcard("dwu_crm:rl:300001:api:3600"), 2);
    EXPECT_EQ(zcard("dwu_crm:rl:300001:api:1"), 2);
    EXPECT_EQ(zcard("dwu_crm:rl:300001:3600"), 2);
}

TEST_F(RateShareTest, ABlockStopsTheBackendsAsWell) {
    RedisConnection redis(options());
    SharedRateLimiter worker(redis, worker_limits({{60, 10}}));
    SharedRateLimiter backend(redis, api_limits({{60, 10}}, 0.5));
    worker.block("300001", 30);  // Dinamize answered 240024 to the worker
    const Admission a = backend.try_acquire("300001");
    EXPECT_FALSE(a.admitted);
    EXPECT_GT(a.wait_ms, 29000);
}

// Without Redis each process only sees its own requests, all of the share's class: the local
// limits are the share's, scaled by the local share.
TEST(RateShareLocalTest, TheLocalFallbackHoldsTheShareOfTheLocalShare) {
    auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    auto clock = [&now] { return now; };
    LocalRateLimiter backend(api_limits({{60, 10}, {3600, 100}}, 0.5), 0.5, clock);
    EXPECT_EQ(backend.limits().windows[0].limit, 2);  // floor(floor(10 * 0.5) * 0.5)
    EXPECT_EQ(backend.limits().windows[1].limit, 25);
    EXPECT_FALSE(backend.limits().caller_share);
    EXPECT_TRUE(backend.try_acquire("300001").admitted);
    EXPECT_TRUE(backend.try_acquire("300001").admitted);
    EXPECT_FALSE(backend.try_acquire("300001").admitted);
    LocalRateLimiter worker(worker_limits({{60, 10}}), 0.5, clock);
    EXPECT_EQ(worker.limits().windows[0].limit, 5);  // the workers' local share is unchanged
}

TEST_F(RateShareTest, TheFacadeFallsBackToTheLocalShareOfTheApiShare) {
    auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    auto clock = [&now] { return now; };
    const RateLimits l = api_limits({{60, 8}}, 0.5);
    RedisConnection redis(options_for(test::unused_port()));
    RateLimiter limiter(std::make_unique<SharedRateLimiter>(redis, l), LocalRateLimiter(l, 0.5, clock),
                        std::chrono::seconds(5), clock);
    int admitted = 0;
    for (int i = 0; i < 5; i++)
        if (limiter.try_acquire("300001").admitted) admitted++;
    EXPECT_EQ(admitted, 2);  // 8 * 0.5 (the api share) * 0.5 (the local share)
    EXPECT_EQ(limiter.mode(), LimiterMode::Local);
}

// A SQL function's gate (a maximum wait): once the share is used it fails at once with RATE_LIMIT,
// sending nothing, while a worker's gate over the same account still gets its slots.
TEST_F(RateShareTest, ASqlFunctionsGateRefusesOnceTheShareIsUsed) {
    RedisConnection backend_redis(options());
    RedisConnection worker_redis(options());
    auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    auto clock = [&now] { return now; };
    RateLimiter backend_limiter(std::make_unique<SharedRateLimiter>(backend_redis, api_limits({{60, 4}}, 0.5)),
                                LocalRateLimiter(api_limits({{60, 4}}, 0.5), 0.5, clock), std::chrono::seconds(5),
                                clock);
    RateLimiter worker_limiter(std::make_unique<SharedRateLimiter>(worker_redis, worker_limits({{60, 4}})),
                               LocalRateLimiter(worker_limits({{60, 4}}), 0.5, clock), std::chrono::seconds(5), clock);
    std::vector<long> slept;
    auto sleep = [&slept](long ms) {
        slept.push_back(ms);
        return true;
    };
    RateGate backend_gate(backend_limiter, sleep);
    backend_gate.set_max_wait_ms(10000);
    backend_gate.before_request("300001");
    backend_gate.before_request("300001");
    try {
        backend_gate.before_request("300001");
        FAIL() << "the third request of the backends was admitted";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::RateLimit);
        EXPECT_GE(e.retry_after_seconds(), 59);
    }
    EXPECT_TRUE(slept.empty());
    RateGate worker_gate(worker_limiter, sleep);
    EXPECT_EQ(worker_gate.admit_job("300001"), 0);
    worker_gate.before_request("300001");  // the prepaid slot
    worker_gate.before_request("300001");  // the account's fourth
    worker_gate.end_job();
    EXPECT_GT(worker_gate.admit_job("300001"), 59000);  // now the account is full for everyone
    EXPECT_EQ(zcard("dwu_crm:rl:300001:60"), 4);
    EXPECT_EQ(zcard("dwu_crm:rl:300001:api:60"), 2);
}

}  // namespace
}  // namespace dwu
