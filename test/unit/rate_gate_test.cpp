// The worker's rate gate over a local-only limiter with a fake clock: what it admits, when it
// sleeps, when it hands a wait back, and that a block reaches it.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/dinamize/dinamize_errors.h"
#include "core/limiter/rate_gate.h"

namespace dwu {
namespace {

using std::chrono::milliseconds;

struct GateFixture : ::testing::Test {
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    std::vector<long> slept;
    bool stop = false;

    RateLimiter limiter_for(long limit, int window_seconds) {
        RateLimits l;
        l.windows = {{window_seconds, limit}};
        auto clock = [this] { return now; };
        return RateLimiter(nullptr, LocalRateLimiter(l, 1.0, clock), std::chrono::seconds(5), clock);
    }
    RateGate::Sleep sleeper() {
        return [this](long ms) {
            slept.push_back(ms);
            now += milliseconds(ms);
            return !stop;
        };
    }
};

TEST_F(GateFixture, TheJobsFirstRequestUsesTheSlotAdmittedForTheJob) {
    RateLimiter limiter = limiter_for(2, 10);
    RateGate gate(limiter, sleeper());
    EXPECT_EQ(gate.admit_job("300001"), 0);
    gate.before_request("300001");  // the prepaid slot: nothing asked
    gate.before_request("300001");  // a second request takes the second slot
    gate.end_job();
    EXPECT_TRUE(slept.empty());
    EXPECT_EQ(gate.admit_job("300001"), 10000);  // both slots taken: the job waits a window
}

// The pump's admission: one question, never a sleep; a refusal says when to ask again.
TEST_F(GateFixture, TryAdmitAsksOnceAndNeverSleeps) {
    RateLimiter limiter = limiter_for(2, 10);
    RateGate gate(limiter, sleeper(), 500, 2000);
    EXPECT_EQ(gate.try_admit("300001"), 0);
    now += milliseconds(1000);
    EXPECT_EQ(gate.try_admit("300001"), 0);
    EXPECT_EQ(gate.try_admit("300001"), 2000);  // the first leaves in 9 s: asked again within the recheck
    now += milliseconds(9000);
    EXPECT_EQ(gate.try_admit("300001"), 0);
    EXPECT_TRUE(slept.empty());
}

TEST_F(GateFixture, AShortWaitAtAJobsStartIsSleptThrough) {
    RateLimiter limiter = limiter_for(1, 10);
    RateGate gate(limiter, sleeper(), 500);
    EXPECT_EQ(gate.admit_job("300001"), 0);
    gate.end_job();
    now += milliseconds(9800);
    EXPECT_EQ(gate.admit_job("300001"), 0);
    ASSERT_EQ(slept.size(), 1u);
    EXPECT_EQ(slept[0], 200);
}

TEST_F(GateFixture, ALongWaitIsHandedBackWithoutTakingASlot) {
    RateLimiter limiter = limiter_for(1, 10);
    RateGate gate(limiter, sleeper(), 500);
    EXPECT_EQ(gate.admit_job("300001"), 0);
    gate.end_job();
    EXPECT_EQ(gate.admit_job("300001"), 10000);
    EXPECT_TRUE(slept.empty());
    EXPECT_EQ(gate.admit_job("300002"), 0);  // another account is not held up
}

TEST_F(GateFixture, ARequestInsideAJobSleepsAsLongAsNeeded) {
    RateLimiter limiter = limiter_for(1, 10);
    RateGate gate(limiter, sleeper(), 500);
    EXPECT_EQ(gate.admit_job("300001"), 0);
    gate.before_request("300001");
    gate.before_request("300001");  // e.g. the search after a duplicate: waits for the window
    ASSERT_EQ(slept.size(), 1u);
    EXPECT_EQ(slept[0], 10000);
}

TEST_F(GateFixture, AnUnusedSlotIsNotCarriedToAnotherAccount) {
    RateLimiter limiter = limiter_for(1, 10);
    RateGate gate(limiter, sleeper());
    EXPECT_EQ(gate.admit_job("300001"), 0);
    gate.before_request("300002");  // not the prepaid account: asks, and 300002 has room
    EXPECT_TRUE(slept.empty());
    gate.end_job();
    gate.before_request("300001");  // the unused slot of 300001 still counts in its window
    ASSERT_EQ(slept.size(), 1u);
}

TEST_F(GateFixture, AWaitBeyondTheMaximumFailsAtOnceAsARateLimit) {
    RateLimiter limiter = limiter_for(1, 10);
    RateGate gate(limiter, sleeper());
    gate.set_max_wait_ms(3000);
    gate.before_request("300001");
    now += milliseconds(8000);  // the next slot is 2 s away: within the maximum, slept through
    gate.before_request("300001");
    ASSERT_EQ(slept.size(), 1u);
    EXPECT_EQ(slept[0], 2000);
    try {
        gate.before_request("300001");  // 10 s away now
        FAIL() << "expected a rate-limit error";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::RateLimit);
        EXPECT_TRUE(e.dinamize_code().empty());
        EXPECT_TRUE(e.retryable());
        EXPECT_EQ(e.retry_after_seconds(), 10);
    }
    EXPECT_EQ(slept.size(), 1u);
}

TEST_F(GateFixture, AStopDuringASleepIsInterrupted) {
    RateLimiter limiter = limiter_for(1, 10);
    RateGate gate(limiter, sleeper());
    gate.before_request("300001");
    stop = true;
    EXPECT_THROW(gate.before_request("300001"), Interrupted);
}

TEST_F(GateFixture, ABlockDefersTheAccountsNextJob) {
    RateLimiter limiter = limiter_for(100, 60);
    RateGate gate(limiter, sleeper());
    gate.block("300001", 7);
    EXPECT_EQ(gate.admit_job("300001"), 7000);
    EXPECT_EQ(gate.admit_job("300002"), 0);
    EXPECT_TRUE(gate.take_changes().empty());  // no Redis configured: no mode changes to report
}

TEST_F(GateFixture, WithARecheckNoSleepOrDeferralIsLongerThanIt) {
    RateLimiter limiter = limiter_for(1, 10);
    RateGate gate(limiter, sleeper(), 500, 1000);
    EXPECT_EQ(gate.admit_job("300001"), 0);
    gate.end_job();
    EXPECT_EQ(gate.admit_job("300001"), 1000);  // the window says 10 s: asked again in 1 s
    gate.before_request("300001");              // sleeps in steps of at most 1 s until the slot
    ASSERT_EQ(slept.size(), 10u);
    for (long ms : slept) EXPECT_EQ(ms, 1000);
    gate.set_max_wait_ms(3000);
    EXPECT_THROW(gate.before_request("300001"), DinamizeError);  // the maximum still sees 10 s
    EXPECT_THROW(RateGate(limiter, sleeper(), 500, -1), std::invalid_argument);
}

}  // namespace
}  // namespace dwu
