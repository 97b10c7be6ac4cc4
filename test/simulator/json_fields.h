// Reading request fields with the API's conventions: scalars travel as JSON strings, numbers are
// tolerated (reference §1). Every failure throws ApiError with the invented validation code.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sim {

// Parses a request body; it must be a JSON object.
nlohmann::json parse_object_body(const std::string& body);

// Absent or null -> nullopt; string -> value; anything else -> validation error.
std::optional<std::string> optional_string(const nlohmann::json& obj, const char* key);

// Numeric code ("7", "007" or 7) in canonical decimal form ("7"). Required.
std::string required_numeric_code(const nlohmann::json& obj, const char* key);

// Canonical decimal form of a digits-only string (1-18 digits), else nullopt.
std::optional<std::string> canonical_numeric(const std::string& s);

// Integer given as digits string or JSON integer, within [min, max]; absent/null -> fallback.
std::uint64_t integer_field(const nlohmann::json& obj, const char* key, std::uint64_t fallback, std::uint64_t min,
                            std::uint64_t max);

// A search value: string as is, numbers/booleans as their JSON text; else validation error.
std::string scalar_as_string(const nlohmann::json& value, const char* what);

}  // namespace sim
