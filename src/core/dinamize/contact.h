#pragma once
#include "core/pg_free.h"
// A Dinamize contact as dwu_crm sends it (contact/add, contact/update): the one model for both
// the sync (a lead mapped by core/sync/contact_mapping.h) and the SQL functions
// (dinamize_contact_create/update), with the one set of request builders. PostgreSQL-free.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace dwu {

// An absent member is not sent.
struct Contact {
    std::optional<std::string> email;
    std::optional<std::string> name;
    std::optional<std::string> external_code;  // the sync sends our lead id, so reports point back to the lead
    std::optional<std::string> date_rest;      // "YYYY-MM-DD" (or "" to clear)
    nlohmann::json custom_fields = nlohmann::json::object();  // {"cmpN": "v" | ["v", ...]}
};

// From a JSON object with the keys above ({"email": ..., "custom_fields": {...}}; null = absent).
// Custom-field numbers/booleans become strings. Throws std::invalid_argument on an unknown key, a
// wrong type, a malformed e-mail or a custom field not named cmpN.
Contact contact_from_json(const nlohmann::json& values);

// Throws std::invalid_argument naming the first member Dinamize would refuse (a malformed e-mail
// or date, a custom field not named cmpN or not text).
void check_contact(const Contact& contact);

// The request bodies of POST /emkt/contact/add and /emkt/contact/update (not checked: see above).
nlohmann::json add_contact_request(const Contact& contact, const std::string& list_code);
nlohmann::json update_contact_request(const Contact& contact, const std::string& list_code,
                                      const std::string& contact_code);

}  // namespace dwu
