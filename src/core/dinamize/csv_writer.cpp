#include "core/dinamize/csv_writer.h"

namespace dwu {

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
