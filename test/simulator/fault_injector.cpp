#include "fault_injector.h"

namespace sim {

FaultInjector::FaultInjector(FaultSettings startup, long latency_ms)
    : startup_(startup), latency_ms_(latency_ms), settings_(startup) {
    seed_locked(startup_.seed);  // no other thread can see us yet
}

FaultSettings FaultInjector::settings() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return settings_;
}

FaultSettings FaultInjector::update(const nlohmann::json& body) {
    std::lock_guard<std::mutex> lock(mutex_);
    bool reseed = false;
    settings_ = apply_fault_json(settings_, startup_, body, reseed);
    if (reseed) seed_locked(settings_.seed);
    return settings_;
}

void FaultInjector::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    settings_.probability.fill(0.0);
    settings_.delay_ms = startup_.delay_ms;
    settings_.seed = startup_.seed;
    seed_locked(settings_.seed);
}

std::optional<FaultKind> FaultInjector::draw(Endpoint endpoint) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!settings_.any()) return std::nullopt;              // the common case: no generator use, no cost
    std::uniform_real_distribution<double> unit(0.0, 1.0);  // [0, 1): p = 1 always hits
    for (FaultKind kind : kAllFaults) {
        if (!applies_to(kind, endpoint)) continue;
        double p = settings_.probability[index_of(kind)];
        if (p > 0 && unit(rng_) < p) return kind;
    }
    return std::nullopt;
}

int FaultInjector::pick_5xx_status() {
    std::lock_guard<std::mutex> lock(mutex_);
    constexpr int statuses[] = {503, 503, 500, 502};
    return statuses[std::uniform_int_distribution<int>(0, 3)(rng_)];
}

void FaultInjector::wait_locked(std::unique_lock<std::mutex>& lock, long ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    stop_cv_.wait_until(lock, until, [this] { return stopping_; });
}

void FaultInjector::delay() {
    std::unique_lock<std::mutex> lock(mutex_);
    wait_locked(lock, settings_.delay_ms);
}

void FaultInjector::latency() {
    if (latency_ms_ <= 0) return;
    std::unique_lock<std::mutex> lock(mutex_);
    wait_locked(lock, latency_ms_);
}

void FaultInjector::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
}

void FaultInjector::seed_locked(const std::optional<std::uint64_t>& seed) {
    if (seed) {
        rng_.seed(*seed);
    } else {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        rng_.seed(seq);
    }
}

}  // namespace sim
