// Randomness for auth tokens and request ids (no security claim; test fixture only).
#pragma once

#include <string>

namespace sim {

// Lower-case hex string of `length` characters (used for `request_unique`).
std::string random_hex(std::size_t length);

// Token in the shape seen in production (reference §2):
// 5 digits "." 6-digit client code "." 1-2 digits "." 48 chars of [A-Za-z0-9+/].
std::string random_token(const std::string& client_code);

}  // namespace sim
