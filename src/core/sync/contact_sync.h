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
// An answer whose code the account's table does not know is never taken at its word: after an
// update, a contact/get tells whether the contact is gone; after an add, a search by e-mail
// whether it is there (a duplicate, or an earlier add of ours whose answer was lost).
// Only then does the job fail (retryable: the code may be a token's).
std::string upsert_contact(DinamizeClient& client, const Contact& contact, const std::string& list_code,
                           const std::string& known_code);

// After `refusal` (a call about the contact answered with a code we do not know): asks contact/get
// whether the contact is still there. A not-found answer: false. Another unknown code: a search by
// `email` decides (true when it finds this contact code), since a revoked token would refuse the
// get too; without an e-mail, `refusal` is thrown. Any other failure is thrown.
bool contact_still_exists(DinamizeClient& client, const std::string& list_code, const std::string& contact_code,
                          const std::string& email, const DinamizeError& refusal);

// The contact code for an e-mail in a list, or empty when there is none.
std::string find_contact_code(DinamizeClient& client, const std::string& email, const std::string& list_code);

// The new contact's code from a contact/add answer's body (body.code): 1-18 digits, as a string
// or an integer. No code: API_ERROR (retryable, as before); a body that is not an object or a
// code that is not digits: VALIDATION (not retryable).
std::string contact_code_from_add(const nlohmann::json& body);

// The first item's code from a contact/search answer's body, or empty when it has no items.
// Items that are not a list, an item that is not an object, a code that is not digits: VALIDATION.
std::string contact_code_from_search(const nlohmann::json& body);

}  // namespace dwu
