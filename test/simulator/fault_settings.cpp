#include "fault_settings.h"

#include <stdexcept>
#include <string>

namespace sim {
namespace {

using nlohmann::json;

std::optional<FaultKind> kind_named(const std::string& name) {
    for (FaultKind kind : kAllFaults)
        if (name == fault_name(kind)) return kind;
    return std::nullopt;
}

std::string known_keys() {
    std::string keys;
    for (FaultKind kind : kAllFaults) keys += std::string(fault_name(kind)) + ", ";
    return keys + "delay_ms, seed, clear";
}

}  // namespace

bool FaultSettings::any() const {
    for (double p : probability)
        if (p > 0) return true;
    return false;
}

bool is_probability(double p) { return p >= 0.0 && p <= 1.0; }

json to_json(const FaultSettings& settings) {
    json out = json::object();
    for (FaultKind kind : kAllFaults) out[fault_name(kind)] = settings.probability[index_of(kind)];
    out["delay_ms"] = settings.delay_ms;
    out["seed"] = settings.seed ? json(*settings.seed) : json(nullptr);
    return out;
}

FaultSettings apply_fault_json(const FaultSettings& current, const FaultSettings& startup, const json& body,
                               bool& reseed) {
    if (!body.is_object()) throw std::invalid_argument("expected a JSON object with keys " + known_keys());
    FaultSettings next = current;
    reseed = false;
    if (auto clear = body.find("clear"); clear != body.end()) {
        if (!clear->is_boolean()) throw std::invalid_argument("\"clear\" must be true or false");
        if (clear->get<bool>()) {
            next.probability.fill(0.0);
            next.delay_ms = startup.delay_ms;
        }
    }
    for (const auto& [key, value] : body.items()) {
        if (key == "clear") continue;
        if (key == "delay_ms") {
            if (!value.is_number_unsigned() || value.get<std::uint64_t>() > std::uint64_t(kMaxDelayMs))
                throw std::invalid_argument("\"delay_ms\" must be an integer between 0 and " +
                                            std::to_string(kMaxDelayMs));
            next.delay_ms = value.get<long>();
        } else if (key == "seed") {
            if (!value.is_null() && !value.is_number_unsigned())
                throw std::invalid_argument("\"seed\" must be a non-negative integer or null");
            next.seed = value.is_null() ? std::nullopt : std::optional<std::uint64_t>(value.get<std::uint64_t>());
            reseed = true;
        } else if (auto kind = kind_named(key)) {
            // is_number() is false for booleans and strings; JSON has no NaN.
            if (!value.is_number() || !is_probability(value.get<double>()))
                throw std::invalid_argument("\"" + key + "\" must be a probability between 0 and 1");
            next.probability[index_of(*kind)] = value.get<double>();
        } else {
            throw std::invalid_argument("unknown key \"" + key + "\"; expected " + known_keys());
        }
    }
    return next;
}

}  // namespace sim
