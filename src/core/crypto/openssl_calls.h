#pragma once
// What the crypto code shares about calling OpenSSL: its byte views and its error state.
#include "core/pg_free.h"

#include <string>
#include <string_view>

namespace dwu {

inline const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
inline unsigned char* bytes_of(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// "<call> failed: <OpenSSL's earliest error>"; the thread's error queue is left empty, so nothing
// stale reaches its next call.
std::string openssl_failure(const char* call);

}  // namespace dwu
