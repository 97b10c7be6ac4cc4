#pragma once
#include "core/pg_free.h"
// Whatever a server at base_url answers is data, never a crash: JSON from the network is parsed
// here, with a nesting limit checked BEFORE any value is built (copies and dump() of a parsed
// nlohmann value recurse once per level: 100,000 levels are a stack overflow), and the strings
// taken out of answers are made storable (valid UTF-8, no NUL, bounded) before they reach a
// column, a log line or an error message. PostgreSQL-free; nothing here throws except
// std::bad_alloc.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace dwu {

// Dinamize's envelope is 4-5 levels deep ({"body": {"items": [{"custom_fields": {"cmp4": [...]}}]}}).
inline constexpr int kMaxJsonDepth = 64;
// Values (array elements, object members) one answer may hold: a page of 10,000 contacts with
// 50 custom fields each has about 600,000. Each costs 16 to ~100 bytes once parsed, so a 64 MiB
// answer of tiny values cannot blow up into gigabytes.
inline constexpr size_t kMaxJsonValues = 2000000;

// What the columns that hold text from answers accept (sql/dwu_crm--0.2.0.sql): crm_sync_logs and
// crm_sync_queue's error code is varchar(50), crm_sync_logs.dwu_request_unique varchar(100); the
// messages are text, bounded here so that one answer cannot fill the logs.
inline constexpr size_t kMaxErrorCodeBytes = 50;
inline constexpr size_t kMaxRequestUniqueBytes = 100;
inline constexpr size_t kMaxMessageBytes = 2000;

struct UntrustedJson {
    nlohmann::json value;  // discarded (is_discarded()) when !ok
    bool ok = false;
    bool too_deep = false;   // refused before parsing: nested deeper than the limit
    bool too_large = false;  // refused before parsing: more values than kMaxJsonValues
    bool repaired = false;   // held invalid UTF-8 (which JSON forbids), replaced by U+FFFD
    bool has_nul = false;    // a \u0000 appears in some string or key (PostgreSQL text/jsonb refuse it)
    std::string problem;     // why !ok, for a message: "nested deeper than 64 levels", ...
};

// Parses `text` from outside (the network, Redis). Depth and size are checked by a scan of the
// bytes first (brackets counted outside strings), so an over-deep value is never built, not even
// partly. Invalid UTF-8 byte sequences are replaced by U+FFFD first: one mis-encoded text (a
// Latin-1 code_detail) must not hide the answer's code. Syntax errors give !ok, never an exception;
// so does a raw NUL byte anywhere (nlohmann would stop there and ignore what follows).
UntrustedJson parse_untrusted_json(std::string_view text, int max_depth = kMaxJsonDepth);

// The deepest nesting of '[' / '{' outside strings, counting stops once it passes `stop_above`.
// For valid JSON this is exactly the depth nlohmann's parser reaches; for invalid JSON it is at
// least the depth the parser reaches before it gives up.
int json_nesting_depth(std::string_view text, int stop_above);

// Text fit for a column or a log line: valid UTF-8 (bad bytes become U+FFFD), NULs removed,
// other control characters but tab, CR and LF replaced by U+FFFD, and at most `max_bytes` bytes,
// cut between two characters (never inside one) and then ending in "..." so the cut shows.
// max_bytes bounds characters too (varchar(n) counts characters; each is at least one byte).
std::string storable_text(std::string_view s, size_t max_bytes);

// True when some string or key in `v` holds a NUL. Walks with an explicit stack (no recursion).
bool json_has_nul(const nlohmann::json& v);

// "1".."18 digits": a Dinamize code (list, contact, field, import) we can send back in a request
// (check::code's rule). Contact codes are stored as varchar(32) of digits, which this implies.
bool is_dinamize_code(std::string_view s);

// A JSON scalar as text, for codes and ids Dinamize may send as a string or a number: a string as
// is, an integer as its digits; anything else (float, bool, object, null) is empty.
std::string json_scalar_text(const nlohmann::json& v);

// For messages: "a string", "an array", "an object", "a number", "a boolean", "null".
const char* json_kind(const nlohmann::json& v);

}  // namespace dwu
