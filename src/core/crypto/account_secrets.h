#pragma once
#include "core/pg_free.h"
// The AADs that bind each sealed secret (secret_box.h) to where it belongs, so a blob copied
// elsewhere fails to open.
//
// An account's password is bound to its row and to the settings it is sent with: the base URL,
// user and client code. A password moved to another host (an UPDATE of dwu_base_url, or a blob
// copied between rows) does not open, so it cannot be posted to a host it was not given for.
// The AAD is versioned: 0.1.0 bound the row id alone (v1); such blobs still open, report
// `legacy`, and are re-sealed under v2 by the worker at first use or by rotate_encryption_key().
#include <string>
#include <string_view>

#include "core/crypto/secret_box.h"

namespace dwu {

struct PasswordBinding {
    long long account_id = 0;
    std::string base_url, user, client_code;
};

std::string account_password_aad(const PasswordBinding& binding);  // v2
std::string legacy_account_password_aad(long long account_id);     // v1, 0.1.0
std::string auth_token_aad(long long token_id, long long account_id);

std::string seal_account_password(const KeyRing& ring, std::string_view password, const PasswordBinding& binding);

struct OpenedPassword {
    std::string plaintext;  // wipe when done
    bool legacy = false;    // sealed under the v1 AAD: re-seal it
};
// Throws CryptoError like open(): a blob bound to other settings is Tampered.
OpenedPassword open_account_password(const KeyRing& ring, std::string_view blob, const PasswordBinding& binding);

}  // namespace dwu
