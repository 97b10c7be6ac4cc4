// The Redis connection, the shared and local rate limiters, the fail-open facade and the token
// cache, against real redis-server processes on loopback (one per suite; restarted, paused or
// killed where a test needs an outage). Local-limiter and backoff timing use a fake clock; the
// few real sleeps are bounded by a 1–2 s window.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/limiter/rate_limiter.h"
#include "core/limiter/rate_limiter_local.h"
#include "core/limiter/rate_limiter_shared.h"
#include "core/limiter/redis_connection.h"
#include "core/limiter/redis_token_cache.h"
#include "redis_server_process.h"

namespace dwu {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

RedisOptions options_for(int port, const std::string& password = "", int database = 0) {
    RedisOptions o;
    o.port = port;
    o.password = password;
    o.database = database;
    o.connect_timeout_ms = 500;
    o.command_timeout_ms = 1000;
    return o;
}

RateLimits limits(std::vector<WindowLimit> windows) {
    RateLimits l;
    l.windows = std::move(windows);
    return l;
}

long long integer_of(RedisConnection& redis, const std::vector<std::string>& command) {
    ReplyPtr reply = redis.command(command);
    EXPECT_EQ(reply->type, REDIS_REPLY_INTEGER) << command[0];
    return reply->integer;
}

struct FakeClock {
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    MonotonicClock fn() {
        return [this] { return now; };
    }
};

// One redis-server per suite; each test starts from an empty, running server.
template <const char* Password>
class RedisSuite : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new test::RedisServerProcess(Password); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override {
        server_->resume();
        if (!server_->running()) server_->start();
        admin().command({"FLUSHALL"});
    }
    RedisConnection& admin() {
        if (!admin_) admin_ = std::make_unique<RedisConnection>(options_for(server_->port(), Password));
        return *admin_;
    }
    static RedisOptions options(int database = 0) { return options_for(server_->port(), Password, database); }

    static test::RedisServerProcess* server_;
    std::unique_ptr<RedisConnection> admin_;
};
template <const char* Password>
test::RedisServerProcess* RedisSuite<Password>::server_ = nullptr;

constexpr char kNoPassword[] = "";
constexpr char kPassword[] = "R3dis-s3cret-pw";

// ---------------------------------------------------------------------------------------------
// RedisConnection

class RedisConnectionTest : public RedisSuite<kNoPassword> {};

TEST_F(RedisConnectionTest, RejectsTimeoutsOfZero) {
    RedisOptions o = options();
    o.connect_timeout_ms = 0;
    EXPECT_THROW(RedisConnection{o}, std::invalid_argument);
    o = options();
    o.command_timeout_ms = 0;
    EXPECT_THROW(RedisConnection{o}, std::invalid_argument);
}

TEST_F(RedisConnectionTest, ConnectsLazilyAndRunsCommands) {
    RedisConnection redis(options());
    EXPECT_FALSE(redis.connected());
    ReplyPtr reply = redis.command({"PING"});
    ASSERT_EQ(reply->type, REDIS_REPLY_STATUS);
    EXPECT_EQ(std::string(reply->str, reply->len), "PONG");
    EXPECT_TRUE(redis.connected());
}

TEST_F(RedisConnectionTest, ServerErrorIsAReplyErrorAndKeepsTheConnection) {
    RedisConnection redis(options());
    try {
        redis.command({"NO_SUCH_COMMAND", "x"});
        FAIL() << "no error";
    } catch (const RedisError& e) {
        EXPECT_EQ(e.kind(), RedisError::Kind::Reply);
        EXPECT_EQ(e.server_code(), "ERR");
        EXPECT_NE(std::string(e.what()).find(redis.endpoint()), std::string::npos) << e.what();
    }
    EXPECT_TRUE(redis.connected());
    EXPECT_EQ(redis.command({"PING"})->type, REDIS_REPLY_STATUS);
}

TEST_F(RedisConnectionTest, UnreachableServerIsUnavailableAndNamesTheEndpoint) {
    const int port = test::unused_port();
    RedisConnection redis(options_for(port));
    try {
        redis.command({"PING"});
        FAIL() << "no error";
    } catch (const RedisError& e) {
        EXPECT_EQ(e.kind(), RedisError::Kind::Unavailable);
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
    }
    EXPECT_FALSE(redis.connected());
}

TEST_F(RedisConnectionTest, ReconnectsLazilyAfterARestart) {
    RedisConnection redis(options());
    redis.command({"SET", "k", "v"});
    server_->stop();
    try {
        // Larger than a socket buffer: hiredis writes again after the dead peer's RST, which
        // raises SIGPIPE; it must become an error, not kill the process.
        redis.command({"SET", "big", std::string(8 << 20, 'x')});
        FAIL() << "no error with the server down";
    } catch (const RedisError& e) {
        EXPECT_EQ(e.kind(), RedisError::Kind::Unavailable) << e.what();
    }
    EXPECT_FALSE(redis.connected());
    EXPECT_THROW(redis.command({"GET", "k"}), RedisError);  // still down: each use tries again
    server_->start();
    EXPECT_EQ(redis.command({"PING"})->type, REDIS_REPLY_STATUS);
    EXPECT_TRUE(redis.connected());
}

