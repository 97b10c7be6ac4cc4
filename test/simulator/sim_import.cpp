#include "sim_import.h"

#include "api_error.h"
#include "invented_codes.h"
#include "json_fields.h"

#include <set>

namespace sim {
namespace {

// Hand-written: the simulator's only libraries (cpp-httplib, nlohmann-json) have no UTF-8 validation call.
bool is_utf8(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80                   ? 1
                          : (c >= 0xC2 && c <= 0xDF) ? 2
                          : (c >= 0xE0 && c <= 0xEF) ? 3
                          : (c >= 0xF0 && c <= 0xF4) ? 4
                                                     : 0;
        if (len == 0 || i + len > s.size()) return false;
        unsigned long cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (std::size_t k = 1; k < len; ++k) {
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

bool boolean_field(const nlohmann::json& obj, const char* key, bool fallback) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string()) {  // S1 sends some booleans as strings (§1)
        std::string v = lower_ascii(it->get<std::string>());
        if (v == "true" || v == "1") return true;
        if (v == "false" || v == "0") return false;
    }
    invalid(std::string("Field '") + key + "' must be a boolean");
}

// Field code of file_columns -> the contact attribute it fills.
std::string column_field(const std::string& code) {
    if (code == "1") return "email";
    if (code == "2") return "name";           // [I]
    if (code == "3") return "external_code";  // [I]
    if (code == "0") invalid("file_columns Field 0 is not a field");
    return "cmp" + code;
}

}  // namespace

ImportParameters parse_import_parameters(const std::string& json_text) {
    nlohmann::json p = nlohmann::json::parse(json_text, nullptr, false);
    if (p.is_discarded() || !p.is_object()) invalid("Part 'parameters' must be a JSON object");
    ImportParameters out;
    out.list = required_numeric_code(p, "contact-list_code");
    std::string sep = optional_string(p, "separator").value_or(";");
    if (sep.size() != 1 || sep[0] == '"' || sep[0] == '\r' || sep[0] == '\n')
        invalid("Field 'separator' must be one character other than '\"', CR and LF");
    out.separator = sep[0];
    out.header = boolean_field(p, "header", true);
    auto columns = p.find("file_columns");
    if (columns == p.end() || !columns->is_array() || columns->empty())
        invalid("Field 'file_columns' must be a non-empty array");
    std::set<std::size_t> positions;
    std::set<std::string> fields;
    for (const auto& c : *columns) {
        if (!c.is_object()) invalid("Each 'file_columns' entry must be an object");
        ImportColumn col;
        const std::string position = required_numeric_code(c, "Position");
        if (position.size() > 4) invalid("file_columns Position is too large");
        col.position = std::stoul(position);
        col.field = column_field(required_numeric_code(c, "Field"));
        if (c.contains("Rule") && !c["Rule"].is_null()) required_numeric_code(c, "Rule");
        if (!positions.insert(col.position).second) invalid("file_columns repeat Position " + position);
        if (!fields.insert(col.field).second) invalid("file_columns map two columns to " + col.field);
        out.columns.push_back(std::move(col));
    }
    if (!fields.count("email")) invalid("file_columns need the e-mail column (Field 1)");
    return out;
}

// Hand-written on purpose: it reads the raw file by exactly the rules of sim_import.h, to see what the client sent.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, char sep, bool& unterminated) {
    std::vector<std::vector<std::string>> records;
    std::vector<std::string> record;
    std::string field;
    bool quoted = false;  // inside quotes
    bool any = false;     // the record has content (a character, a separator or quotes)
    unterminated = false;
    std::size_t i = (text.compare(0, 3, "\xEF\xBB\xBF") == 0) ? 3 : 0;
    auto end_record = [&] {
        record.push_back(std::move(field));
        field.clear();
        if (any) records.push_back(std::move(record));
        record.clear();
        any = false;
    };
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c != '"') {
                field += c;
            } else if (i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else {
                quoted = false;
            }
            continue;
        }
        if (c == '"') {
            quoted = any = true;  // a quote mid-field is taken as opening a quoted section
        } else if (c == sep) {
            record.push_back(std::move(field));
            field.clear();
            any = true;
        } else if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            end_record();
        } else {
            field += c;
            any = true;
        }
    }
    if (quoted) unterminated = true;
    if (any || !field.empty()) end_record();
    return records;
}

ImportPlan plan_import(const std::string& csv, const ImportParameters& params) {
    if (!is_utf8(csv)) invalid("Part 'file' must be UTF-8 text");
    bool unterminated = false;
    auto records = parse_csv(csv, params.separator, unterminated);
    std::size_t needed = 0;
    for (const auto& c : params.columns) needed = std::max(needed, c.position + 1);
    ImportPlan plan;
    std::size_t first = 0, header_width = 0;
    if (params.header && !records.empty()) {
        header_width = records.front().size();
        first = 1;
    }
    for (std::size_t r = first; r < records.size(); ++r) {
        const auto& rec = records[r];
        ++plan.lines;
        const bool last_broken = unterminated && r + 1 == records.size();
        if (last_broken || rec.size() < needed || (header_width && rec.size() != header_width)) {
            ++plan.errors;
            continue;
        }
        ContactInput in;
        nlohmann::json custom = nlohmann::json::object();
        for (const auto& col : params.columns) {
            const std::string& v = rec[col.position];
            if (col.field == "email")
                in.email = v;
            else if (col.field == "name")
                in.name = v;
            else if (col.field == "external_code")
                in.external_code = v;
            else
                custom[col.field] = v;
        }
        if (!is_valid_email(*in.email)) {
            ++plan.errors;
            continue;
        }
        if (!custom.empty()) in.custom_fields = std::move(custom);
        plan.rows.push_back(std::move(in));
    }
    return plan;
}

std::string ImportLog::add(const std::string& client, nlohmann::json report) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string code = std::to_string(next_code_++);
    report["code"] = code;
    reports_[client][code] = std::move(report);
    return code;
}

nlohmann::json ImportLog::get(const std::string& client, const std::string& code) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto by_client = reports_.find(client);
    if (by_client != reports_.end()) {
        auto it = by_client->second.find(code);
        if (it != by_client->second.end()) return it->second;
    }
    throw ApiError(invented::kNotFound, "Import not found");
}

void ImportLog::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    reports_.clear();
    next_code_ = kFirstImportCode;
}

}  // namespace sim
