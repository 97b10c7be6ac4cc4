// The token record shared through Redis: sealed, bound to its account, unreadable elsewhere.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/limiter/cached_token.h"

namespace dwu {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "12345.678901.23.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";

KeyRing ring_with(char fill) {
    KeyRing ring;
    ring.add_key(1, std::string(32, fill));
    return ring;
}

struct CachedTokenTest : ::testing::Test {
    Clock::time_point now = Clock::time_point(std::chrono::hours(490000));
    HttpTransport http{HttpOptions{}};
    DinamizeClient client{Account("http://127.0.0.1:9", "u", "p", "300001"), http, TokenRules{},
                          [this] { return now; }};
    void SetUp() override { client.adopt_token(kToken, now - 10min, now - 1min); }
};

TEST_F(CachedTokenTest, RoundTripsWithoutThePlaintextInTheBlob) {
    const KeyRing ring = ring_with('k');
    const std::string blob = seal_cached_token(ring, client, "300001");
    EXPECT_EQ(blob.find(kToken), std::string::npos);
    EXPECT_EQ(blob.find("abcdefghij"), std::string::npos);
    auto opened = open_cached_token(ring, blob, "300001");
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(opened->token, kToken);
    EXPECT_EQ(opened->issued_at, now - 10min);
    EXPECT_EQ(opened->last_used, now - 1min);
}

TEST_F(CachedTokenTest, IsBoundToItsAccountAndKey) {
    const KeyRing ring = ring_with('k');
    const std::string blob = seal_cached_token(ring, client, "300001");
    EXPECT_FALSE(open_cached_token(ring, blob, "300002").has_value());
    EXPECT_FALSE(open_cached_token(ring_with('x'), blob, "300001").has_value());
    EXPECT_FALSE(open_cached_token(ring, "garbage", "300001").has_value());
    EXPECT_FALSE(open_cached_token(ring, blob.substr(0, blob.size() - 1), "300001").has_value());
}

TEST_F(CachedTokenTest, TtlEndsWhenTheClientWouldRenew) {
    const TokenRules rules;
    // Used a minute ago: idle renewal comes first (55 min after last use).
    EXPECT_EQ(cached_token_ttl(client, rules, now), std::chrono::milliseconds(54min));
    // Issued almost 23.5 h ago: age renewal comes first; never below 1 s.
    client.adopt_token(kToken, now - (23h + 29min + 50s), now);
    EXPECT_EQ(cached_token_ttl(client, rules, now), std::chrono::milliseconds(10s));
    client.adopt_token(kToken, now - 48h, now);
    EXPECT_EQ(cached_token_ttl(client, rules, now), std::chrono::milliseconds(1s));
}

}  // namespace
}  // namespace dwu
