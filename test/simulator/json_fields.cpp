#include "json_fields.h"

#include "api_error.h"
#include "invented_codes.h"

namespace sim {
namespace {

bool has(const nlohmann::json& obj, const char* key) {
    auto it = obj.find(key);
    return it != obj.end() && !it->is_null();
}

}  // namespace

nlohmann::json parse_object_body(const std::string& body) {
    nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) invalid("Request body is not valid JSON");
    if (!parsed.is_object()) invalid("Request body must be a JSON object");
    return parsed;
}

std::optional<std::string> optional_string(const nlohmann::json& obj, const char* key) {
    if (!has(obj, key)) return std::nullopt;
    const auto& v = obj.at(key);
    if (!v.is_string()) invalid(std::string("Field '") + key + "' must be a string");
    return v.get<std::string>();
}

std::optional<std::string> canonical_numeric(const std::string& s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    for (char c : s)
        if (c < '0' || c > '9') return std::nullopt;
    return std::to_string(std::stoull(s));
}

std::string required_numeric_code(const nlohmann::json& obj, const char* key) {
    if (!has(obj, key)) invalid(std::string("Field '") + key + "' is required");
    const auto& v = obj.at(key);
    std::optional<std::string> canonical;
    if (v.is_string())
        canonical = canonical_numeric(v.get<std::string>());
    else if (v.is_number_unsigned())
        canonical = std::to_string(v.get<std::uint64_t>());
    if (!canonical) invalid(std::string("Field '") + key + "' must be a numeric code");
    return *canonical;
}

std::uint64_t integer_field(const nlohmann::json& obj, const char* key, std::uint64_t fallback, std::uint64_t min,
                            std::uint64_t max) {
    if (!has(obj, key)) return fallback;
    const auto& v = obj.at(key);
    std::optional<std::uint64_t> n;
    if (v.is_string()) {
        if (auto c = canonical_numeric(v.get<std::string>())) n = std::stoull(*c);
    } else if (v.is_number_unsigned()) {
        n = v.get<std::uint64_t>();
    }
    if (!n || *n < min || *n > max)
        invalid(std::string("Field '") + key + "' must be an integer between " + std::to_string(min) + " and " +
                std::to_string(max));
    return *n;
}

std::string scalar_as_string(const nlohmann::json& value, const char* what) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number() || value.is_boolean()) return value.dump();
    invalid(std::string(what) + " must be a string");
}

}  // namespace sim
