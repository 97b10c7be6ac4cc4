#include "contact.h"

#include "api_error.h"
#include "invented_codes.h"
#include "json_fields.h"
#include "sim_time.h"

namespace sim {
namespace {

bool is_custom_field_value(const nlohmann::json& v) {
    if (v.is_string()) return true;
    if (!v.is_array()) return false;
    for (const auto& e : v)
        if (!e.is_string()) return false;
    return true;
}

nlohmann::json read_custom_fields(const nlohmann::json& v) {
    if (!v.is_object()) throw ApiError(invented::kValidation, "Field 'custom_fields' must be an object");
    for (const auto& [key, value] : v.items()) {
        if (!is_custom_field_name(key)) throw ApiError(invented::kValidation, "Unknown custom field '" + key + "'");
        if (!is_custom_field_value(value))
            throw ApiError(invented::kValidation, "Custom field '" + key + "' must be a string or an array of strings");
    }
    return v;
}

}  // namespace

ContactInput read_contact_input(const nlohmann::json& body) {
    ContactInput in;
    in.email = optional_string(body, "email");
    if (in.email && !is_valid_email(*in.email)) throw ApiError(invented::kValidation, "Invalid e-mail address");
    in.name = optional_string(body, "name");
    in.external_code = optional_string(body, "external_code");
    in.date_rest = optional_string(body, "date_rest");
    if (in.date_rest && !is_date_or_datetime(*in.date_rest))
        throw ApiError(invented::kValidation, "Field 'date_rest' must be YYYY-MM-DD");
    auto cf = body.find("custom_fields");
    if (cf != body.end() && !cf->is_null()) in.custom_fields = read_custom_fields(*cf);
    return in;
}

void apply_input(Contact& contact, const ContactInput& input) {
    if (input.email) contact.email = *input.email;
    if (input.name) contact.name = *input.name;
    if (input.external_code) contact.external_code = *input.external_code;
    if (input.date_rest) contact.date_rest = *input.date_rest;
    if (input.custom_fields)
        for (const auto& [key, value] : input.custom_fields->items()) contact.custom_fields[key] = value;
}

nlohmann::json to_item(const Contact& c) {
    return nlohmann::json{{"code", std::to_string(c.code)},
                          {"email", c.email},
                          {"name", c.name},
                          {"external_code", c.external_code},
                          {"insert_date", c.insert_date},
                          {"date_rest", c.date_rest},
                          {"status", c.status},
                          {"optout", c.optout},
                          {"spam", c.spam},
                          {"total_clicks", "0"},
                          {"total_sents", "0"},
                          {"total_views", "0"},
                          {"custom_fields", c.custom_fields}};
}

bool is_valid_email(const std::string& email) {
    if (email.empty() || email.size() > 254) return false;
    for (unsigned char ch : email)
        if (ch <= 0x20 || ch == 0x7f) return false;
    std::size_t at = email.find('@');
    if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos) return false;
    std::string domain = email.substr(at + 1);
    if (domain.find('.') == std::string::npos || domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string::npos)
        return false;
    return true;
}

bool is_custom_field_name(const std::string& key) {
    if (key.size() < 4 || key.compare(0, 3, "cmp") != 0) return false;
    for (std::size_t i = 3; i < key.size(); ++i)
        if (key[i] < '0' || key[i] > '9') return false;
    return true;
}

std::string lower_ascii(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool is_resting(const Contact& contact, const std::string& today) {
    return !contact.date_rest.empty() && contact.date_rest.substr(0, 10) >= today;
}

}  // namespace sim
