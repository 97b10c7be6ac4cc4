// Counters for GET /__sim/stats: requests per protocol path (the /__sim/ paths are not counted),
// /auth outcomes, rate-limited answers and injected faults by kind.
#pragma once

#include "fault_kind.h"

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace sim {

class SimStats {
public:
    void count_request(const std::string& path);
    void count_auth(bool ok);
    void count_rate_limited();
    void count_fault(FaultKind kind);
    nlohmann::json to_json() const;
    void reset();

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t> requests_;
    std::uint64_t auth_ok_ = 0;
    std::uint64_t auth_failed_ = 0;
    std::uint64_t rate_limited_ = 0;
    std::array<std::uint64_t, kFaultKindCount> faults_{};
};

}  // namespace sim
