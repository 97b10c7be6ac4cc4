// Dinamize failures as PostgreSQL errors: the one mapping table.
//
//   category / Dinamize code              SQLSTATE                                   hint
//   NETWORK (timeout, refused, 5xx, ...)  08006 connection_failure                  retry later
//   AUTH (240002/3/4/29, 249001 twice)    28000 invalid_authorization_specification  dinamize_configure()
//   not found (249004 by default)         P0002 no_data_found                        search first
//   duplicate e-mail (249003)             23505 unique_violation                     update instead
//   duplicate title (249006)              23505 unique_violation                     dinamize_fields()
//   VALIDATION other (249002, ...)        22023 invalid_parameter_value              -
//   RATE_LIMIT 240024                     53400 configuration_limit_exceeded         wait retry-after s
//   API_ERROR (unknown code, bad answer)  38000 external_routine_exception           -
//
// Which code means what is the account's code table (dwu_crm.crm_response_codes, over the
// defaults in core/dinamize/dinamize_codes.h): the mapping follows the meaning, not the number.
// The detail always reads "category C, Dinamize code N" (never a secret: the client's messages
// hold no token, password or request body).
#include <string_view>

#include "core/dinamize/dinamize_codes.h"
#include "pg/dinamize_sqlstate.h"

namespace {

struct Mapping {
    int sqlstate;
    const char* hint;  // nullptr: none
};

Mapping mapping_for(const dwu::DinamizeError& e) {
    switch (e.category()) {
        case dwu::ErrorCategory::Network:
            return {ERRCODE_CONNECTION_FAILURE,
                    "Dinamize could not be reached or did not answer in time (dwu_crm.request_timeout_ms); try again "
                    "later."};
        case dwu::ErrorCategory::Auth:
            return {ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
                    "Check the account's user, password and client code with dwu_crm.dinamize_configure()."};
        case dwu::ErrorCategory::Validation:
            if (e.not_found())
                return {ERRCODE_NO_DATA_FOUND,
                        "Check the codes with dwu_crm.dinamize_search(), dinamize_lists() "
                        "or dinamize_fields()."};
            if (e.duplicate())
                return {ERRCODE_UNIQUE_VIOLATION,
                        "The list already holds a contact with that e-mail: find it with dwu_crm.dinamize_search() "
                        "and use dinamize_contact_update()."};
            if (e.code_class().meaning == dwu::CodeMeaning::DuplicateTitle)
                return {ERRCODE_UNIQUE_VIOLATION, "dwu_crm.dinamize_fields() lists the titles in use."};
            return {ERRCODE_INVALID_PARAMETER_VALUE, nullptr};
        case dwu::ErrorCategory::RateLimit:
            return {ERRCODE_CONFIGURATION_LIMIT_EXCEEDED, nullptr};  // hint with the wait, below
        case dwu::ErrorCategory::ApiError:
            return {ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, nullptr};
    }
    return {ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, nullptr};
}

}  // namespace

void dwu_describe_dinamize_error(const dwu::DinamizeError& e, SqlError* error) {
    const Mapping m = mapping_for(e);
    error->sqlstate = m.sqlstate;
    error->message = pstrdup(e.what());  // "Dinamize /path answered CODE: text"
    error->detail =
        psprintf("category %s, Dinamize code %s%s", dwu::category_name(e.category()),
                 e.dinamize_code().empty() ? "none" : e.dinamize_code().c_str(), e.retryable() ? ", retryable" : "");
    if (e.category() == dwu::ErrorCategory::RateLimit && !e.dinamize_code().empty())
        error->hint = psprintf("Dinamize asks to wait %d s before the next call.", e.retry_after_seconds());
    else if (e.category() == dwu::ErrorCategory::RateLimit)  // refused by our own limiter, nothing sent
        error->hint = psprintf(
            "Try again in %d s. The dinamize_* functions together use at most dwu_crm.api_rate_share of the "
            "account's limit and wait at most dwu_crm.rate_limit_max_wait (superuser settings).",
            e.retry_after_seconds());
    else if (m.hint)
        error->hint = pstrdup(m.hint);
}
