#include "core/dinamize/api_rows.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "core/dinamize/api_validation.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/untrusted_json.h"

namespace dwu::rows {
namespace {

// An answer's item becomes a row only when it is an object PostgreSQL can hold; anything else is
// a value inside a valid envelope that the protocol does not allow: VALIDATION (not retryable)
// for the whole call, with the reason.
void check_item(const nlohmann::json& item, const char* what) {
    if (!item.is_object())
        throw DinamizeError(
            ErrorCategory::Validation, "",
            std::string("Dinamize answered ") + what + " that is " + json_kind(item) + ", not an object", false);
    if (json_has_nul(item))
        throw DinamizeError(ErrorCategory::Validation, "",
                            std::string("Dinamize answered ") + what +
                                " holding a NUL character (\\u0000), which PostgreSQL text and jsonb cannot store",
                            false);
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// A filter value as Dinamize wants it (a string).
std::string value_text(const nlohmann::json& v, const std::string& where) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number()) return v.dump();
    invalid(where + ": value must be a string, a number or a boolean");
}

SearchCondition condition_from_object(const nlohmann::json& c, const std::string& where) {
    if (!c.is_object()) invalid(where + " must be an object {\"field\", \"operator\", \"value\"}");
    for (const auto& [key, _] : c.items())
        if (key != "field" && key != "operator" && key != "value")
            invalid(where + " has an unknown key " + check::shown(key) + " (use field, operator, value)");
    if (!c.contains("field") || !c["field"].is_string()) invalid(where + " needs \"field\" as a string");
    if (!c.contains("value")) invalid(where + " needs a \"value\"");
    SearchCondition out;
    out.field = c["field"].get<std::string>();
    out.op = "=";
    if (c.contains("operator")) {
        if (!c["operator"].is_string()) invalid(where + ": \"operator\" must be a string");
        out.op = c["operator"].get<std::string>();
    }
    out.value = value_text(c["value"], where);
    return out;
}

}  // namespace

std::vector<SearchCondition> search_conditions(const nlohmann::json& filters) {
    std::vector<SearchCondition> out;
    if (filters.is_null()) return out;
    if (filters.is_array()) {
        for (size_t i = 0; i < filters.size(); ++i)
            out.push_back(condition_from_object(filters[i], "filters condition " + std::to_string(i + 1)));
    } else if (filters.is_object()) {
        for (const auto& [field, value] : filters.items())
            out.push_back({field, "=", value_text(value, "filters value of " + check::shown(field))});
    } else {
        invalid("filters must be a JSON array of {\"field\", \"operator\", \"value\"} or an object {field: value}");
    }
    check::search_array(out);  // field names and operators, with the condition's number in the message
    return out;
}

