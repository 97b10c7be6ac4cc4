#include "core/sync/contact_sync.h"

#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"

namespace dwu {
namespace {

std::string code_of(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    return {};
}

}  // namespace

std::string find_contact_code(DinamizeClient& client, const std::string& email, const std::string& list_code) {
    const nlohmann::json body = client.call("/emkt/contact/search", search_by_email_request(email, list_code));
    auto items = body.is_object() ? body.find("items") : body.end();
    if (items == body.end() || !items->is_array() || items->empty()) return {};
    return code_of(items->front().value("code", nlohmann::json()));
}

std::string upsert_contact(DinamizeClient& client, const Contact& contact, const std::string& list_code,
                           const std::string& known_code) {
    if (!known_code.empty()) {
        try {
            client.call("/emkt/contact/update", update_contact_request(contact, list_code, known_code));
            return known_code;
        } catch (const DinamizeError& e) {
            if (e.dinamize_code() != codes::kNotFound) throw;
            // Deleted on Dinamize's side: fall through and create it again.
        }
    }
    try {
        const nlohmann::json body = client.call("/emkt/contact/add", add_contact_request(contact, list_code));
        std::string code = body.is_object() ? code_of(body.value("code", nlohmann::json())) : std::string();
        if (code.empty())
            throw DinamizeError(ErrorCategory::ApiError, "",
                                "Dinamize /emkt/contact/add answered without a contact code", true);
        return code;
    } catch (const DinamizeError& e) {
        if (e.dinamize_code().empty() || !codes::classify_code(e.dinamize_code()).duplicate) throw;
    }
    const std::string existing = find_contact_code(client, contact.email.value_or(""), list_code);
    if (existing.empty())
        throw DinamizeError(ErrorCategory::ApiError, std::string(codes::kDuplicateEmail),
                            "Dinamize reports the e-mail as a duplicate but no contact has it", true);
    client.call("/emkt/contact/update", update_contact_request(contact, list_code, existing));
    return existing;
}

}  // namespace dwu
