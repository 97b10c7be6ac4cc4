// The bulk import (reference §6): POST /emkt/contact, multipart/form-data with parts "file" (CSV),
// "command" = "import" and "parameters" (JSON); POST /emkt/import/get reports on it.
//
// Choices where the reference is silent, all [I]:
// - Processing is synchronous: the report is final as soon as the import code is returned.
// - file_columns Field "1" = e-mail (the one column required), "2" = name, "3" = external_code,
//   N >= 4 = custom field cmpN; any other code is a validation error. Rule must be digits; every
//   rule overwrites (S1 always sends "3").
// - Rows are upserted by e-mail (case-insensitive) within the list: an existing contact gets the
//   row's values, a new one is added. A later row for the same e-mail wins.
// - A row is rejected (counted in Errors, nothing applied) when it has fewer values than the
//   highest Position needs, a different width than the header row, or an invalid e-mail.
//   Lines that are entirely empty are skipped.
// - CSV: RFC 4180 with the given separator: '"'-quoted fields, '""' for a quote, line breaks
//   inside quotes; CRLF, LF or CR ends a record; a UTF-8 BOM is ignored; the file must be UTF-8.
// - Report body: {"code", "contact-list_code", "Status": "FINISHED", "Lines", "Inserted",
//   "Updated", "Errors"}, counts as strings like the API's other scalars. Only Errors is [C].
#pragma once

#include "contact.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sim {

struct ImportColumn {
    std::size_t position = 0;
    std::string field;  // "email", "name", "external_code" or "cmpN"
};

struct ImportParameters {
    std::string list;  // canonical numeric
    char separator = ';';
    bool header = true;
    std::vector<ImportColumn> columns;
};

// Throws ApiError (validation) for malformed parameters.
ImportParameters parse_import_parameters(const std::string& json_text);

// RFC 4180 records. `unterminated` is set when the file ends inside a quoted field (the last
// record then holds what was read).
std::vector<std::vector<std::string>> parse_csv(const std::string& text, char separator, bool& unterminated);

struct ImportPlan {
    std::vector<ContactInput> rows;  // the accepted rows, in file order
    std::uint64_t lines = 0;         // data records read (header and empty lines not counted)
    std::uint64_t errors = 0;        // rejected records
};

// Throws ApiError (validation) when the file is not UTF-8.
ImportPlan plan_import(const std::string& csv, const ImportParameters& params);

// Reports of finished imports, per account.
class ImportLog {
public:
    // Stores `report` (its "code" is filled in) and returns the new import code.
    std::string add(const std::string& client, nlohmann::json report);
    // ApiError (not found) for an unknown code or another account's import.
    nlohmann::json get(const std::string& client, const std::string& code) const;
    void reset();

private:
    static constexpr std::uint64_t kFirstImportCode = 1873701;
    mutable std::mutex mutex_;
    std::map<std::string, std::map<std::string, nlohmann::json>> reports_;  // client -> code -> report
    std::uint64_t next_code_ = kFirstImportCode;
};

}  // namespace sim
