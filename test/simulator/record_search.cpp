#include "record_search.h"

#include "json_fields.h"

#include <algorithm>

namespace sim {
namespace {

constexpr std::uint64_t kMaxPageSize = 10000;  // §5.5, §12
constexpr std::uint64_t kMaxPageNumber = 1000000000;

std::string scalar_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_null()) return "";
    return v.dump();
}

std::vector<std::string> record_values(const nlohmann::json& record, const std::string& field) {
    auto it = record.find(field);
    if (it == record.end()) return {""};
    if (!it->is_array()) return {scalar_text(*it)};
    std::vector<std::string> out;
    for (const auto& e : *it) out.push_back(scalar_text(e));
    if (out.empty()) out.push_back("");
    return out;
}

}  // namespace

void parse_paging(const nlohmann::json& request, std::uint64_t default_page_size, std::uint64_t& page_number,
                  std::uint64_t& page_size) {
    page_number = integer_field(request, "page_number", 1, 1, kMaxPageNumber);
    page_size = integer_field(request, "page_size", default_page_size, 1, kMaxPageSize);
}

RecordQuery parse_record_query(const nlohmann::json& request, FieldPredicate is_field,
                               std::uint64_t default_page_size) {
    RecordQuery q;
    parse_paging(request, default_page_size, q.page_number, q.page_size);
    q.conditions = parse_conditions(request, is_field);
    q.order = parse_order(request, is_field);
    return q;
}

RecordPage page_of(std::vector<nlohmann::json> records, std::uint64_t page_number, std::uint64_t page_size) {
    RecordPage page;
    const std::uint64_t start = (page_number - 1) * page_size;
    if (start >= records.size()) return page;
    const std::uint64_t end = std::min<std::uint64_t>(start + page_size, records.size());
    page.items.assign(std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(start)),
                      std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(end)));
    page.next = end < records.size();
    return page;
}

RecordPage run_record_search(std::vector<nlohmann::json> records, const RecordQuery& query) {
    auto rejected = [&](const nlohmann::json& r) {
        return !std::all_of(query.conditions.begin(), query.conditions.end(),
                            [&](const Condition& c) { return values_match(record_values(r, c.field), c); });
    };
    records.erase(std::remove_if(records.begin(), records.end(), rejected), records.end());
    std::stable_sort(records.begin(), records.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
        for (const auto& key : query.order) {
            int r = compare_values(record_values(a, key.field).front(), record_values(b, key.field).front());
            if (r != 0) return key.descending ? r > 0 : r < 0;
        }
        return false;
    });
    return page_of(std::move(records), query.page_number, query.page_size);
}

}  // namespace sim