TEST_F(RedisConnectionTest, ServerThatNeverAnswersTimesOutAsUnavailable) {
    RedisOptions o = options();
    o.command_timeout_ms = 200;
    RedisConnection redis(o);
    server_->pause();  // the kernel still accepts connections; nobody answers
    try {
        redis.command({"PING"});
        server_->resume();
        FAIL() << "no timeout";
    } catch (const RedisError& e) {
        server_->resume();
        EXPECT_EQ(e.kind(), RedisError::Kind::Unavailable);
        EXPECT_NE(std::string(e.what()).find("no answer within 200 ms"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(redis.connected());
    EXPECT_EQ(redis.command({"PING"})->type, REDIS_REPLY_STATUS);
}

// ---------------------------------------------------------------------------------------------
// Password and database number

class RedisAuthTest : public RedisSuite<kPassword> {};

TEST_F(RedisAuthTest, PasswordAndDatabaseAreUsedByTheLimiter) {
    RedisConnection db3(options(3));
    SharedRateLimiter limiter(db3, limits({{60, 2}}));
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    const std::string key = limiter.window_key("300001", 60);
    EXPECT_EQ(integer_of(db3, {"ZCARD", key}), 2);
    RedisConnection db0(options(0));
    EXPECT_EQ(integer_of(db0, {"EXISTS", key}), 0);  // SELECT 3 really happened
}

TEST_F(RedisAuthTest, WrongPasswordIsAReplyErrorThatHidesThePassword) {
    const std::string wrong = "not-the-Password-4711";
    RedisConnection redis(options_for(server_->port(), wrong));
    try {
        redis.command({"PING"});
        FAIL() << "no error";
    } catch (const RedisError& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.kind(), RedisError::Kind::Reply);
        EXPECT_EQ(e.server_code(), "WRONGPASS") << msg;
        EXPECT_NE(msg.find(redis.endpoint()), std::string::npos) << msg;
        EXPECT_EQ(msg.find(wrong), std::string::npos) << msg;
        EXPECT_EQ(msg.find(kPassword), std::string::npos) << msg;
    }
    EXPECT_FALSE(redis.connected());  // never keeps an unauthenticated connection
}

TEST_F(RedisAuthTest, MissingPasswordIsRefused) {
    RedisConnection redis(options_for(server_->port()));
    try {
        redis.command({"GET", "x"});
        FAIL() << "no error";
    } catch (const RedisError& e) {
        EXPECT_EQ(e.kind(), RedisError::Kind::Reply);
        EXPECT_EQ(e.server_code(), "NOAUTH") << e.what();
    }
}

// ---------------------------------------------------------------------------------------------
// SharedRateLimiter

class RateLimitSharedTest : public RedisSuite<kNoPassword> {};

TEST_F(RateLimitSharedTest, AdmitsUpToTheLimitThenWaitsAtMostTheWindow) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{2, 3}}));
    for (int i = 0; i < 3; i++) EXPECT_TRUE(limiter.try_acquire("300001").admitted) << i;
    const Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_GT(refused.wait_ms, 0);
    EXPECT_LE(refused.wait_ms, 2000);
}

TEST_F(RateLimitSharedTest, TheMarginLengthensTheWindow) {
    RedisConnection redis(options());
    RateLimits with_margin = limits({{1, 1}});
    with_margin.margin_ms = 1500;
    SharedRateLimiter limiter(redis, with_margin);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    const Admission refused = limiter.try_acquire("300001");
    ASSERT_FALSE(refused.admitted);
    EXPECT_GT(refused.wait_ms, 1000);  // the 1 s window alone would have said <= 1000
    EXPECT_LE(refused.wait_ms, 2500);
    EXPECT_GT(integer_of(admin(), {"PTTL", limiter.window_key("300001", 1)}), 1000);
}

TEST_F(RateLimitSharedTest, RefusalsAreNotRecorded) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 2}}));
    for (int i = 0; i < 10; i++) limiter.try_acquire("300001");
    EXPECT_EQ(integer_of(admin(), {"ZCARD", limiter.window_key("300001", 60)}), 2);
}

TEST_F(RateLimitSharedTest, TheWindowSlides) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{1, 2}}));
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    const Admission refused = limiter.try_acquire("300001");
    ASSERT_FALSE(refused.admitted);
    ASSERT_GT(refused.wait_ms, 0);
    ASSERT_LE(refused.wait_ms, 1000);
    std::this_thread::sleep_for(milliseconds(refused.wait_ms + 30));  // exactly the wait it named
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
}

TEST_F(RateLimitSharedTest, AccountsAreIndependent) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 1}}));
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    EXPECT_TRUE(limiter.try_acquire("300002").admitted);
}

TEST_F(RateLimitSharedTest, KeysUseThePrefixAndExpireWithTheirWindow) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 5}, {3600, 0}}), "tenant1:");
    EXPECT_EQ(limiter.window_key("300001", 60), "tenant1:rl:300001:60");
    EXPECT_EQ(limiter.block_key("300001"), "tenant1:block:300001");
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    const long long ttl = integer_of(admin(), {"PTTL", "tenant1:rl:300001:60"});
    EXPECT_GT(ttl, 55000);
    EXPECT_LE(ttl, 60000);
    EXPECT_EQ(integer_of(admin(), {"EXISTS", "tenant1:rl:300001:3600"}), 0);  // disabled window: no key
    EXPECT_EQ(integer_of(admin(), {"EXISTS", "dwu_crm:rl:300001:60"}), 0);
}

TEST_F(RateLimitSharedTest, ZeroLimitDisablesAWindow) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 0}, {3600, 0}}));
    for (int i = 0; i < 100; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
}

TEST_F(RateLimitSharedTest, TheHourWindowIsEnforcedToo) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{1, 100}, {3600, 3}}));
    for (int i = 0; i < 3; i++) EXPECT_TRUE(limiter.try_acquire("300001").admitted) << i;
    const Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_GT(refused.wait_ms, 3590000);  // the oldest entry leaves the hour, not the second
    EXPECT_LE(refused.wait_ms, 3600000);
    EXPECT_EQ(integer_of(admin(), {"ZCARD", limiter.window_key("300001", 3600)}), 3);
}

