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

nlohmann::json SimStats::to_json() const {
    std::lock_guard<std::mutex> lock(mutex_);
    nlohmann::json requests = nlohmann::json::object();
    for (const auto& [path, n] : requests_) requests[path] = n;
    return nlohmann::json{{"requests", requests},
                          {"auth_ok", auth_ok_},
                          {"auth_failed", auth_failed_},
                          {"rate_limited", rate_limited_}};
}

void SimStats::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.clear();
    auth_ok_ = auth_failed_ = rate_limited_ = 0;
}

}  // namespace sim
