#pragma once
// Dinamize response codes and what each means for the client. The meaning of a code is data: the
// worker and the SQL functions load each account's table from dwu_crm.crm_response_codes (over
// the defaults of crm_response_code_defaults) and hand it to their client. The defaults below are
// the same rows as that table's seed (sql/dwu_crm--0.2.0.sql); a client without a loaded table
// uses them.
// Codes marked INVENTED are not public (../shared/dinamize-api.md §15); they match our simulator's
// defaults. The real API answers with other numbers: dinamize_probe_codes() learns them, an admin
// can set them, and an unknown code is resolved by a lookup before anything is failed.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

// The class a meaning has unless a row says otherwise (what dinamize_set_code() stores).
CodeClass standard_class(CodeMeaning meaning);
std::optional<CodeMeaning> meaning_from_name(std::string_view name);

// The class of a code no row names. Per the reference's §2 rule: re-authenticate once and retry
// once (unless the token is too young to be the reason, dinamize_client.h); if it comes back, it
// is an API error, retried later by the worker.
CodeClass unknown_class();

// A stored row's class (crm_response_codes): category by its stored name (AUTH, ...), meaning by
// meaning_name(); nullopt for a category no class has.
std::optional<CodeClass> stored_class(std::string_view meaning, std::string_view category, bool retry, bool relogin,
                                      bool duplicate, bool not_found);

// Classification by the built-in defaults.
CodeClass classify_code(std::string_view code);

}  // namespace dwu::codes

namespace dwu {

// One account's code table: immutable once built, shared by the clients that use it.
class ResponseCodes {
public:
    struct Entry {
        std::string code;
        CodeClass cls;
    };
    // A later entry for the same code replaces an earlier one.
    explicit ResponseCodes(const std::vector<Entry>& entries);

    CodeClass classify(std::string_view code) const;
    std::size_t size() const { return by_code_.size(); }

    // The built-in defaults (the seed of crm_response_code_defaults).
    static std::shared_ptr<const ResponseCodes> defaults();
    static std::vector<Entry> default_entries();

private:
    std::unordered_map<std::string, CodeClass> by_code_;
};

}  // namespace dwu
