// An error answer of the protocol: thrown by validation/state code, turned into an envelope by
// the route wrapper (sim_routes.cpp).
#pragma once

#include "invented_codes.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace sim {

class ApiError : public std::runtime_error {
public:
    ApiError(std::string code, const std::string& detail, nlohmann::json body = nlohmann::json::object())
        : std::runtime_error(detail), code_(std::move(code)), body_(std::move(body)) {}

    const std::string& code() const { return code_; }
    const nlohmann::json& body() const { return body_; }

private:
    std::string code_;
    nlohmann::json body_;
};

// A request the protocol rejects as invalid (a malformed field, bad paging...): the VALIDATION code.
[[noreturn]] inline void invalid(const std::string& detail) { throw ApiError(invented::kValidation, detail); }

}  // namespace sim