TEST_F(RateLimitSharedTest, ManyInstancesNeverExceedTheLimitTogether) {
    constexpr int kThreads = 8;
    constexpr int kTriesEach = 20;
    constexpr long kLimit = 25;
    std::atomic<int> admitted{0};
    std::atomic<int> errors{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
        threads.emplace_back([&] {
            try {
                RedisConnection redis(options());  // one connection per instance, as in a worker
                SharedRateLimiter limiter(redis, limits({{60, kLimit}}));
                redis.command({"PING"});
                while (!go) std::this_thread::yield();
                for (int i = 0; i < kTriesEach; i++)
                    if (limiter.try_acquire("300001").admitted) admitted++;
            } catch (...) {
                errors++;
            }
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(admitted.load(), kLimit);
    EXPECT_EQ(integer_of(admin(), {"ZCARD", "dwu_crm:rl:300001:60"}), kLimit);
}

TEST_F(RateLimitSharedTest, ReloadsTheScriptAfterScriptFlush) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 3}}));
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    admin().command({"SCRIPT", "FLUSH"});
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);  // NOSCRIPT → SCRIPT LOAD → EVALSHA
    admin().command({"SCRIPT", "FLUSH"});
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    EXPECT_EQ(integer_of(admin(), {"ZCARD", limiter.window_key("300001", 60)}), 3);
}

TEST_F(RateLimitSharedTest, BlockMakesEveryInstanceWaitAndIsNeverShortened) {
    RedisConnection redis_a(options());
    RedisConnection redis_b(options());
    SharedRateLimiter a(redis_a, limits({{60, 100}}));
    SharedRateLimiter b(redis_b, limits({{60, 100}}));
    EXPECT_EQ(a.block("300001", 2), 2000);
    const Admission refused = b.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_GT(refused.wait_ms, 1000);
    EXPECT_LE(refused.wait_ms, 2000);
    EXPECT_GT(b.block("300001", 1), 1000);  // a shorter retry-after keeps the longer block
    EXPECT_GT(integer_of(admin(), {"PTTL", a.block_key("300001")}), 1000);
    EXPECT_TRUE(b.try_acquire("300002").admitted);                              // other accounts are not blocked
    EXPECT_EQ(integer_of(admin(), {"EXISTS", a.window_key("300001", 60)}), 0);  // refusals record nothing
}

TEST_F(RateLimitSharedTest, AdmitsAgainWhenTheBlockEnds) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 100}}));
    limiter.block("300001", 1);
    const Admission refused = limiter.try_acquire("300001");
    ASSERT_FALSE(refused.admitted);
    ASSERT_LE(refused.wait_ms, 1000);
    std::this_thread::sleep_for(milliseconds(refused.wait_ms + 30));
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
}

TEST_F(RateLimitSharedTest, RejectsInvalidLimits) {
    RedisConnection redis(options());
    EXPECT_THROW(SharedRateLimiter(redis, limits({{60, 5}, {60, 10}})), std::invalid_argument);
    EXPECT_THROW(SharedRateLimiter(redis, limits({{0, 5}})), std::invalid_argument);
    EXPECT_THROW(SharedRateLimiter(redis, limits({{60, -1}})), std::invalid_argument);
    SharedRateLimiter ok(redis, limits({{60, 5}}));
    EXPECT_THROW(ok.try_acquire(""), std::invalid_argument);
    EXPECT_THROW(ok.block("300001", 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// SharedRateLimiter when Redis loses its data: each limiter puts its own admissions back

class RateLimitRestoreTest : public RedisSuite<kNoPassword> {
protected:
    std::string run_id() {
        ReplyPtr info = admin().command({"INFO", "server"});
        const std::string text(info->str, info->len);
        const size_t at = text.find("run_id:") + 7;
        return text.substr(at, text.find('\r', at) - at);
    }
    long long window_count(const SharedRateLimiter& l, const std::string& account = "300001") {
        return integer_of(admin(), {"ZCARD", l.window_key(account, 60)});
    }
};

TEST_F(RateLimitRestoreTest, RestartedEmptyBetweenTwoCallsTheNextAdmissionSeesThePreviousOnes) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 5}}));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    server_->stop();
    server_->start();  // empty: no persistence
    admin_.reset();
    // The old connection died with the server: that call fails (the facade then goes local).
    EXPECT_THROW(limiter.try_acquire("300001"), RedisError);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);  // reconnects, puts 3 back, admits the 4th
    EXPECT_EQ(window_count(limiter), 4);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);  // 5 per minute, whatever Redis forgot
    EXPECT_EQ(window_count(limiter), 5);
    EXPECT_EQ(limiter.remembered("300001"), 5u);
}

TEST_F(RateLimitRestoreTest, AFlushallCountsAsARestart) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 4}, {3600, 10}}));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    admin().command({"FLUSHALL"});  // same server, same connection: only the epoch marker tells
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    EXPECT_EQ(window_count(limiter), 4);
    EXPECT_EQ(integer_of(admin(), {"ZCARD", limiter.window_key("300001", 3600)}), 4);  // every window
    EXPECT_EQ(limiter.take_restored(), 3);
}

TEST_F(RateLimitRestoreTest, TwoLimitersEachPutBackTheirOwnAndTheUnionCounts) {
    RedisConnection redis_a(options());
    RedisConnection redis_b(options());
    SharedRateLimiter a(redis_a, limits({{60, 6}}));
    SharedRateLimiter b(redis_b, limits({{60, 6}}));
    for (int i = 0; i < 2; i++) {
        ASSERT_TRUE(a.try_acquire("300001").admitted);
        ASSERT_TRUE(b.try_acquire("300001").admitted);
    }
    admin().command({"FLUSHALL"});
    EXPECT_TRUE(a.try_acquire("300001").admitted);  // a finds the loss: its 2 back, then its 3rd
    EXPECT_EQ(window_count(a), 3);
    EXPECT_TRUE(b.try_acquire("300001").admitted);  // b sees a new epoch: its 2 back, then its 3rd
    EXPECT_EQ(window_count(a), 6);
    EXPECT_FALSE(a.try_acquire("300001").admitted);
    EXPECT_FALSE(b.try_acquire("300001").admitted);
}

