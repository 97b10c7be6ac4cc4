#include "pg/worker/outcome_recorder.h"

#include <string>

#include "pg/worker/job_store.h"
#include "pg/pg_headers.h"  // after the headers that include core ones
#include "pg/worker/transaction.h"

namespace dwu_worker {
namespace {

// Invalid UTF-8 in an answer (a code_detail cut mid-character) becomes U+FFFD instead of an
// exception: the record statement reads valid JSON.
std::string rows_json(const std::vector<dwu::DecidedOutcome>& batch) {
    return dwu::outcome_rows(batch).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What is recorded instead of an outcome the tables refused: the job fails for good, with no
// value taken from the answer.
dwu::DecidedOutcome unrecordable(const dwu::DecidedOutcome& d) {
    const dwu::SyncOutcome& o = d.outcome;
    dwu::DecidedOutcome f;
    f.outcome.job_id = o.job_id;
    f.outcome.lead_id = o.lead_id;
    f.outcome.account_id = o.account_id;
    f.outcome.list_code = o.list_code;
    f.outcome.operation = o.operation;
    f.outcome.attempt = o.attempt;
    f.outcome.category = dwu::ErrorCategory::ApiError;
    f.outcome.message = std::string("Dinamize's answer could not be recorded (") + (o.ok ? "success" : "error") +
                        " with values the tables refuse; the server log has the error): the job is failed so it "
                        "is not sent again";
    f.outcome.duration_ms = o.duration_ms;
    f.decision.fate = dwu::JobFate::Failed;
    return f;
}

}  // namespace

bool record_outcomes(const std::vector<dwu::DecidedOutcome>& done) {
    if (dwu_record_outcomes(rows_json(done))) return true;
    if (done.empty() || dwu_last_transaction_was_busy()) return false;
    ereport(WARNING, (errmsg("dwu_crm worker could not record a batch of %zu outcomes; recording them one by one",
                             done.size())));
    bool any = false;
    for (const dwu::DecidedOutcome& d : done) {
        if (dwu_record_outcomes(rows_json({d})) || dwu_record_outcomes(rows_json({unrecordable(d)}))) {
            any = true;
            continue;
        }
        if (dwu_last_transaction_was_busy()) return any;
    }
    return any;
}

}  // namespace dwu_worker
