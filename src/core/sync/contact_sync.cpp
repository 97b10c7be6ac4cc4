#include "core/sync/contact_sync.h"

#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/untrusted_json.h"

namespace dwu {
namespace {

// The contact code at `v`: 1-18 digits (string or integer), or a VALIDATION error naming it.
std::string checked_contact_code(const nlohmann::json& v, const char* path) {
    const std::string code = json_scalar_text(v);
    if (!is_dinamize_code(code))
        bad_answer(std::string(path) + " answered " + "a contact code that is not 1-18 digits: " +
                   (code.empty() ? std::string(json_kind(v)) : storable_text(code, 60)));
    return code;
}

}  // namespace

std::string contact_code_from_add(const nlohmann::json& body) {
    constexpr const char* path = "/emkt/contact/add";
    if (!body.is_object())
        bad_answer(std::string(path) + " answered " + std::string("a body that is ") + json_kind(body) +
                   ", not an object");
    const auto code = body.find("code");
    if (code == body.end() || code->is_null() || (code->is_string() && code->get_ref<const std::string&>().empty()))
        throw DinamizeError(ErrorCategory::ApiError, "",
                            std::string("Dinamize ") + path + " answered without a contact code", true);
    return checked_contact_code(*code, path);
}

std::string contact_code_from_search(const nlohmann::json& body) {
    constexpr const char* path = "/emkt/contact/search";
    if (body.is_null()) return {};
    if (!body.is_object())
        bad_answer(std::string(path) + " answered " + std::string("a body that is ") + json_kind(body) +
                   ", not an object");
    const auto items = body.find("items");
    if (items == body.end() || items->is_null()) return {};
    if (!items->is_array())
        bad_answer(std::string(path) + " answered " + std::string("body.items that is ") + json_kind(*items) +
                   ", not a list");
    if (items->empty()) return {};
    const nlohmann::json& first = items->front();
    if (!first.is_object())
        bad_answer(std::string(path) + " answered " + std::string("a contact that is ") + json_kind(first) +
                   ", not an object");
    const auto code = first.find("code");
    if (code == first.end()) bad_answer(std::string(path) + " answered " + "a contact without a code");
    return checked_contact_code(*code, path);
}

std::string find_contact_code(DinamizeClient& client, const std::string& email, const std::string& list_code) {
    return contact_code_from_search(client.call("/emkt/contact/search", search_by_email_request(email, list_code)));
}

bool contact_still_exists(DinamizeClient& client, const std::string& list_code, const std::string& contact_code,
                          const std::string& email, const DinamizeError& refusal) {
    try {
        client.call("/emkt/contact/get", {{"contact_code", contact_code}, {"contact-list_code", list_code}});
        return true;
    } catch (const DinamizeError& e) {
        if (e.not_found()) return false;
        if (!e.unknown_code()) throw;
    }
    // The get was refused with a code we do not know either: a missing contact, or a token that
    // refuses everything. A search by e-mail tells them apart (it answers for any valid token).
    if (email.empty()) throw refusal;
    return find_contact_code(client, email, list_code) == contact_code;
}

std::string upsert_contact(DinamizeClient& client, const Contact& contact, const std::string& list_code,
                           const std::string& known_code) {
    if (!known_code.empty()) {
        try {
            client.call("/emkt/contact/update", update_contact_request(contact, list_code, known_code));
            return known_code;
        } catch (const DinamizeError& e) {
            // Deleted on Dinamize's side: fall through and create it again.
            if (!e.not_found() && !(e.unknown_code() && !contact_still_exists(client, list_code, known_code,
                                                                              contact.email.value_or(""), e)))
                throw;
        }
    }
    try {
        return contact_code_from_add(client.call("/emkt/contact/add", add_contact_request(contact, list_code)));
    } catch (const DinamizeError& e) {
        // A duplicate, or a code we do not know yet (a duplicate under another number, our own
        // earlier add whose answer was lost...): whether the contact is there decides.
        if (!e.duplicate() && !e.unknown_code()) throw;
        const std::string existing = find_contact_code(client, contact.email.value_or(""), list_code);
        if (existing.empty()) {
            if (e.unknown_code()) throw;  // nothing there: the add itself was refused
            throw DinamizeError(ErrorCategory::ApiError, e.dinamize_code(),
                                "Dinamize reports the e-mail as a duplicate but no contact has it", true);
        }
        client.call("/emkt/contact/update", update_contact_request(contact, list_code, existing));
        return existing;
    }
}

}  // namespace dwu
