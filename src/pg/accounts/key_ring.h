#pragma once
// The encryption keys, from the file named by dwu_crm.encryption_key_file (never from a table).
#include "core/crypto/secret_box.h"

// Throws dwu::CryptoError(BadKey) naming the setting (never a key) when it is unset or unusable.
dwu::KeyRing dwu_load_key_ring();
