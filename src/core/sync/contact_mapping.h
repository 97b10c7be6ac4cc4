#pragma once
#include "core/pg_free.h"
// How a CRM lead becomes a Dinamize contact: JSON in, JSON request out. PostgreSQL-free.
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace dwu {

struct ContactData {
    std::string email;
    std::string name;
    std::string external_code;  // our lead id, so Dinamize reports point back to the lead
    nlohmann::json custom_fields = nlohmann::json::object();  // {"cmpN": "value"}
};

// Lead columns copied into Dinamize custom fields, e.g. "dwu_phone:cmp4,dwu_city:cmp5".
using FieldMap = std::vector<std::pair<std::string, std::string>>;

// Throws std::invalid_argument naming the bad entry (not a column, not cmpN, duplicate target).
FieldMap parse_field_map(const std::string& spec);

// `lead` is a crm_leads row as JSON (to_jsonb), with at least dwu_id and dwu_email.
// Throws std::invalid_argument when the row has no usable e-mail.
ContactData contact_from_lead(const nlohmann::json& lead, const FieldMap& field_map);

nlohmann::json add_contact_request(const ContactData& contact, const std::string& list_code);
nlohmann::json update_contact_request(const ContactData& contact, const std::string& list_code,
                                      const std::string& contact_code);
nlohmann::json search_by_email_request(const std::string& email, const std::string& list_code);

}  // namespace dwu
