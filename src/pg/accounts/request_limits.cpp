#include "pg/accounts/request_limits.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "core/crypto/secret_box.h"
#include "pg/settings.h"

namespace {

void add_caller_share(dwu::RateLimits& limits, LimiterUser user) {
    if (user == LimiterUser::SqlFunctions)
        limits.caller_share = dwu::CallerShare{kSqlFunctionsShareName, dwu_api_rate_share};
}

dwu::RateLimits limits_from_settings(LimiterUser user) {
    dwu::RateLimits limits;
    limits.windows = {{dwu_rate_limit_window_seconds, dwu_rate_limit}};
    // An hour-long main window already is the hourly one: two windows may not share a length.
    if (dwu_rate_limit_window_seconds != 3600) limits.windows.push_back({3600, dwu_rate_limit_per_hour});
    limits.margin_ms = dwu_rate_limit_margin_ms;
    add_caller_share(limits, user);
    return limits;
}

std::string read_password_file(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line))
        throw std::runtime_error("cannot read dwu_crm.redis_password_file \"" + path + "\"");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

std::string describe(const dwu::RateLimits& limits, const RequestLimits& built) {
    std::string text;
    for (const auto& w : dwu::active_windows(limits)) {
        if (!text.empty()) text += " and ";
        text += std::to_string(w.limit) + " requests per " + std::to_string(w.window_seconds) + " s";
        if (limits.caller_share)
            text += " (" + std::to_string(dwu::share_limit(*limits.caller_share, w)) + " for the SQL functions)";
    }
    text += " per Dinamize account, ";
    if (!built.redis) return text + "this server alone (no Redis)";
    const dwu::RedisOptions& o = built.redis->options();
    if (o.sentinels.empty()) return text + "shared through redis " + built.redis->endpoint();
    text += "shared through redis master " + o.sentinel_master + " (sentinels";
    for (const auto& e : o.sentinels) text += " " + e.host + ":" + std::to_string(e.port);
    text += ")";
    return text;
}

void build(RequestLimits& out, const dwu::RateLimits& limits, bool use_redis, dwu::RateGate::Sleep sleep) {
    if (dwu::active_windows(limits).empty()) {
        out.description = "off (dwu_crm.rate_limit and dwu_crm.rate_limit_per_hour are 0)";
        return;
    }
    std::unique_ptr<dwu::SharedRateLimiter> shared;
    const std::string host = dwu_redis_host ? dwu_redis_host : "";
    const std::vector<dwu::RedisEndpoint> sentinels =
        dwu::parse_redis_endpoints(dwu_redis_sentinels ? dwu_redis_sentinels : "", 26379);
    const bool redis_configured = !host.empty() || !sentinels.empty();
    // Without Redis by choice this server is alone and takes the whole limit; otherwise, whenever
    // it cannot reach Redis, only its share. Either way split among this server's sync workers.
    const double share = (redis_configured ? dwu_rate_limit_local_share : 1.0) / std::max(1, dwu_workers);
    if (use_redis && redis_configured) {
        dwu::RedisOptions redis;
        redis.host = host.empty() ? "127.0.0.1" : host;
        redis.port = dwu_redis_port;
        redis.sentinels = sentinels;
        redis.sentinel_master = dwu_redis_sentinel_master ? dwu_redis_sentinel_master : "";
        redis.database = dwu_redis_database;
        redis.connect_timeout_ms = redis.command_timeout_ms = dwu_redis_timeout_ms;
        if (dwu_redis_password_file && *dwu_redis_password_file)
            redis.password = read_password_file(dwu_redis_password_file);
        out.redis = std::make_unique<dwu::RedisConnection>(std::move(redis));
        const std::string prefix = dwu_redis_key_prefix ? dwu_redis_key_prefix : "";
        shared = std::make_unique<dwu::SharedRateLimiter>(*out.redis, limits, prefix, dwu_rate_limit_resync_pause_ms);
        out.token_cache = std::make_unique<dwu::TokenCache>(*out.redis, prefix);
        out.login_lock = std::make_unique<dwu::LoginLock>(*out.redis, prefix);
    }
    out.limiter = std::make_unique<dwu::RateLimiter>(std::move(shared), dwu::LocalRateLimiter(limits, share));
    // Sharing through Redis: whoever waits for a slot asks again within half the resync pause,
    // so that it puts its admissions back in time when another process found Redis emptied.
    const long recheck_ms = out.redis && dwu_rate_limit_resync_pause_ms > 0
                                ? std::max(200L, static_cast<long>(dwu_rate_limit_resync_pause_ms) / 2)
                                : 0;
    out.gate = std::make_unique<dwu::RateGate>(*out.limiter, std::move(sleep), 500, recheck_ms);
    out.description = describe(limits, out);
}

}  // namespace

std::string dwu_request_limits_fingerprint(LimiterUser user) {
    auto text = [](const char* s) { return std::string(s ? s : "") + '\x1f'; };
    return text(dwu_redis_host) + std::to_string(dwu_redis_port) + ':' + text(dwu_redis_sentinels) +
           text(dwu_redis_sentinel_master) + text(dwu_redis_password_file) + std::to_string(dwu_redis_database) + ':' +
           text(dwu_redis_key_prefix) + std::to_string(dwu_redis_timeout_ms) + ':' + std::to_string(dwu_rate_limit) +
           ':' + std::to_string(dwu_rate_limit_window_seconds) + ':' + std::to_string(dwu_rate_limit_per_hour) + ':' +
           std::to_string(dwu_rate_limit_margin_ms) + ':' + std::to_string(dwu_rate_limit_local_share) + ':' +
           std::to_string(dwu_rate_limit_resync_pause_ms) +
           (user == LimiterUser::SqlFunctions ? ':' + std::to_string(dwu_api_rate_share) : std::string());
}

RequestLimits dwu_build_request_limits(dwu::RateGate::Sleep sleep, LimiterUser user) {
    RequestLimits out;
    try {
        build(out, limits_from_settings(user), true, sleep);
        return out;
    } catch (const std::exception& e) {
        out = RequestLimits{};
        out.problem = std::string("dwu_crm rate limit settings cannot be used (") + e.what() +
                      "); falling back to 60 requests per minute, this server's share only, without Redis";
    }
    try {
        dwu::RateLimits defaults;
        defaults.margin_ms = dwu_rate_limit_margin_ms;
        add_caller_share(defaults, user);
        build(out, defaults, false, sleep);
    } catch (const std::exception&) {
        // The defaults are valid; nothing else can fail without Redis.
    }
    return out;
}
