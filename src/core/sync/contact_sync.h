#pragma once
#include "core/pg_free.h"
// What one create/update job does against Dinamize, idempotently: re-sending after a crash or a
// lost answer converges on the same contact instead of a duplicate or a permanent failure.
#include <string>

#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_client.h"

namespace dwu {

// Creates or updates the contact and returns its Dinamize contact code.
// - known_code given: update it; if Dinamize no longer knows it, create anew.
// - no code: add; if the e-mail already exists in the list, find it and update it.
std::string upsert_contact(DinamizeClient& client, const Contact& contact, const std::string& list_code,
                           const std::string& known_code);

// The contact code for an e-mail in a list, or empty when there is none.
std::string find_contact_code(DinamizeClient& client, const std::string& email, const std::string& list_code);

}  // namespace dwu
