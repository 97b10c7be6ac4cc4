// libFuzzer target (issue 15: answers are data, never a crash). Arbitrary bytes are the body of a
// Dinamize answer, read by everything that reads answers: the bounded parser, the envelope and its
// classification, the values taken out of a success body (contact, import and search codes, the
// row builders of the SQL functions, the pull's rows), and the outcome the worker records,
// outcome_rows(...).dump(). The contract checked: nothing but DinamizeError comes out (anything
// else escapes and libFuzzer reports it), every text that is stored is valid UTF-8, NUL-free and
// bounded, every row dumps and reads back as JSON. Built and run by test/fuzz/run_fuzz.sh.
#include <nlohmann/json.hpp>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/dinamize/api_rows.h"
#include "core/dinamize/utf8.h"
#include "core/dinamize/dinamize_api.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/dinamize_import.h"
#include "core/dinamize/untrusted_json.h"
#include "core/sync/contact_sync.h"
#include "core/sync/outcome_record.h"
#include "core/sync/pull_diff.h"
#include "core/sync/retry_policy.h"
#include "core/sync/sync_job.h"

namespace {

using nlohmann::json;

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "response_fuzz: broken promise: %s\n", what);
    std::abort();
}

bool clean(const std::string& s) { return dwu::is_valid_utf8(s) && s.find('\0') == std::string::npos; }

void check_text(const std::string& s, size_t max_bytes, const char* what) {
    if (s.size() > max_bytes || !clean(s)) broken(what);
}

// Runs one reader of a success body; its typed error is an answer too (and must be clean text).
template <class Reader>
void typed(Reader&& read) {
    try {
        read();
    } catch (const dwu::DinamizeError& e) {
        if (!clean(e.what())) broken("a DinamizeError's message is not clean text");
        if (e.category() != dwu::ErrorCategory::Validation && e.category() != dwu::ErrorCategory::ApiError)
            broken("a success body's value classified other than VALIDATION or API_ERROR");
    }
}

void check_raw(const std::string& raw) {
    if (!clean(raw) || !dwu::parse_untrusted_json(raw).ok) broken("a row's raw is not JSON PostgreSQL can store");
}

// The recording statement's rows of one outcome: they dump, and read back as JSON.
void record(const dwu::SyncOutcome& o) {
    const dwu::RetryDecision d = dwu::decide(o, dwu::RetryPolicy{}, 0.5);
    const std::string text = dwu::outcome_rows({{o, d}}).dump();
    const dwu::UntrustedJson back = dwu::parse_untrusted_json(text);
    if (!back.ok || back.repaired || back.has_nul) broken("outcome rows do not read back as clean JSON");
}

void read_success_body(const json& body, dwu::SyncOutcome& out) {
    try {
        out.contact_code = dwu::contact_code_from_add(body);
        out.ok = true;
    } catch (const dwu::DinamizeError& e) {
        dwu::set_failure(out, e);
    }
    typed([&] { dwu::contact_code_from_search(body); });
    typed([&] { dwu::import_code_from_body(body); });
    typed([&] { check_raw(dwu::import_status_from_body("1", body).body.dump()); });
    const int wait = dwu::retry_after_seconds(body);
    if (wait < 1 || wait > 3600) broken("retry-after out of range");
    for (const char* key : {"items", "list"})
        typed([&] {
            const dwu::Page page = dwu::page_from_body(body, key);
            for (const auto& item : page.items) {
                typed([&] { check_raw(dwu::rows::contact_row(item).raw); });
                typed([&] { check_raw(dwu::rows::list_row(item).raw); });
                typed([&] { check_raw(dwu::rows::field_row(item).raw); });
                typed([&] { dwu::rows::value_row(item); });
                typed([&] { check_raw(dwu::rows::history_row(item).raw); });
                typed([&] { check_raw(dwu::rows::optout_row(item).raw); });
            }
            static const dwu::FieldMap field_map = dwu::parse_field_map("dwu_phone:cmp4,dwu_tags:cmp6");
            long skipped = 0;
            const std::string rows = dwu::pull_rows(page.items, field_map, &skipped).dump();
            if (!clean(rows)) broken("pull rows are not clean text");
            const dwu::UntrustedJson items =
                dwu::parse_untrusted_json(dwu::storable_items(page.items, &skipped).dump());
            if (!items.ok || items.has_nul) broken("storable items are not storable");
        });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);

    // The parser on its own: never throws; what it builds copies and dumps (bounded depth).
    const dwu::UntrustedJson parsed = dwu::parse_untrusted_json(bytes);
    if (parsed.ok) {
        const json copy = parsed.value;
        if (dwu::json_has_nul(copy) != parsed.has_nul) broken("has_nul disagrees with the parsed value");
        (void)copy.dump();
    }
    check_text(dwu::storable_text(bytes, 200), 200, "storable_text");
    if (dwu::utf8_prefix_length(dwu::repair_utf8(bytes), 100) > 100) broken("utf8_prefix_length");

    // The bytes as the answer to a job's contact/add.
    dwu::SyncOutcome out;
    out.job_id = 1;
    out.lead_id = 2;
    out.account_id = 3;
    out.list_code = "7";
    out.operation = "create";
    out.attempt = 1;
    try {
        std::string request_unique;
        const json body = dwu::answer_body(dwu::HttpResponse{200, bytes, 1}, "/emkt/contact/add", &request_unique);
        check_text(request_unique, dwu::kMaxRequestUniqueBytes, "request_unique");
        out.request_unique = request_unique;
        read_success_body(body, out);
    } catch (const dwu::DinamizeError& e) {
        dwu::set_failure(out, e);
        check_text(e.dinamize_code(), dwu::kMaxErrorCodeBytes, "error code");
    }
    dwu::make_storable(out);
    check_text(out.message, dwu::kMaxMessageBytes, "message");
    check_text(out.error_code, dwu::kMaxErrorCodeBytes, "error_code");
    check_text(out.request_unique, dwu::kMaxRequestUniqueBytes, "outcome request_unique");
    if (out.ok && !dwu::is_dinamize_code(out.contact_code)) broken("a success without a usable contact code");
    record(out);

    // The same bytes straight into every text of an outcome built outside run_job (the backfill
    // round builds its own): outcome_rows alone must make them storable.
    dwu::SyncOutcome raw = out;
    raw.ok = size % 2 == 0;
    raw.category = raw.ok ? std::nullopt : std::optional<dwu::ErrorCategory>(dwu::ErrorCategory::ApiError);
    raw.contact_code = bytes.substr(0, 40);
    raw.error_code = bytes;
    raw.message = bytes;
    raw.request_unique = bytes;
    raw.operation = bytes.substr(0, 12);
    raw.duration_ms = size > 8 ? LONG_MAX - data[0] : -1;
    record(raw);
    return 0;
}
