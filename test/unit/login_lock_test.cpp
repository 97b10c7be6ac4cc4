// LoginLock against a real redis-server: one holder at a time, the interval after a login, the
// lock released only by its holder and expiring by itself.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/limiter/login_lock.h"
#include "core/limiter/redis_connection.h"
#include "redis_server_process.h"

namespace dwu {
namespace {

using Outcome = LoginLock::Outcome;
using std::chrono::milliseconds;

class LoginLockTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new test::RedisServerProcess(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override { RedisConnection(options()).command({"FLUSHALL"}); }
    static RedisOptions options() {
        RedisOptions o;
        o.host = "127.0.0.1";
        o.port = server_->port();
        return o;
    }
    static test::RedisServerProcess* server_;
};
test::RedisServerProcess* LoginLockTest::server_ = nullptr;

TEST_F(LoginLockTest, OneHolderAtATimeThenTheInterval) {
    RedisConnection a_conn(options()), b_conn(options());
    LoginLock a(a_conn), b(b_conn);
    EXPECT_EQ(a.try_acquire("300001", milliseconds(5000)), Outcome::Acquired);
    EXPECT_EQ(b.try_acquire("300001", milliseconds(5000)), Outcome::Busy);
    EXPECT_EQ(b.try_acquire("300002", milliseconds(5000)), Outcome::Acquired);  // another account
    b.release("300001", true, milliseconds(300));                               // not the holder: the lock stays
    EXPECT_EQ(b.try_acquire("300001", milliseconds(5000)), Outcome::Recent);
    a.release("300001", true, milliseconds(300));
    EXPECT_EQ(b.try_acquire("300001", milliseconds(5000)), Outcome::Recent);
    std::this_thread::sleep_for(milliseconds(400));
    EXPECT_EQ(b.try_acquire("300001", milliseconds(5000)), Outcome::Acquired);
}

TEST_F(LoginLockTest, AFailedLoginStartsNoIntervalAndAnAbandonedLockExpires) {
    RedisConnection a_conn(options()), b_conn(options());
    LoginLock a(a_conn), b(b_conn);
    EXPECT_EQ(a.try_acquire("300001", milliseconds(5000)), Outcome::Acquired);
    a.release("300001", false, milliseconds(60000));
    EXPECT_EQ(b.try_acquire("300001", milliseconds(200)), Outcome::Acquired);  // b dies holding it
    EXPECT_EQ(a.try_acquire("300001", milliseconds(5000)), Outcome::Busy);
    std::this_thread::sleep_for(milliseconds(300));
    EXPECT_EQ(a.try_acquire("300001", milliseconds(5000)), Outcome::Acquired);
}

}  // namespace
}  // namespace dwu
