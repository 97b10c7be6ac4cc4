#include "text_table.h"

#include <algorithm>
#include <cstdio>

namespace dwu::bench {
namespace {

size_t display_width(const std::string& s) {
    // UTF-8: count every byte that does not continue a multi-byte character.
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

void print_row(std::ostream& out, const std::vector<std::string>& cells, const std::vector<size_t>& widths,
               size_t text_columns) {
    std::string line;
    for (size_t i = 0; i < widths.size(); i++) {
        const std::string cell = i < cells.size() ? cells[i] : "";
        const std::string pad(widths[i] - display_width(cell), ' ');
        if (i > 0) line += "  ";
        line += i < text_columns ? cell + pad : pad + cell;
    }
    line.erase(line.find_last_not_of(' ') + 1);  // an empty last cell leaves no trailing blanks
    out << line << '\n';
}

}  // namespace

void TextTable::print(std::ostream& out) const {
    std::vector<size_t> widths(header_.size(), 0);
    for (size_t i = 0; i < header_.size(); i++) widths[i] = display_width(header_[i]);
    for (const auto& row : rows_)
        for (size_t i = 0; i < row.size() && i < widths.size(); i++)
            widths[i] = std::max(widths[i], display_width(row[i]));
    print_row(out, header_, widths, text_columns_);
    size_t total = 2 * (widths.size() - 1);
    for (size_t w : widths) total += w;
    out << std::string(total, '-') << '\n';
    for (const auto& row : rows_) print_row(out, row, widths, text_columns_);
}

std::string fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

}  // namespace dwu::bench
