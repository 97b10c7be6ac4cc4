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

SearchPage run_search(std::vector<Contact> contacts, const SearchQuery& query, const std::string& today);

}  // namespace sim
