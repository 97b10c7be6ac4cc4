#include "core/crypto/hex_digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace dwu {

std::string to_hex(const unsigned char* bytes, std::size_t n) {
    // By hand: OpenSSL's OPENSSL_buf2hexstr_ex writes upper case.
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * n);
    for (std::size_t i = 0; i < n; i++) {
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 15]);
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    return to_hex(digest, length);
}

std::string random_hex(std::size_t n) {
    std::vector<unsigned char> bytes(n);
    if (n > 0 && RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
    return to_hex(bytes.data(), n);
}

}  // namespace dwu
