#include "core/sync/pull_diff.h"

#include <stdexcept>

#include "core/crypto/hex_digest.h"
#include "core/dinamize/untrusted_json.h"

namespace dwu {
namespace {

bool flag(const nlohmann::json& item, const char* key) {
    auto it = item.find(key);
    if (it == item.end() || it->is_null()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_number()) return it->get<double>() != 0;
    if (it->is_string()) {
        const std::string v = it->get<std::string>();
        return v == "1" || v == "true" || v == "TRUE" || v == "S" || v == "s" || v == "Y" || v == "y";
    }
    return false;
}

// Scalars as strings (Dinamize sends strings, reference §1); "" means "no
// value".
nlohmann::json crm_value(const nlohmann::json& v) {
    if (v.is_null()) return nullptr;
    if (v.is_string()) return v.get<std::string>().empty() ? nlohmann::json() : v;
    if (v.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : v) out.push_back(e.is_string() ? e.get<std::string>() : e.dump());
        return out;
    }
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    return v.dump();
}

std::string text_of(const nlohmann::json& item, const char* key) {
    auto it = item.find(key);
    if (it == item.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::string email_status_of(const nlohmann::json& item) {
    if (flag(item, "spam")) return "spam_complaint";
    if (flag(item, "optout")) return "opted_out";
    if (text_of(item, "status") == "I") return "invalid";
    return "valid";
}

std::string record_hash(const nlohmann::json& fields, const std::string& email_status) {
    const std::string canonical = nlohmann::json{{"email_status", email_status}, {"fields", fields}}.dump();
    // Lower case, as the stored hashes (crm_remote_contacts) are: a change of case would re-apply
    // every contact.
    return sha256_hex(canonical);
}

PulledContact pulled_contact(const nlohmann::json& item, const FieldMap& field_map) {
    if (!item.is_object()) throw std::invalid_argument("contact item is not a JSON object");
    PulledContact c;
    c.code = text_of(item, "code");
    if (c.code.empty() || c.code.find_first_not_of("0123456789") != std::string::npos || c.code.size() > 32)
        throw std::invalid_argument("contact item has no numeric code");
    // PostgreSQL's text and jsonb cannot hold U+0000: such a contact is left out (and counted)
    // instead of failing the page, and every page after it, at each pull.
    if (json_has_nul(item)) throw std::invalid_argument("contact " + c.code + " holds a NUL character (\\u0000)");
    const auto email_value = item.find("email");
    if (email_value != item.end() && !email_value->is_null() && !email_value->is_string())
        throw std::invalid_argument("contact " + c.code + " has an e-mail that is not a string");
    const std::string email = text_of(item, "email");
    if (email.empty()) throw std::invalid_argument("contact " + c.code + " has no e-mail");
    c.fields = nlohmann::json::object();
    c.fields["dwu_email"] = email;
    auto name = item.find("name");
    c.fields["dwu_name"] = name == item.end() ? nlohmann::json() : crm_value(*name);
    const auto custom = item.find("custom_fields");
    for (const auto& [column, cmp] : field_map) {
        nlohmann::json value;
        if (custom != item.end() && custom->is_object()) {
            auto it = custom->find(cmp);
            if (it != custom->end()) value = crm_value(*it);
        }
        c.fields[column] = value;
    }
    c.email_status = email_status_of(item);
    c.hash = record_hash(c.fields, c.email_status);
    return c;
}

nlohmann::json pull_rows(const std::vector<nlohmann::json>& items, const FieldMap& field_map, long* skipped) {
    nlohmann::json rows = nlohmann::json::array();
    long bad = 0;
    for (const auto& item : items) {
        try {
            PulledContact c = pulled_contact(item, field_map);
            rows.push_back({{"code", std::move(c.code)},
                            {"hash", std::move(c.hash)},
                            {"fields", std::move(c.fields)},
                            {"email_status", std::move(c.email_status)},
                            {"item", item}});
        } catch (const std::invalid_argument&) {
            ++bad;
        }
    }
    if (skipped) *skipped = bad;
    return rows;
}

nlohmann::json storable_items(const std::vector<nlohmann::json>& items, long* skipped) {
    nlohmann::json rows = nlohmann::json::array();
    long bad = 0;
    for (const auto& item : items) {
        if (item.is_object() && !json_has_nul(item))
            rows.push_back(item);
        else
            ++bad;
    }
    if (skipped) *skipped = bad;
    return rows;
}

}  // namespace dwu
