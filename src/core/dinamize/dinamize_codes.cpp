#include "core/dinamize/dinamize_codes.h"

#include <array>

namespace dwu::codes {
namespace {

struct Entry {
    std::string_view code;
    CodeClass cls;
};

//                         category                   retry  re-auth duplicate
constexpr std::array<Entry, 10> kTable{{
    {kPasswordRequired, {ErrorCategory::Auth, false, false, false}},
    {kUserRequired, {ErrorCategory::Auth, false, false, false}},
    {kInvalidCredentials, {ErrorCategory::Auth, false, false, false}},
    {kInvalidClientCode, {ErrorCategory::Auth, false, false, false}},
    {kRateLimited, {ErrorCategory::RateLimit, true, false, false}},
    {kInvalidToken, {ErrorCategory::Auth, true, true, false}},
    {kInvalidField, {ErrorCategory::Validation, false, false, false}},
    {kDuplicateEmail, {ErrorCategory::Validation, false, false, true}},
    {kNotFound, {ErrorCategory::Validation, false, false, false}},
    {kDuplicateTitle, {ErrorCategory::Validation, false, false, false}},
}};

}  // namespace

CodeClass classify_code(std::string_view code) {
    for (const auto& e : kTable)
        if (e.code == code) return e.cls;
    return {ErrorCategory::ApiError, false, true, false};
}

}  // namespace dwu::codes

namespace dwu {

const char* category_name(ErrorCategory category) {
    switch (category) {
        case ErrorCategory::Network:
            return "NETWORK";
        case ErrorCategory::Auth:
            return "AUTH";
        case ErrorCategory::Validation:
            return "VALIDATION";
        case ErrorCategory::RateLimit:
            return "RATE_LIMIT";
        case ErrorCategory::ApiError:
            return "API_ERROR";
    }
    return "API_ERROR";
}

}  // namespace dwu
