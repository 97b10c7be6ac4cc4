#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/sync/outcome_record.h"
#include "pg/worker/job_store.h"
#include "pg/worker/outcome_recorder.h"
#include "pg/worker/worker_rounds.h"
#include "pg/pg_headers.h"  // after the headers that include core ones
#include "pg/settings.h"
#include "pg/shared_state.h"

namespace dwu_worker {

bool claim_batch(RoundBatch& b, long& sleep_ms) {
    // Taken before the claim, whose now() comes later: the leases end no sooner than this says.
    b.lease_ends = std::chrono::steady_clock::now() + std::chrono::seconds(dwu_lease_seconds);
    long next_due_ms = -1;
    if (!dwu_claim_jobs(dwu_batch_size, dwu_lease_seconds, b.jobs, next_due_ms)) {
        sleep_ms = kRetryAfterErrorMs;
        return false;
    }
    dwu_worker_claimed(static_cast<int>(b.jobs.size()), dwu_batch_size);
    const long idle_ms = dwu_idle_check_seconds * 1000L;
    if (b.jobs.empty()) {
        sleep_ms = next_due_ms < 0 ? idle_ms : Min(Max(next_due_ms, 10L), idle_ms);
        return false;
    }
    return true;
}

bool job_must_wait(WorkerState& w, RoundBatch& b, const dwu::SyncJob& job, Session*& session) {
    Session& s = session_for(w, job.account_id, job.config_version);
    if (!s.unusable.empty()) {
        b.problem = s.unusable;
        b.deferred[kUnusableAccountDelayMs].push_back(job.id);
        return true;
    }
    if (auto pause = b.paused.find(job.account_id); pause != b.paused.end()) {
        b.deferred[pause->second].push_back(job.id);
        return true;
    }
    s.used = true;
    session = &s;
    return false;
}

long finish_round(WorkerState& w, RoundBatch& b) {
    // Record even when shutting down: a finished call must not be sent again.
    const bool stopping = shutdown_requested();
    if (stopping) HOLD_INTERRUPTS();
    const bool recorded = record_outcomes(b.done);
    bool released = dwu_release_jobs(b.unattempted);
    for (const auto& [delay_ms, ids] : b.deferred) released = dwu_release_jobs(ids, delay_ms) && released;
    for (auto& [account_id, s] : w.sessions.all()) keep_tokens(w, s);
    if (stopping) RESUME_INTERRUPTS();
    w.sessions.log_limiter_changes(WARNING, "dwu_crm worker");
    if (!b.problem.empty()) log_once(w.last_warning, b.problem);
    return recorded && released ? 0 : kRetryAfterErrorMs;
}

long run_round(WorkerState& w, std::mt19937_64& rng) {
    RoundBatch b;
    long sleep_ms = 0;
    if (!claim_batch(b, sleep_ms)) return sleep_ms;
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (auto& [id, s] : w.sessions.all()) s.used = false;

    char activity[96];
    for (const dwu::SyncJob& job : b.jobs) {
        if (!b.unattempted.empty() || shutdown_requested()) {
            b.unattempted.push_back(job.id);
            continue;
        }
        // A send never starts on a lease that could run out before it ends, and the jobs already
        // sent keep theirs until their outcomes are recorded: otherwise another worker claims a
        // job and sends it again, and its older payload can reach Dinamize last.
        if (leases_need_renewal(b) && !renew_batch_leases(b)) {
            b.unattempted.push_back(job.id);
            continue;
        }
        if (lost_to_another_worker(b, job.id)) continue;
        Session* session = nullptr;
        if (job_must_wait(w, b, job, session)) continue;
        Session& s = *session;
        snprintf(activity, sizeof activity, "dwu_crm: sending job %lld (%s) to Dinamize account %lld", job.id,
                 job.operation.c_str(), job.account_id);
        pgstat_report_activity(STATE_RUNNING, activity);
        pgstat_report_wait_start(PG_WAIT_EXTENSION);  // no transaction is open while we wait on HTTP
        try {
            w.sessions.adopt_shared_token(s);
            dwu::RateGate* gate = w.sessions.gate();
            const long wait = gate ? gate->admit_job(s.limiter_key) : 0;
            if (wait > 0) {
                // Not a failed attempt: the job and the account's others in this batch wait.
                b.paused[job.account_id] = wait;
                b.deferred[wait].push_back(job.id);
            } else {
                dwu::SyncOutcome outcome = send_job(w, s, job);
                // Dinamize's own 240024 paused the account: its other jobs of this batch wait too.
                if (outcome.category == dwu::ErrorCategory::RateLimit)
                    b.paused[job.account_id] = Max(1, outcome.retry_after_seconds) * 1000L;
                dwu::RetryDecision decision = dwu::decide(outcome, w.policy, uniform(rng));
                b.done.push_back({std::move(outcome), decision});
            }
        } catch (const dwu::Interrupted&) {
            b.unattempted.push_back(job.id);
        }
        pgstat_report_wait_end();
    }
    pgstat_report_activity(STATE_IDLE, nullptr);
    return finish_round(w, b);
}

bool leases_need_renewal(const RoundBatch& b) {
    // What one send may take: a login and the call, each up to the request timeout, and a margin.
    const auto send_takes = std::chrono::milliseconds(2L * dwu_request_timeout_ms + 1000);
    return std::chrono::steady_clock::now() + send_takes > b.lease_ends;
}

bool lost_to_another_worker(const RoundBatch& b, long long job_id) {
    return std::find(b.lost.begin(), b.lost.end(), job_id) != b.lost.end();
}

bool renew_batch_leases(RoundBatch& b) {
    const auto renewing = std::chrono::steady_clock::now();
    std::vector<long long> held, kept;
    for (const dwu::SyncJob& j : b.jobs)
        if (!lost_to_another_worker(b, j.id)) held.push_back(j.id);
    if (!dwu_renew_leases(held, dwu_lease_seconds, kept)) return false;
    b.lease_ends = renewing + std::chrono::seconds(dwu_lease_seconds);
    for (long long id : held)
        if (std::find(kept.begin(), kept.end(), id) == kept.end()) b.lost.push_back(id);
    return true;
}

}  // namespace dwu_worker
