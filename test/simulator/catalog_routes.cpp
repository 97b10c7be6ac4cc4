#include "catalog_routes.h"

#include "api_error.h"
#include "invented_codes.h"
#include "json_fields.h"
#include "record_search.h"
#include "sim_routes.h"
#include "sim_time.h"

#include <cctype>
#include <optional>

namespace sim {
namespace {

using nlohmann::json;

json page_body(const RecordPage& page, const char* items_key = "items") {
    json items = json::array();
    for (const auto& item : page.items) items.push_back(item);
    return json{{"next", page.next}, {items_key, std::move(items)}};
}

bool is_list_field(const std::string& f) { return f == "code" || f == "title"; }

bool is_field_field(const std::string& f) {
    return f == "code" || f == "code_name" || f == "title" || f == "type" || f == "is_required" ||
           f == "is_uniquevalue" || f == "is_searchable";
}

bool is_optout_field(const std::string& f) {
    return f == "email" || f == "contact_code" || f == "request_date" || f == "origin";
}

// Booleans arrive as JSON booleans or, from some clients, as strings (§1).
std::optional<bool> optional_bool(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string()) {
        std::string v = lower_ascii(it->get<std::string>());
        if (v == "true" || v == "1") return true;
        if (v == "false" || v == "0") return false;
    }
    invalid(std::string("Field '") + key + "' must be a boolean");
}

std::string field_title(const json& request, bool required) {
    auto title = optional_string(request, "title");
    if (!title) {
        if (required) invalid("Field 'title' is required");
        return {};
    }
    if (title->empty()) invalid("Field 'title' must not be empty");
    return *title;
}

json list_search(SimContext& ctx, const std::string& client, const json& request) {
    RecordQuery q = parse_record_query(request, is_list_field);
    return page_body(run_record_search(ctx.catalog.lists(client, ctx.state.list_codes(client)), q));
}

json field_search(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    RecordQuery q = parse_record_query(request, is_field_field);
    return page_body(run_record_search(ctx.catalog.fields(client, list), q));
}

json field_add(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    FieldInput in;
    in.title = field_title(request, true);
    in.type = optional_string(request, "type").value_or("VC");
    if (in.type.size() != 2 || !std::isupper(static_cast<unsigned char>(in.type[0])) ||
        !std::isupper(static_cast<unsigned char>(in.type[1])))
        invalid("Field 'type' must be a type code such as VC or LV");
    in.is_required = optional_bool(request, "is_required").value_or(false);
    in.is_uniquevalue = optional_bool(request, "is_uniquevalue").value_or(false);
    in.is_searchable = optional_bool(request, "is_searchable").value_or(false);
    return json{{"code", ctx.catalog.add_field(client, list, in)}};
}

json field_update(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    std::uint64_t code = std::stoull(required_numeric_code(request, "field_code"));
    FieldChange change;
    std::string title = field_title(request, false);
    if (!title.empty()) change.title = title;
    change.is_required = optional_bool(request, "is_required");
    change.is_uniquevalue = optional_bool(request, "is_uniquevalue");
    change.is_searchable = optional_bool(request, "is_searchable");
    ctx.catalog.update_field(client, list, code, change);
    return json::object();
}

json field_lov_search(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    std::uint64_t field = std::stoull(required_numeric_code(request, "field_code"));
    std::uint64_t page_number = 1, page_size = 10000;
    parse_paging(request, 10000, page_number, page_size);
    return page_body(page_of(ctx.catalog.lov(client, list, field), page_number, page_size), "list");
}

json optout_search(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    RecordQuery q = parse_record_query(request, is_optout_field);
    std::vector<json> records;
    for (const auto& r : ctx.activity.optouts(client, list)) records.push_back(to_item(r));
    return page_body(run_record_search(std::move(records), q));
}

json contact_history(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    HistoryQuery q = parse_history_query(request);
    const std::string last_sync = now_local_datetime();
    bool next = false;
    json items = json::array();
    for (const auto& e : ctx.activity.events(client, list, q, next)) items.push_back(to_item(e));
    return json{{"next", next}, {"last_sync", last_sync}, {"items", std::move(items)}};
}

}  // namespace

void register_catalog_routes(httplib::Server& server, SimContext& ctx) {
    add_data_route(server, ctx, "/emkt/contact-list/search", list_search, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/field/search", field_search, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/field/add", field_add, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/field/update", field_update, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/field-lov/search", field_lov_search, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/optout-email/search", optout_search, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/contact/history", contact_history, Endpoint::kData);
}

}  // namespace sim
