#include "core/limiter/redis_script.h"

#include <hiredis/hiredis.h>

namespace dwu {

void RedisScript::load(RedisConnection& redis) {
    ReplyPtr reply = redis.command({"SCRIPT", "LOAD", source_});
    if (reply->type != REDIS_REPLY_STRING)
        throw RedisError(RedisError::Kind::Reply, "redis " + redis.endpoint() + ": SCRIPT LOAD: unexpected reply");
    sha_.assign(reply->str, reply->len);
}

ReplyPtr RedisScript::run(RedisConnection& redis, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args) {
    if (sha_.empty()) load(redis);
    std::vector<std::string> command{"EVALSHA", sha_, std::to_string(keys.size())};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    try {
        return redis.command(command);
    } catch (const RedisError& e) {
        if (e.kind() != RedisError::Kind::Reply || e.server_code() != "NOSCRIPT") throw;
    }
    load(redis);
    command[1] = sha_;
    return redis.command(command);
}

}  // namespace dwu
