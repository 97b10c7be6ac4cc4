#include "backlog_utilisation.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <thread>

#include "core/limiter/rate_limiter_shared.h"

namespace dwu::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct WorkerLog {
    std::vector<AdmissionStamp> admissions;
    long refusals = 0;
    std::string error;
};

constexpr long kAuditLimit = 1000000000;

// Longer than the run, and never the length of the window under test (they would share a key).
int audit_window_seconds(const BacklogSettings& s) {
    return static_cast<int>(s.duration.count()) + 2 * s.window_seconds + 60;
}

RateLimits limits_with_audit(const BacklogSettings& s) {
    RateLimits limits;
    limits.windows = {{s.window_seconds, s.limit}, {audit_window_seconds(s), kAuditLimit}};
    limits.margin_ms = s.margin_ms;
    return limits;
}

// The audit window's admission times (Redis µs scores, as ns), then drops the key.
std::vector<long long> redis_admission_times(const BacklogSettings& s, const std::string& account) {
    RedisConnection redis(s.redis);
    const std::string key =
        SharedRateLimiter(redis, limits_with_audit(s), s.key_prefix).window_key(account, audit_window_seconds(s));
    ReplyPtr reply = redis.command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    std::vector<long long> times_ns;
    if (reply->type != REDIS_REPLY_ARRAY) throw RedisError(RedisError::Kind::Reply, "audit ZRANGE: unexpected reply");
    for (size_t i = 1; i < reply->elements; i += 2)
        times_ns.push_back(std::stoll(std::string(reply->element[i]->str, reply->element[i]->len)) * 1000);
    redis.command({"DEL", key});
    return times_ns;
}

void work(const BacklogSettings& s, const std::string& account, Clock::time_point start, Clock::time_point end,
          WorkerLog& log) {
    try {
        RedisConnection redis(s.redis);
        redis.command({"PING"});  // connect before the clock starts
        SharedRateLimiter limiter(redis, limits_with_audit(s), s.key_prefix);
        std::this_thread::sleep_until(start);
        for (auto asked = Clock::now(); asked < end; asked = Clock::now()) {
            const Admission admission = limiter.try_acquire(account);
            const auto answered = Clock::now();
            if (answered >= end) break;
            if (!admission.admitted) {
                log.refusals++;
                std::this_thread::sleep_until(std::min(answered + std::chrono::milliseconds(admission.wait_ms), end));
                continue;
            }
            log.admissions.push_back({asked, answered});
            std::this_thread::sleep_for(s.request_cost);
        }
    } catch (const std::exception& e) {
        log.error = e.what();  // a thread must not let it escape: that would terminate the bench
    }
}

}  // namespace

BacklogResult run_backlog(const BacklogSettings& settings, int workers, const std::string& account) {
    std::vector<WorkerLog> logs(static_cast<size_t>(workers));
    // Room for every thread to connect first, so that all start together.
    const auto start = Clock::now() + std::chrono::milliseconds(500);
    const auto end = start + settings.duration;
    std::vector<std::thread> threads;
    for (auto& log : logs)
        threads.emplace_back(work, std::cref(settings), std::cref(account), start, end, std::ref(log));
    for (auto& t : threads) t.join();

    BacklogResult result;
    result.workers = workers;
    const long seconds = settings.duration.count();
    result.allowed = settings.limit * ((seconds + settings.window_seconds - 1) / settings.window_seconds);
    std::vector<AdmissionStamp> stamps;
    for (const auto& log : logs) {
        stamps.insert(stamps.end(), log.admissions.begin(), log.admissions.end());
        result.refusals += log.refusals;
        if (!log.error.empty()) result.errors.push_back(log.error);
    }
    result.admitted = static_cast<long>(stamps.size());
    const std::chrono::seconds window(settings.window_seconds);
    result.by_worker_clock = check_windows(stamps, window, settings.limit);
    if (result.by_worker_clock.max_in_window > settings.limit)
        result.provable_breach = provable_breach(std::move(stamps), window, settings.limit);
    result.by_redis_clock = check_windows(redis_admission_times(settings, account), window, settings.limit);
    return result;
}

}  // namespace dwu::bench
