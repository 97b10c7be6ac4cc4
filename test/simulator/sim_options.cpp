#include "sim_options.h"

#include <stdexcept>

namespace sim {
namespace {

// Ten years: large enough for "never", small enough not to overflow steady_clock arithmetic.
constexpr long kMaxTokenSeconds = 315360000;

long parse_number(const std::string& flag, const std::string& text, long min, long max) {
    std::size_t used = 0;
    long value = 0;
    try {
        value = std::stol(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (text.empty() || used != text.size() || value < min || value > max)
        throw std::invalid_argument(flag + " needs an integer between " + std::to_string(min) + " and " +
                                    std::to_string(max));
    return value;
}

// USER:PASSWORD:CLIENT_CODE. The user ends at the first ':', the client code starts after the
// last one, so a password may itself contain ':'. Error messages never echo the value.
Account parse_account(const std::string& text) {
    std::size_t first = text.find(':');
    std::size_t last = text.rfind(':');
    const std::invalid_argument bad(
        "--account needs USER:PASSWORD:CLIENT_CODE (non-empty; CLIENT_CODE digits only)");
    if (first == std::string::npos || first == last) throw bad;
    Account a{text.substr(0, first), text.substr(first + 1, last - first - 1), text.substr(last + 1)};
    if (a.user.empty() || a.password.empty() || a.client_code.empty()) throw bad;
    for (char c : a.client_code)
        if (c < '0' || c > '9') throw bad;
    return a;
}

}  // namespace

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (flag == "--verbose") {
            o.verbose = true;
            continue;
        }
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + flag);
        std::string value = argv[++i];
        if (flag == "--port")
            o.port = static_cast<int>(parse_number(flag, value, 0, 65535));
        else if (flag == "--host")
            o.host = value;
        else if (flag == "--port-file")
            o.port_file = value;
        else if (flag == "--account")
            o.accounts.push_back(parse_account(value));
        else if (flag == "--token-idle-seconds")
            o.token_idle_seconds = parse_number(flag, value, 1, kMaxTokenSeconds);
        else if (flag == "--token-max-seconds")
            o.token_max_seconds = parse_number(flag, value, 1, kMaxTokenSeconds);
        else if (flag == "--rate-limit-per-minute")
            o.rate_limit_per_minute = static_cast<unsigned>(parse_number(flag, value, 0, 1000000));
        else if (flag == "--threads")
            o.threads = static_cast<unsigned>(parse_number(flag, value, 1, 1024));
        else
            throw std::invalid_argument("unknown option " + flag);
    }
    if (o.port < 0) throw std::invalid_argument("--port is required (0 = any free port)");
    if (o.accounts.empty()) throw std::invalid_argument("at least one --account is required");
    if (o.host.empty()) throw std::invalid_argument("--host must not be empty");
    return o;
}

const char* usage() {
    return "usage: dinamize_sim --port N [--host 127.0.0.1] [--port-file PATH]\n"
           "                    --account USER:PASSWORD:CLIENT_CODE [--account ...]\n"
           "                    [--token-idle-seconds 3600] [--token-max-seconds 86400]\n"
           "                    [--rate-limit-per-minute 0] [--threads 16] [--verbose]\n"
           "  --port 0 picks a free port; the actual port is written to --port-file.\n"
           "  --rate-limit-per-minute 0 disables the 240024 rate limit.\n";
}

}  // namespace sim
