#include "core/dinamize/dinamize_api.h"

#include <stdexcept>

#include "core/dinamize/api_validation.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/untrusted_json.h"

namespace dwu {
namespace {

constexpr long kMaxWalkPages = 1000000;

// body.next: a boolean per the reference; tolerate "true"/"1"/1 the way PHP clients would.
bool next_flag(const nlohmann::json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_integer()) return v.get<long long>() != 0;
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        return s == "true" || s == "1" || s == "TRUE" || s == "True";
    }
    return false;
}

// The new object's code from a create call's body.code: 1-18 digits, a code the SQL functions
// accept back (check::code).
std::string created_code(const nlohmann::json& body, const char* path) {
    if (!body.is_null() && !body.is_object())
        bad_answer("answered " + std::string(path) + " with a body that is " + json_kind(body) + ", not an object");
    const auto c = body.is_object() ? body.find("code") : body.end();
    if (c == body.end() || c->is_null() || (c->is_string() && c->get_ref<const std::string&>().empty()))
        throw DinamizeError(ErrorCategory::ApiError, "", std::string("Dinamize ") + path + " answered without a code",
                            false);
    const std::string code = json_scalar_text(*c);
    if (!is_dinamize_code(code))
        bad_answer("answered " + std::string(path) + " with a code that is not 1-18 digits: " +
                   (code.empty() ? std::string(json_kind(*c)) : storable_text(code, 60)));
    return code;
}

nlohmann::json query_request(const Query& query) {
    nlohmann::json req = nlohmann::json::object();
    check::put_page(req, query.page);
    nlohmann::json search = check::search_array(query.search);
    nlohmann::json order = check::order_array(query.order);
    if (!search.empty()) req["search"] = std::move(search);
    if (!order.empty()) req["order"] = std::move(order);
    return req;
}

}  // namespace

PageLimitExceeded::PageLimitExceeded(long max_pages, size_t items_so_far)
    : std::runtime_error("more than " + std::to_string(max_pages) + " pages (" + std::to_string(items_so_far) +
                         " items read): narrow the search, use larger pages or allow more pages"),
      max_pages_(max_pages) {}

namespace {

std::string read_limit_message(ReadLimitExceeded::Cap cap, long long limit, long long items, long long bytes,
                               long pages, bool pages_left) {
    const std::string rows = std::to_string(items) + (items == 1 ? " row" : " rows");
    std::string text = "more than " + std::to_string(limit);
    if (cap == ReadLimitExceeded::Cap::Items)
        text += " rows to read: " + rows;
    else
        text += " bytes to read: " + std::to_string(bytes) + " bytes (" + rows + ")";
    text += " read in " + std::to_string(pages) + (pages == 1 ? " page" : " pages");
    return text + (pages_left ? " and more follow, stopped before the next page" : ", stopped there");
}

}  // namespace

ReadLimitExceeded::ReadLimitExceeded(Cap cap, long long limit, long long items, long long bytes, long pages,
                                     bool pages_left)
    : std::runtime_error(read_limit_message(cap, limit, items, bytes, pages, pages_left)), cap_(cap), limit_(limit) {}

namespace {

// A string's length as JSON text: quotes and escapes (control characters counted as \u00XX).
size_t string_text_size(const std::string& s) {
    size_t size = s.size() + 2;
    for (unsigned char c : s)
        if (c == '"' || c == '\\')
            size += 1;
        else if (c < 0x20)
            size += 5;
    return size;
}

}  // namespace

