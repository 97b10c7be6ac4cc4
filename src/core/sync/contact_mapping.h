#pragma once
#include "core/pg_free.h"
// How a CRM lead becomes a Dinamize contact (core/dinamize/contact.h builds its requests), and
// the request that finds a contact by e-mail. PostgreSQL-free.
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/dinamize/contact.h"

namespace dwu {

// Lead columns copied into Dinamize custom fields, e.g. "dwu_phone:cmp4,dwu_city:cmp5".
using FieldMap = std::vector<std::pair<std::string, std::string>>;

// Throws std::invalid_argument naming the bad entry (not a column, not cmpN, duplicate target).
FieldMap parse_field_map(const std::string& spec);

// `lead` is a crm_leads row as JSON (to_jsonb), with at least dwu_id and dwu_email.
// Throws std::invalid_argument when the row has no usable e-mail. Empty name or id: not sent.
Contact contact_from_lead(const nlohmann::json& lead, const FieldMap& field_map);

nlohmann::json search_by_email_request(const std::string& email, const std::string& list_code);

}  // namespace dwu
