// Response codes the real Dinamize API is known to use (reference §3).
#pragma once

namespace sim::codes {

inline constexpr const char* kSuccess = "480001";             // [C] success
inline constexpr const char* kSuccessDetail = "Sucesso";      // production text [C S1 S2]
inline constexpr const char* kPasswordRequired = "240002";    // [D S6]
inline constexpr const char* kUserRequired = "240003";        // [D S6]
inline constexpr const char* kInvalidCredentials = "240004";  // [D S6]
inline constexpr const char* kRateLimited = "240024";         // [D S6; code C S1]
inline constexpr const char* kInvalidClientCode = "240029";   // [D S6]

}  // namespace sim::codes
