#pragma once
#include "core/pg_free.h"
// Validation of a Dinamize account's settings, shared by dinamize_configure() and the worker.
// PostgreSQL-free; each problem is one message naming the field (never echoing the password).
#include <string>

namespace dwu {

struct AccountFields {
    std::string name;  // our handle for the account, e.g. "acme"
    std::string base_url;
    std::string user;
    std::string client_code;
    std::string list_code;
};

// Throws std::invalid_argument naming the first bad field.
void validate_account_fields(const AccountFields& fields);
void validate_password(const std::string& password);

}  // namespace dwu
