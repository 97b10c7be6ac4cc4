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

// What a Dinamize response code means for us; see dinamize_codes.cpp for the one table.
struct CodeClass {
    ErrorCategory category;
    bool retryable;
    bool reauthenticate;  // the token is (probably) no longer valid: get a new one, then retry once
    bool duplicate;       // the contact already exists: resolve it instead of failing
};

class DinamizeError : public std::runtime_error {
public:
    DinamizeError(ErrorCategory category, std::string dinamize_code, const std::string& message, bool retryable,
                  int retry_after_seconds = 0)
        : std::runtime_error(message),
          category_(category),
          code_(std::move(dinamize_code)),
          retryable_(retryable),
          retry_after_(retry_after_seconds) {}

    ErrorCategory category() const { return category_; }
    const std::string& dinamize_code() const { return code_; }  // empty for transport errors
    bool retryable() const { return retryable_; }
    int retry_after_seconds() const { return retry_after_; }

private:
    ErrorCategory category_;
    std::string code_;
    bool retryable_;
    int retry_after_;
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
