#include "sim_time.h"

#include <ctime>

namespace sim {
namespace {

std::string format_now(const char* fmt) {
    std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    char buf[32];
    std::size_t n = std::strftime(buf, sizeof buf, fmt, &local);
    return std::string(buf, n);
}

bool matches_digits_pattern(const std::string& s, const std::string& pattern) {
    if (s.size() != pattern.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (pattern[i] == 'd') {
            if (s[i] < '0' || s[i] > '9') return false;
        } else if (s[i] != pattern[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string now_local_datetime() { return format_now("%Y-%m-%d %H:%M:%S"); }

std::string today_local_date() { return format_now("%Y-%m-%d"); }

bool is_date_or_datetime(const std::string& s) {
    return s.empty() || matches_digits_pattern(s, "dddd-dd-dd") || matches_digits_pattern(s, "dddd-dd-dd dd:dd:dd");
}

}  // namespace sim
