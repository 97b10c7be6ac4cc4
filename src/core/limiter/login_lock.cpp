#include "core/limiter/login_lock.h"

#include "core/crypto/hex_digest.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <stdexcept>

namespace dwu {
namespace {

const char* const kAcquire = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
)lua";

const char* const kRelease = R"lua(
if ARGV[2] == '1' and tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[3]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua";

}  // namespace

std::string LoginLock::account_key(const std::string& client_code, const std::string& token_binding) {
    return client_code + ":" + sha256_hex(token_binding).substr(0, 16);
}

LoginLock::LoginLock(RedisConnection& redis, std::string key_prefix)
    : redis_(redis), prefix_(std::move(key_prefix)), owner_(random_hex(12)), acquire_(kAcquire), release_(kRelease) {}

LoginLock::Outcome LoginLock::try_acquire(const std::string& account, std::chrono::milliseconds hold) {
    ReplyPtr r = acquire_.run(redis_, {lock_key(account), recent_key(account)},
                              {owner_, std::to_string(std::max<long long>(1, hold.count()))});
    const long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    return v == 1 ? Outcome::Acquired : v == 2 ? Outcome::Recent : Outcome::Busy;
}

void LoginLock::release(const std::string& account, bool logged_in, std::chrono::milliseconds interval) {
    release_.run(redis_, {lock_key(account), recent_key(account)},
                 {owner_, logged_in ? "1" : "0", std::to_string(std::max<long long>(0, interval.count()))});
}

}  // namespace dwu
