#include "core/dinamize/dinamize_import.h"

#include <set>
#include <stdexcept>

#include "core/dinamize/api_validation.h"
#include "core/dinamize/csv_writer.h"
#include "core/dinamize/dinamize_errors.h"

namespace dwu {
namespace {

[[noreturn]] void invalid(const std::string& message) { throw std::invalid_argument(message); }

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

long long count_of(const nlohmann::json& v) {
    if (v.is_number_integer()) return v.get<long long>();
    if (v.is_string()) {
        try {
            size_t used = 0;
            const long long n = std::stoll(v.get<std::string>(), &used);
            if (used == v.get_ref<const std::string&>().size()) return n;
        } catch (const std::exception&) {
        }
    }
    return -1;
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
    const nlohmann::json body = client.call_multipart("/emkt/contact", parts);
    std::string code;
    if (body.is_object()) {
        const auto c = body.value("code", nlohmann::json());
        if (c.is_string()) code = c.get<std::string>();
        if (c.is_number_integer()) code = std::to_string(c.get<long long>());
    }
    if (code.empty())
        throw DinamizeError(ErrorCategory::ApiError, "",
                            "Dinamize /emkt/contact (import) answered without an import code", false);
    return code;
}

ImportStatus get_import(DinamizeClient& client, const std::string& import_code) {
    check::code(import_code, "import code");
    ImportStatus status;
    status.code = import_code;
    status.body = client.call("/emkt/import/get", {{"code", import_code}});
    if (!status.body.is_object())
        throw DinamizeError(ErrorCategory::ApiError, "", "Dinamize /emkt/import/get answered with a non-object body",
                            false);
    auto errors = status.body.find("Errors");
    if (errors != status.body.end() && !errors->is_null()) {
        const long long n = count_of(*errors);
        if (n < 0)
            throw DinamizeError(ErrorCategory::ApiError, "", "Dinamize /emkt/import/get answered a non-numeric Errors",
                                false);
        status.errors = n;
    }
    return status;
}

}  // namespace dwu
