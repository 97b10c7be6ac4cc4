// The Dinamize protocol endpoints (reference §2, §5) and the server-wide fallbacks.
#pragma once

#include "sim_context.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

namespace sim {

// POST /auth, POST /emkt/contact/{add,update,delete,get,search} and the routes of
// catalog_routes.h and import_routes.h, with fault injection and one request-log entry each.
void register_protocol_routes(httplib::Server& server, SimContext& ctx);

// A data endpoint: gets the caller's account (client_code) and the parsed JSON body (a
// validation error if it is not a JSON object), returns the envelope's body; throws ApiError.
using DataHandler = nlohmann::json (*)(SimContext&, const std::string& client, const nlohmann::json& request);
// The same with the raw request (the multipart import).
using RawDataHandler = nlohmann::json (*)(SimContext&, const std::string& client, const httplib::Request& req);

// Registers POST `path`: token check (invented 249001), rate limit, fault injection, the
// handler, the envelope and the request-log entry.
void add_data_route(httplib::Server& server, SimContext& ctx, const char* path, DataHandler handler, Endpoint endpoint);
void add_raw_data_route(httplib::Server& server, SimContext& ctx, const char* path, RawDataHandler handler,
                        Endpoint endpoint);

// Request counting, enveloped 404 for unknown paths (logged in the request log like protocol
// requests), enveloped 500 for exceptions, and (when `verbose`) one stderr line per request:
// method, path, HTTP status, envelope code. Never headers or bodies, so no password or token is
// ever printed.
void register_fallbacks(httplib::Server& server, SimContext& ctx, bool verbose);

}  // namespace sim
