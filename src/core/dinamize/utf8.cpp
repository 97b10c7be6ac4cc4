#include "core/dinamize/utf8.h"

namespace dwu {
namespace {

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n) {
    const unsigned char c = p[0];
    if (c < 0x80) return 1;
    std::size_t len = 0;
    unsigned long cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool is_valid_utf8(std::string_view s) {
    const unsigned char* p = bytes(s);
    for (std::size_t i = 0; i < s.size();) {
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        const std::size_t len = utf8_sequence_length(p + i, s.size() - i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

std::string repair_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    const unsigned char* p = bytes(s);
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t len = utf8_sequence_length(p + i, s.size() - i);
        if (len == 0) {
            out += kReplacementCharacter;
            ++i;
        } else {
            out.append(s.data() + i, len);
            i += len;
        }
    }
    return out;
}

std::size_t utf8_prefix_length(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return s.size();
    std::size_t p = max_bytes;
    // s[p] is the first byte left out: while it continues a character, that character is cut.
    while (p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
    return p;
}

}  // namespace dwu
