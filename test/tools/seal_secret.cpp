// seal_secret KEY_FILE AAD: seals stdin with the key file's current key under AAD and prints the
// blob as hex (for a bytea literal). For tests that need a secret as another version sealed it,
// e.g. a password under 0.1.0's AAD (test/e2e/test_secrets.sh).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "core/crypto/secret_box.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: seal_secret KEY_FILE AAD < plaintext\n";
        return 2;
    }
    try {
        dwu::KeyRing ring;
        ring.load_key_file(argv[1]);
        std::string plain((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        const std::string blob = dwu::seal(ring, plain, argv[2]);
        dwu::wipe(plain);
        for (unsigned char c : blob) std::printf("%02x", c);
        std::printf("\n");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "seal_secret: " << e.what() << "\n";
        return 1;
    }
}
