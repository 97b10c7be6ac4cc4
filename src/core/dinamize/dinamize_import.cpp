#include "core/dinamize/dinamize_import.h"

#include <set>
#include <stdexcept>

#include "core/dinamize/api_validation.h"
#include "core/dinamize/csv_writer.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/untrusted_json.h"
#include "core/dinamize/utf8.h"

namespace dwu {
namespace {

void check_values(const std::vector<std::string>& values, const std::string& where, size_t width) {
    if (values.size() != width)
        invalid(where + " has " + std::to_string(values.size()) + " values for " + std::to_string(width) + " columns");
    for (size_t i = 0; i < values.size(); ++i)
        if (!is_valid_utf8(values[i])) invalid(where + ", column " + std::to_string(i + 1) + " is not valid UTF-8");
}

void check_import(const ContactImport& im) {
    check::code(im.list_code, "contact-list_code");
    if (im.columns.empty()) invalid("an import needs at least one column");
    const char sep = im.separator;
    if (sep == '"' || sep == '\r' || sep == '\n' || sep == '\0' || static_cast<unsigned char>(sep) >= 0x80)
        invalid("the import separator cannot be '\"', CR, LF, NUL or a non-ASCII byte");
    std::set<std::string> fields;
    int emails = 0;
    for (size_t i = 0; i < im.columns.size(); ++i) {
        const auto& c = im.columns[i];
        const std::string where = "import column " + std::to_string(i + 1);
        check::code(c.field, (where + " field").c_str());
        check::code(c.rule, (where + " rule").c_str());
        if (c.field == "0") invalid(where + " has field code 0");
        if (!fields.insert(c.field).second) invalid(where + " repeats field code " + c.field);
        if (c.field == import_field::kEmail) ++emails;
    }
    if (emails == 0) invalid("an import needs an e-mail column (field code 1)");
    if (im.rows.empty()) invalid("nothing to import: no rows");
    if (!im.header.empty()) check_values(im.header, "the header", im.columns.size());
    for (size_t r = 0; r < im.rows.size(); ++r)
        check_values(im.rows[r], "import row " + std::to_string(r + 1), im.columns.size());
}

// A row count: 0 to 10^15 (far more rows than any import file holds) as an integer or a string
// of digits; -1 for anything else (negative, fractional, huge, text).
long long count_of(const nlohmann::json& v) {
    const std::string digits = json_scalar_text(v);
    if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(digits);  // at most 15 digits: in range
}

}  // namespace

std::string import_csv(const ContactImport& im) {
    check_import(im);
    std::string csv;
    if (!im.header.empty()) append_csv_record(csv, im.header, im.separator);
    for (const auto& row : im.rows) {
        append_csv_record(csv, row, im.separator);
        if (csv.size() > kMaxImportFileBytes)
            invalid("the import file would exceed " + std::to_string(kMaxImportFileBytes / (1024 * 1024)) +
                    " MB: split it into several imports");
    }
    return csv;
}

nlohmann::json import_parameters(const ContactImport& im) {
    check_import(im);
    nlohmann::json columns = nlohmann::json::array();
    for (size_t i = 0; i < im.columns.size(); ++i)
        columns.push_back(
            {{"Position", std::to_string(i)}, {"Field", im.columns[i].field}, {"Rule", im.columns[i].rule}});
    return {{"contact-list_code", im.list_code},
            {"separator", std::string(1, im.separator)},
            {"header", !im.header.empty()},
            {"file_columns", std::move(columns)}};
}

std::string import_contacts(DinamizeClient& client, const ContactImport& im) {
    std::vector<FormPart> parts;  // libcurl's MIME API writes the body (HttpTransport::post_form)
    parts.push_back({"file", import_csv(im), "contacts.csv", "text/csv; charset=utf-8"});
    parts.push_back({"command", "import", "", ""});
    parts.push_back({"parameters", import_parameters(im).dump(), "", ""});  // plain form fields, as S1 sends them
    return import_code_from_body(client.call_multipart("/emkt/contact", parts));
}

std::string import_code_from_body(const nlohmann::json& body) {
    if (!body.is_null() && !body.is_object())
        bad_answer(std::string("/emkt/contact (import) answered a body that is ") + json_kind(body) +
                   ", not an object");
    const auto c = body.is_object() ? body.find("code") : body.end();
    if (c == body.end() || c->is_null() || (c->is_string() && c->get_ref<const std::string&>().empty()))
        throw DinamizeError(ErrorCategory::ApiError, "",
                            "Dinamize /emkt/contact (import) answered without an import code", false);
    const std::string code = json_scalar_text(*c);
    // import/get takes it back (check::code): 1-18 digits.
    if (!is_dinamize_code(code))
        bad_answer("/emkt/contact (import) answered an import code that is not 1-18 digits: " +
                   (code.empty() ? std::string(json_kind(*c)) : storable_text(code, 60)));
    return code;
}

ImportStatus get_import(DinamizeClient& client, const std::string& import_code) {
    check::code(import_code, "import code");
    return import_status_from_body(import_code, client.call("/emkt/import/get", {{"code", import_code}}));
}

ImportStatus import_status_from_body(const std::string& import_code, nlohmann::json body) {
    ImportStatus status;
    status.code = import_code;
    if (!body.is_object())
        bad_answer(std::string("/emkt/import/get answered a body that is ") + json_kind(body) + ", not an object");
    if (json_has_nul(body))
        bad_answer(
            "/emkt/import/get answered a report holding a NUL character (\\u0000), which PostgreSQL cannot store");
    status.body = std::move(body);
    auto errors = status.body.find("Errors");
    if (errors != status.body.end() && !errors->is_null()) {
        const long long n = count_of(*errors);
        if (n < 0)
            bad_answer("/emkt/import/get answered an Errors that is not a row count: " +
                       storable_text(errors->is_string() ? errors->get<std::string>() : errors->dump(), 60));
        status.errors = n;
    }
    return status;
}

}  // namespace dwu
