#pragma once
// Rate limiting and token sharing for every process that calls Dinamize (the worker, and backends
// running the dinamize_* SQL functions), built from the dwu_crm.redis_* and dwu_crm.rate_limit*
// settings: the limiter (shared through Redis, failing open to a local share), the gate the
// Dinamize clients ask before each request, and the Redis token cache.
#include <memory>
#include <string>

#include "core/limiter/login_lock.h"
#include "core/limiter/rate_gate.h"
#include "core/limiter/rate_limiter.h"
#include "core/limiter/redis_connection.h"
#include "core/limiter/redis_token_cache.h"

// Who sends through the limiter. The dinamize_* SQL functions (backends) get a caller share:
// every request counts in the account's windows and in those of "<client code>:api", limited to
// dwu_crm.api_rate_share of each limit, so the backends together never take the workers' rest.
// The workers' limiter and Redis keys are the same as without it.
enum class LimiterUser { Worker, SqlFunctions };

// The name of the SQL functions' caller share (Redis keys <prefix>rl:<client code>:api:<seconds>).
inline constexpr const char* kSqlFunctionsShareName = "api";

struct RequestLimits {
    // Declared in dependency order: destroyed gate first, Redis last.
    std::unique_ptr<dwu::RedisConnection> redis;   // null: no Redis configured
    std::unique_ptr<dwu::RateLimiter> limiter;     // null: rate limiting off
    std::unique_ptr<dwu::TokenCache> token_cache;  // null: no Redis configured
    std::unique_ptr<dwu::LoginLock> login_lock;    // null: no Redis configured
    std::unique_ptr<dwu::RateGate> gate;           // null: rate limiting off
    std::string description;                       // one line for the server log, e.g. "30 requests per 10 s ..."
    std::string problem;                           // a setting that could not be used (the defaults were taken)
};

// Never throws: a bad setting is reported in `problem` and replaced by its default.
RequestLimits dwu_build_request_limits(dwu::RateGate::Sleep sleep, LimiterUser user = LimiterUser::Worker);

// The settings dwu_build_request_limits() reads, as one string: rebuild when it changes.
std::string dwu_request_limits_fingerprint(LimiterUser user = LimiterUser::Worker);
