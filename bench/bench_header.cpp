#include "bench_header.h"

#include <hiredis/hiredis.h>
#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

namespace dwu::bench {
namespace {

std::string local_time() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm);
    return buf;
}

// As nproc counts: the CPUs this process may run on.
int usable_cpus() {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
}

std::string cpu_model() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) != 0) continue;
        const size_t colon = line.find(':');
        if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
    return "unknown";
}

std::string load_average() {
    double load[3];
    if (getloadavg(load, 3) != 3) return "unknown";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", load[0], load[1], load[2]);
    return buf;
}

std::string redis_version(RedisConnection& redis) {
    ReplyPtr reply = redis.command({"INFO", "server"});
    if (reply->type != REDIS_REPLY_STRING) return "unknown";
    const std::string info(reply->str, reply->len);
    const std::string field = "redis_version:";
    const size_t at = info.find(field);
    if (at == std::string::npos) return "unknown";
    const size_t from = at + field.size();
    return info.substr(from, info.find_first_of("\r\n", from) - from);
}

}  // namespace

void print_header(std::ostream& out, RedisConnection& redis) {
    const std::string version = redis_version(redis);  // first: an unreachable Redis prints nothing
    out << "dwu_crm rate limiter benchmark\n"
        << "date:         " << local_time() << '\n'
        << "cpu:          " << cpu_model() << '\n'
        << "nproc:        " << usable_cpus() << '\n'
        << "load average: " << load_average() << " (at start)\n"
        << "redis-server: " << version << " at " << redis.endpoint() << " (loopback TCP)\n";
}

}  // namespace dwu::bench
