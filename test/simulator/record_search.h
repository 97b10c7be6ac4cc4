// The searches other than contact/search (contact lists, fields, opt-outs): the same `search`
// operators, `order` and paging (reference §7, §9, §12), over items held as JSON objects.
#pragma once

#include "search_filter.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace sim {

struct RecordQuery {
    std::vector<Condition> conditions;  // AND
    std::vector<OrderKey> order;        // then the records' own order
    std::uint64_t page_number = 1;
    std::uint64_t page_size = 100;
};

// `is_field` names the fields usable in search and order. Throws ApiError (validation).
RecordQuery parse_record_query(const nlohmann::json& request, FieldPredicate is_field,
                               std::uint64_t default_page_size = 100);

struct RecordPage {
    std::vector<nlohmann::json> items;
    bool next = false;
};

// A record's field reads as: a string as is, a boolean as "true"/"false", a number as its JSON
// text, an array as each element, absent as "".
RecordPage run_record_search(std::vector<nlohmann::json> records, const RecordQuery& query);

// Paging only (no search/order): page `page_number` of `page_size` items.
RecordPage page_of(std::vector<nlohmann::json> records, std::uint64_t page_number, std::uint64_t page_size);

// page_number / page_size of a request (1-based; size 1..10000).
void parse_paging(const nlohmann::json& request, std::uint64_t default_page_size, std::uint64_t& page_number,
                  std::uint64_t& page_size);

}  // namespace sim