TEST_F(RateLimitRestoreTest, PuttingBackTwiceAddsNothing) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 10}}));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    // Another epoch while the window is still there (another limiter found a loss it repaired):
    // the same members again, ZADD NX keeps one of each.
    admin().command({"SET", limiter.epoch_key(), "some-other-epoch"});
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_EQ(window_count(limiter), 4);
    EXPECT_EQ(limiter.take_restored(), 0);
}

TEST_F(RateLimitRestoreTest, AMarkerOfAnotherServerProcessMeansAFailover) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 4}}));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    // A promoted replica: the marker replicated long ago (another run_id), the latest writes not.
    admin().command({"SET", limiter.epoch_key(), "0123456789abcdef:an-old-epoch"});
    admin().command({"DEL", limiter.window_key("300001", 60)});
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    EXPECT_EQ(window_count(limiter), 4);
}

TEST_F(RateLimitRestoreTest, RestoredAdmissionsKeepTheirAge) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{1, 2}}));
    ASSERT_TRUE(limiter.try_acquire("300001").admitted);
    ASSERT_TRUE(limiter.try_acquire("300001").admitted);
    std::this_thread::sleep_for(milliseconds(400));
    admin().command({"FLUSHALL"});
    const Admission refused = limiter.try_acquire("300001");
    ASSERT_FALSE(refused.admitted);
    EXPECT_LE(refused.wait_ms, 650);  // they leave a second after they were first admitted
    std::this_thread::sleep_for(milliseconds(refused.wait_ms + 30));
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
}

TEST_F(RateLimitRestoreTest, TheLimiterThatFindsTheLossPausesEveryoneForTheSettle) {
    RedisConnection redis_a(options());
    RedisConnection redis_b(options());
    SharedRateLimiter a(redis_a, limits({{60, 10}}), "dwu_crm:", 400);
    SharedRateLimiter b(redis_b, limits({{60, 10}}), "dwu_crm:", 400);
    admin().command({"SET", a.epoch_key(), run_id() + ":preset"});  // not a loss: no settle at the start
    ASSERT_TRUE(a.try_acquire("300001").admitted);
    ASSERT_TRUE(b.try_acquire("300001").admitted);
    admin().command({"FLUSHALL"});
    Admission refused = a.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_GT(refused.wait_ms, 0);
    EXPECT_LE(refused.wait_ms, 400);
    refused = b.try_acquire("300001");  // b puts its own back during the pause
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(window_count(a), 2);
    std::this_thread::sleep_for(milliseconds(refused.wait_ms + 30));
    EXPECT_TRUE(a.try_acquire("300001").admitted);
    EXPECT_EQ(window_count(a), 3);
}

TEST_F(RateLimitRestoreTest, TheSettleIsNeverLongerThanTheWindow) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{1, 10}}), "dwu_crm:", 60000);
    const Admission refused = limiter.try_acquire("300001");  // fresh Redis: a loss, for all it knows
    EXPECT_FALSE(refused.admitted);
    EXPECT_LE(refused.wait_ms, 1000);
}

TEST_F(RateLimitRestoreTest, ABlockIsPutBackToo) {
    RedisConnection redis(options());
    SharedRateLimiter limiter(redis, limits({{60, 10}}));
    limiter.block("300001", 30);
    admin().command({"FLUSHALL"});
    const Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_GT(refused.wait_ms, 29000);
    EXPECT_GT(integer_of(admin(), {"PTTL", limiter.block_key("300001")}), 29000);
}

TEST_F(RateLimitRestoreTest, TheCallerShareWindowsArePutBackToo) {
    RedisConnection redis(options());
    RateLimits l = limits({{60, 10}});
    l.caller_share = CallerShare{"api", 0.5};
    SharedRateLimiter limiter(redis, l);
    for (int i = 0; i < 5; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    admin().command({"FLUSHALL"});
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);  // the share's 5 are back
    EXPECT_EQ(integer_of(admin(), {"ZCARD", limiter.share_window_key("300001", 60)}), 5);
    EXPECT_EQ(window_count(limiter), 5);
}

// ---------------------------------------------------------------------------------------------
// Redis Sentinel: the master is asked of the sentinels at each (re)connect

class RedisSentinelTest : public RedisSuite<kNoPassword> {
protected:
    static RedisOptions via(int sentinel_port, const std::string& master = "dwu") {
        RedisOptions o = options_for(test::unused_port());  // host and port are not used
        o.sentinels = {{"127.0.0.1", sentinel_port}};
        o.sentinel_master = master;
        return o;
    }
};

TEST(RedisEndpointsTest, ParsesAListOfAddresses) {
    const auto list = parse_redis_endpoints(" 10.0.0.1:26380, sentinel-b ", 26379);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].host, "10.0.0.1");
    EXPECT_EQ(list[0].port, 26380);
    EXPECT_EQ(list[1].host, "sentinel-b");
    EXPECT_EQ(list[1].port, 26379);
    EXPECT_TRUE(parse_redis_endpoints("", 26379).empty());
    EXPECT_THROW(parse_redis_endpoints("a:1,,b:2", 26379), std::invalid_argument);
    EXPECT_THROW(parse_redis_endpoints("a:port", 26379), std::invalid_argument);
    EXPECT_THROW(parse_redis_endpoints("a:70000", 26379), std::invalid_argument);
    RedisOptions o;
    o.sentinels = {{"127.0.0.1", 26379}};
    EXPECT_THROW(RedisConnection{o}, std::invalid_argument);  // sentinels without a master name
}

