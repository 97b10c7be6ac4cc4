#include "sim_stats.h"

namespace sim {

void SimStats::count_request(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[path];
}

void SimStats::count_auth(bool ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++(ok ? auth_ok_ : auth_failed_);
}

void SimStats::count_rate_limited() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++rate_limited_;
}

void SimStats::count_fault(FaultKind kind) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++faults_[index_of(kind)];
}

nlohmann::json SimStats::to_json() const {
    std::lock_guard<std::mutex> lock(mutex_);
    nlohmann::json requests = nlohmann::json::object();
    for (const auto& [path, n] : requests_) requests[path] = n;
    nlohmann::json faults = nlohmann::json::object();  // every kind, zeros included
    for (FaultKind kind : kAllFaults) faults[fault_name(kind)] = faults_[index_of(kind)];
    return nlohmann::json{{"requests", requests},
                          {"auth_ok", auth_ok_},
                          {"auth_failed", auth_failed_},
                          {"rate_limited", rate_limited_},
                          {"faults", faults}};
}

void SimStats::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.clear();
    auth_ok_ = auth_failed_ = rate_limited_ = 0;
    faults_.fill(0);
}

}  // namespace sim
