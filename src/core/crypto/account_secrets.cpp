#include "core/crypto/account_secrets.h"

namespace dwu {
namespace {

// Length-prefixed, so no choice of field values can make two bindings spell the same AAD.
void append_field(std::string& out, const std::string& field) {
    out += ':';
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

}  // namespace

std::string account_password_aad(const PasswordBinding& b) {
    std::string aad = "crm_dinamize_accounts:" + std::to_string(b.account_id) + ":password:v2";
    append_field(aad, b.base_url);
    append_field(aad, b.user);
    append_field(aad, b.client_code);
    return aad;
}

std::string legacy_account_password_aad(long long account_id) {
    return "crm_dinamize_accounts:" + std::to_string(account_id) + ":password";
}

std::string auth_token_aad(long long token_id, long long account_id) {
    return "crm_auth_tokens:" + std::to_string(token_id) + ":" + std::to_string(account_id);
}

std::string seal_account_password(const KeyRing& ring, std::string_view password, const PasswordBinding& binding) {
    return seal(ring, password, account_password_aad(binding));
}

OpenedPassword open_account_password(const KeyRing& ring, std::string_view blob, const PasswordBinding& binding) {
    OpenedPassword out;
    try {
        out.plaintext = open(ring, blob, account_password_aad(binding));
        return out;
    } catch (const CryptoError& e) {
        if (e.kind() != CryptoErrorKind::Tampered) throw;
    }
    // Tampered under v2 may be a 0.1.0 blob; if v1 does not open it either, it is tampered.
    out.plaintext = open(ring, blob, legacy_account_password_aad(binding.account_id));
    out.legacy = true;
    return out;
}

}  // namespace dwu
