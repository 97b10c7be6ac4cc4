// The sync worker: claim a batch in one short transaction, call Dinamize with no transaction
// open, record the outcomes in another. Woken by commits that enqueue (see wake_at_commit.cpp).
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/dinamize_client.h"
#include "core/outcome_record.h"
#include "core/retry_policy.h"
#include "core/sync_job.h"
#include "pg/job_store.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/shared_state.h"
#include "pg/transaction.h"

namespace {

constexpr long kRetryAfterErrorMs = 1000;  // after a failed claim/record transaction
constexpr long kExtensionCheckMs = 1000;   // while CREATE EXTENSION has not run yet

// Polled by libcurl's loop: only reads the flag that die() sets.
bool shutdown_requested() { return ProcDiePending; }

void wait_ms(long ms) {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

std::string guc(const char* v) { return v ? std::string(v) : std::string(); }

// Everything the worker needs from the GUCs, rebuilt on SIGHUP.
struct Session {
    std::string list_code;
    dwu::FieldMap field_map;
    dwu::RetryPolicy policy;
    std::unique_ptr<dwu::HttpTransport> http;
    std::unique_ptr<dwu::DinamizeClient> client;
    std::string missing;  // name of a required setting that is empty, if any
};

std::unique_ptr<Session> build_session() {
    auto s = std::make_unique<Session>();
    const std::pair<const char*, const char*> required[] = {
        {"dwu_crm.dinamize_base_url", dwu_base_url}, {"dwu_crm.dinamize_user", dwu_user},
        {"dwu_crm.dinamize_password", dwu_password}, {"dwu_crm.dinamize_client_code", dwu_client_code},
        {"dwu_crm.dinamize_list_code", dwu_list_code}};
    for (const auto& [name, value] : required)
        if (value == nullptr || *value == '\0') {
            s->missing = name;
            return s;
        }
    s->list_code = guc(dwu_list_code);
    s->field_map = dwu::parse_field_map(guc(dwu_field_map));  // already validated by its GUC check hook
    s->policy.max_attempts = dwu_max_attempts;
    s->policy.base_delay_seconds = dwu_retry_base_seconds;
    s->policy.max_delay_seconds = dwu_retry_max_seconds;
    dwu::HttpOptions http;
    http.timeout_ms = dwu_request_timeout_ms;
    http.connect_timeout_ms = dwu_connect_timeout_ms;
    http.verify_tls = dwu_verify_tls;
    s->http = std::make_unique<dwu::HttpTransport>(http, shutdown_requested);
    s->client = std::make_unique<dwu::DinamizeClient>(
        dwu::Account(guc(dwu_base_url), guc(dwu_user), guc(dwu_password), guc(dwu_client_code)), *s->http);
    return s;
}

// One claim → call → record round. Returns how long to sleep before the next (0 = go on).
long run_round(Session& s, std::mt19937_64& rng) {
    std::vector<dwu::SyncJob> jobs;
    long next_due_ms = -1;
    if (!dwu_claim_jobs(dwu_batch_size, dwu_lease_seconds, s.list_code, jobs, next_due_ms)) return kRetryAfterErrorMs;
    const long idle_ms = dwu_idle_check_seconds * 1000L;
    if (jobs.empty()) return next_due_ms < 0 ? idle_ms : Min(Max(next_due_ms, 10L), idle_ms);

    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<dwu::DecidedOutcome> done;
    std::vector<long long> unattempted;
    char activity[64];
    snprintf(activity, sizeof activity, "dwu_crm: sending %zu job(s) to Dinamize", jobs.size());
    pgstat_report_activity(STATE_RUNNING, activity);
    pgstat_report_wait_start(PG_WAIT_EXTENSION);  // no transaction is open while we wait on HTTP
    for (const auto& job : jobs) {
        if (!unattempted.empty() || shutdown_requested()) {
            unattempted.push_back(job.id);
            continue;
        }
        try {
            dwu::SyncOutcome outcome = dwu::run_job(*s.client, job, s.list_code, s.field_map);
            dwu::RetryDecision decision = dwu::decide(outcome, s.policy, uniform(rng));
            done.push_back({std::move(outcome), decision});
        } catch (const dwu::Interrupted&) {
            unattempted.push_back(job.id);
        }
    }
    pgstat_report_wait_end();
    // Record even when shutting down: a finished call must not be sent again.
    const bool stopping = shutdown_requested();
    if (stopping) HOLD_INTERRUPTS();
    const std::string rows = dwu::outcome_rows(done).dump();
    const bool recorded = dwu_record_outcomes(rows, s.list_code);
    const bool released = dwu_release_jobs(unattempted);
    if (stopping) RESUME_INTERRUPTS();
    return recorded && released ? 0 : kRetryAfterErrorMs;
}

void worker_loop() {
    std::mt19937_64 rng(std::random_device{}());
    std::unique_ptr<Session> session = build_session();
    bool said_missing = false, said_no_extension = false, recovered = false;
    for (;;) {
        dwu_check_for_interrupts();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            session = build_session();  // new credentials, timeouts, list: start with a fresh token
            said_missing = false;
        }
        if (!dwu_extension_installed()) {
            if (!said_no_extension)
                ereport(LOG, (errmsg("dwu_crm worker is waiting for CREATE EXTENSION dwu_crm in database \"%s\"",
                                     dwu_database)));
            said_no_extension = true;
            recovered = false;
            wait_ms(kExtensionCheckMs);
            continue;
        }
        said_no_extension = false;
        if (!recovered) {
            int n = 0;
            recovered = dwu_recover_jobs(&n);
            if (n > 0) ereport(LOG, (errmsg("dwu_crm worker put %d unfinished job(s) back in the queue", n)));
        }
        if (!session->missing.empty()) {
            if (!said_missing)
                ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                  errmsg("dwu_crm worker is idle: %s is not set", session->missing.c_str()),
                                  errhint("Set it in postgresql.conf and reload; queued jobs wait meanwhile.")));
            said_missing = true;
            wait_ms(dwu_idle_check_seconds * 1000L);
            continue;
        }
        const long sleep_ms = run_round(*session, rng);
        if (sleep_ms > 0) wait_ms(sleep_ms);
    }
}

}  // namespace

extern "C" PGDLLEXPORT void dwu_crm_worker_main(Datum);

void dwu_crm_worker_main(Datum database_oid) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(database_oid), InvalidOid, 0);
    pgstat_report_appname("dwu_crm sync worker");
    dwu_job_store_init();
    dwu_publish_worker_latch();

    // No C++ exception may reach PostgreSQL: catch here, log after the handler is left.
    char failure[512] = "";
    try {
        worker_loop();
    } catch (const std::exception& e) {
        snprintf(failure, sizeof failure, "%s", e.what());
    } catch (...) {
        snprintf(failure, sizeof failure, "unknown exception");
    }
    ereport(LOG, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("dwu_crm sync worker stopped: %s", failure)));
    proc_exit(1);
}
