// The Dinamize protocol endpoints (reference §2, §5) and the server-wide fallbacks.
#pragma once

#include "sim_context.h"

#include <httplib.h>

namespace sim {

// POST /auth and POST /emkt/contact/{add,update,delete,get,search}, with fault injection and
// one request-log entry each.
void register_protocol_routes(httplib::Server& server, SimContext& ctx);

// Request counting, enveloped 404 for unknown paths (logged in the request log like protocol
// requests), enveloped 500 for exceptions, and (when `verbose`) one stderr line per request:
// method, path, HTTP status, envelope code. Never headers or bodies, so no password or token is
// ever printed.
void register_fallbacks(httplib::Server& server, SimContext& ctx, bool verbose);

}  // namespace sim
