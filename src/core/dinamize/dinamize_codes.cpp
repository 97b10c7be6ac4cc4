#include "core/dinamize/dinamize_codes.h"

#include <array>

namespace dwu::codes {
namespace {

struct Named {
    CodeMeaning meaning;
    const char* name;
};
constexpr std::array<Named, 9> kNames{{
    {CodeMeaning::Credentials, "credentials"},
    {CodeMeaning::RateLimited, "rate_limited"},
    {CodeMeaning::ExpiredToken, "expired_token"},
    {CodeMeaning::InvalidField, "invalid_field"},
    {CodeMeaning::DuplicateEmail, "duplicate_email"},
    {CodeMeaning::NotFound, "not_found"},
    {CodeMeaning::DuplicateTitle, "duplicate_title"},
    {CodeMeaning::Other, "other"},
    {CodeMeaning::Unknown, "unknown"},
}};

struct Default {
    std::string_view code;
    CodeMeaning meaning;
};
constexpr std::array<Default, 10> kDefaults{{
    {kPasswordRequired, CodeMeaning::Credentials},
    {kUserRequired, CodeMeaning::Credentials},
    {kInvalidCredentials, CodeMeaning::Credentials},
    {kInvalidClientCode, CodeMeaning::Credentials},
    {kRateLimited, CodeMeaning::RateLimited},
    {kInvalidToken, CodeMeaning::ExpiredToken},
    {kInvalidField, CodeMeaning::InvalidField},
    {kDuplicateEmail, CodeMeaning::DuplicateEmail},
    {kNotFound, CodeMeaning::NotFound},
    {kDuplicateTitle, CodeMeaning::DuplicateTitle},
}};

}  // namespace

CodeClass standard_class(CodeMeaning meaning) {
    CodeClass c{ErrorCategory::Validation, false, false, false};
    c.meaning = meaning;
    switch (meaning) {
        case CodeMeaning::Credentials:
            c.category = ErrorCategory::Auth;
            break;
        case CodeMeaning::RateLimited:
            c.category = ErrorCategory::RateLimit;
            c.retryable = true;
            break;
        case CodeMeaning::ExpiredToken:
            c.category = ErrorCategory::Auth;
            c.retryable = c.reauthenticate = true;
            break;
        case CodeMeaning::DuplicateEmail:
            c.duplicate = true;
            break;
        case CodeMeaning::NotFound:
            c.not_found = true;
            break;
        case CodeMeaning::InvalidField:
        case CodeMeaning::DuplicateTitle:
            break;
        case CodeMeaning::Other:
            c.category = ErrorCategory::ApiError;
            break;
        case CodeMeaning::Unknown:
            return unknown_class();
    }
    return c;
}

std::optional<CodeMeaning> meaning_from_name(std::string_view name) {
    for (const auto& n : kNames)
        if (name == n.name) return n.meaning;
    return std::nullopt;
}

std::optional<CodeClass> stored_class(std::string_view meaning, std::string_view category, bool retry, bool relogin,
                                      bool duplicate, bool not_found) {
    CodeClass c{ErrorCategory::ApiError, retry, relogin, duplicate};
    c.not_found = not_found;
    const std::optional<CodeMeaning> m = meaning_from_name(meaning);
    c.meaning = m && *m != CodeMeaning::Unknown ? *m : CodeMeaning::Other;
    static constexpr ErrorCategory kCategories[] = {ErrorCategory::Auth, ErrorCategory::Validation,
                                                    ErrorCategory::RateLimit, ErrorCategory::ApiError};
    for (ErrorCategory cat : kCategories)
        if (category == category_name(cat)) {
            c.category = cat;
            return c;
        }
    return std::nullopt;
}

CodeClass unknown_class() {
    // Retryable: what is left unknown after the lookups (contact_sync.h) may be an expired token or
    // a passing failure; dwu_crm.max_attempts bounds the retries.
    CodeClass c{ErrorCategory::ApiError, true, true, false};
    c.meaning = CodeMeaning::Unknown;
    return c;
}

CodeClass classify_code(std::string_view code) { return ResponseCodes::defaults()->classify(code); }

}  // namespace dwu::codes

namespace dwu {

const char* meaning_name(CodeMeaning meaning) {
    for (const auto& n : codes::kNames)
        if (n.meaning == meaning) return n.name;
    return "unknown";
}

ResponseCodes::ResponseCodes(const std::vector<Entry>& entries) {
    for (const Entry& e : entries) by_code_[e.code] = e.cls;
}

CodeClass ResponseCodes::classify(std::string_view code) const {
    const auto it = by_code_.find(std::string(code));
    return it == by_code_.end() ? codes::unknown_class() : it->second;
}

std::vector<ResponseCodes::Entry> ResponseCodes::default_entries() {
    std::vector<Entry> entries;
    for (const auto& d : codes::kDefaults) entries.push_back({std::string(d.code), codes::standard_class(d.meaning)});
    return entries;
}

std::shared_ptr<const ResponseCodes> ResponseCodes::defaults() {
    // Allocated once, never destroyed: nothing of ours runs at backend exit.
    static const auto* table =
        new std::shared_ptr<const ResponseCodes>(std::make_shared<const ResponseCodes>(default_entries()));
    return *table;
}

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