std::vector<SortKey> sort_keys(const std::string& order_by) {
    std::vector<SortKey> out;
    if (trim(order_by).empty()) return out;
    size_t start = 0;
    for (;;) {
        const size_t comma = order_by.find(',', start);
        const std::string part =
            trim(order_by.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        const size_t space = part.find_first_of(" \t");
        SortKey key;
        key.field = part.substr(0, space);
        if (space != std::string::npos) key.type = upper(trim(part.substr(space)));
        check::field_name(key.field, "order_by");
        if (key.type != "ASC" && key.type != "DESC")
            invalid("order_by: " + check::shown(part) + " must be a field name optionally followed by ASC or DESC");
        out.push_back(key);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string status_contact(const std::string& value) {
    const std::string v = upper(value);
    if (v.empty() || v == "NO_REST" || v == "REST_ONLY") return v;
    invalid("status_contact must be NO_REST, REST_ONLY or NULL (all contacts), not " + check::shown(value));
}

Cell text_cell(const nlohmann::json& item, const char* key) {
    if (!item.is_object()) return std::nullopt;
    const auto it = item.find(key);
    if (it == item.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_boolean()) return std::string(it->get<bool>() ? "true" : "false");
    return it->dump();
}

std::optional<bool> bool_cell(const nlohmann::json& item, const char* key) {
    if (!item.is_object()) return std::nullopt;
    const auto it = item.find(key);
    if (it == item.end()) return std::nullopt;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_number_integer()) {
        const long long n = it->get<long long>();
        if (n == 0 || n == 1) return n == 1;
    }
    if (it->is_string()) {
        const std::string s = upper(it->get<std::string>());
        if (s == "TRUE" || s == "1") return true;
        if (s == "FALSE" || s == "0") return false;
    }
    return std::nullopt;
}

ContactRow contact_row(const nlohmann::json& item) {
    check_item(item, "a contact");
    ContactRow r;
    r.contact_code = text_cell(item, "code");
    r.email = text_cell(item, "email");
    r.name = text_cell(item, "name");
    r.external_code = text_cell(item, "external_code");
    r.insert_date = text_cell(item, "insert_date");
    r.date_rest = text_cell(item, "date_rest");
    r.status = text_cell(item, "status");
    r.optout = bool_cell(item, "optout");
    r.spam = bool_cell(item, "spam");
    const auto cf = item.is_object() ? item.find("custom_fields") : item.end();
    r.custom_fields = cf != item.end() && cf->is_object() ? cf->dump() : "{}";
    r.raw = item.dump();
    return r;
}

ListRow list_row(const nlohmann::json& item) {
    check_item(item, "a list");
    return {text_cell(item, "code"), text_cell(item, "title"), item.dump()};
}

FieldRow field_row(const nlohmann::json& item) {
    check_item(item, "a field");
    FieldRow r;
    r.field_code = text_cell(item, "code");
    r.code_name = text_cell(item, "code_name");
    r.title = text_cell(item, "title");
    r.type = text_cell(item, "type");
    r.is_required = bool_cell(item, "is_required");
    r.is_uniquevalue = bool_cell(item, "is_uniquevalue");
    r.is_searchable = bool_cell(item, "is_searchable");
    r.raw = item.dump();
    return r;
}

ValueRow value_row(const nlohmann::json& item) {
    check_item(item, "a list-of-values item");
    return {text_cell(item, "code"), text_cell(item, "value")};
}

OptoutRow optout_row(const nlohmann::json& item) {
    check_item(item, "an opt-out");
    return {text_cell(item, "email"), text_cell(item, "contact_code"), text_cell(item, "request_date"),
            text_cell(item, "origin"), item.dump()};
}

const char* history_kind_name(int kind) {
    switch (kind) {
        case kHistorySend:
            return "send";
        case kHistoryView:
            return "view";
        case kHistoryClick:
            return "click";
        case kHistoryOptout:
            return "optout";
        case kHistoryBounce:
            return "bounce";
        case kHistorySpam:
            return "spam";
        case kHistoryBounceOther:
            return "bounce";
    }
    return "";
}

HistoryRow history_row(const nlohmann::json& item) {
    check_item(item, "a history item");
    HistoryRow r;
    const Cell kind = text_cell(item, "Kind");
    if (kind && !kind->empty() && kind->size() < 6 &&
        std::all_of(kind->begin(), kind->end(), [](char c) { return c >= '0' && c <= '9'; })) {
        r.kind = std::stoi(*kind);
        const char* name = history_kind_name(*r.kind);
        if (*name) r.kind_name = std::string(name);
    }
    r.time = text_cell(item, "Time");
    r.external_code = text_cell(item, "external_code");
    r.generic_info = text_cell(item, "GenericInfo");
    r.generic_info2 = text_cell(item, "GenericInfo2");
    r.raw = item.dump();
    return r;
}

ContactImport import_from_leads(const std::string& list_code, const std::vector<nlohmann::json>& leads,
                                const FieldMap& field_map) {
    if (leads.empty()) invalid("leads: at least one lead is required");
    ContactImport im;
    im.list_code = list_code;
    im.columns = {{import_field::kEmail}, {import_field::kName}, {import_field::kExternalCode}};
    im.header = {"email", "name", "external_code"};
    for (const auto& [column, cmp] : field_map) {
        im.columns.push_back({cmp.substr(3)});  // cmpN -> field code N
        im.header.push_back(cmp);
    }
    for (const auto& lead : leads) {
        const Contact c = contact_from_lead(lead, field_map);
        std::vector<std::string> row{c.email.value_or(""), c.name.value_or(""), c.external_code.value_or("")};
        for (const auto& [column, cmp] : field_map) {
            const auto it = c.custom_fields.find(cmp);
            row.push_back(it != c.custom_fields.end() && it->is_string() ? it->get<std::string>() : std::string());
        }
        im.rows.push_back(std::move(row));
    }
    return im;
}

}  // namespace dwu::rows
