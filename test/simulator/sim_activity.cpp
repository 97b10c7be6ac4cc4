#include "sim_activity.h"

#include "api_error.h"
#include "invented_codes.h"
#include "json_fields.h"
#include "record_search.h"
#include "sim_time.h"

#include <algorithm>

namespace sim {
namespace {

std::string window_bound(const nlohmann::json& request, const char* key, const char* bare_time) {
    std::string v = optional_string(request, key).value_or("");
    if (v.empty()) return v;
    if (!is_date_or_datetime(v)) invalid(std::string("Field '") + key + "' must be YYYY-MM-DD[ HH:MM:SS]");
    return v.size() == 10 ? v + " " + bare_time : v;
}

// kind_list entries: integers as S1 sends them, or digit strings.
long kind_of(const nlohmann::json& v) {
    long kind = -1;
    if (v.is_number_unsigned()) kind = static_cast<long>(v.get<std::uint64_t>());
    if (v.is_string())
        if (auto c = canonical_numeric(v.get<std::string>())) kind = c->size() <= 3 ? std::stol(*c) : -1;
    if (!is_history_kind(kind)) invalid("'kind_list' entries must be history kinds 4-9 or 13");
    return kind;
}

}  // namespace

bool is_history_kind(long kind) { return (kind >= 4 && kind <= 9) || kind == 13; }

HistoryQuery parse_history_query(const nlohmann::json& request) {
    HistoryQuery q;
    q.date_start = window_bound(request, "date_start", "00:00:00");
    q.date_end = window_bound(request, "date_end", "23:59:59");
    if (!q.date_start.empty() && !q.date_end.empty() && q.date_end < q.date_start)
        invalid("Field 'date_end' is before 'date_start'");
    auto kinds = request.find("kind_list");
    if (kinds != request.end() && !kinds->is_null()) {
        if (!kinds->is_array()) invalid("Field 'kind_list' must be an array");
        for (const auto& k : *kinds) q.kinds.push_back(kind_of(k));
    }
    auto selection = request.find("selection");
    if (selection != request.end() && !selection->is_null()) {
        if (!selection->is_array()) invalid("Field 'selection' must be an array");
        for (const auto& s : *selection) q.selection.push_back(scalar_as_string(s, "'selection' entry"));
    }
    parse_paging(request, 500, q.page_number, q.page_size);
    return q;
}

nlohmann::json to_item(const OptoutRecord& r) {
    return nlohmann::json{
        {"email", r.email}, {"contact_code", r.contact_code}, {"request_date", r.request_date}, {"origin", r.origin}};
}

// Kind as a string like the API's other scalars [I]; S1 compares it loosely (== '7').
nlohmann::json to_item(const HistoryEvent& e) {
    return nlohmann::json{{"Kind", std::to_string(e.kind)},   {"Time", e.time},
                          {"contact_code", e.contact_code},   {"email", e.email},
                          {"external_code", e.external_code}, {"GenericInfo", e.generic_info},
                          {"GenericInfo2", e.generic_info2}};
}

void Activity::add_optout(const std::string& client, const std::string& list, OptoutRecord record) {
    std::lock_guard<std::mutex> lock(mutex_);
    optouts_[{client, list}].push_back(std::move(record));
}

void Activity::add_event(const std::string& client, const std::string& list, HistoryEvent event) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_[{client, list}].push_back(std::move(event));
}

std::vector<OptoutRecord> Activity::optouts(const std::string& client, const std::string& list) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = optouts_.find({client, list});
    return it == optouts_.end() ? std::vector<OptoutRecord>{} : it->second;
}

std::vector<HistoryEvent> Activity::events(const std::string& client, const std::string& list, const HistoryQuery& q,
                                           bool& next) const {
    std::vector<HistoryEvent> matching;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = events_.find({client, list});
        if (it != events_.end()) matching = it->second;
    }
    auto rejected = [&](const HistoryEvent& e) {
        if (!q.date_start.empty() && e.time < q.date_start) return true;
        if (!q.date_end.empty() && e.time > q.date_end) return true;
        if (!q.kinds.empty() && std::find(q.kinds.begin(), q.kinds.end(), e.kind) == q.kinds.end()) return true;
        return !q.selection.empty() &&
               std::find(q.selection.begin(), q.selection.end(), e.generic_info) == q.selection.end();
    };
    matching.erase(std::remove_if(matching.begin(), matching.end(), rejected), matching.end());
    std::stable_sort(matching.begin(), matching.end(),
                     [](const HistoryEvent& a, const HistoryEvent& b) { return a.time < b.time; });
    const std::uint64_t start = (q.page_number - 1) * q.page_size;
    next = false;
    if (start >= matching.size()) return {};
    const std::uint64_t end = std::min<std::uint64_t>(start + q.page_size, matching.size());
    next = end < matching.size();
    return std::vector<HistoryEvent>(matching.begin() + static_cast<std::ptrdiff_t>(start),
                                     matching.begin() + static_cast<std::ptrdiff_t>(end));
}

void Activity::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    optouts_.clear();
    events_.clear();
}

}  // namespace sim
