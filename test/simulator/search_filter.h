// contact/search: parsing `search`, `order`, paging and `status_contact` (reference §5.5, §12),
// and applying them to a snapshot of one list's contacts.
#pragma once

#include "contact.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sim {

enum class Operator {
    kEq,
    kNe,
    kGt,
    kGe,
    kLt,
    kLe,  // = != > >= < <=
    kContains,
    kNotContains,  // *v*  !*v*
    kStartsWith,
    kNotStartsWith,  // v*   !v*
    kEndsWith,
    kNotEndsWith,  // *v   !*v
};

struct Condition {
    std::string field;  // email, name, external_code, insert_date, status_email, cmpN
    Operator op;
    std::string value;
};

struct OrderKey {
    std::string field;  // same fields as Condition, plus "code"
    bool descending = false;
};

enum class RestFilter { kAll, kNoRest, kRestOnly };

struct SearchQuery {
    std::vector<Condition> conditions;  // AND
    std::vector<OrderKey> order;        // then contact code ascending
    std::uint64_t page_number = 1;      // 1-based
    std::uint64_t page_size = 100;      // 1..10000
    RestFilter rest = RestFilter::kAll;
};

struct SearchPage {
    std::vector<Contact> items;
    bool next = false;  // more pages after this one; no total is ever reported (§12)
};

// Throws ApiError (invented validation code) on any malformed part.
SearchQuery parse_search_query(const nlohmann::json& request);

// The pieces, for the other searches (lists, fields, opt-outs; record_search.h).
using FieldPredicate = bool (*)(const std::string& field);
// `search` entries whose field satisfies `is_field`; throws ApiError on anything malformed.
std::vector<Condition> parse_conditions(const nlohmann::json& request, FieldPredicate is_field);
// `order` entries whose field satisfies `is_field`.
std::vector<OrderKey> parse_order(const nlohmann::json& request, FieldPredicate is_field);
// Numeric when both sides are integers, else ASCII case-insensitive text order: -1, 0, 1.
int compare_values(const std::string& a, const std::string& b);
// True if a field with these values (one, or each of a multi-value field) satisfies `cond`.
bool values_match(const std::vector<std::string>& values, const Condition& cond);

SearchPage run_search(std::vector<Contact> contacts, const SearchQuery& query, const std::string& today);

}  // namespace sim
