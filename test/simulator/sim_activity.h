// What happened to contacts on "the Dinamize side": opt-outs (reference §9) and the contact
// history (§5.6), per account and list. Filled by the /__sim/ admin endpoints (the protocol has
// no opt-out or event write calls); read by optout-email/search and contact/history.
// One mutex guards it all.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sim {

struct OptoutRecord {
    std::string email;
    std::string contact_code;
    std::string request_date;  // "YYYY-MM-DD HH:MM:SS"
    std::string origin;        // "D" = spam complaint (denúncia); anything else = unsubscribe
};

// History kinds [C S1]: 4 part of a send, 5 view, 6 click, 7 opt-out, 8 bounce (13 also a
// bounce), 9 spam complaint.
bool is_history_kind(long kind);

struct HistoryEvent {
    long kind = 0;
    std::string time;  // "YYYY-MM-DD HH:MM:SS"
    std::string contact_code;
    std::string email;
    std::string external_code;
    std::string generic_info;   // send (action) code
    std::string generic_info2;  // link code (click) or bounce type (DE/CE = hard)
};

// contact/history's request: date window (inclusive; a bare date start is 00:00:00, a bare date
// end 23:59:59; absent = open), kind_list (absent = all), selection (send codes matched against
// GenericInfo; absent = all), paging (page_size default 500, at most 10000).
struct HistoryQuery {
    std::string date_start;
    std::string date_end;
    std::vector<long> kinds;
    std::vector<std::string> selection;
    std::uint64_t page_number = 1;
    std::uint64_t page_size = 500;
};

// Throws ApiError (validation) on a malformed part.
HistoryQuery parse_history_query(const nlohmann::json& request);

nlohmann::json to_item(const OptoutRecord& r);
nlohmann::json to_item(const HistoryEvent& e);

class Activity {
public:
    void add_optout(const std::string& client, const std::string& list, OptoutRecord record);
    void add_event(const std::string& client, const std::string& list, HistoryEvent event);

    // In the order recorded.
    std::vector<OptoutRecord> optouts(const std::string& client, const std::string& list) const;
    // Matching `query`, ordered by Time then the order recorded; `next` set if more follow.
    std::vector<HistoryEvent> events(const std::string& client, const std::string& list, const HistoryQuery& query,
                                     bool& next) const;

    void reset();

private:
    using Key = std::pair<std::string, std::string>;  // client, list
    mutable std::mutex mutex_;
    std::map<Key, std::vector<OptoutRecord>> optouts_;
    std::map<Key, std::vector<HistoryEvent>> events_;
};

}  // namespace sim
