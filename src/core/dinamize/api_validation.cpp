#include "core/dinamize/api_validation.h"

#include <stdexcept>

#include "core/dinamize/dinamize_errors.h"

namespace dwu::check {
namespace {

constexpr size_t kMaxShown = 80;
constexpr long kMaxPageNumber = 1000000000;

bool all_digits(const std::string& s, size_t from = 0, size_t to = std::string::npos) {
    if (to == std::string::npos) to = s.size();
    if (from >= to) return false;
    for (size_t i = from; i < to; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

int number_at(const std::string& s, size_t pos, size_t len) { return std::stoi(s.substr(pos, len)); }

}  // namespace

std::string shown(const std::string& value) {
    std::string out = "\"";
    for (size_t i = 0; i < value.size() && i < kMaxShown; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            // One escaped byte in an error message: not worth a library call.
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += value.size() > kMaxShown ? "\"..." : "\"";
    return out;
}

void code(const std::string& value, const char* what) {
    if (value.empty()) invalid(std::string(what) + " is required");
    if (value.size() > 18 || !all_digits(value))
        invalid(std::string(what) + " must be a Dinamize code (digits only), not " + shown(value));
}

void page(const PageSpec& page) {
    if (page.page_number < 1 || page.page_number > kMaxPageNumber)
        invalid("page_number must be between 1 and " + std::to_string(kMaxPageNumber) + ", not " +
                std::to_string(page.page_number));
    if (page.page_size < 1 || page.page_size > kMaxPageSize)
        invalid("page_size must be between 1 and " + std::to_string(kMaxPageSize) + ", not " +
                std::to_string(page.page_size));
}

bool plausible_email(const std::string& email) {
    if (email.empty() || email.size() > 254) return false;
    for (unsigned char ch : email)
        if (ch <= 0x20 || ch == 0x7f) return false;
    const size_t at = email.find('@');
    if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos) return false;
    const std::string domain = email.substr(at + 1);
    return domain.find('.') != std::string::npos && domain.front() != '.' && domain.back() != '.' &&
           domain.find("..") == std::string::npos;
}

void email(const std::string& value, const char* what) {
    if (value.empty()) invalid(std::string(what) + " is required");
    if (!plausible_email(value)) invalid(std::string(what) + " is not a valid e-mail address: " + shown(value));
}

bool is_search_operator(const std::string& op) {
    static const char* const ops[] = {"=", "!=", ">", ">=", "<", "<=", "*v*", "!*v*", "v*", "!v*", "*v", "!*v"};
    for (const char* o : ops)
        if (op == o) return true;
    return false;
}

void field_name(const std::string& field, const char* what) {
    if (field.empty()) invalid(std::string(what) + " needs a field name");
    if (field.size() > 64) invalid(std::string(what) + " field name is too long: " + shown(field));
    for (char c : field)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            invalid(std::string(what) + " field name " + shown(field) + " may only hold letters, digits, '_' and '-'");
}

void datetime(const std::string& value, const char* what) {
    const auto bad = [&] {
        invalid(std::string(what) + " must be \"YYYY-MM-DD\" or \"YYYY-MM-DD HH:MM:SS\", not " + shown(value));
    };
    if (value.size() != 10 && value.size() != 19) bad();
    if (!all_digits(value, 0, 4) || value[4] != '-' || !all_digits(value, 5, 7) || value[7] != '-' ||
        !all_digits(value, 8, 10))
        bad();
    const int month = number_at(value, 5, 2), day = number_at(value, 8, 2);
    if (month < 1 || month > 12 || day < 1 || day > 31) bad();
    if (value.size() == 19) {
        if (value[10] != ' ' || !all_digits(value, 11, 13) || value[13] != ':' || !all_digits(value, 14, 16) ||
            value[16] != ':' || !all_digits(value, 17, 19))
            bad();
        if (number_at(value, 11, 2) > 23 || number_at(value, 14, 2) > 59 || number_at(value, 17, 2) > 59) bad();
    }
}

bool is_custom_field_name(const std::string& key) {
    return key.size() >= 4 && key.size() <= 8 && key.compare(0, 3, "cmp") == 0 && key[3] != '0' && all_digits(key, 3);
}

nlohmann::json search_array(const std::vector<SearchCondition>& search) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < search.size(); ++i) {
        const auto& c = search[i];
        const std::string where = "search condition " + std::to_string(i + 1);
        field_name(c.field, where.c_str());
        if (!is_search_operator(c.op))
            invalid(where + " has an unknown operator " + shown(c.op) + " (use = != > >= < <= *v* !*v* v* !v* *v !*v)");
        out.push_back({{"field", c.field}, {"operator", c.op}, {"value", c.value}});
    }
    return out;
}

nlohmann::json order_array(const std::vector<SortKey>& order) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < order.size(); ++i) {
        const auto& k = order[i];
        const std::string where = "order key " + std::to_string(i + 1);
        field_name(k.field, where.c_str());
        std::string type = k.type;
        for (char& c : type)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (type != "ASC" && type != "DESC") invalid(where + " has order type " + shown(k.type) + " (use ASC or DESC)");
        out.push_back({{"field", k.field}, {"type", type}});
    }
    return out;
}

void put_page(nlohmann::json& request, const PageSpec& p) {
    page(p);
    request["page_number"] = std::to_string(p.page_number);
    request["page_size"] = std::to_string(p.page_size);
}

}  // namespace dwu::check
