#pragma once
// An aligned plain-text table: the first `text_columns` columns left-aligned, the others (numbers)
// right-aligned, each as wide as its widest cell. Widths count characters, not bytes, so "µs" aligns.
#include <ostream>
#include <string>
#include <vector>

namespace dwu::bench {

class TextTable {
public:
    explicit TextTable(std::vector<std::string> header, size_t text_columns = 1)
        : header_(std::move(header)), text_columns_(text_columns) {}
    void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
    void print(std::ostream& out) const;

private:
    std::vector<std::string> header_;
    size_t text_columns_;
    std::vector<std::vector<std::string>> rows_;
};

// `value` with `decimals` digits after the point.
std::string fixed(double value, int decimals);

}  // namespace dwu::bench
