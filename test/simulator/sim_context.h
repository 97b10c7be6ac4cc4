// What the HTTP handlers share. Owned by main(); outlives the server.
#pragma once

#include "fault_injector.h"
#include "rate_limiter.h"
#include "request_log.h"
#include "sim_activity.h"
#include "sim_catalog.h"
#include "sim_import.h"
#include "sim_state.h"
#include "sim_stats.h"

namespace sim {

struct SimContext {
    SimState& state;
    SimStats& stats;
    RateLimiter& limiter;
    unsigned startup_rate_limit;  // restored by POST /__sim/reset
    FaultInjector& faults;
    RequestLog& log;
    Catalog& catalog;    // lists, fields, list-of-values
    Activity& activity;  // opt-outs and contact history
    ImportLog& imports;  // bulk import reports
};

}  // namespace sim
