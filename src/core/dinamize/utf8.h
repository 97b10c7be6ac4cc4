#pragma once
#include "core/pg_free.h"
// UTF-8 checks for bytes from the network and from SQL arguments. By hand: none of our fixed
// dependencies (libcurl, OpenSSL, nlohmann_json) exposes a UTF-8 validity check for a byte string.
#include <cstddef>
#include <string>
#include <string_view>

namespace dwu {

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// The length (1-4) of the well-formed UTF-8 sequence at p[0..n), or 0 when p[0] starts none
// (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short). n > 0.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n);

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `s` with each byte that does not start a well-formed UTF-8 sequence replaced by U+FFFD.
std::string repair_utf8(std::string_view s);

// The longest prefix of valid UTF-8 `s` of at most max_bytes bytes that ends between characters.
std::size_t utf8_prefix_length(std::string_view s, std::size_t max_bytes);

}  // namespace dwu
