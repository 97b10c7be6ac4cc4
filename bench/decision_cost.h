#pragma once
// Bench (a): the cost of one admit decision, seen from the caller. Each call is timed on its own
// (steady clock around the call, so ~20-30 ns of clock reads are included: that matters for the
// local limiter only). A warm-up of 1,000 calls first connects, loads the script and warms caches.
#include <string>
#include <vector>

#include "core/limiter/redis_connection.h"
#include "latency_summary.h"

namespace dwu::bench {

struct DecisionCost {
    std::string limiter;  // "shared (Redis)", "local (in-process)", or the PING baseline
    std::string path;     // "admit", "deny" or "-"
    LatencySummary latency;
    long unexpected = 0;  // calls whose outcome was not the path's (an admit on the deny path…)
};

// Rows: a plain PING round trip (the floor any Redis call pays), then shared admit and deny, then
// local admit and deny. Keys go under `key_prefix`; throws RedisError.
std::vector<DecisionCost> measure_decision_cost(const RedisOptions& redis, const std::string& key_prefix, int calls);

}  // namespace dwu::bench