size_t json_text_size(const nlohmann::json& value) {
    size_t size = 0;
    std::vector<const nlohmann::json*> todo{&value};
    while (!todo.empty()) {
        const nlohmann::json* v = todo.back();
        todo.pop_back();
        switch (v->type()) {
            case nlohmann::json::value_t::object:
                size += 2 + (v->empty() ? 0 : v->size() - 1);  // {} and the commas
                for (auto it = v->begin(); it != v->end(); ++it) {
                    size += string_text_size(it.key()) + 1;  // "key":
                    todo.push_back(&it.value());
                }
                break;
            case nlohmann::json::value_t::array:
                size += 2 + (v->empty() ? 0 : v->size() - 1);
                for (const auto& e : *v) todo.push_back(&e);
                break;
            case nlohmann::json::value_t::string:
                size += string_text_size(v->get_ref<const std::string&>());
                break;
            case nlohmann::json::value_t::number_integer:
                size += std::to_string(v->get<long long>()).size();
                break;
            case nlohmann::json::value_t::number_unsigned:
                size += std::to_string(v->get<unsigned long long>()).size();
                break;
            case nlohmann::json::value_t::boolean:
                size += v->get<bool>() ? 4 : 5;
                break;
            case nlohmann::json::value_t::null:
            case nlohmann::json::value_t::discarded:
                size += 4;
                break;
            default:  // number_float, binary: a scalar, so dump() does not recurse
                size += v->dump().size();
                break;
        }
    }
    return size;
}

Page page_from_body(nlohmann::json body, const char* items_key) {
    Page page;
    if (!body.is_object()) {
        if (!body.is_null())
            bad_answer(std::string("answered a search with a body that is ") + json_kind(body) + ", not an object");
        return page;
    }
    auto items = body.find(items_key);
    if (items != body.end() && !items->is_null()) {
        if (!items->is_array())
            bad_answer(std::string("answered a search whose body.") + items_key + " is " + json_kind(*items) +
                       ", not a list");
        page.items.reserve(items->size());
        for (auto& item : *items) page.items.push_back(std::move(item));
        body.erase(items);
    }
    auto next = body.find("next");
    if (next != body.end()) {
        page.next = next_flag(*next);
        body.erase(next);
    }
    page.extra = std::move(body);
    return page;
}

AllPages fetch_all_pages(const PageFetch& fetch, long max_pages, OnPageLimit on_limit, const ReadCaps& caps) {
    if (max_pages < 1 || max_pages > kMaxWalkPages)
        invalid("max_pages must be between 1 and " + std::to_string(kMaxWalkPages) + ", not " +
                std::to_string(max_pages));
    if (caps.max_items < 0 || caps.max_bytes < 0) invalid("read caps must be >= 0 (0: no cap)");
    AllPages all;
    long long bytes = 0;
    for (long number = 1;; ++number) {
        Page page = fetch(number);
        ++all.pages;
        const bool more = page.next && !page.items.empty();  // an empty page ends the walk whatever next says
        const long long items = static_cast<long long>(all.items.size() + page.items.size());
        if (caps.max_bytes > 0)
            for (const auto& item : page.items) bytes += static_cast<long long>(json_text_size(item));
        // Past a cap, or at it with pages left (any further item would pass it): stop here.
        if (caps.max_items > 0 && (items > caps.max_items || (more && items >= caps.max_items)))
            throw ReadLimitExceeded(ReadLimitExceeded::Cap::Items, caps.max_items, items, bytes, all.pages,
                                    items <= caps.max_items);
        if (caps.max_bytes > 0 && (bytes > caps.max_bytes || (more && bytes >= caps.max_bytes)))
            throw ReadLimitExceeded(ReadLimitExceeded::Cap::Bytes, caps.max_bytes, items, bytes, all.pages,
                                    bytes <= caps.max_bytes);
        all.items.insert(all.items.end(), std::make_move_iterator(page.items.begin()),
                         std::make_move_iterator(page.items.end()));
        all.extra = std::move(page.extra);
        if (!more) return all;
        if (number >= max_pages) {
            if (on_limit == OnPageLimit::Throw) throw PageLimitExceeded(max_pages, all.items.size());
            all.complete = false;
            return all;
        }
    }
}

