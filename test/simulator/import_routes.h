// The bulk import endpoints (reference §6; choices documented in sim_import.h), registered by
// register_protocol_routes:
//   POST /emkt/contact      multipart/form-data: file (CSV), command=import, parameters (JSON)
//                           -> {code: import code}
//   POST /emkt/import/get   {code} -> {code, contact-list_code, Status, Lines, Inserted, Updated,
//                           Errors}
// A JSON (non-multipart) POST /emkt/contact, a missing part or another command is a validation
// error (invented 249002); an unknown import code is not found (invented 249004).
#pragma once

#include "sim_context.h"

#include <httplib.h>

namespace sim {

void register_import_routes(httplib::Server& server, SimContext& ctx);

}  // namespace sim
