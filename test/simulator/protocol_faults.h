// How injected faults act on a protocol request (/auth, /emkt/*). The draw itself is
// FaultInjector's; the faults that need the protocol logic (expired_token, duplicate_email) are
// applied in sim_routes.cpp. Every injected fault is counted in the stats and marked in the
// request's log entry before anything reaches the client.
#pragma once

#include "fault_kind.h"
#include "request_log.h"
#include "sim_context.h"

#include <httplib.h>

#include <string>

namespace sim {

// Marks `kind` as injected; `replaces_answer`: the outcome logged is the fault's name.
void note_fault(SimContext& ctx, RequestRecord& record, FaultKind kind, bool replaces_answer);

// The faults that act before any processing: http_5xx, reset and malformed_json write their
// answer (or reset) and return true; delay sleeps and returns false (the request then goes on
// normally); the others are not for this stage and return false.
bool inject_before_processing(SimContext& ctx, FaultKind kind, const httplib::Request& req, httplib::Response& res,
                              LoggedRequest& log);

// lost_response: the operation has been applied and `unsent_code` computed; the connection is
// reset instead of answering.
void lose_answer(SimContext& ctx, const httplib::Request& req, httplib::Response& res, LoggedRequest& log,
                 const std::string& unsent_code);

}  // namespace sim
