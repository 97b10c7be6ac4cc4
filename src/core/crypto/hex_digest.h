#pragma once
#include "core/pg_free.h"
// Lower-case hex of bytes, of a SHA-256 and of fresh random bytes: the one place for these
// (stored hashes are compared as text, so the case must never change).
#include <cstddef>
#include <string>
#include <string_view>

namespace dwu {

std::string to_hex(const unsigned char* bytes, std::size_t n);
// Throws std::runtime_error when OpenSSL fails.
std::string sha256_hex(std::string_view data);
// `n` bytes from RAND_bytes as 2n hex digits. Throws std::runtime_error when RAND_bytes fails.
std::string random_hex(std::size_t n);

}  // namespace dwu
