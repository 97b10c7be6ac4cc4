#pragma once
// Dinamize response codes and what each means for the client: the single mapping table.
// Codes marked INVENTED are not public (../shared/dinamize-api.md §15); they match our simulator
// and are the one place to correct when the real codes become known.
#include <string_view>

#include "core/dinamize/dinamize_errors.h"
#include "core/pg_free.h"

namespace dwu::codes {

inline constexpr std::string_view kSuccess = "480001";
inline constexpr std::string_view kPasswordRequired = "240002";
inline constexpr std::string_view kUserRequired = "240003";
inline constexpr std::string_view kInvalidCredentials = "240004";
inline constexpr std::string_view kRateLimited = "240024";
inline constexpr std::string_view kInvalidClientCode = "240029";

// INVENTED codes: the real ones are unknown. Same values as test/simulator/invented_codes.h.
inline constexpr std::string_view kInvalidToken = "249001";    // unknown/expired auth-token
inline constexpr std::string_view kInvalidField = "249002";    // invalid e-mail, missing field, bad paging
inline constexpr std::string_view kDuplicateEmail = "249003";  // e-mail already in the list
inline constexpr std::string_view kNotFound = "249004";        // unknown contact, list, field or import
inline constexpr std::string_view kDuplicateTitle = "249006";  // a field with that title exists in the list

// Classification of a non-success code. An unknown code is treated per the reference's §2 rule:
// re-authenticate once and retry once; if it comes back, it is an API error, not retried.
CodeClass classify_code(std::string_view code);

}  // namespace dwu::codes
