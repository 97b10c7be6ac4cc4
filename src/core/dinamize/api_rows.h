#pragma once
#include "core/pg_free.h"
// What the SQL functions over the Dinamize API (src/pg/api_*_functions.cpp) need that does not
// touch PostgreSQL: their arguments parsed and validated (search filters, ordering, contact
// status), Dinamize items shaped into row cells, and leads turned into a bulk import.
// PostgreSQL-free; everything throws std::invalid_argument naming the bad argument.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_api.h"
#include "core/dinamize/dinamize_import.h"

namespace dwu::rows {

// dinamize_search's `filters` (jsonb):
//   an array of conditions  [{"field": "email", "operator": "=", "value": "a@b.com"}, ...]
//     ("operator" defaults to "="; the operators are those of reference §5.5), or
//   an object of equalities {"email": "a@b.com", "cmp7": "3"},
//   or null / [] / {} for no condition.
// Values may be strings, numbers or booleans (sent as strings). Field names and operators are
// validated here, before any request.
std::vector<SearchCondition> search_conditions(const nlohmann::json& filters);

// "name", "name DESC, email asc": comma-separated fields, each optionally ASC or DESC.
// Empty = no ordering.
std::vector<SortKey> sort_keys(const std::string& order_by);

// NULL/"" (all contacts), NO_REST or REST_ONLY (reference §5.5), any case.
std::string status_contact(const std::string& value);

// A cell: SQL NULL when absent. Scalars become text (numbers as written, booleans true/false);
// objects and arrays their JSON text.
using Cell = std::optional<std::string>;
Cell text_cell(const nlohmann::json& item, const char* key);
// true/false, "true"/"false", "1"/"0", 1/0; anything else NULL.
std::optional<bool> bool_cell(const nlohmann::json& item, const char* key);

// The row builders below take one item of an answer. An item that is not an object, or that
// holds a NUL character anywhere (PostgreSQL's text and jsonb cannot), is a DinamizeError of
// category VALIDATION naming the problem; raw is then always valid jsonb text.
struct ContactRow {
    Cell contact_code, email, name, external_code, insert_date, date_rest, status;
    std::optional<bool> optout, spam;
    std::string custom_fields;  // JSON object text ("{}" when absent)
    std::string raw;            // the item as Dinamize sent it
};
ContactRow contact_row(const nlohmann::json& item);

struct ListRow {
    Cell list_code, title;
    std::string raw;
};
ListRow list_row(const nlohmann::json& item);

struct FieldRow {
    Cell field_code, code_name, title, type;
    std::optional<bool> is_required, is_uniquevalue, is_searchable;
    std::string raw;
};
FieldRow field_row(const nlohmann::json& item);

struct ValueRow {
    Cell value_code, value;
};
ValueRow value_row(const nlohmann::json& item);

// dinamize_optouts: email, contact_code, request_date, origin, raw.
struct OptoutRow {
    Cell email, contact_code, request_date, origin;
    std::string raw;
};
OptoutRow optout_row(const nlohmann::json& item);

struct HistoryRow {
    std::optional<int> kind;
    Cell kind_name, time, external_code, generic_info, generic_info2;
    std::string raw;
};
HistoryRow history_row(const nlohmann::json& item);
// send, view, click, optout, bounce, spam, bounce (13); "" for an unknown kind.
const char* history_kind_name(int kind);

// A bulk import of CRM leads (to_jsonb rows of crm_leads) into `list_code`: e-mail, name and
// external_code (the lead id, as the worker sends it) plus the custom fields of `field_map`, one
// column each. Throws std::invalid_argument for no lead or a lead without a usable e-mail.
ContactImport import_from_leads(const std::string& list_code, const std::vector<nlohmann::json>& leads,
                                const FieldMap& field_map);

}  // namespace dwu::rows