TEST_F(RedisSentinelTest, ReachesTheMasterTheSentinelNames) {
    test::SentinelProcess sentinel("dwu", server_->port());
    RedisConnection redis(via(sentinel.port()));
    redis.command({"SET", "k", "through the sentinel"});
    ReplyPtr got = admin().command({"GET", "k"});
    ASSERT_EQ(got->type, REDIS_REPLY_STRING);
    EXPECT_EQ(std::string(got->str, got->len), "through the sentinel");
    EXPECT_EQ(redis.endpoint(), "dwu@127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(RedisSentinelTest, AnUnknownMasterOrNoSentinelIsUnavailable) {
    test::SentinelProcess sentinel("dwu", server_->port());
    RedisConnection unknown(via(sentinel.port(), "nope"));
    try {
        unknown.command({"PING"});
        FAIL() << "no error";
    } catch (const RedisError& e) {
        EXPECT_EQ(e.kind(), RedisError::Kind::Unavailable);
        EXPECT_NE(std::string(e.what()).find("does not know master nope"), std::string::npos) << e.what();
    }
    RedisConnection none(via(test::unused_port()));
    EXPECT_THROW(none.command({"PING"}), RedisError);
}

TEST_F(RedisSentinelTest, AServerWhoseRoleIsNotMasterIsRefused) {
    test::SentinelProcess sentinel("dwu", server_->port());
    test::RedisServerProcess other;
    admin().command({"REPLICAOF", "127.0.0.1", std::to_string(other.port())});  // demoted, sentinel not told
    RedisConnection redis(via(sentinel.port()));
    std::string message;
    try {
        redis.command({"PING"});
    } catch (const RedisError& e) {
        message = e.what();
        EXPECT_EQ(e.kind(), RedisError::Kind::Unavailable);
    }
    admin().command({"REPLICAOF", "NO", "ONE"});
    EXPECT_NE(message.find("its ROLE is slave"), std::string::npos) << message;
    EXPECT_FALSE(redis.connected());
    EXPECT_EQ(redis.command({"PING"})->type, REDIS_REPLY_STATUS);  // a master again
}

TEST_F(RedisSentinelTest, AFailoverToAReplicaWithoutTheLatestWritesIsRepaired) {
    test::SentinelProcess sentinel("dwu", server_->port());
    test::RedisServerProcess replica;  // promoted without the window: as if replication lagged
    RedisConnection redis(via(sentinel.port()));
    SharedRateLimiter limiter(redis, limits({{60, 5}}));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    RedisConnection sentinel_admin(options_for(sentinel.port()));
    sentinel_admin.command({"SENTINEL", "REMOVE", "dwu"});
    sentinel_admin.command({"SENTINEL", "MONITOR", "dwu", "127.0.0.1", std::to_string(replica.port()), "1"});
    server_->stop();  // the old master is gone
    admin_.reset();
    EXPECT_THROW(limiter.try_acquire("300001"), RedisError);  // its connection died with it
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);      // the new master: 3 put back, then the 4th
    EXPECT_EQ(redis.endpoint(), "dwu@127.0.0.1:" + std::to_string(replica.port()));
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    RedisConnection on_replica(options_for(replica.port()));
    EXPECT_EQ(integer_of(on_replica, {"ZCARD", limiter.window_key("300001", 60)}), 5);
}

// ---------------------------------------------------------------------------------------------
// LocalRateLimiter (fake clock, no Redis)

TEST(RateLimitLocalTest, ScalesEachLimitByTheShare) {
    FakeClock clock;
    LocalRateLimiter half(limits({{60, 60}, {3600, 1000}, {86400, 0}}), 0.5, clock.fn());
    EXPECT_EQ(half.limits().windows[0].limit, 30);
    EXPECT_EQ(half.limits().windows[1].limit, 500);
    EXPECT_EQ(half.limits().windows[2].limit, 0);  // disabled stays disabled
    LocalRateLimiter tiny(limits({{60, 3}}), 0.1, clock.fn());
    EXPECT_EQ(tiny.limits().windows[0].limit, 1);  // never 0, which would mean unlimited
    EXPECT_THROW(LocalRateLimiter(limits({{60, 3}}), 0.0, clock.fn()), std::invalid_argument);
    EXPECT_THROW(LocalRateLimiter(limits({{60, 3}}), 1.5, clock.fn()), std::invalid_argument);
}

TEST(RateLimitLocalTest, AdmitsItsShareThenWaitsExactlyUntilTheOldestLeaves) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{60, 10}}), 0.5, clock.fn());
    for (int i = 0; i < 5; i++) {
        EXPECT_TRUE(limiter.try_acquire("300001").admitted) << i;
        clock.now += seconds(1);
    }
    // Entries at t0..t0+4 s; now t0+5 s: the first leaves at t0+60 s.
    Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.wait_ms, 55000);
    clock.now += milliseconds(54999);
    refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.wait_ms, 1);
    clock.now += milliseconds(1);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
}

// Two servers had split the last Redis window 37 / 23 of 60. The one that sent 23, now on its
// local share of 24, must not send its 24th while the other's 37 may still be in the window.
TEST(RateLimitLocalTest, TheOthersPartOfTheLastSharedWindowStillCounts) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{5, 60}}), 0.4, clock.fn());
    for (long i = 1; i <= 23; i++) limiter.record("300001", {37 + i});  // ours, with the other's 37
    limiter.shared_lost();
    Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);  // 23 + 37 = 60: the window is full
    EXPECT_EQ(refused.wait_ms, 5000);
    clock.now += milliseconds(5000);  // the other's can have left by now, and so have ours
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);

    // Without others in the window, only the share binds.
    LocalRateLimiter alone(limits({{5, 60}}), 0.4, clock.fn());
    for (int i = 0; i < 23; i++) alone.record("300001", {i + 1});
    alone.shared_lost();
    EXPECT_TRUE(alone.try_acquire("300001").admitted);  // the 24th
    EXPECT_FALSE(alone.try_acquire("300001").admitted);
}

