#include "search_filter.h"

#include "api_error.h"
#include "invented_codes.h"
#include "json_fields.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>

namespace sim {
namespace {

constexpr std::uint64_t kMaxPageSize = 10000;         // §5.5
constexpr std::uint64_t kMaxPageNumber = 1000000000;  // keeps offsets far from overflow

const std::map<std::string, Operator>& operator_names() {
    static const std::map<std::string, Operator> names{
        {"=", Operator::kEq},          {"!=", Operator::kNe},
        {">", Operator::kGt},          {">=", Operator::kGe},
        {"<", Operator::kLt},          {"<=", Operator::kLe},
        {"*v*", Operator::kContains},  {"!*v*", Operator::kNotContains},
        {"v*", Operator::kStartsWith}, {"!v*", Operator::kNotStartsWith},
        {"*v", Operator::kEndsWith},   {"!*v", Operator::kNotEndsWith},
    };
    return names;
}

bool is_search_field(const std::string& f) {
    return f == "email" || f == "name" || f == "external_code" || f == "insert_date" || f == "status_email" ||
           is_custom_field_name(f);
}

// Values of a field on a contact: one value, or every element of a multi-value custom field.
// Missing custom fields and empty arrays read as "".
std::vector<std::string> field_values(const Contact& c, const std::string& field) {
    if (field == "code") return {std::to_string(c.code)};
    if (field == "email") return {c.email};
    if (field == "name") return {c.name};
    if (field == "external_code") return {c.external_code};
    if (field == "insert_date") return {c.insert_date};
    if (field == "status_email") return {c.status};
    auto it = c.custom_fields.find(field);
    if (it == c.custom_fields.end()) return {""};
    if (it->is_string()) return {it->get<std::string>()};
    std::vector<std::string> out;
    for (const auto& e : *it) out.push_back(e.get<std::string>());
    if (out.empty()) out.push_back("");
    return out;
}

std::optional<long long> as_integer(const std::string& s) {
    if (s.empty()) return std::nullopt;
    std::size_t i = (s[0] == '-') ? 1 : 0;
    if (i == s.size()) return std::nullopt;
    for (std::size_t j = i; j < s.size(); ++j)
        if (s[j] < '0' || s[j] > '9') return std::nullopt;
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE) return std::nullopt;
    return v;
}

bool positive_match(Operator op, const std::string& actual, const std::string& wanted) {
    switch (op) {
        case Operator::kEq:
            return compare_values(actual, wanted) == 0;
        case Operator::kGt:
            return compare_values(actual, wanted) > 0;
        case Operator::kGe:
            return compare_values(actual, wanted) >= 0;
        case Operator::kLt:
            return compare_values(actual, wanted) < 0;
        case Operator::kLe:
            return compare_values(actual, wanted) <= 0;
        default:
            break;
    }
    std::string a = lower_ascii(actual), w = lower_ascii(wanted);
    switch (op) {
        case Operator::kContains:
            return a.find(w) != std::string::npos;
        case Operator::kStartsWith:
            return a.compare(0, w.size(), w) == 0;
        case Operator::kEndsWith:
            return a.size() >= w.size() && a.compare(a.size() - w.size(), w.size(), w) == 0;
        default:
            return false;
    }
}

// Negated operators are evaluated as "no value satisfies the positive form", so a multi-value
// field matches `!=` only if none of its values equals the wanted one.
std::optional<Operator> positive_form(Operator op) {
    switch (op) {
        case Operator::kNe:
            return Operator::kEq;
        case Operator::kNotContains:
            return Operator::kContains;
        case Operator::kNotStartsWith:
            return Operator::kStartsWith;
        case Operator::kNotEndsWith:
            return Operator::kEndsWith;
        default:
            return std::nullopt;
    }
}

bool matches(const Contact& c, const Condition& cond) { return values_match(field_values(c, cond.field), cond); }

const nlohmann::json* optional_array(const nlohmann::json& request, const char* key) {
    auto it = request.find(key);
    if (it == request.end() || it->is_null()) return nullptr;
    if (!it->is_array()) invalid(std::string("Field '") + key + "' must be an array");
    return &*it;
}

std::string required_string_in(const nlohmann::json& obj, const char* key, const char* where) {
    if (!obj.is_object()) invalid(std::string("Each '") + where + "' entry must be an object");
    auto v = optional_string(obj, key);
    if (!v) invalid(std::string("'") + where + "' entry needs '" + key + "'");
    return *v;
}

}  // namespace

