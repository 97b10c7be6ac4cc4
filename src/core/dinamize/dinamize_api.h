#pragma once
#include "core/pg_free.h"
// Typed calls over DinamizeClient::call for the Dinamize API beyond the sync's own upsert
// (reference ../shared/dinamize-api.md §5-§9, §12): contact search/get/add/update/delete, lists,
// custom fields, list-of-values, opt-outs and contact history, with paging. The bulk import is in
// dinamize_import.h. PostgreSQL-free.
//
// Every function validates its arguments before any HTTP request and throws
// std::invalid_argument with a message naming the bad argument; every Dinamize failure is a
// DinamizeError (dinamize_codes.h). Items are returned as Dinamize sent them (raw JSON), so a
// caller can pass them on untouched.
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dinamize/contact.h"
#include "core/dinamize/dinamize_client.h"

namespace dwu {

inline constexpr long kMaxPageSize = 10000;  // reference §5.5, §12

// One AND-ed condition of a `search` array. Operators (reference §5.5):
//   =  !=  >  >=  <  <=   *v* (contains)  !*v*   v* (starts with)  !v*   *v (ends with)  !*v
struct SearchCondition {
    std::string field;  // e.g. email, name, external_code, insert_date, status_email, cmp7, title
    std::string op;
    std::string value;
};

struct SortKey {
    std::string field;
    std::string type = "ASC";  // ASC or DESC, any case; sent upper-case
};

struct PageSpec {
    long page_number = 1;  // 1-based
    long page_size = 100;  // 1..10000
};

// One page of a search. Dinamize reports no total count (§12): only whether more pages follow.
struct Page {
    std::vector<nlohmann::json> items;                // body.items (body.list for list-of-values), raw
    bool next = false;                                // body.next; false/absent on the last page
    nlohmann::json extra = nlohmann::json::object();  // the rest of the body (e.g. last_sync)
};

// Page numbers 1, 2, ... until a page has next = false or no items, at most `max_pages` pages.
struct AllPages {
    std::vector<nlohmann::json> items;
    long pages = 0;                                   // pages fetched
    bool complete = true;                             // false only with OnPageLimit::Truncate when more pages were left
    nlohmann::json extra = nlohmann::json::object();  // `extra` of the last page fetched
};

enum class OnPageLimit { Throw, Truncate };

// Thrown by fetch_all_pages (OnPageLimit::Throw) when page max_pages still says next = true.
class PageLimitExceeded : public std::runtime_error {
public:
    PageLimitExceeded(long max_pages, size_t items_so_far);
    long max_pages() const { return max_pages_; }

private:
    long max_pages_;
};

// What one walk may read in all, whatever the pages: items and bytes of items (their JSON text,
// about as Dinamize sent them; json_text_size). 0: no cap. Checked after each page: the walk
// throws ReadLimitExceeded as soon as a cap is passed, and asks for no further page once a cap is
// reached, so at most one page (<= kMaxPageSize items, one answer) is read past it.
struct ReadCaps {
    long long max_items = 0;
    long long max_bytes = 0;
};

// Thrown by fetch_all_pages when the items read pass a cap of ReadCaps, or reach it with pages
// left. Nothing read is returned.
class ReadLimitExceeded : public std::runtime_error {
public:
    enum class Cap { Items, Bytes };
    // pages_left: the cap was reached, not passed, and Dinamize said more pages follow.
    ReadLimitExceeded(Cap cap, long long limit, long long items, long long bytes, long pages, bool pages_left);
    Cap cap() const { return cap_; }
    long long limit() const { return limit_; }

private:
    Cap cap_;
    long long limit_;
};

// The length of `value` as compact JSON text (nlohmann's dump()), about: string escapes are
// estimated. Iterative: a deeply nested value costs no stack.
size_t json_text_size(const nlohmann::json& value);

using PageFetch = std::function<Page(long page_number)>;

// Walks the pages of any search; `max_pages` in 1..1,000,000 (std::invalid_argument otherwise).
AllPages fetch_all_pages(const PageFetch& fetch, long max_pages, OnPageLimit on_limit = OnPageLimit::Throw,
                         const ReadCaps& caps = {});

// Reads a search answer's body: items under `items_key`, `next`, the rest in `extra`.
Page page_from_body(nlohmann::json body, const char* items_key = "items");

// --- Contacts (§5) ---------------------------------------------------------------------------

struct ContactQuery {
    std::string list_code;  // contact-list_code, required (digits)
    std::vector<SearchCondition> search;
    std::vector<SortKey> order;
    std::string status_contact;  // "" (all), NO_REST or REST_ONLY
    std::string custom_filter;   // saved segment (filter) code, "" = none
    PageSpec page;
};

// The validated request body of POST /emkt/contact/search.
nlohmann::json contact_search_request(const ContactQuery& query);
Page search_contacts(DinamizeClient& client, const ContactQuery& query);
// All pages of a contact search, page_size from query.page (page_number ignored).
AllPages search_all_contacts(DinamizeClient& client, const ContactQuery& query, long max_pages = 100,
                             OnPageLimit on_limit = OnPageLimit::Throw, const ReadCaps& caps = {});

// Returns the new contact code. The e-mail is required.
std::string add_contact(DinamizeClient& client, const std::string& list_code, const Contact& values);
// At least one value to change.
void update_contact(DinamizeClient& client, const std::string& list_code, const std::string& contact_code,
                    const Contact& values);
void delete_contact(DinamizeClient& client, const std::string& list_code, const std::string& contact_code);
// The contact item (same shape as a search item).
nlohmann::json get_contact(DinamizeClient& client, const std::string& list_code, const std::string& contact_code);

// --- Lists, custom fields, list-of-values, opt-outs (§7, §9) -----------------------------------

// search / order / paging of the searches below.
struct Query {
    std::vector<SearchCondition> search;
    std::vector<SortKey> order;
    PageSpec page;
};

// POST /emkt/contact-list/search: items with at least code and title.
Page search_contact_lists(DinamizeClient& client, const Query& query);

// POST /emkt/field/search: items with code, code_name (cmpN), title, type, is_uniquevalue, ...
Page search_fields(DinamizeClient& client, const std::string& list_code, const Query& query);

struct FieldDefinition {
    std::string list_code;
    std::string title;        // required
    std::string type = "VC";  // VC text, LV list of values (others exist; two capital letters)
    bool is_required = false;
    bool is_uniquevalue = false;
    bool is_searchable = false;
};
// Returns the new field's code (N of cmpN).
std::string add_field(DinamizeClient& client, const FieldDefinition& field);

struct FieldChange {
    std::string list_code;
    std::string field_code;  // required (digits)
    std::optional<std::string> title;
    std::optional<bool> is_uniquevalue;
    std::optional<bool> is_searchable;
};
void update_field(DinamizeClient& client, const FieldChange& change);

// POST /emkt/field-lov/search: the values of a list-of-values field, from body.list
// ({"code", "value"} items).
Page search_field_lov(DinamizeClient& client, const std::string& list_code, const std::string& field_code,
                      PageSpec page = {1, kMaxPageSize});

// POST /emkt/optout-email/search: items with request_date and origin ("D" = spam complaint).
Page search_optouts(DinamizeClient& client, const std::string& list_code, const Query& query);

// --- Contact history (§5.6) --------------------------------------------------------------------

// History item kinds (reference §5.6 [C S1]).
enum HistoryKind : int {
    kHistorySend = 4,
    kHistoryView = 5,
    kHistoryClick = 6,
    kHistoryOptout = 7,
    kHistoryBounce = 8,
    kHistorySpam = 9,
    kHistoryBounceOther = 13,  // treated as a bounce by S1
};

struct HistoryQuery {
    std::string list_code;
    std::string date_start;              // "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD"; "" = not sent
    std::string date_end;                // same; not before date_start
    std::vector<int> kinds;              // kind_list: 4..9 or 13; empty = not sent (all kinds)
    std::vector<std::string> selection;  // send (action) codes; empty = not sent
    PageSpec page{1, 500};
};

struct HistoryPage : Page {
    std::string last_sync;  // body.last_sync, "" if absent
};

// POST /emkt/contact/history: items with Kind, Time, external_code, GenericInfo, GenericInfo2.
HistoryPage contact_history(DinamizeClient& client, const HistoryQuery& query);
AllPages contact_history_all(DinamizeClient& client, const HistoryQuery& query, long max_pages = 100,
                             OnPageLimit on_limit = OnPageLimit::Throw, const ReadCaps& caps = {});

}  // namespace dwu