// The last total this server saw was 50 of 60 (its 20, the other's 30); the other may have sent
// up to 10 more before Redis failed. So after the failure only what leaves makes room: none
// until our oldest leaves, then one per entry of ours that leaves, for one window.
TEST(RateLimitLocalTest, AfterRedisFailsOnlyOursLeavingMakesRoom) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{5, 60}}), 0.4, clock.fn());
    limiter.record("300001", {31});  // ours first, at t0
    clock.now += milliseconds(1000);
    for (long i = 2; i <= 20; i++) limiter.record("300001", {30 + i});  // the other's 30 and ours
    clock.now += milliseconds(10);
    limiter.shared_lost();
    Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);    // 20 + 30 + up to 10 since: maybe 60 already
    EXPECT_EQ(refused.wait_ms, 3990);  // our first leaves at t0 + 5 s
    clock.now += milliseconds(3990);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);  // in its place
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    clock.now += milliseconds(1000);                      // our 19 of t0 + 1 s have left:
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);  // room for them again

    // A process that saw no one else in the window goes on with its share at once.
    LocalRateLimiter alone(limits({{5, 60}}), 0.4, clock.fn());
    for (long i = 1; i <= 20; i++) alone.record("300001", {i});
    alone.shared_lost();
    EXPECT_TRUE(alone.try_acquire("300001").admitted);
}

// Seen in a two-server Sentinel failover (64 of 60 at Dinamize): 4 of ours from an older burst
// were still in the window at our last admission (24 of ours, 59 in all) and left before Redis
// failed; the other server had taken their slots (60 in all). Counting the others' part as the
// total minus ours at that admission gave 4 slots that were not free. Held to what we had when
// Redis failed, we wait for one of our 20 to leave.
TEST(RateLimitLocalTest, OursThatLeftBeforeRedisFailedMakeNoRoom) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{5, 60}}), 0.4, clock.fn());
    for (long i = 1; i <= 4; i++) limiter.record("300001", {i});  // the older burst, at t0
    clock.now += milliseconds(4990);
    for (long i = 1; i <= 20; i++) limiter.record("300001", {39 + i});  // ours, with the other's 35
    clock.now += milliseconds(2010);                                    // t0 + 7 s: the 4 left at t0 + 5 s
    limiter.shared_lost();
    const Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.wait_ms, 2990);  // our first of t0 + 4.99 s leaves at t0 + 9.99 s
    clock.now += milliseconds(2990);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
}

// Seen in the same test: the other server had sent nothing in the last window (its jobs waited)
// and, on its local share, sent 20 at once on top of the 60 this one had just sent. A process that
// has seen others send waits a window for an account it has nothing of in the window, or never
// sent for.
TEST(RateLimitLocalTest, AnAccountIdleThroughTheLastWindowWaitsAWindowOnceOthersWereSeen) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{5, 60}}), 0.4, clock.fn());
    for (long i = 1; i <= 10; i++) limiter.record("300001", {20 + i});  // with the other's 20
    clock.now += seconds(10);                                           // all of it left
    limiter.shared_lost();
    for (const char* account : {"300001", "300002"}) {
        const Admission refused = limiter.try_acquire(account);
        EXPECT_FALSE(refused.admitted) << account;
        EXPECT_EQ(refused.wait_ms, 5000) << account;
    }
    clock.now += seconds(5);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_TRUE(limiter.try_acquire("300002").admitted);
}

TEST(RateLimitLocalTest, TheMarginLengthensTheWindow) {
    FakeClock clock;
    RateLimits with_margin = limits({{10, 2}});
    with_margin.margin_ms = 250;
    LocalRateLimiter limiter(with_margin, 1.0, clock.fn());
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    clock.now += seconds(10);
    const Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.wait_ms, 250);
    clock.now += milliseconds(250);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
}

TEST(RateLimitLocalTest, NegativeMarginIsRejected) {
    RateLimits bad = limits({{60, 2}});
    bad.margin_ms = -1;
    EXPECT_THROW(LocalRateLimiter(bad, 1.0), std::invalid_argument);
}

TEST(RateLimitLocalTest, AccountsAreIndependent) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{60, 2}}), 0.5, clock.fn());
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
    EXPECT_TRUE(limiter.try_acquire("300002").admitted);
}

TEST(RateLimitLocalTest, TheHourWindowIsEnforcedToo) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{60, 100}, {3600, 4}}), 0.5, clock.fn());
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    clock.now += seconds(120);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    clock.now += seconds(120);
    const Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.wait_ms, (3600 - 240) * 1000L);
}

TEST(RateLimitLocalTest, BlockRefusesUntilItEndsAndIsNeverShortened) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{60, 100}}), 1.0, clock.fn());
    EXPECT_EQ(limiter.block("300001", 30), 30000);
    EXPECT_EQ(limiter.block("300001", 5), 30000);
    clock.now += seconds(10);
    const Admission refused = limiter.try_acquire("300001");
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.wait_ms, 20000);
    clock.now += seconds(20);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
}

TEST(RateLimitLocalTest, RecordedRequestsCountAgainstTheShare) {
    FakeClock clock;
    LocalRateLimiter limiter(limits({{60, 6}}), 0.5, clock.fn());
    limiter.record("300001");
    limiter.record("300001");
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    EXPECT_FALSE(limiter.try_acquire("300001").admitted);
}

