// An account password is bound to its row and to where it is sent; 0.1.0's blobs still open.
#include <gtest/gtest.h>

#include <string>

#include "core/crypto/account_secrets.h"

namespace dwu {
namespace {

KeyRing one_key() {
    KeyRing ring;
    ring.add_key(1, std::string(kKeyBytes, '\x11'));
    return ring;
}

const PasswordBinding kAcme{7, "https://api.dinamize.com", "crm@acme.example", "300001"};

TEST(AccountSecrets, APasswordOpensOnlyWithTheSettingsItWasGivenFor) {
    const KeyRing ring = one_key();
    const std::string blob = seal_account_password(ring, "Acme-Pa55", kAcme);
    OpenedPassword opened = open_account_password(ring, blob, kAcme);
    EXPECT_EQ(opened.plaintext, "Acme-Pa55");
    EXPECT_FALSE(opened.legacy);

    PasswordBinding moved = kAcme;
    moved.base_url = "http://other-host";
    EXPECT_THROW(open_account_password(ring, blob, moved), CryptoError);
    PasswordBinding other_user = kAcme;
    other_user.user = "crm@evil.example";
    EXPECT_THROW(open_account_password(ring, blob, other_user), CryptoError);
    PasswordBinding other_client = kAcme;
    other_client.client_code = "300002";
    EXPECT_THROW(open_account_password(ring, blob, other_client), CryptoError);
    PasswordBinding other_row = kAcme;
    other_row.account_id = 8;
    EXPECT_THROW(open_account_password(ring, blob, other_row), CryptoError);
}

TEST(AccountSecrets, FieldsCannotBeShiftedIntoEachOther) {
    const PasswordBinding a{1, "https://a.example", "ab", "1"};
    const PasswordBinding b{1, "https://a.example:2", "b", "1"};
    EXPECT_NE(account_password_aad(a), account_password_aad(b));
}

TEST(AccountSecrets, APasswordSealedBy010OpensAsLegacy) {
    const KeyRing ring = one_key();
    const std::string old_blob = seal(ring, "Acme-Pa55", legacy_account_password_aad(kAcme.account_id));
    OpenedPassword opened = open_account_password(ring, old_blob, kAcme);
    EXPECT_EQ(opened.plaintext, "Acme-Pa55");
    EXPECT_TRUE(opened.legacy);
    PasswordBinding other_row = kAcme;
    other_row.account_id = 9;
    try {
        open_account_password(ring, old_blob, other_row);
        FAIL();
    } catch (const CryptoError& e) {
        EXPECT_EQ(e.kind(), CryptoErrorKind::Tampered);
    }
}

}  // namespace
}  // namespace dwu
