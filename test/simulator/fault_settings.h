// Fault settings: one probability per fault kind, the delay length and the draw seed. Read and
// written as JSON by /__sim/faults and filled from the command line at start.
#pragma once

#include "fault_kind.h"

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace sim {

inline constexpr long kDefaultDelayMs = 1500;
inline constexpr long kMaxDelayMs = 600000;

struct FaultSettings {
    std::array<double, kFaultKindCount> probability{};  // by index_of(kind), each in [0, 1]
    long delay_ms = kDefaultDelayMs;
    std::optional<std::uint64_t> seed;  // the last seed set; nullopt = seeded at random

    bool any() const;
};

bool is_probability(double p);  // in [0, 1]; false for NaN

// {"http_5xx": p, ..., "delay_ms": ms, "seed": n | null}
nlohmann::json to_json(const FaultSettings& settings);

// A POST /__sim/faults body applied to `current`: keys present are set, others kept;
// "clear": true first zeroes every probability and restores `startup.delay_ms`. All keys are
// checked before anything changes. Throws std::invalid_argument with a message for the client.
// `reseed` is set when the body has "seed" (a number, or null for a random seed).
FaultSettings apply_fault_json(const FaultSettings& current, const FaultSettings& startup, const nlohmann::json& body,
                               bool& reseed);

}  // namespace sim