// ---------------------------------------------------------------------------------------------
// RateLimiter: shared with fail-open to the local share

class RateLimitFacadeTest : public RedisSuite<kNoPassword> {
protected:
    RateLimiter make(RedisConnection& redis, RateLimits l) {
        return RateLimiter(std::make_unique<SharedRateLimiter>(redis, l, "dwu_crm:", 0, clock_.fn()),
                           LocalRateLimiter(l, 0.5, clock_.fn()), seconds(5), clock_.fn());
    }
    FakeClock clock_;
};

TEST_F(RateLimitFacadeTest, FailsOpenToTheLocalShareOnceAndReturnsWhenRedisIsBack) {
    RedisConnection redis(options());
    RateLimiter limiter = make(redis, limits({{60, 10}}));
    RateDecision d = limiter.try_acquire("300001");
    EXPECT_TRUE(d.admitted);
    EXPECT_EQ(d.mode, LimiterMode::Shared);
    EXPECT_FALSE(d.change);

    server_->stop();
    int admitted = 0;
    int changes = 0;
    for (int job = 0; job < 20; job++) {
        d = limiter.try_acquire("300001");
        EXPECT_EQ(d.mode, LimiterMode::Local);
        if (d.admitted)
            admitted++;
        else
            EXPECT_GT(d.wait_ms, 0);
        if (d.change) {
            changes++;
            EXPECT_EQ(d.change->to, LimiterMode::Local);
            EXPECT_NE(d.change->reason.find(redis.endpoint()), std::string::npos) << d.change->reason;
        }
    }
    EXPECT_EQ(changes, 1);   // one log line for the outage, not one per job
    EXPECT_EQ(admitted, 4);  // the share is 5 per minute, and the shared admission counts
    EXPECT_EQ(limiter.mode(), LimiterMode::Local);

    server_->start();
    admin_.reset();                     // its socket died with the old server
    d = limiter.try_acquire("300002");  // within the backoff: Redis is not asked yet
    EXPECT_EQ(d.mode, LimiterMode::Local);
    EXPECT_FALSE(d.change);

    clock_.now += seconds(5);
    d = limiter.try_acquire("300002");
    EXPECT_EQ(d.mode, LimiterMode::Shared);
    ASSERT_TRUE(d.change);
    EXPECT_EQ(d.change->to, LimiterMode::Shared);
    EXPECT_TRUE(d.admitted);
    // Recorded in Redis again, after the one admitted locally within the backoff was put back.
    EXPECT_EQ(integer_of(admin(), {"ZCARD", "dwu_crm:rl:300002:60"}), 2);
    EXPECT_FALSE(limiter.try_acquire("300002").change);
}

// Two servers share the window; the first fills it after the second's last admission, and then
// Redis fails. The second, on its local share, must not add to the full window.
TEST_F(RateLimitFacadeTest, AfterAFailureWhatTheOthersAdmittedSinceTheLastTotalStillCounts) {
    RedisConnection redis_a(options());
    RedisConnection redis_b(options());
    RateLimiter a = make(redis_a, limits({{60, 10}}));
    RateLimiter b = make(redis_b, limits({{60, 10}}));
    for (int i = 0; i < 2; i++) EXPECT_TRUE(a.try_acquire("300001").admitted);
    EXPECT_TRUE(b.try_acquire("300001").admitted);                              // b saw 3 of 10, 2 of them a's
    for (int i = 0; i < 7; i++) EXPECT_TRUE(a.try_acquire("300001").admitted);  // full, b does not know
    server_->stop();
    RateDecision d = b.try_acquire("300001");
    EXPECT_EQ(d.mode, LimiterMode::Local);
    EXPECT_FALSE(d.admitted);  // its share of 5 has room; the window may not
    EXPECT_EQ(d.wait_ms, 60000);
    clock_.now += seconds(60);
    EXPECT_TRUE(b.try_acquire("300001").admitted);
}

TEST_F(RateLimitFacadeTest, UnreachableFromTheStartReportsOnceAndRetriesAfterTheBackoff) {
    RedisConnection redis(options_for(test::unused_port()));
    RateLimiter limiter = make(redis, limits({{60, 4}}));
    RateDecision d = limiter.try_acquire("300001");
    EXPECT_TRUE(d.admitted);
    EXPECT_EQ(d.mode, LimiterMode::Local);
    ASSERT_TRUE(d.change);
    EXPECT_EQ(d.change->to, LimiterMode::Local);
    EXPECT_TRUE(limiter.try_acquire("300001").admitted);
    d = limiter.try_acquire("300001");
    EXPECT_FALSE(d.admitted);  // local share: 2 of 4
    EXPECT_FALSE(d.change);
    clock_.now += seconds(5);
    d = limiter.try_acquire("300001");  // retried Redis, still down: no news
    EXPECT_EQ(d.mode, LimiterMode::Local);
    EXPECT_FALSE(d.change);
}

TEST_F(RateLimitFacadeTest, BlockReachesBothLimiters) {
    RedisConnection redis(options());
    RateLimiter limiter = make(redis, limits({{60, 10}}));
    EXPECT_FALSE(limiter.block("300001", 30));
    EXPECT_GT(integer_of(admin(), {"PTTL", "dwu_crm:block:300001"}), 29000);
    RateDecision d = limiter.try_acquire("300001");
    EXPECT_FALSE(d.admitted);
    EXPECT_EQ(d.mode, LimiterMode::Shared);

    server_->stop();  // the block must survive the switch to the local limiter
    d = limiter.try_acquire("300001");
    EXPECT_EQ(d.mode, LimiterMode::Local);
    EXPECT_TRUE(d.change);
    EXPECT_FALSE(d.admitted);
    EXPECT_EQ(d.wait_ms, 30000);  // fake clock has not moved
}

