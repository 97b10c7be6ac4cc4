// Command line of dinamize_sim.
#pragma once

#include "fault_settings.h"
#include "sim_catalog.h"
#include "sim_state.h"

#include <string>
#include <utility>
#include <vector>

namespace sim {

struct Options {
    std::string host = "127.0.0.1";
    int port = -1;                  // required; 0 = pick a free port
    std::string port_file;          // optional: receives the actual port once listening
    std::vector<Account> accounts;  // at least one
    std::vector<ListSeed> lists;    // --list CODE:TITLE, for every account; default {"1", "Lista 1"}
    long token_idle_seconds = 3600;
    long token_max_seconds = 86400;
    unsigned rate_limit_per_minute = 0;  // requests per window; 0 = off
    long rate_limit_window_seconds = 60;
    unsigned threads = 256;  // httplib serves a kept-alive connection on one thread until it closes
    long latency_ms = 0;     // --latency-ms: every protocol request arrives this much later
    bool verbose = false;
    FaultSettings faults;  // --fault-* and --seed; all off by default
    // --code NAME=CODE: the codes of the unpublished conditions (invented_codes.h), applied by main
    std::vector<std::pair<std::string, std::string>> codes;
};

// Throws std::invalid_argument with a message fit for stderr (never containing a password).
Options parse_options(int argc, char** argv);

const char* usage();

}  // namespace sim
