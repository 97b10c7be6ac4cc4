#include "pg/accounts/key_ring.h"

#include "pg/settings.h"

dwu::KeyRing dwu_load_key_ring() {
    const char* path = dwu_encryption_key_file;
    if (path == nullptr || *path == '\0')
        throw dwu::CryptoError(dwu::CryptoErrorKind::BadKey,
                               "dwu_crm.encryption_key_file is not set: no key to encrypt or decrypt secrets");
    dwu::KeyRing ring;
    try {
        ring.load_key_file(path);
    } catch (const dwu::CryptoError& e) {
        throw dwu::CryptoError(e.kind(), std::string("dwu_crm.encryption_key_file: ") + e.what());
    }
    return ring;
}
