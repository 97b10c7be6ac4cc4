#include "core/limiter/rate_limiter_shared.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "core/limiter/rate_limit_scripts.h"

namespace dwu {
namespace {

void require_account(const std::string& account) {
    if (account.empty()) throw std::invalid_argument("rate limiter: empty account");
}

std::string random_member_prefix() {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), static_cast<unsigned>(getpid())};
    std::mt19937_64 rng(seed);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return buf;
}

long integer_at(const redisReply* reply, size_t i) {
    const redisReply* e = reply->element[i];
    return e->type == REDIS_REPLY_INTEGER ? static_cast<long>(e->integer) : -1;
}

}  // namespace

SharedRateLimiter::SharedRateLimiter(RedisConnection& redis, RateLimits limits, std::string key_prefix)
    : redis_(redis),
      limits_(std::move(limits)),
      prefix_(std::move(key_prefix)),
      admit_(kAdmitScript),
      block_(kBlockScript),
      member_prefix_(random_member_prefix()) {
    validate(limits_);
}

std::string SharedRateLimiter::window_key(const std::string& account, int window_seconds) const {
    return prefix_ + "rl:" + account + ":" + std::to_string(window_seconds);
}

std::string SharedRateLimiter::share_window_key(const std::string& account, int window_seconds) const {
    if (!limits_.caller_share) throw std::logic_error("rate limiter: no caller share");
    return window_key(account + ":" + limits_.caller_share->name, window_seconds);
}

std::string SharedRateLimiter::block_key(const std::string& account) const { return prefix_ + "block:" + account; }

std::string SharedRateLimiter::next_member() { return member_prefix_ + ":" + std::to_string(++member_counter_); }

Admission SharedRateLimiter::try_acquire(const std::string& account) {
    require_account(account);
    std::vector<std::string> keys{block_key(account)};
    std::vector<std::string> args{next_member()};
    for (const auto& w : active_windows(limits_)) {
        keys.push_back(window_key(account, w.window_seconds));
        args.push_back(std::to_string(enforced_length(limits_, w).count()));
        args.push_back(std::to_string(w.limit));
    }
    // A caller share: the same request also counts in the sub-account's windows, at their lower
    // limits, checked and recorded by the same script call (so atomically with the account's).
    if (const auto& c = limits_.caller_share)
        for (const auto& w : active_windows(limits_)) {
            keys.push_back(share_window_key(account, w.window_seconds));
            args.push_back(std::to_string(enforced_length(limits_, w).count()));
            args.push_back(std::to_string(share_limit(*c, w)));
        }
    ReplyPtr reply = admit_.run(redis_, keys, args);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || integer_at(reply.get(), 0) < 0 ||
        integer_at(reply.get(), 1) < 0)
        throw RedisError(RedisError::Kind::Reply, "redis " + redis_.endpoint() + ": admit script: unexpected reply");
    Admission a;
    a.admitted = integer_at(reply.get(), 0) == 1;
    a.wait_ms = a.admitted ? 0 : std::max(1L, integer_at(reply.get(), 1));
    return a;
}

long SharedRateLimiter::block(const std::string& account, long seconds) {
    require_account(account);
    if (seconds <= 0) throw std::invalid_argument("rate limiter: block of <= 0 s");
    ReplyPtr reply = block_.run(redis_, {block_key(account)}, {std::to_string(seconds * 1000L)});
    if (reply->type != REDIS_REPLY_INTEGER)
        throw RedisError(RedisError::Kind::Reply, "redis " + redis_.endpoint() + ": block script: unexpected reply");
    return static_cast<long>(reply->integer);
}

}  // namespace dwu
