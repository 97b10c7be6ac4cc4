#pragma once
#include "core/pg_free.h"
// Every way a call to Dinamize can fail, as one typed error carrying what the worker needs to
// decide: category, the Dinamize code, and whether a retry can help.
// PostgreSQL-free: this header must never include a PostgreSQL header.
#include <stdexcept>
#include <string>
#include <string_view>

namespace dwu {

enum class ErrorCategory { Network, Auth, Validation, RateLimit, ApiError };

// Stored in crm_sync_logs.dwu_error_category: NETWORK, AUTH, VALIDATION, RATE_LIMIT, API_ERROR.
const char* category_name(ErrorCategory category);

// The conditions a response code can stand for (dwu_crm.crm_response_codes.dwu_meaning). Five of
// them have no published code (../shared/dinamize-api.md §15): their codes are configuration.
enum class CodeMeaning {
    Credentials,     // user, password or client code refused
    RateLimited,     // 240024
    ExpiredToken,    // unknown or expired auth-token
    InvalidField,    // invalid e-mail, missing or malformed field, bad paging
    DuplicateEmail,  // the e-mail is already in the list
    NotFound,        // unknown contact, list, field or import
    DuplicateTitle,  // a field with that title exists in the list
    Other,           // a code the admin classified by hand
    Unknown,         // no row for the code: classified per the reference's §2 rule
};
const char* meaning_name(CodeMeaning meaning);  // "expired_token", ...; the stored spelling

// What a Dinamize response code means for us; see dinamize_codes.h for the table.
struct CodeClass {
    ErrorCategory category;
    bool retryable;
    bool reauthenticate;     // the token is (probably) no longer valid: get a new one, then retry once
    bool duplicate;          // the contact already exists: resolve it instead of failing
    bool not_found = false;  // the contact (list, field, import) does not exist
    CodeMeaning meaning = CodeMeaning::Other;
    bool known() const { return meaning != CodeMeaning::Unknown; }
};

class DinamizeError : public std::runtime_error {
public:
    DinamizeError(ErrorCategory category, std::string dinamize_code, const std::string& message, bool retryable,
                  int retry_after_seconds = 0)
        : std::runtime_error(message),
          category_(category),
          code_(std::move(dinamize_code)),
          retryable_(retryable),
          retry_after_(retry_after_seconds),
          class_{category, retryable, false, false} {}

    // An answer's code as the account's code table classified it (category and retry from it).
    DinamizeError(const CodeClass& cls, std::string dinamize_code, const std::string& message,
                  int retry_after_seconds = 0)
        : DinamizeError(cls.category, std::move(dinamize_code), message, cls.retryable, retry_after_seconds) {
        class_ = cls;
    }

    ErrorCategory category() const { return category_; }
    const std::string& dinamize_code() const { return code_; }  // empty for transport errors
    bool retryable() const { return retryable_; }
    int retry_after_seconds() const { return retry_after_; }
    // What the code stands for; for errors without a code, the category and retry only.
    const CodeClass& code_class() const { return class_; }
    bool not_found() const { return class_.not_found; }
    bool duplicate() const { return class_.duplicate; }
    // Dinamize answered a code no row of the code table names: what it means is not known yet.
    bool unknown_code() const { return !code_.empty() && !class_.known(); }

private:
    ErrorCategory category_;
    std::string code_;
    bool retryable_;
    int retry_after_;
    CodeClass class_;
};

// A caller's argument that no request can carry (the SQL functions report it as 22023).
[[noreturn]] inline void invalid(const std::string& message) { throw std::invalid_argument(message); }

// A value inside a valid envelope that the protocol does not allow: VALIDATION, not retried (the
// same request gets the same answer). The message is "Dinamize " + what.
[[noreturn]] inline void bad_answer(const std::string& what) {
    throw DinamizeError(ErrorCategory::Validation, "", "Dinamize " + what, false);
}

// Raised when the caller asked us to stop (shutdown, query cancel): not a Dinamize failure.
class Interrupted : public std::runtime_error {
public:
    Interrupted() : std::runtime_error("request interrupted") {}
};

}  // namespace dwu
