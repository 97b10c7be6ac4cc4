#pragma once
#include "core/pg_free.h"
// CSV for the Dinamize bulk import (reference §6: ';'-separated, header row, UTF-8), quoted per
// RFC 4180 so that separators, quotes and line breaks inside values survive. PostgreSQL-free.
#include <string>
#include <string_view>
#include <vector>

namespace dwu {

// One value as a CSV field: quoted (with '"' doubled) when it holds the separator, '"', CR, LF,
// or leading/trailing blanks; as is otherwise.
std::string csv_field(std::string_view value, char separator);

// Appends one record (fields joined by `separator`, ended by CRLF).
void append_csv_record(std::string& out, const std::vector<std::string>& fields, char separator);

}  // namespace dwu
