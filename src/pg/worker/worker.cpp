// The sync worker's entry point and loop: settings reloads, waiting for the extension, recovery of
// jobs left by a dead worker, then rounds: the captured writes moved into the queue and the audit
// log (move_captured_changes; the table vacuumed now and then), then a batch of jobs or a backfill
// through the bulk import (worker_rounds.h), and between rounds pulls and webhooks
// (pull_runner.h). Sleeps on its latch, which captured commits set (capture/wake_at_commit.cpp). State
// and sessions: worker_state.h.
#include <malloc.h>

#include <chrono>
#include <random>
#include <string>

#include "core/version.h"
#include "pg/capture/capture_mover.h"
#include "pg/worker/extension_state.h"
#include "pg/worker/job_store.h"
#include "pg/worker/pull_runner.h"
#include "pg/worker/queue_statistics.h"
#include "pg/worker/retention.h"
#include "pg/worker/worker_rounds.h"
#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"  // after the headers that include core ones
#include "pg/settings.h"
#include "pg/shared_state.h"
#include "pg/worker/transaction.h"

namespace {

using namespace dwu_worker;

constexpr long kExtensionCheckMs = 1000;  // while CREATE EXTENSION has not run yet
constexpr long kBusyTablesRetryMs = 10;   // while maintenance locks one of the worker's tables
// Commits wake the worker even when their jobs are not due yet (a paused account, a debounced
// update). From the second empty round in a row, rounds start at least 10 ms apart, doubling up to
// 50 ms: a stream of such commits costs a few empty claims a second, not one per commit.
std::chrono::milliseconds empty_round_gap(int empty_rounds_in_row) {
    if (empty_rounds_in_row < 2) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(Min(10L << Min(empty_rounds_in_row - 2, 3), 50L));
}
// Pulls and webhooks (short transactions of their own): at most this often when the queue is idle,
// and once a second while it is busy.
constexpr auto kIdleBackgroundGap = std::chrono::milliseconds(100);
constexpr auto kBusyBackgroundGap = std::chrono::seconds(1);

void worker_loop() {
    std::mt19937_64 rng(std::random_device{}());
    WorkerState w;
    apply_settings(w);
    std::string said_waiting;  // "-": said it waits for CREATE EXTENSION; a version: for the update from it
    bool recovered = false;
    bool busy_since_trim = false;
    int empty_rounds_in_row = 0;
    bool background_more = false;
    std::chrono::steady_clock::time_point last_background{};
    std::chrono::steady_clock::time_point next_retention{};
    CapturedChangesMover mover;
    for (;;) {
        dwu_check_for_interrupts();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            apply_settings(w);  // new key file, timeouts, field map: sessions start afresh
            w.last_warning.clear();
            next_retention = {};  // a changed TTL applies at once
        }
        std::string installed_version;
        const ExtensionState extension = dwu_extension_state(installed_version);
        if (extension != ExtensionState::kReady) {
            if (extension == ExtensionState::kMissing && dwu_last_transaction_was_busy()) {
                wait_ms(kBusyTablesRetryMs);  // a TRUNCATE or ALTER holds a table: soon over
                continue;
            }
            if (extension == ExtensionState::kMissing && said_waiting != "-")
                ereport(LOG, (errmsg("dwu_crm worker is waiting for CREATE EXTENSION dwu_crm in database \"%s\"",
                                     dwu_database)));
            if (extension == ExtensionState::kOtherVersion && said_waiting != installed_version)
                ereport(LOG, (errmsg("dwu_crm worker is waiting for ALTER EXTENSION dwu_crm UPDATE in database \"%s\": "
                                     "the extension there is version %s, this library is %s",
                                     dwu_database, installed_version.c_str(), DWU_CRM_VERSION),
                              errdetail("Applications can go on writing: their changes are captured and are sent "
                                        "after the update."),
                              errhint("Run ALTER EXTENSION dwu_crm UPDATE in that database, or install the "
                                      "library of version %s again.",
                                      installed_version.c_str())));
            said_waiting = extension == ExtensionState::kMissing ? "-" : installed_version;
            recovered = false;
            wait_ms(kExtensionCheckMs);
            continue;
        }
        said_waiting.clear();
        if (!recovered) {
            int n = 0;
            recovered = dwu_recover_jobs(&n);
            if (n > 0) ereport(LOG, (errmsg("dwu_crm worker put %d unfinished job(s) back in the queue", n)));
        }
        const auto round_start = std::chrono::steady_clock::now();
        // From here a commit wakes this worker if it is idle: the move below may miss it.
        dwu_worker_about_to_claim();
        // The application's writes reach the queue (and the audit log) here.
        const CapturedChangesMover::Step moved = mover.move(round_start);
        dwu_refresh_queue_statistics(empty_rounds_in_row > 0);  // a backlog the planner does not know of yet
        // A backlog large enough for the bulk import? (One index probe per account, counting up to
        // dwu_crm.import_threshold due creates: ~2 ms with a large backlog, before each round.)
        long long backfill_account = 0;
        if (dwu_import_threshold > 0 && !dwu_find_backfill(dwu_import_threshold, backfill_account))
            backfill_account = 0;
        long sleep_ms = backfill_account             ? run_backfill_round(w, rng, backfill_account)
                        : dwu_requests_in_flight > 1 ? run_round_in_flight(w, rng)
                                                     : run_round(w, rng);
        if (moved.more) sleep_ms = 0;
        if (moved.again_ms > 0 && sleep_ms > moved.again_ms) sleep_ms = moved.again_ms;
        mover.maybe_vacuum(sleep_ms > 0, round_start);
        empty_rounds_in_row = sleep_ms > 0 ? empty_rounds_in_row + 1 : 0;
        long background_ms = 1000;
        const auto now = std::chrono::steady_clock::now();
        const auto background_gap = sleep_ms > 0 ? std::chrono::steady_clock::duration(kIdleBackgroundGap)
                                                 : std::chrono::steady_clock::duration(kBusyBackgroundGap);
        if (background_more || now - last_background >= background_gap) {
            background_ms = dwu_run_background_tasks(
                [&w](long long id, int version, std::string& why) { return account_client(w, id, version, why); },
                w.field_map);
            last_background = now;
            background_more = background_ms == 0;  // a pull page or a full webhook batch: go on at once
            if (background_more) empty_rounds_in_row = 0;
        } else if (sleep_ms > 0) {  // skipped: come back for them when the gap is over
            background_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(last_background + background_gap - now).count();
        }
        if (now >= next_retention) next_retention = now + std::chrono::milliseconds(dwu_run_retention());
        // An idle worker comes back for the rest of the expired history (a second away while
        // batches come back full) instead of at its next wake-up, a minute or more away.
        const long retention_ms = Max(
            0L, static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(next_retention - now).count()));
        if (sleep_ms > 0 && background_ms > retention_ms) background_ms = Max(retention_ms, 1L);
        if (sleep_ms == 0) busy_since_trim = true;
        if (sleep_ms > 0 && busy_since_trim) {
            // A backlog leaves large freed blocks behind (import files, pages of 10,000 contacts):
            // hand them back to the system so an idle worker holds only what it uses.
            malloc_trim(0);
            busy_since_trim = false;
        }
        if (sleep_ms > 0 && !dwu_worker_was_woken()) wait_ms(Min(sleep_ms, background_ms));
        const auto since_round = std::chrono::steady_clock::now() - round_start;
        const auto gap = empty_round_gap(empty_rounds_in_row);
        if (since_round < gap)
            pause_ms(std::chrono::duration_cast<std::chrono::milliseconds>(gap - since_round).count());
    }
}

}  // namespace

static void worker_main(Datum database_oid) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(database_oid), InvalidOid, 0);
    pgstat_report_appname("dwu_crm sync worker");
    // The worker's statements are short and run thousands of times; their estimated costs can
    // still pass jit_above_cost (the claim's over a large backlog), and JIT-compiling them at each
    // execution cost more CPU than everything else the worker did.
    SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE);
    // The worker runs as the bootstrap superuser: whatever search_path the database or a role
    // sets, its statements resolve functions and operators in pg_catalog only (the extension's
    // objects are always named dwu_crm.*), so a database owner's public.make_interval(secs integer)
    // is never run as superuser.
    SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
    // An application's transaction that keeps a lead's row locked never stalls the worker: its
    // statements give up after this long, and the step is tried again later (transaction.cpp).
    SetConfigOption("lock_timeout", "1s", PGC_SUSET, PGC_S_OVERRIDE);
    dwu_job_store_init();
    int slot = 0;
    memcpy(&slot, MyBgworkerEntry->bgw_extra, sizeof slot);
    dwu_publish_worker_latch(slot);

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

DWU_BGWORKER_MAIN(dwu_crm_worker_main, worker_main)
