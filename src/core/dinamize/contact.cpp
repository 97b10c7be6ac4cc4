#include "core/dinamize/contact.h"

#include <stdexcept>

#include "core/dinamize/api_validation.h"
#include "core/dinamize/dinamize_errors.h"

namespace dwu {
namespace {

std::optional<std::string> optional_text(const nlohmann::json& obj, const std::string& key) {
    const auto& v = obj.at(key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) invalid("contact value " + key + " must be a string");
    return v.get<std::string>();
}

nlohmann::json as_text(const nlohmann::json& v, const std::string& key) {
    if (v.is_string()) return v;
    if (v.is_number() || v.is_boolean()) return v.dump();
    invalid("custom field " + key + " must be a string, a number, a boolean or an array of them");
}

void put_members(nlohmann::json& req, const Contact& c) {
    if (c.email) req["email"] = *c.email;
    if (c.name) req["name"] = *c.name;
    if (c.external_code) req["external_code"] = *c.external_code;
    if (c.date_rest) req["date_rest"] = *c.date_rest;
    if (c.custom_fields.is_object() && !c.custom_fields.empty()) req["custom_fields"] = c.custom_fields;
}

}  // namespace

Contact contact_from_json(const nlohmann::json& values) {
    if (!values.is_object()) invalid("contact values must be a JSON object");
    Contact out;
    for (const auto& [key, value] : values.items()) {
        if (key == "email")
            out.email = optional_text(values, key);
        else if (key == "name")
            out.name = optional_text(values, key);
        else if (key == "external_code")
            out.external_code = optional_text(values, key);
        else if (key == "date_rest")
            out.date_rest = optional_text(values, key);
        else if (key == "custom_fields") {
            if (value.is_null()) continue;
            if (!value.is_object()) invalid("custom_fields must be an object of cmpN keys");
            for (const auto& [field, v] : value.items()) {
                if (!check::is_custom_field_name(field))
                    invalid("custom field " + check::shown(field) + " is not a Dinamize custom field name (cmpN)");
                if (v.is_array()) {
                    nlohmann::json list = nlohmann::json::array();
                    for (const auto& e : v) list.push_back(as_text(e, field));
                    out.custom_fields[field] = std::move(list);
                } else if (v.is_null()) {
                    out.custom_fields[field] = "";
                } else {
                    out.custom_fields[field] = as_text(v, field);
                }
            }
        } else {
            invalid("unknown contact value " + check::shown(key) +
                    " (use email, name, external_code, date_rest, custom_fields)");
        }
    }
    check_contact(out);
    return out;
}

void check_contact(const Contact& c) {
    if (c.email) check::email(*c.email, "email");
    if (c.date_rest && !c.date_rest->empty()) check::datetime(*c.date_rest, "date_rest");
    if (!c.custom_fields.is_object()) invalid("custom_fields must be an object of cmpN keys");
    for (const auto& [key, value] : c.custom_fields.items()) {
        if (!check::is_custom_field_name(key))
            invalid("custom field " + check::shown(key) + " is not a Dinamize custom field name (cmpN)");
        bool ok = value.is_string();
        if (value.is_array()) {
            ok = true;
            for (const auto& e : value) ok = ok && e.is_string();
        }
        if (!ok) invalid("custom field " + key + " must be a string or an array of strings");
    }
}

nlohmann::json add_contact_request(const Contact& contact, const std::string& list_code) {
    nlohmann::json req = {{"contact-list_code", list_code}};
    put_members(req, contact);
    return req;
}

nlohmann::json update_contact_request(const Contact& contact, const std::string& list_code,
                                      const std::string& contact_code) {
    nlohmann::json req = {{"contact_code", contact_code}, {"contact-list_code", list_code}};
    put_members(req, contact);
    return req;
}

}  // namespace dwu
