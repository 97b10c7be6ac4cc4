#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/sync/backfill.h"
#include "core/sync/outcome_record.h"
#include "pg/worker/job_store.h"
#include "pg/worker/outcome_recorder.h"
#include "pg/worker/worker_rounds.h"
#include "pg/pg_headers.h"  // after the headers that include core ones
#include "pg/settings.h"
#include "pg/shared_state.h"

namespace dwu_worker {

// A backfill round: up to dwu_crm.import_batch due creates of one account go to Dinamize as one
// bulk import; the codes are mapped back and recorded like single calls. Jobs the import could
// not carry (rejected rows, a lead gone, effectively a delete) are sent one by one.
namespace {

// The rows of a failed import were one request: they are retried together, at the latest of their
// due times. Jittered one by one, they would come back a few at a time, under the import
// threshold, and go one request per lead: 2,000 requests where one import would do.
void retry_together(std::vector<dwu::DecidedOutcome>& done, size_t first) {
    long latest = 0;
    for (size_t i = first; i < done.size(); ++i)
        if (done[i].decision.fate == dwu::JobFate::Retry) latest = std::max(latest, done[i].decision.delay_ms);
    for (size_t i = first; i < done.size(); ++i)
        if (done[i].decision.fate == dwu::JobFate::Retry) done[i].decision.delay_ms = latest;
}

}  // namespace

long run_backfill_round(WorkerState& w, std::mt19937_64& rng, long long account_id) {
    std::vector<dwu::SyncJob> jobs;
    long next_due_ms = -1;
    const int lease = Max(dwu_lease_seconds, 1800);  // an import, its report and the list read back
    if (!dwu_claim_jobs(dwu_import_batch, lease, jobs, next_due_ms, account_id, true)) return kRetryAfterErrorMs;
    dwu_worker_claimed(static_cast<int>(jobs.size()), 1);  // an import is long: let another worker go on
    if (jobs.empty()) return 0;
    std::vector<long long> ids;
    for (const auto& job : jobs) ids.push_back(job.id);
    Session& s = session_for(w, account_id, jobs.front().config_version);
    if (!s.unusable.empty()) {
        log_once(w.last_warning, s.unusable);
        return dwu_release_jobs(ids, kUnusableAccountDelayMs) ? 0 : kRetryAfterErrorMs;
    }
    s.used = true;

    std::map<long long, const dwu::SyncJob*> by_id;
    std::vector<dwu::BackfillItem> items;
    std::vector<long long> one_by_one;
    for (const auto& job : jobs) {
        by_id[job.id] = &job;
        dwu::BackfillItem item;
        item.job_id = job.id;
        bool importable = job.operation == "create" && !job.lead_json.empty();
        if (importable) {
            try {
                item.contact = dwu::contact_from_lead(nlohmann::json::parse(job.lead_json), w.field_map);
            } catch (const std::exception&) {
                importable = false;  // run_job reports the problem for this lead alone
            }
        }
        if (importable)
            items.push_back(std::move(item));
        else
            one_by_one.push_back(job.id);
    }

    char activity[128];
    snprintf(activity, sizeof activity, "dwu_crm: importing %zu new leads into Dinamize account %lld", items.size(),
             account_id);
    pgstat_report_activity(STATE_RUNNING, activity);
    pgstat_report_wait_start(PG_WAIT_EXTENSION);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<dwu::DecidedOutcome> done;
    std::vector<long long> unattempted;
    long deferred_ms = 0;
    auto add_outcome = [&](dwu::SyncOutcome o) {
        dwu::RetryDecision decision = dwu::decide(o, w.policy, uniform(rng));
        done.push_back({std::move(o), decision});
    };
    try {
        w.sessions.adopt_shared_token(s);
        dwu::RateGate* gate = w.sessions.gate();
        deferred_ms = gate ? gate->admit_job(s.limiter_key) : 0;
        if (deferred_ms == 0 && !items.empty()) {
            const auto started = std::chrono::steady_clock::now();
            try {
                const dwu::BackfillReport report = dwu::backfill_contacts(
                    *s.client, s.list_code, items, [&w](long ms) { return w.sessions.sleep_on_latch(ms); });
                const long ms = static_cast<long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                        .count());
                for (const auto& [job_id, code] : report.codes) {
                    dwu::SyncOutcome o = dwu::outcome_for(*by_id[job_id]);
                    o.ok = true;
                    o.contact_code = code;
                    o.message = "imported (Dinamize import " + report.import_code + ", " +
                                std::to_string(items.size()) + " leads, " + std::to_string(report.requests) +
                                " requests)";
                    o.request_unique = report.import_code;
                    o.duration_ms = ms;
                    add_outcome(std::move(o));
                }
                one_by_one.insert(one_by_one.end(), report.send_one_by_one.begin(), report.send_one_by_one.end());
            } catch (const dwu::DinamizeError& e) {
                // The import failed as a whole: every row gets that error, and the retry policy.
                if (e.category() == dwu::ErrorCategory::RateLimit) w.sessions.rate_limited(s, e.retry_after_seconds());
                const size_t first = done.size();
                for (const auto& item : items) {
                    dwu::SyncOutcome o = dwu::outcome_for(*by_id[item.job_id]);
                    o.category = e.category();
                    o.error_code = e.dinamize_code();
                    o.message = std::string("bulk import failed: ") + e.what();
                    o.retryable = e.retryable();
                    o.retry_after_seconds = e.retry_after_seconds();
                    add_outcome(std::move(o));
                }
                retry_together(done, first);
            }
            if (gate) gate->end_job();
        }
        if (deferred_ms == 0)
            for (long long id : one_by_one) {
                if (shutdown_requested()) break;  // the rest goes back to the queue below
                add_outcome(send_job(w, s, *by_id[id]));
            }
    } catch (const dwu::Interrupted&) {
        // Stopping: what has no outcome yet goes back (an import that may have landed is
        // harmless to repeat: it upserts by e-mail).
    }
    pgstat_report_wait_end();
    pgstat_report_activity(STATE_IDLE, nullptr);
    std::set<long long> decided;
    for (const auto& d : done) decided.insert(d.outcome.job_id);
    for (long long id : ids)
        if (!decided.count(id)) unattempted.push_back(id);

    const bool stopping = shutdown_requested();
    if (stopping) HOLD_INTERRUPTS();
    const bool recorded = record_outcomes(done);
    const bool released = dwu_release_jobs(unattempted, deferred_ms);
    keep_tokens(w, s);
    if (stopping) RESUME_INTERRUPTS();
    w.sessions.log_limiter_changes(WARNING, "dwu_crm worker");
    return recorded && released ? 0 : kRetryAfterErrorMs;
}

}  // namespace dwu_worker
