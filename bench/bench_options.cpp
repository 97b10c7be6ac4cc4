#include "bench_options.h"

#include <stdexcept>

namespace dwu::bench {
namespace {

long parse_number(const std::string& flag, const std::string& text, long min, long max) {
    size_t used = 0;
    long value = 0;
    try {
        value = std::stol(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || value < min || value > max)
        throw std::invalid_argument(flag + ": expected an integer in [" + std::to_string(min) + ", " +
                                    std::to_string(max) + "], got '" + text + "'");
    return value;
}

std::vector<int> parse_worker_counts(const std::string& text) {
    std::vector<int> counts;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        counts.push_back(static_cast<int>(parse_number("--workers", text.substr(start, comma - start), 1, 64)));
        start = comma + 1;
    }
    return counts;
}

}  // namespace

const char* const kUsage =
    "usage: rate_limiter_bench --redis-port N [options]\n"
    "  --redis-host H       Redis host (default 127.0.0.1)\n"
    "  --calls N            timed decisions per limiter and path (default 20000)\n"
    "  --seconds S          backlog duration per worker count (default 30)\n"
    "  --limit L            backlog limit: requests per window (default 40)\n"
    "  --window S           backlog window length in seconds (default 2)\n"
    "  --workers A,B,...    worker counts to run the backlog with (default 1,2,4)\n"
    "  --request-ms MS      simulated cost of each admitted request (default 5; 0: none)\n"
    "  --margin-ms MS       limiter margin added to the window (default 50; the product's\n"
    "                       dwu_crm.rate_limit_margin_ms is 250 on a 60 s window)\n";

BenchOptions parse_options(int argc, char** argv) {
    BenchOptions o;
    for (int i = 1; i < argc; i++) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            o.help = true;
            continue;
        }
        if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value (or unknown option)");
        const std::string value = argv[++i];
        if (flag == "--redis-host")
            o.redis_host = value;
        else if (flag == "--redis-port")
            o.redis_port = static_cast<int>(parse_number(flag, value, 1, 65535));
        else if (flag == "--calls")
            o.decision_calls = static_cast<int>(parse_number(flag, value, 1, 10000000));
        else if (flag == "--seconds")
            o.backlog_seconds = static_cast<int>(parse_number(flag, value, 1, 3600));
        else if (flag == "--limit")
            o.backlog_limit = parse_number(flag, value, 1, 1000000);
        else if (flag == "--window")
            o.backlog_window_seconds = static_cast<int>(parse_number(flag, value, 1, 3600));
        else if (flag == "--workers")
            o.worker_counts = parse_worker_counts(value);
        else if (flag == "--margin-ms")
            o.margin_ms = parse_number(flag, value, 0, 60000);
        else if (flag == "--request-ms")
            o.request_ms = static_cast<int>(parse_number(flag, value, 0, 10000));
        else
            throw std::invalid_argument("unknown option " + flag);
    }
    if (!o.help && o.redis_port == 0) throw std::invalid_argument("--redis-port is required");
    return o;
}

}  // namespace dwu::bench