std::vector<Condition> parse_conditions(const nlohmann::json& request, FieldPredicate is_field) {
    std::vector<Condition> out;
    const nlohmann::json* search = optional_array(request, "search");
    if (!search) return out;
    for (const auto& entry : *search) {
        Condition cond;
        cond.field = required_string_in(entry, "field", "search");
        if (!is_field(cond.field)) invalid("Unknown search field '" + cond.field + "'");
        std::string op = required_string_in(entry, "operator", "search");
        auto found = operator_names().find(op);
        if (found == operator_names().end()) invalid("Unknown search operator '" + op + "'");
        cond.op = found->second;
        auto value = entry.find("value");
        if (value == entry.end() || value->is_null()) invalid("'search' entry needs 'value'");
        cond.value = scalar_as_string(*value, "Search 'value'");
        out.push_back(std::move(cond));
    }
    return out;
}

std::vector<OrderKey> parse_order(const nlohmann::json& request, FieldPredicate is_field) {
    std::vector<OrderKey> out;
    const nlohmann::json* order = optional_array(request, "order");
    if (!order) return out;
    for (const auto& entry : *order) {
        OrderKey key;
        key.field = required_string_in(entry, "field", "order");
        if (!is_field(key.field)) invalid("Unknown order field '" + key.field + "'");
        std::string type = lower_ascii(optional_string(entry, "type").value_or("ASC"));
        if (type != "asc" && type != "desc") invalid("Order 'type' must be ASC or DESC");
        key.descending = (type == "desc");
        out.push_back(std::move(key));
    }
    return out;
}

// Numeric when both sides are integers; otherwise ASCII case-insensitive text order (assumed,
// like a typical *_ci database collation; dates "YYYY-MM-DD..." order correctly as text).
int compare_values(const std::string& a, const std::string& b) {
    auto na = as_integer(a), nb = as_integer(b);
    if (na && nb) return (*na < *nb) ? -1 : (*na > *nb ? 1 : 0);
    int r = lower_ascii(a).compare(lower_ascii(b));
    return (r < 0) ? -1 : (r > 0 ? 1 : 0);
}

bool values_match(const std::vector<std::string>& values, const Condition& cond) {
    auto positive = positive_form(cond.op);
    Operator op = positive ? *positive : cond.op;
    bool any = std::any_of(values.begin(), values.end(),
                           [&](const std::string& v) { return positive_match(op, v, cond.value); });
    return positive ? !any : any;
}

namespace {

bool is_order_field(const std::string& f) { return f == "code" || is_search_field(f); }

RestFilter parse_rest_filter(const nlohmann::json& request) {
    std::string v = optional_string(request, "status_contact").value_or("");
    if (v.empty()) return RestFilter::kAll;
    if (v == "NO_REST") return RestFilter::kNoRest;
    if (v == "REST_ONLY") return RestFilter::kRestOnly;
    invalid("Field 'status_contact' must be NO_REST or REST_ONLY");
}

}  // namespace

SearchQuery parse_search_query(const nlohmann::json& request) {
    SearchQuery q;
    q.page_number = integer_field(request, "page_number", 1, 1, kMaxPageNumber);
    q.page_size = integer_field(request, "page_size", 100, 1, kMaxPageSize);
    q.conditions = parse_conditions(request, is_search_field);
    q.order = parse_order(request, is_order_field);
    q.rest = parse_rest_filter(request);
    // `custom_filter` (saved segment) is accepted and ignored: segments are not simulated.
    return q;
}

SearchPage run_search(std::vector<Contact> contacts, const SearchQuery& query, const std::string& today) {
    auto rejected = [&](const Contact& c) {
        if (query.rest == RestFilter::kNoRest && is_resting(c, today)) return true;
        if (query.rest == RestFilter::kRestOnly && !is_resting(c, today)) return true;
        return !std::all_of(query.conditions.begin(), query.conditions.end(),
                            [&](const Condition& cond) { return matches(c, cond); });
    };
    contacts.erase(std::remove_if(contacts.begin(), contacts.end(), rejected), contacts.end());

    std::stable_sort(contacts.begin(), contacts.end(), [&](const Contact& a, const Contact& b) {
        for (const auto& key : query.order) {
            // Multi-value fields sort by their first value.
            int r = compare_values(field_values(a, key.field).front(), field_values(b, key.field).front());
            if (r != 0) return key.descending ? r > 0 : r < 0;
        }
        return a.code < b.code;
    });

    SearchPage page;
    std::uint64_t start = (query.page_number - 1) * query.page_size;
    if (start >= contacts.size()) return page;
    std::uint64_t end = std::min<std::uint64_t>(start + query.page_size, contacts.size());
    page.items.assign(contacts.begin() + static_cast<std::ptrdiff_t>(start),
                      contacts.begin() + static_cast<std::ptrdiff_t>(end));
    page.next = end < contacts.size();
    return page;
}

}  // namespace sim
