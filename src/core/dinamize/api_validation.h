#pragma once
#include "core/pg_free.h"
// Argument checks shared by the typed API calls (dinamize_api, dinamize_import). Each throws
// std::invalid_argument with a message naming the argument, before any request is made.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/dinamize/dinamize_api.h"

namespace dwu::check {

// A value for an error message: quoted, control characters escaped, cut at 80 characters.
std::string shown(const std::string& value);

// A Dinamize code (list, contact, field, segment, import): 1-18 digits. `what` names it in the
// message, e.g. "contact-list_code".
void code(const std::string& value, const char* what);

void page(const PageSpec& page);

// The same deliberately simple shape check as the simulator's: one '@', non-empty local part,
// dotted domain without empty labels, no blanks or control characters, at most 254 characters.
bool plausible_email(const std::string& email);
void email(const std::string& value, const char* what);

bool is_search_operator(const std::string& op);

// A field name for search/order: 1-64 of [A-Za-z0-9_-].
void field_name(const std::string& field, const char* what);

// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" with plausible ranges.
void datetime(const std::string& value, const char* what);

// A custom field key: cmp followed by 1-5 digits, no leading zero.
bool is_custom_field_name(const std::string& key);

// The validated `search` and `order` arrays of a request (order types upper-cased).
nlohmann::json search_array(const std::vector<SearchCondition>& search);
nlohmann::json order_array(const std::vector<SortKey>& order);

// Adds page_number/page_size (as strings, reference §1) after validating them.
void put_page(nlohmann::json& request, const PageSpec& page);

}  // namespace dwu::check
