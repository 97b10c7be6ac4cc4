#pragma once
// Hex for the crypto tests' published vectors. Hand-written on purpose: independent of OpenSSL's
// hex decoding, which the code under test uses; lower case like the vectors (OpenSSL writes upper).
#include <cstddef>
#include <string>
#include <string_view>

namespace dwu::test {

inline std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

inline std::string to_hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

}  // namespace dwu::test
