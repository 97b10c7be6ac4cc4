#pragma once
#include "core/pg_free.h"
// A Lua script run with EVALSHA, so each call sends 40 bytes instead of the script. The SHA comes
// from SCRIPT LOAD at first use; a server that lost its script cache (restart, SCRIPT FLUSH,
// failover) answers NOSCRIPT, and the script is loaded again and retried once: a NOSCRIPT call
// never ran, so the retry cannot apply it twice.
#include <string>
#include <vector>

#include "core/limiter/redis_connection.h"

namespace dwu {

class RedisScript {
public:
    explicit RedisScript(std::string source) : source_(std::move(source)) {}

    // Throws RedisError like RedisConnection::command.
    ReplyPtr run(RedisConnection& redis, const std::vector<std::string>& keys, const std::vector<std::string>& args);

    const std::string& sha() const { return sha_; }  // empty until first loaded

private:
    void load(RedisConnection& redis);

    std::string source_;
    std::string sha_;
};

}  // namespace dwu
