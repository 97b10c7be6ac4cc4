#pragma once
#include "core/pg_free.h"
// The Dinamize bulk import (reference §6): one multipart POST /emkt/contact with a CSV file loads
// many contacts into a list and counts as one call against the 60/min budget; POST
// /emkt/import/get reports on it. PostgreSQL-free.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/dinamize/dinamize_client.h"

namespace dwu {

// Field codes of file_columns. "1" is the e-mail in every call seen [C S1]; N >= 4 is the custom
// field cmpN. 2 = name and 3 = external_code are our reading of "codes 1-3 are system fields"
// [I]: the simulator maps them so, the real API may not.
namespace import_field {
inline constexpr const char* kEmail = "1";
inline constexpr const char* kName = "2";          // [I]
inline constexpr const char* kExternalCode = "3";  // [I]
}  // namespace import_field

struct ImportColumn {
    std::string field;       // field code, see import_field; "7" = cmp7
    std::string rule = "3";  // "3" in every call seen; meaning undocumented (probably overwrite)
};

struct ContactImport {
    std::string list_code;                       // contact-list_code
    std::vector<ImportColumn> columns;           // one per CSV column; Position = index
    std::vector<std::vector<std::string>> rows;  // one value per column each, UTF-8
    std::vector<std::string> header;             // column titles; empty = no header row
    char separator = ';';
};

// Panel limit for import files (reference §6, UI; the API's own limit is unknown) [I].
inline constexpr size_t kMaxImportFileBytes = 30u * 1024 * 1024;

// The CSV file and the `parameters` JSON of an import, validated: a list code; at least one column
// and one row; exactly one e-mail column; field codes unique and numeric; every row (and the
// header, if any) as wide as `columns`; UTF-8 values; a separator that is not '"', CR or LF.
// Row contents (e.g. a malformed e-mail) are left to Dinamize, which counts rejected rows in
// Errors instead of refusing the whole file. Throws std::invalid_argument.
std::string import_csv(const ContactImport& import);
nlohmann::json import_parameters(const ContactImport& import);

// Uploads the file; returns the import code (body.code).
std::string import_contacts(DinamizeClient& client, const ContactImport& import);

struct ImportStatus {
    std::string code;
    std::optional<long long> errors;  // body.Errors: rows rejected; absent while not reported
    nlohmann::json body;              // the whole report, raw
};

// POST /emkt/import/get {"code": import_code}.
ImportStatus get_import(DinamizeClient& client, const std::string& import_code);

// What the two calls make of an answer's body. The import code: 1-18 digits (as a string or an
// integer); none: API_ERROR. The report: an object without NUL characters, Errors (when present)
// a row count as an integer or a string of digits. Anything else: VALIDATION (not retryable).
std::string import_code_from_body(const nlohmann::json& body);
ImportStatus import_status_from_body(const std::string& import_code, nlohmann::json body);

}  // namespace dwu
