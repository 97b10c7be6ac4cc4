#include "core/dinamize/csv_writer.h"

namespace dwu {

// By hand: none of our fixed dependencies (libcurl, OpenSSL, nlohmann_json) exposes a UTF-8
// validity check for a byte string.
bool is_valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = 0;
        unsigned long cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

std::string csv_field(std::string_view value, char separator) {
    const bool blank_edge = !value.empty() && (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' ||
                                               value.back() == '\t');
    bool quote = blank_edge;
    for (char c : value)
        if (c == separator || c == '"' || c == '\r' || c == '\n') quote = true;
    if (!quote) return std::string(value);
    std::string out;
    out.reserve(value.size() + 2);
    out += '"';
    for (char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

void append_csv_record(std::string& out, const std::vector<std::string>& fields, char separator) {
    if (fields.size() == 1 && fields[0].empty()) {
        out += "\"\"\r\n";  // an empty line would read as no record at all
        return;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out += separator;
        out += csv_field(fields[i], separator);
    }
    out += "\r\n";
}

}  // namespace dwu
