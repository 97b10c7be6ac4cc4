// The contact record, its JSON item shape (reference §5.5) and input validation.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sim {

struct Contact {
    std::uint64_t code = 0;  // contact_code; sent as a string
    std::string email;
    std::string name;
    std::string external_code;
    std::string date_rest;     // "" = not resting
    std::string insert_date;   // "YYYY-MM-DD HH:MM:SS"
    std::string status = "V";  // status_email: V valid / I invalid
    bool optout = false;
    bool spam = false;
    nlohmann::json custom_fields = nlohmann::json::object();  // cmpN -> string | [string]
};

// Values a request wants to set; absent members are left unchanged (update) or default (add).
struct ContactInput {
    std::optional<std::string> email;
    std::optional<std::string> name;
    std::optional<std::string> external_code;
    std::optional<std::string> date_rest;
    std::optional<nlohmann::json> custom_fields;  // merged key by key on update
};

// Reads and type-checks the contact keys of an add/update body (throws validation ApiError).
// The e-mail, when present, must pass is_valid_email.
ContactInput read_contact_input(const nlohmann::json& body);

// Applies `input` to `contact` (custom_fields merged per key).
void apply_input(Contact& contact, const ContactInput& input);

// The item shape returned by contact/get and contact/search.
nlohmann::json to_item(const Contact& contact);

// Deliberately simple shape check: one '@', non-empty local part, dotted domain without empty
// labels, no whitespace/control characters, at most 254 characters.
bool is_valid_email(const std::string& email);

// Custom field key: "cmp" followed by digits (cmp4, cmp17, ...).
bool is_custom_field_name(const std::string& key);

std::string lower_ascii(std::string s);

// True if the contact is resting on `today` ("YYYY-MM-DD"): date_rest's day is today or later.
bool is_resting(const Contact& contact, const std::string& today);

}  // namespace sim
