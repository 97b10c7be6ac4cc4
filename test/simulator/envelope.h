// The response envelope every protocol answer uses (reference §1):
// {"code", "code_detail", "body", "request_unique", "warning": []}.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <string>

namespace sim {

// Writes the envelope as the response. The real API answers HTTP 200 for every protocol outcome,
// errors included; only the simulator's own fallbacks (404, 500) use another status.
void send_envelope(httplib::Response& res, const std::string& code, const std::string& detail,
                   const nlohmann::json& body = nlohmann::json::object(), int http_status = 200);

// Plain JSON (no envelope) for the /__sim/ admin endpoints.
void send_json(httplib::Response& res, const nlohmann::json& value, int http_status = 200);

}  // namespace sim