nlohmann::json contact_search_request(const ContactQuery& query) {
    check::code(query.list_code, "contact-list_code");
    nlohmann::json req = query_request(Query{query.search, query.order, query.page});
    req["contact-list_code"] = query.list_code;
    if (!query.status_contact.empty()) {
        if (query.status_contact != "NO_REST" && query.status_contact != "REST_ONLY")
            invalid("status_contact must be NO_REST or REST_ONLY (or empty for all), not " +
                    check::shown(query.status_contact));
        req["status_contact"] = query.status_contact;
    }
    if (!query.custom_filter.empty()) {
        check::code(query.custom_filter, "custom_filter");
        req["custom_filter"] = query.custom_filter;
    }
    return req;
}

Page search_contacts(DinamizeClient& client, const ContactQuery& query) {
    return page_from_body(client.call("/emkt/contact/search", contact_search_request(query)));
}

AllPages search_all_contacts(DinamizeClient& client, const ContactQuery& query, long max_pages, OnPageLimit on_limit,
                             const ReadCaps& caps) {
    ContactQuery q = query;
    q.page.page_number = 1;
    contact_search_request(q);  // validate everything before the first request
    return fetch_all_pages(
        [&](long number) {
            q.page.page_number = number;
            return search_contacts(client, q);
        },
        max_pages, on_limit, caps);
}

std::string add_contact(DinamizeClient& client, const std::string& list_code, const Contact& values) {
    check::code(list_code, "contact-list_code");
    if (!values.email) invalid("email is required to add a contact");
    check_contact(values);
    return created_code(client.call("/emkt/contact/add", add_contact_request(values, list_code)), "/emkt/contact/add");
}

void update_contact(DinamizeClient& client, const std::string& list_code, const std::string& contact_code,
                    const Contact& values) {
    check::code(list_code, "contact-list_code");
    check::code(contact_code, "contact_code");
    check_contact(values);
    const nlohmann::json req = update_contact_request(values, list_code, contact_code);
    if (req.size() == 2) invalid("nothing to update: give at least one contact value");
    client.call("/emkt/contact/update", req);
}

void delete_contact(DinamizeClient& client, const std::string& list_code, const std::string& contact_code) {
    check::code(list_code, "contact-list_code");
    check::code(contact_code, "contact_code");
    client.call("/emkt/contact/delete", {{"contact_code", contact_code}, {"contact-list_code", list_code}});
}

nlohmann::json get_contact(DinamizeClient& client, const std::string& list_code, const std::string& contact_code) {
    check::code(list_code, "contact-list_code");
    check::code(contact_code, "contact_code");
    return client.call("/emkt/contact/get", {{"contact_code", contact_code}, {"contact-list_code", list_code}});
}

Page search_contact_lists(DinamizeClient& client, const Query& query) {
    return page_from_body(client.call("/emkt/contact-list/search", query_request(query)));
}

Page search_fields(DinamizeClient& client, const std::string& list_code, const Query& query) {
    check::code(list_code, "contact-list_code");
    nlohmann::json req = query_request(query);
    req["contact-list_code"] = list_code;
    return page_from_body(client.call("/emkt/field/search", req));
}

std::string add_field(DinamizeClient& client, const FieldDefinition& field) {
    check::code(field.list_code, "contact-list_code");
    if (field.title.empty()) invalid("a field needs a title");
    if (field.type.size() != 2 || field.type[0] < 'A' || field.type[0] > 'Z' || field.type[1] < 'A' ||
        field.type[1] > 'Z')
        invalid("field type must be two capital letters (VC text, LV list of values), not " + check::shown(field.type));
    const nlohmann::json req = {{"contact-list_code", field.list_code},
                                {"title", field.title},
                                {"type", field.type},
                                {"is_required", field.is_required},
                                {"is_uniquevalue", field.is_uniquevalue},
                                {"is_searchable", field.is_searchable}};
    return created_code(client.call("/emkt/field/add", req), "/emkt/field/add");
}

