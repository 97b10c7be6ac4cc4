// rate_limiter_bench: what the shared rate limiter costs and how well it uses the allowed rate,
// against a real redis-server (see README.md). Prints aligned tables; exits 1 if a limit was
// exceeded, a decision came out wrong or a worker failed, 2 on a bad command line.
#include <unistd.h>

#include <iostream>
#include <stdexcept>
#include <string>

#include "backlog_utilisation.h"
#include "bench_header.h"
#include "bench_options.h"
#include "decision_cost.h"
#include "text_table.h"

namespace dwu::bench {
namespace {

// Keys of this run only, so that runs (or a shared Redis) never see each other's entries. The
// limit windows' keys expire within a minute; the audit window's is deleted after each run.
std::string run_key_prefix() { return "dwu_bench:" + std::to_string(getpid()) + ":"; }

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string ratio(long part, long whole, int decimals) {
    return whole > 0 ? fixed(static_cast<double>(part) / static_cast<double>(whole), decimals) : "-";
}

bool report_decision_cost(const BenchOptions& o, const RedisOptions& redis) {
    const std::vector<DecisionCost> rows = measure_decision_cost(redis, run_key_prefix(), o.decision_calls);
    auto local_median = [&](const std::string& path) {
        for (const auto& r : rows)
            if (starts_with(r.limiter, "local") && r.path == path) return r.latency.median_us;
        return 0.0;
    };
    std::cout << "\n(a) Cost of one admit decision: " << o.decision_calls
              << " timed calls per row (after 1000 warm-up calls), one at a time on one connection\n";
    TextTable table({"limiter", "path", "median µs", "p99 µs", "max µs", "median ÷ local"}, 2);
    for (const auto& r : rows) {
        const double local = local_median(r.path);
        const bool compare = starts_with(r.limiter, "shared") && local > 0;
        table.add_row({r.limiter, r.path, fixed(r.latency.median_us, 2), fixed(r.latency.p99_us, 2),
                       fixed(r.latency.max_us, 2), compare ? fixed(r.latency.median_us / local, 0) + "×" : ""});
    }
    table.print(std::cout);
    bool all_expected = true;
    for (const auto& r : rows) {
        if (r.unexpected == 0) continue;
        std::cout << "WRONG DECISIONS: " << r.limiter << " " << r.path << ": " << r.unexpected << " of "
                  << r.latency.samples << " calls had the other outcome\n";
        all_expected = false;
    }
    std::cout.flush();
    return all_expected;
}

void print_utilisation(const BacklogSettings& s, const std::vector<BacklogResult>& results) {
    std::cout << "\n(b) Utilisation over a backlog: one account, limit " << s.limit << " per " << s.window_seconds
              << " s sliding window (limiter margin " << s.margin_ms << " ms), " << s.duration.count() << " s per row, "
              << s.request_cost.count()
              << " ms per admitted request; each worker = own thread, connection and limiter\n";
    TextTable table({"workers", "admitted", "allowed", "utilisation", "refusals/admission"});
    for (const auto& r : results)
        table.add_row({std::to_string(r.workers), std::to_string(r.admitted), std::to_string(r.allowed),
                       fixed(100.0 * static_cast<double>(r.admitted) / static_cast<double>(r.allowed), 1) + " %",
                       ratio(r.refusals, r.admitted, 2)});
    table.print(std::cout);
    std::cout << "allowed = limit × ceil(duration / window): a full window at 0, " << s.window_seconds
              << " s, … before the end.\n";
}

void explain_failures(const BacklogSettings& s, const BacklogResult& r) {
    const std::string within = " within " + std::to_string(s.window_seconds) + " s";
    if (r.by_redis_clock.max_in_window > s.limit)
        std::cout << "VIOLATION with " << r.workers << " worker(s): Redis admitted " << r.by_redis_clock.max_in_window
                  << within << " by its own clock: the limiter is broken\n";
    else if (r.by_worker_clock.max_in_window > s.limit)
        std::cout << "VIOLATION with " << r.workers << " worker(s): " << r.by_worker_clock.max_in_window << within
                  << " by the workers' clock, though at most " << s.limit << " by Redis's"
                  << (r.provable_breach ? ", yet the round-trip bounds prove more: the two clocks disagree\n"
                                        : " (nor do the round-trip bounds prove more): the delay from Redis's "
                                          "decision to the worker reading its clock varies, and eats the margin "
                                          "Redis left\n");
    for (const auto& e : r.errors) std::cout << "ERROR with " << r.workers << " worker(s): " << e << '\n';
}

// Returns whether every run kept the limit on both clocks, without errors.
bool print_limit_check(const BacklogSettings& s, const std::vector<BacklogResult>& results) {
    const std::string span = "least span of " + std::to_string(s.limit + 1) + " ms";
    std::cout << "\n(b) Limit check: at most " << s.limit << " admissions in any " << s.window_seconds
              << " s window, by the workers' clock (when each had its answer, i.e. would send) and by Redis's "
                 "(the script's TIME)\n";
    TextTable table(
        {"workers", "max, workers' clock", span + ", workers'", "max, Redis clock", span + ", Redis", "verdict"});
    bool ok = true;
    for (const auto& r : results) {
        const bool exceeded = r.by_worker_clock.max_in_window > s.limit || r.by_redis_clock.max_in_window > s.limit;
        table.add_row({std::to_string(r.workers), std::to_string(r.by_worker_clock.max_in_window),
                       fixed(r.by_worker_clock.min_span_ms, 3), std::to_string(r.by_redis_clock.max_in_window),
                       fixed(r.by_redis_clock.min_span_ms, 3),
                       exceeded           ? "VIOLATION"
                       : r.errors.empty() ? "ok"
                                          : "ERROR"});
        ok = ok && !exceeded && r.errors.empty();
    }
    table.print(std::cout);
    std::cout << span << " = shortest time from an admission to the " << s.limit << "th after it; below "
              << s.window_seconds * 1000 << " means " << s.limit + 1 << " in one window.\n";
    for (const auto& r : results) explain_failures(s, r);
    return ok;
}

bool report_backlog(const BenchOptions& o, const RedisOptions& redis) {
    BacklogSettings s;
    s.redis = redis;
    s.key_prefix = run_key_prefix();
    s.limit = o.backlog_limit;
    s.window_seconds = o.backlog_window_seconds;
    s.duration = std::chrono::seconds(o.backlog_seconds);
    s.margin_ms = o.margin_ms;
    s.request_cost = std::chrono::milliseconds(o.request_ms);
    std::vector<BacklogResult> results;
    for (int workers : o.worker_counts) {
        std::cerr << "backlog: " << workers << " worker(s) for " << o.backlog_seconds << " s…\n";
        results.push_back(run_backlog(s, workers, "backlog-" + std::to_string(workers) + "w"));
    }
    print_utilisation(s, results);
    return print_limit_check(s, results);
}

}  // namespace
}  // namespace dwu::bench

int main(int argc, char** argv) {
    using namespace dwu::bench;
    BenchOptions options;
    try {
        options = parse_options(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::cerr << "rate_limiter_bench: " << e.what() << '\n' << kUsage;
        return 2;
    }
    if (options.help) {
        std::cout << kUsage;
        return 0;
    }
    dwu::RedisOptions redis;
    redis.host = options.redis_host;
    redis.port = options.redis_port;
    try {
        dwu::RedisConnection connection(redis);
        print_header(std::cout, connection);
        const bool decisions_ok = report_decision_cost(options, redis);
        const bool backlog_ok = report_backlog(options, redis);
        return decisions_ok && backlog_ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "rate_limiter_bench: " << e.what() << '\n';
        return 1;
    }
}
