// Decides, per protocol request, which fault (if any) to inject, and provides the delay fault's
// sleep. Thread-safe: one mutex guards settings and the random generator, so with a seed and
// requests sent one at a time the sequence of faults is reproducible.
#pragma once

#include "fault_settings.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>

namespace sim {

class FaultInjector {
public:
    // latency_ms: how long every protocol request takes to arrive (a real API's distance), 0 none.
    explicit FaultInjector(FaultSettings startup, long latency_ms = 0);

    FaultSettings settings() const;
    // Validates and applies a POST /__sim/faults body; returns the new settings.
    // Throws std::invalid_argument (nothing changed).
    FaultSettings update(const nlohmann::json& body);
    // Back to no faults, the start-up delay_ms, and the start-up seed (so draws repeat).
    void reset();

    // Draws the faults that apply to `endpoint` in kAllFaults order; the first hit wins.
    std::optional<FaultKind> draw(Endpoint endpoint);
    int pick_5xx_status();  // 503 half the time, else 500 or 502

    // The delay fault: sleeps for the configured delay_ms, less if stop() is called meanwhile.
    void delay();
    // The latency, before each protocol request is handled (not a fault: counted nowhere).
    void latency();
    // Ends running and future delays at once; called when the server shuts down, since
    // httplib's stop() waits for every handler to return.
    void stop();

private:
    void seed_locked(const std::optional<std::uint64_t>& seed);

    void wait_locked(std::unique_lock<std::mutex>& lock, long ms);

    const FaultSettings startup_;
    const long latency_ms_;
    mutable std::mutex mutex_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    FaultSettings settings_;
    std::mt19937_64 rng_;
};

}  // namespace sim
