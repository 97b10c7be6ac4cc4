#include "core/sync/outcome_record.h"

namespace dwu {
namespace {

nlohmann::json text_or_null(const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); }

}  // namespace

nlohmann::json outcome_rows(const std::vector<DecidedOutcome>& batch) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& decided : batch) {
        // Outcomes are built outside run_job too (the backfill round): each is made storable
        // here, so that dump() never meets invalid UTF-8 and no value breaks the recording
        // statement of the whole batch.
        SyncOutcome o = decided.outcome;
        RetryDecision d = decided.decision;
        const bool was_ok = o.ok;
        make_storable(o);
        if (was_ok && !o.ok) d = RetryDecision{JobFate::Failed};
        rows.push_back({
            {"job_id", o.job_id},
            {"lead_id", o.lead_id},
            {"account_id", o.account_id},
            {"list_code", o.list_code},
            {"operation", o.operation},
            {"attempt", o.attempt},
            {"fate", fate_status(d.fate)},
            {"delay_ms", d.delay_ms},
            {"refund", d.refund_attempt},
            {"skipped", o.skipped},
            {"contact_code", text_or_null(o.contact_code)},
            {"category", o.category ? nlohmann::json(category_name(*o.category)) : nlohmann::json()},
            {"error_code", text_or_null(o.error_code)},
            {"message", text_or_null(o.message)},
            {"retry_after",
             o.category == ErrorCategory::RateLimit ? nlohmann::json(o.retry_after_seconds) : nlohmann::json()},
            {"duration_ms", o.duration_ms},
            {"request_unique", text_or_null(o.request_unique)},
        });
    }
    return rows;
}

}  // namespace dwu
