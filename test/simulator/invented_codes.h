// Response codes for cases the real Dinamize API does not document.
//
// EVERY CODE IN THIS FILE IS INVENTED (reference shared/dinamize-api.md §15). The real values are
// unknown; they are kept here, one constant each, so they are easy to correct once known. They use
// the otherwise unseen 249xxx range so they cannot be mistaken for a documented code.
// The five conditions the client must learn (expired token, invalid field, duplicate e-mail, not
// found, duplicate title) can be answered with other codes: --code NAME=CODE sets them at start,
// as a real API that differs from our defaults would (set once, before any thread starts).
#pragma once

#include <string>

namespace sim::invented {

// INVENTED (§15): unknown, expired (idle or max age) or missing `auth-token` on a data call.
inline const char* kInvalidToken = "249001";

// INVENTED (§15): invalid e-mail, missing or malformed field, body not a JSON object, bad paging,
// unknown search field/operator or order type.
inline const char* kValidation = "249002";

// INVENTED (§15): e-mail already present in the list (add, or update changing the e-mail).
inline const char* kDuplicateEmail = "249003";

// INVENTED (§15): unknown contact (or list) on update/delete/get; unknown field (field/update,
// field-lov/search) or import code (import/get).
inline const char* kNotFound = "249004";

// INVENTED: unknown path or method; sent with HTTP 404 (the real API's behaviour is unknown).
inline constexpr const char* kUnknownEndpoint = "249005";

// INVENTED: field/add or field/update with a title another field of the list already has
// (compared case-insensitively). Whether the real API refuses this is unknown.
inline const char* kDuplicateTitle = "249006";

// INVENTED: unexpected failure inside the simulator; sent with HTTP 500.
inline constexpr const char* kInternalError = "249099";

// --code NAME=CODE: NAME one of expired_token, invalid_field, duplicate_email, not_found,
// duplicate_title. False for an unknown name. The code must outlive the process (argv does).
inline bool set_code(const std::string& name, const char* code) {
    if (name == "expired_token")
        kInvalidToken = code;
    else if (name == "invalid_field")
        kValidation = code;
    else if (name == "duplicate_email")
        kDuplicateEmail = code;
    else if (name == "not_found")
        kNotFound = code;
    else if (name == "duplicate_title")
        kDuplicateTitle = code;
    else
        return false;
    return true;
}

}  // namespace sim::invented
