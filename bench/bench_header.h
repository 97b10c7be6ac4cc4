#pragma once
// What a reader needs to compare two runs: when, on which CPU, how many cores, under what load
// (the bench shares the machine), and against which redis-server.
#include <ostream>

#include "core/limiter/redis_connection.h"

namespace dwu::bench {

// Throws RedisError.
void print_header(std::ostream& out, RedisConnection& redis);

}  // namespace dwu::bench
