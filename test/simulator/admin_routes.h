// Test-only endpoints under /__sim/: plain JSON, no envelope, no auth, never faulted or logged.
// Not part of Dinamize. Bad input -> HTTP 400 {"error": message}.
//   GET  /__sim/health                          -> {"ok": true}
//   GET  /__sim/contacts?client_code=C&list=L   -> {"contacts": [items, by contact code]}
//   GET  /__sim/stats                           -> {"requests": {path: n}, "auth_ok", "auth_failed",
//                                                   "rate_limited", "faults": {kind: n}}
//   POST /__sim/reset                           -> contacts, tokens, stats, rate-limit window and
//                                                  limit back to start-up state; faults cleared,
//                                                  request log emptied; lists back to the seeded
//                                                  ones, fields, opt-outs, history, imports gone
//   POST /__sim/lists, /__sim/fields, /__sim/field-lov, /__sim/contact-update, /__sim/contact-delete, /__sim/optout,
//        /__sim/event                           -> see admin_data_routes.h
//   POST /__sim/expire-tokens                   -> every issued token becomes invalid
//   POST /__sim/config {"rate_limit_per_minute": N}  (0 = off) -> the new setting
//   GET  /__sim/faults                          -> {kind: probability, ..., "delay_ms", "seed"}
//   POST /__sim/faults {kind: p, "delay_ms": ms, "seed": n|null, "clear": true}  (keys optional;
//                                                  absent ones unchanged) -> the new settings
//   GET  /__sim/requests[?since_ms=T]           -> {"requests": [{"t_ms", "path", "client_code",
//                                                   "outcome"[, "fault"][, "unsent_code"]}]}
//   GET  /__sim/window?seconds=S&client_code=C  -> {"max_in_window": n}
#pragma once

#include "sim_context.h"

#include <httplib.h>

namespace sim {

void register_admin_routes(httplib::Server& server, SimContext& ctx);

}  // namespace sim
