#pragma once
// The command line of rate_limiter_bench.
#include <string>
#include <vector>

namespace dwu::bench {

struct BenchOptions {
    std::string redis_host = "127.0.0.1";
    int redis_port = 0;          // required
    int decision_calls = 20000;  // timed calls per limiter and path
    int backlog_seconds = 30;    // per worker count
    long backlog_limit = 40;     // requests per window, shared by all workers
    int backlog_window_seconds = 2;
    std::vector<int> worker_counts{1, 2, 4};
    int request_ms = 5;   // simulated cost of each admitted request
    long margin_ms = 50;  // the limiter's margin (dwu_crm.rate_limit_margin_ms), scaled to the short window
    bool help = false;
};

extern const char* const kUsage;

// Throws std::invalid_argument with a message meant for the user.
BenchOptions parse_options(int argc, char** argv);

}  // namespace dwu::bench
