#include "core/sync/contact_mapping.h"

#include <regex>
#include <stdexcept>

namespace dwu {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// Dinamize sends scalars as strings (reference §1); arrays (tags) go as arrays of strings.
nlohmann::json as_dinamize_value(const nlohmann::json& v) {
    if (v.is_string()) return v;
    if (v.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : v) out.push_back(item.is_string() ? item.get<std::string>() : item.dump());
        return out;
    }
    return v.dump();
}

std::string string_field(const nlohmann::json& lead, const char* key) {
    auto it = lead.find(key);
    if (it == lead.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

FieldMap parse_field_map(const std::string& spec) {
    static const std::regex column("^dwu_[a-z_]+$");
    static const std::regex field("^cmp[1-9][0-9]{0,4}$");
    FieldMap map;
    size_t start = 0;
    while (start <= spec.size()) {
        const size_t comma = spec.find(',', start);
        const std::string entry =
            trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
        if (entry.empty()) continue;
        const auto colon = entry.find(':');
        if (colon == std::string::npos) throw std::invalid_argument("entry \"" + entry + "\" is not column:cmpN");
        std::string col = trim(entry.substr(0, colon)), cmp = trim(entry.substr(colon + 1));
        if (!std::regex_match(col, column))
            throw std::invalid_argument("\"" + col + "\" is not a crm_leads column name");
        if (!std::regex_match(cmp, field))
            throw std::invalid_argument("\"" + cmp + "\" is not a Dinamize custom field (cmpN)");
        for (const auto& [c, f] : map)
            if (f == cmp) throw std::invalid_argument("custom field " + cmp + " is mapped twice");
        map.emplace_back(std::move(col), std::move(cmp));
    }
    return map;
}

Contact contact_from_lead(const nlohmann::json& lead, const FieldMap& field_map) {
    if (!lead.is_object()) throw std::invalid_argument("lead is not a JSON object");
    Contact c;
    c.email = string_field(lead, "dwu_email");
    if (c.email->empty()) throw std::invalid_argument("lead has no e-mail");
    if (std::string name = string_field(lead, "dwu_name"); !name.empty()) c.name = std::move(name);
    if (std::string id = string_field(lead, "dwu_id"); !id.empty()) c.external_code = std::move(id);
    for (const auto& [column, cmp] : field_map) {
        auto it = lead.find(column);
        if (it != lead.end() && !it->is_null()) c.custom_fields[cmp] = as_dinamize_value(*it);
    }
    return c;
}

nlohmann::json search_by_email_request(const std::string& email, const std::string& list_code) {
    return {{"contact-list_code", list_code},
            {"page_number", "1"},
            {"page_size", "1"},
            {"search", nlohmann::json::array({{{"field", "email"}, {"operator", "="}, {"value", email}}})}};
}

}  // namespace dwu