TEST_F(RateLimitFacadeTest, AfterAnOutageAndAnEmptyRestartTheLocalAdmissionsAreRestored) {
    RedisConnection redis(options());
    RateLimiter limiter = make(redis, limits({{60, 10}}));
    for (int i = 0; i < 2; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    server_->stop();
    int local = 0;
    for (int i = 0; i < 10; i++)
        if (limiter.try_acquire("300001").admitted) local++;
    EXPECT_EQ(local, 3);  // the share is 5 a minute; 2 of them went through Redis
    server_->start();     // empty
    admin_.reset();
    clock_.now += seconds(5);
    RateDecision d = limiter.try_acquire("300001");
    EXPECT_EQ(d.mode, LimiterMode::Shared);
    EXPECT_TRUE(d.admitted);
    EXPECT_EQ(d.restored, 5);  // the 2 shared and the 3 local ones, before the new one
    EXPECT_EQ(integer_of(admin(), {"ZCARD", "dwu_crm:rl:300001:60"}), 6);
    int shared = 1;
    for (int i = 0; i < 10; i++)
        if (limiter.try_acquire("300001").admitted) shared++;
    EXPECT_EQ(shared, 5);  // 10 a minute in all, what Redis forgot included
}

TEST_F(RateLimitFacadeTest, RestartedBetweenTwoCallsTheAdmissionsBeforeStillCount) {
    RedisConnection redis(options());
    RateLimiter limiter = make(redis, limits({{60, 6}}));
    for (int i = 0; i < 3; i++) ASSERT_TRUE(limiter.try_acquire("300001").admitted) << i;
    server_->stop();
    server_->start();
    admin_.reset();
    RateDecision d = limiter.try_acquire("300001");  // the dead connection: local for the backoff
    EXPECT_EQ(d.mode, LimiterMode::Local);
    EXPECT_FALSE(d.admitted);  // the local share (3) is used up by the 3 shared admissions
    clock_.now += seconds(5);
    int admitted = 0;
    for (int i = 0; i < 6; i++) {
        d = limiter.try_acquire("300001");
        EXPECT_EQ(d.mode, LimiterMode::Shared);
        if (d.admitted) admitted++;
    }
    EXPECT_EQ(admitted, 3);
    EXPECT_EQ(integer_of(admin(), {"ZCARD", "dwu_crm:rl:300001:60"}), 6);
}

TEST_F(RateLimitFacadeTest, ABlockSetWithoutRedisIsPutIntoRedisWhenItIsBack) {
    RedisConnection redis(options());
    RateLimiter limiter = make(redis, limits({{60, 10}}));
    ASSERT_TRUE(limiter.try_acquire("300001").admitted);
    server_->stop();
    EXPECT_TRUE(limiter.block("300001", 60));  // Redis gone: a mode change, the block kept locally
    server_->start();
    admin_.reset();
    clock_.now += seconds(5);
    const RateDecision d = limiter.try_acquire("300001");
    EXPECT_EQ(d.mode, LimiterMode::Shared);
    EXPECT_FALSE(d.admitted);
    EXPECT_GT(integer_of(admin(), {"PTTL", "dwu_crm:block:300001"}), 50000);
}

TEST(RateLimitFacadeLocalOnlyTest, WithoutRedisItIsLocalWithoutTransitions) {
    FakeClock clock;
    const RateLimits l = limits({{60, 4}});
    RateLimiter limiter(nullptr, LocalRateLimiter(l, 0.5, clock.fn()), seconds(5), clock.fn());
    EXPECT_EQ(limiter.mode(), LimiterMode::Local);
    int admitted = 0;
    for (int i = 0; i < 5; i++) {
        const RateDecision d = limiter.try_acquire("300001");
        EXPECT_FALSE(d.change);
        if (d.admitted) admitted++;
    }
    EXPECT_EQ(admitted, 2);
}

// ---------------------------------------------------------------------------------------------
// TokenCache

class RedisTokenCacheTest : public RedisSuite<kNoPassword> {};

TEST_F(RedisTokenCacheTest, StoresExactlyTheBytesGiven) {
    RedisConnection redis(options());
    TokenCache cache(redis);
    const std::string blob("\x00\x01\xff\xfe iv|ciphertext|tag\n\r\x00", 26);
    EXPECT_FALSE(cache.get("300001"));
    cache.put("300001", blob, seconds(60));
    const auto got = cache.get("300001");
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, blob);
    EXPECT_EQ(cache.key("300001"), "dwu_crm:token:300001");
    EXPECT_FALSE(cache.get("300002"));
}

TEST_F(RedisTokenCacheTest, ExpiresAfterItsTtl) {
    RedisConnection redis(options());
    TokenCache cache(redis);
    cache.put("300001", "blob", milliseconds(150));
    const long long ttl = integer_of(admin(), {"PTTL", cache.key("300001")});
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 150);
    std::this_thread::sleep_for(milliseconds(300));
    EXPECT_FALSE(cache.get("300001"));
    EXPECT_THROW(cache.put("300001", "blob", milliseconds(0)), std::invalid_argument);
}

TEST_F(RedisTokenCacheTest, InvalidateRemovesOnlyThatAccount) {
    RedisConnection redis(options());
    TokenCache cache(redis, "t:");
    cache.put("300001", "a", seconds(60));
    cache.put("300002", "b", seconds(60));
    cache.invalidate("300001");
    EXPECT_FALSE(cache.get("300001"));
    EXPECT_EQ(cache.get("300002").value_or(""), "b");
}

}  // namespace
}  // namespace dwu
