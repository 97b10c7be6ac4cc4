#include "sim_options.h"

#include <cstdint>
#include <optional>
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

double parse_probability(const std::string& flag, const std::string& text) {
    std::size_t used = 0;
    double value = -1;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (text.empty() || used != text.size() || !is_probability(value))
        throw std::invalid_argument(flag + " needs a probability between 0 and 1");
    return value;
}

std::uint64_t parse_seed(const std::string& text) {
    std::size_t used = 0;
    std::uint64_t value = 0;
    try {
        value = std::stoull(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    // stoull would accept "-1" (and wrap it), so insist on digits only.
    if (text.empty() || used != text.size() || text.find_first_not_of("0123456789") != std::string::npos)
        throw std::invalid_argument("--seed needs a non-negative integer");
    return value;
}

// --fault-http-5xx, --fault-reset, ...: "--fault-" + the JSON name with '_' -> '-'.
std::optional<FaultKind> fault_flag(const std::string& flag) {
    for (FaultKind kind : kAllFaults) {
        std::string name = fault_name(kind);
        for (char& c : name)
            if (c == '_') c = '-';
        if (flag == "--fault-" + name) return kind;
    }
    return std::nullopt;
}

// USER:PASSWORD:CLIENT_CODE. The user ends at the first ':', the client code starts after the
// last one, so a password may itself contain ':'. Error messages never echo the value.
Account parse_account(const std::string& text) {
    std::size_t first = text.find(':');
    std::size_t last = text.rfind(':');
    const std::invalid_argument bad("--account needs USER:PASSWORD:CLIENT_CODE (non-empty; CLIENT_CODE digits only)");
    if (first == std::string::npos || first == last) throw bad;
    Account a{text.substr(0, first), text.substr(first + 1, last - first - 1), text.substr(last + 1)};
    if (a.user.empty() || a.password.empty() || a.client_code.empty()) throw bad;
    for (char c : a.client_code)
        if (c < '0' || c > '9') throw bad;
    return a;
}

// CODE:TITLE; the title runs to the end (it may hold ':').
ListSeed parse_list(const std::string& text) {
    const std::invalid_argument bad("--list needs CODE:TITLE (CODE digits only, TITLE non-empty)");
    std::size_t colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size() || colon > 18) throw bad;
    std::string code = text.substr(0, colon);
    for (char c : code)
        if (c < '0' || c > '9') throw bad;
    return ListSeed{std::to_string(std::stoull(code)), text.substr(colon + 1)};
}

// NAME=CODE; the code is 1-50 of [0-9A-Za-z_.-] (what the client accepts as a code), not 480001.
std::pair<std::string, std::string> parse_code(const std::string& text) {
    const std::invalid_argument bad(
        "--code needs NAME=CODE, NAME one of expired_token, invalid_field, duplicate_email, not_found, "
        "duplicate_title, CODE 1-50 letters, digits, '_', '.' or '-' (not 480001)");
    const std::size_t eq = text.find('=');
    if (eq == std::string::npos) throw bad;
    std::string name = text.substr(0, eq), code = text.substr(eq + 1);
    if (code.empty() || code.size() > 50 || code == "480001") throw bad;
    for (char c : code)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '.' ||
              c == '-'))
            throw bad;
    if (name != "expired_token" && name != "invalid_field" && name != "duplicate_email" && name != "not_found" &&
        name != "duplicate_title")
        throw bad;
    return {name, code};
}

}  // namespace

// Hand-parsed, not getopt_long: every option is "--flag value" with its own range check and message.
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
        else if (flag == "--list")
            o.lists.push_back(parse_list(value));
        else if (flag == "--token-idle-seconds")
            o.token_idle_seconds = parse_number(flag, value, 1, kMaxTokenSeconds);
        else if (flag == "--token-max-seconds")
            o.token_max_seconds = parse_number(flag, value, 1, kMaxTokenSeconds);
        else if (flag == "--rate-limit-per-minute")
            o.rate_limit_per_minute = static_cast<unsigned>(parse_number(flag, value, 0, 1000000));
        else if (flag == "--rate-limit-window-seconds")
            o.rate_limit_window_seconds = parse_number(flag, value, 1, 3600);
        else if (flag == "--latency-ms")
            o.latency_ms = parse_number(flag, value, 0, 60000);
        else if (flag == "--threads")
            o.threads = static_cast<unsigned>(parse_number(flag, value, 1, 1024));
        else if (auto kind = fault_flag(flag))
            o.faults.probability[index_of(*kind)] = parse_probability(flag, value);
        else if (flag == "--fault-delay-ms")
            o.faults.delay_ms = parse_number(flag, value, 0, kMaxDelayMs);
        else if (flag == "--seed")
            o.faults.seed = parse_seed(value);
        else if (flag == "--code")
            o.codes.push_back(parse_code(value));
        else
            throw std::invalid_argument("unknown option " + flag);
    }
    if (o.port < 0) throw std::invalid_argument("--port is required (0 = any free port)");
    if (o.accounts.empty()) throw std::invalid_argument("at least one --account is required");
    if (o.host.empty()) throw std::invalid_argument("--host must not be empty");
    if (o.lists.empty()) o.lists.push_back(ListSeed{"1", "Lista 1"});
    for (std::size_t i = 0; i < o.lists.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (o.lists[i].code == o.lists[j].code)
                throw std::invalid_argument("--list " + o.lists[i].code + " is given twice");
    return o;
}

const char* usage() {
    return "usage: dinamize_sim --port N [--host 127.0.0.1] [--port-file PATH]\n"
           "                    --account USER:PASSWORD:CLIENT_CODE [--account ...]\n"
           "                    [--list CODE:TITLE ...]\n"
           "                    [--token-idle-seconds 3600] [--token-max-seconds 86400]\n"
           "                    [--rate-limit-per-minute 0] [--rate-limit-window-seconds 60]\n"
           "                    [--threads 256] [--latency-ms 0] [--verbose]\n"
           "                    [--fault-http-5xx P] [--fault-reset P] [--fault-delay P]\n"
           "                    [--fault-delay-ms 1500] [--fault-malformed-json P]\n"
           "                    [--fault-expired-token P] [--fault-duplicate-email P]\n"
           "                    [--fault-lost-response P] [--seed N]\n"
           "                    [--code NAME=CODE ...]\n"
           "  --port 0 picks a free port; the actual port is written to --port-file.\n"
           "  --latency-ms N: every protocol request is handled N ms after it came, as from a\n"
           "    server that far away (each waits in its own thread: give --threads enough).\n"
           "  --list seeds a contact list in every account (default: 1:Lista 1); contacts may\n"
           "    still go to any numeric list code, which then exists implicitly.\n"
           "  --rate-limit-per-minute 0 disables the 240024 rate limit; with\n"
           "    --rate-limit-window-seconds W it counts requests per W seconds instead of 60.\n"
           "  --fault-* P: probability (0..1) per protocol request; see GET/POST /__sim/faults.\n"
           "  --seed N makes the fault draws reproducible (default: random).\n"
           "  --code answers a condition without a published code with CODE instead of the\n"
           "    invented default (expired_token 249001, invalid_field 249002, duplicate_email\n"
           "    249003, not_found 249004, duplicate_title 249006).\n";
}

}  // namespace sim
