#include "core/limiter/login_lock.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

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

std::string random_owner() {
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (unsigned char b : bytes) {
        s += hex[b >> 4];
        s += hex[b & 15];
    }
    return s;
}

}  // namespace

std::string LoginLock::account_key(const std::string& client_code, const std::string& token_binding) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(token_binding.data(), token_binding.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("EVP_Digest failed");
    static const char* hex = "0123456789abcdef";
    std::string key = client_code + ":";
    for (unsigned int i = 0; i < 8 && i < length; ++i) {
        key += hex[digest[i] >> 4];
        key += hex[digest[i] & 15];
    }
    return key;
}

LoginLock::LoginLock(RedisConnection& redis, std::string key_prefix)
    : redis_(redis), prefix_(std::move(key_prefix)), owner_(random_owner()), acquire_(kAcquire), release_(kRelease) {}

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
