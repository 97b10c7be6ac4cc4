// Test-only endpoints under /__sim/: plain JSON, no envelope, no auth. Not part of Dinamize.
//   GET  /__sim/health                          -> {"ok": true}
//   GET  /__sim/contacts?client_code=C&list=L   -> {"contacts": [items, by contact code]}
//   GET  /__sim/stats                           -> {"requests": {path: n}, "auth_ok", "auth_failed",
//                                                   "rate_limited"}
//   POST /__sim/reset                           -> contacts, tokens, stats, rate-limit window and
//                                                  limit back to start-up state
//   POST /__sim/expire-tokens                   -> every issued token becomes invalid
//   POST /__sim/config {"rate_limit_per_minute": N}  (0 = off) -> the new setting
#pragma once

#include "sim_context.h"

#include <httplib.h>

namespace sim {

void register_admin_routes(httplib::Server& server, SimContext& ctx);

}  // namespace sim