void update_field(DinamizeClient& client, const FieldChange& change) {
    check::code(change.list_code, "contact-list_code");
    check::code(change.field_code, "field_code");
    nlohmann::json req = {{"contact-list_code", change.list_code}, {"field_code", change.field_code}};
    if (change.title) {
        if (change.title->empty()) invalid("a field's title cannot be empty");
        req["title"] = *change.title;
    }
    if (change.is_uniquevalue) req["is_uniquevalue"] = *change.is_uniquevalue;
    if (change.is_searchable) req["is_searchable"] = *change.is_searchable;
    if (req.size() == 2) invalid("nothing to update: give a title, is_uniquevalue or is_searchable");
    client.call("/emkt/field/update", req);
}

Page search_field_lov(DinamizeClient& client, const std::string& list_code, const std::string& field_code,
                      PageSpec page) {
    check::code(list_code, "contact-list_code");
    check::code(field_code, "field_code");
    nlohmann::json req = {{"contact-list_code", list_code}, {"field_code", field_code}};
    check::put_page(req, page);
    return page_from_body(client.call("/emkt/field-lov/search", req), "list");  // body.list, not items (§7.3)
}

Page search_optouts(DinamizeClient& client, const std::string& list_code, const Query& query) {
    check::code(list_code, "contact-list_code");
    nlohmann::json req = query_request(query);
    req["contact-list_code"] = list_code;
    return page_from_body(client.call("/emkt/optout-email/search", req));
}

namespace {

nlohmann::json history_request(const HistoryQuery& q) {
    check::code(q.list_code, "contact-list_code");
    nlohmann::json req = {{"contact-list_code", q.list_code}};
    if (!q.date_start.empty()) {
        check::datetime(q.date_start, "date_start");
        req["date_start"] = q.date_start;
    }
    if (!q.date_end.empty()) {
        check::datetime(q.date_end, "date_end");
        req["date_end"] = q.date_end;
    }
    if (!q.date_start.empty() && !q.date_end.empty()) {
        // A bare date means the whole day: compare start-of-day with end-of-day.
        const std::string start = q.date_start.size() == 10 ? q.date_start + " 00:00:00" : q.date_start;
        const std::string end = q.date_end.size() == 10 ? q.date_end + " 23:59:59" : q.date_end;
        if (end < start)
            invalid("date_end " + check::shown(q.date_end) + " is before date_start " + check::shown(q.date_start));
    }
    if (!q.kinds.empty()) {
        nlohmann::json kinds = nlohmann::json::array();
        for (int k : q.kinds) {
            if (!((k >= kHistorySend && k <= kHistorySpam) || k == kHistoryBounceOther))
                invalid("history kind " + std::to_string(k) + " is not one of 4, 5, 6, 7, 8, 9, 13");
            kinds.push_back(k);  // integers, as S1 sends kind_list
        }
        req["kind_list"] = std::move(kinds);
    }
    if (!q.selection.empty()) {
        for (const auto& s : q.selection) check::code(s, "selection (send code)");
        req["selection"] = q.selection;
    }
    check::put_page(req, q.page);
    return req;
}

}  // namespace

HistoryPage contact_history(DinamizeClient& client, const HistoryQuery& query) {
    HistoryPage out;
    static_cast<Page&>(out) = page_from_body(client.call("/emkt/contact/history", history_request(query)));
    auto last = out.extra.find("last_sync");
    if (last != out.extra.end() && last->is_string()) out.last_sync = last->get<std::string>();
    return out;
}

AllPages contact_history_all(DinamizeClient& client, const HistoryQuery& query, long max_pages, OnPageLimit on_limit,
                             const ReadCaps& caps) {
    HistoryQuery q = query;
    q.page.page_number = 1;
    history_request(q);  // validate everything before the first request
    return fetch_all_pages(
        [&](long number) {
            q.page.page_number = number;
            return static_cast<Page>(contact_history(client, q));
        },
        max_pages, on_limit, caps);
}

}  // namespace dwu
