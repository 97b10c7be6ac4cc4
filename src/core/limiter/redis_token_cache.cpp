#include "core/limiter/redis_token_cache.h"

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace dwu {

TokenCache::TokenCache(RedisConnection& redis, std::string key_prefix)
    : redis_(redis), prefix_(std::move(key_prefix)) {}

std::string TokenCache::key(const std::string& account) const {
    if (account.empty()) throw std::invalid_argument("token cache: empty account");
    return prefix_ + "token:" + account;
}

std::optional<std::string> TokenCache::get(const std::string& account) {
    ReplyPtr reply = redis_.command({"GET", key(account)});
    if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
    if (reply->type != REDIS_REPLY_STRING)
        throw RedisError(RedisError::Kind::Reply, "redis " + redis_.endpoint() + ": GET: token is not a string");
    return std::string(reply->str, reply->len);
}

void TokenCache::put(const std::string& account, const std::string& blob, std::chrono::milliseconds ttl) {
    if (ttl.count() <= 0) throw std::invalid_argument("token cache: ttl must be > 0");
    redis_.command({"SET", key(account), blob, "PX", std::to_string(ttl.count())});
}

void TokenCache::invalidate(const std::string& account) { redis_.command({"DEL", key(account)}); }

}  // namespace dwu
