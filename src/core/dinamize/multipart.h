#pragma once
#include "core/pg_free.h"
// multipart/form-data bodies (RFC 7578) for the one Dinamize call that is not JSON: the bulk
// import (reference §6). PostgreSQL-free.
#include <string>
#include <vector>

namespace dwu {

struct MultipartPart {
    std::string name;          // form field name, e.g. "file", "command"
    std::string data;          // the part's bytes
    std::string filename;      // non-empty: sent as a file part (filename="...")
    std::string content_type;  // optional, e.g. "text/csv; charset=utf-8"
};

struct MultipartBody {
    std::string content_type;  // "multipart/form-data; boundary=..."
    std::string body;
};

// Builds the body with a random boundary that occurs in no part (a new one is drawn until it
// does not). Throws std::invalid_argument for a part without a name or with a name, filename or
// content type holding '"', CR or LF (they would break the part's headers).
MultipartBody build_multipart(const std::vector<MultipartPart>& parts);

}  // namespace dwu
