// Contact lists, custom fields and their list-of-values (reference §7), per account. One mutex
// guards it all.
//
// Lists: the ones seeded at start-up (--list CODE:TITLE, default "1") or created through
// POST /__sim/lists. Contacts may still be added to any numeric list code (SimState); such a
// list is reported by contact-list/search too, titled "Lista <code>" (see lists()).
// Fields: per list, codes from 4 up (1-3 are system fields: e-mail, name, external code [I]).
// Contacts may hold any cmpN whether or not a field N exists (the simulator does not check).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sim {

struct ListSeed {
    std::string code;  // canonical numeric
    std::string title;
};

struct FieldInput {
    std::string title;
    std::string type = "VC";
    bool is_required = false;
    bool is_uniquevalue = false;
    bool is_searchable = false;
    std::uint64_t code = 0;  // 0 = next free code (admin only may choose)
};

struct FieldChange {
    std::optional<std::string> title;
    std::optional<bool> is_required;
    std::optional<bool> is_uniquevalue;
    std::optional<bool> is_searchable;
};

class Catalog {
public:
    Catalog(std::vector<std::string> clients, std::vector<ListSeed> seeds);

    // Creates the list or renames it.
    void put_list(const std::string& client, const std::string& code, const std::string& title);
    // Items {"code", "title"} by code: the catalog's lists plus `implicit_codes` (lists that exist
    // only because contacts were added to them).
    std::vector<nlohmann::json> lists(const std::string& client, const std::vector<std::string>& implicit_codes) const;

    // Returns the new field code. ApiError: duplicate title (invented), code taken (validation).
    std::string add_field(const std::string& client, const std::string& list, const FieldInput& input);
    // ApiError: unknown field (not found), duplicate title.
    void update_field(const std::string& client, const std::string& list, std::uint64_t code,
                      const FieldChange& change);
    // Items {"code", "code_name", "title", "type", "is_required", "is_uniquevalue", "is_searchable"}.
    std::vector<nlohmann::json> fields(const std::string& client, const std::string& list) const;

    // Returns the new value's code. ApiError: unknown field (not found), code taken (validation).
    std::string add_lov_value(const std::string& client, const std::string& list, std::uint64_t field_code,
                              const std::string& value, std::uint64_t code = 0);
    // Items {"code", "value"} by code. ApiError: unknown field (not found).
    std::vector<nlohmann::json> lov(const std::string& client, const std::string& list, std::uint64_t field_code) const;

    // Back to the seeded lists, no fields.
    void reset();

private:
    struct Field {
        FieldInput def;
        std::map<std::uint64_t, std::string> lov;
    };
    using FieldMap = std::map<std::uint64_t, Field>;

    static constexpr std::uint64_t kFirstFieldCode = 4;

    void seed_locked();
    const Field* find_field(const std::string& client, const std::string& list, std::uint64_t code) const;
    static void check_title_free(const FieldMap& fields, const std::string& title, std::uint64_t except);

    mutable std::mutex mutex_;
    const std::vector<std::string> clients_;
    const std::vector<ListSeed> seeds_;
    std::map<std::string, std::map<std::string, std::string>> lists_;  // client -> code -> title
    std::map<std::string, std::map<std::string, FieldMap>> fields_;    // client -> list -> fields
};

}  // namespace sim
