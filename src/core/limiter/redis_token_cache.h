#pragma once
#include "core/pg_free.h"
// Dinamize auth tokens per account in Redis, so the workers of several clusters share one login
// instead of each authenticating. The blob is opaque: the caller encrypts it before put() and
// decrypts after get(); this class stores and returns exactly those bytes (NULs included) and
// never logs them. Key: <prefix>token:<account>, with a TTL so a token past its life disappears.
// Throws RedisError.
#include <chrono>
#include <optional>
#include <string>

#include "core/limiter/redis_connection.h"

namespace dwu {

class TokenCache {
public:
    // `redis` must outlive the cache.
    explicit TokenCache(RedisConnection& redis, std::string key_prefix = "dwu_crm:");

    std::optional<std::string> get(const std::string& account);
    // ttl must be > 0 (a token without expiry would outlive its validity at Dinamize).
    void put(const std::string& account, const std::string& blob, std::chrono::milliseconds ttl);
    void invalidate(const std::string& account);

    std::string key(const std::string& account) const;

private:
    RedisConnection& redis_;
    std::string prefix_;
};

}  // namespace dwu
