// The faults the simulator can inject into protocol requests (never into /__sim/), in the fixed
// order they are drawn: the first that hits wins.
#pragma once

#include <array>
#include <cstddef>

namespace sim {

enum class FaultKind {
    kHttp5xx,         // HTTP 500/502/503, non-JSON body; not applied
    kReset,           // connection reset, no answer; not applied
    kDelay,           // sleep delay_ms, then handled normally
    kMalformedJson,   // HTTP 200, truncated JSON; not applied
    kExpiredToken,    // data calls: the token is revoked, invented 249001; not applied
    kDuplicateEmail,  // contact/add: invented 249003; not applied
    kLostResponse,    // data calls: applied, then connection reset without an answer
};

inline constexpr std::size_t kFaultKindCount = 7;

inline constexpr std::array<FaultKind, kFaultKindCount> kAllFaults = {
    FaultKind::kHttp5xx,      FaultKind::kReset,          FaultKind::kDelay,        FaultKind::kMalformedJson,
    FaultKind::kExpiredToken, FaultKind::kDuplicateEmail, FaultKind::kLostResponse,
};

// Name used in JSON (/__sim/faults, /__sim/stats, /__sim/requests); the CLI flag is
// "--fault-" + the name with '_' turned into '-'.
inline constexpr const char* fault_name(FaultKind kind) {
    constexpr const char* names[kFaultKindCount] = {
        "http_5xx", "reset", "delay", "malformed_json", "expired_token", "duplicate_email", "lost_response"};
    return names[static_cast<std::size_t>(kind)];
}

inline constexpr std::size_t index_of(FaultKind kind) { return static_cast<std::size_t>(kind); }

// Which endpoint a request hit, as far as fault applicability goes.
enum class Endpoint { kAuth, kData, kContactAdd };

inline constexpr bool applies_to(FaultKind kind, Endpoint endpoint) {
    switch (kind) {
        case FaultKind::kExpiredToken:
        case FaultKind::kLostResponse:
            return endpoint != Endpoint::kAuth;
        case FaultKind::kDuplicateEmail:
            return endpoint == Endpoint::kContactAdd;
        default:
            return true;
    }
}

}  // namespace sim
