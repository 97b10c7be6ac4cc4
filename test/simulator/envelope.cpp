#include "envelope.h"

#include "sim_random.h"

namespace sim {

namespace {

std::string dump(const nlohmann::json& value) {
    // Never throws on invalid UTF-8 (request parsing already rejects it; this is belt and braces).
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

// Assembled by hand to keep the reference's key order (nlohmann::json sorts object keys).
void send_envelope(httplib::Response& res, const std::string& code, const std::string& detail,
                   const nlohmann::json& body, int http_status) {
    std::string text = "{\"code\":" + dump(code) + ",\"code_detail\":" + dump(detail) + ",\"body\":" + dump(body) +
                       ",\"request_unique\":" + dump(random_hex(32)) + ",\"warning\":[]}";
    res.status = http_status;
    res.set_content(text, "application/json; charset=utf-8");
}

void send_json(httplib::Response& res, const nlohmann::json& value, int http_status) {
    res.status = http_status;
    res.set_content(dump(value), "application/json; charset=utf-8");
}

}  // namespace sim
