#include "pg/worker/launcher.h"

#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/shared_state.h"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_database.h"
}

namespace {

constexpr long kCheckMs = 1000;         // while waiting for the database
constexpr long kRestartDelayMs = 5000;  // after a sync worker stopped

// With no database selected only shared catalogs are readable, and without indexes (they need
// pg_class): scan pg_database the way the autovacuum launcher does.
Oid lookup_database(const char* name) {
    Oid oid = InvalidOid;
    StartTransactionCommand();
    (void)GetTransactionSnapshot();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tuple;
    while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
        auto* db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
        if (strcmp(NameStr(db->datname), name) == 0 && db->datallowconn) {
            oid = db->oid;
            break;
        }
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    return oid;
}

BackgroundWorkerHandle* start_sync_worker(Oid database, int slot) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;  // the launcher restarts it
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "dwu_crm");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "dwu_crm_worker_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "dwu_crm sync worker %d for %s", slot, dwu_database);
    snprintf(worker.bgw_type, BGW_MAXLEN, "dwu_crm sync worker");
    worker.bgw_main_arg = ObjectIdGetDatum(database);
    memcpy(worker.bgw_extra, &slot, sizeof slot);  // the worker's slot for its latch
    worker.bgw_notify_pid = MyProcPid;
    BackgroundWorkerHandle* handle = nullptr;
    if (!RegisterDynamicBackgroundWorker(&worker, &handle)) {
        ereport(WARNING, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                          errmsg("dwu_crm could not start its sync worker"), errhint("Raise max_worker_processes.")));
        return nullptr;
    }
    return handle;
}

bool still_running(BackgroundWorkerHandle* handle) {
    pid_t pid;
    return handle && GetBackgroundWorkerPid(handle, &pid) != BGWH_STOPPED;
}

}  // namespace

static void launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);  // shared catalogs only

    // One slot per sync worker (dwu_crm.workers of them); a slot whose worker stopped is started
    // again after kRestartDelayMs, a slot beyond dwu_crm.workers (lowered on reload) is stopped.
    BackgroundWorkerHandle* handles[kMaxSyncWorkers] = {};
    TimestampTz restart_after[kMaxSyncWorkers] = {};
    bool said_waiting = false;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        long wait_ms = kCheckMs;
        const TimestampTz now = GetCurrentTimestamp();
        Oid db = InvalidOid;
        bool looked_up = false;
        for (int slot = 0; slot < kMaxSyncWorkers; slot++) {
            BackgroundWorkerHandle*& handle = handles[slot];
            if (slot >= dwu_workers) {
                if (handle) {
                    TerminateBackgroundWorker(handle);
                    pfree(handle);
                    handle = nullptr;
                }
                continue;
            }
            if (still_running(handle)) continue;
            if (handle) {
                pfree(handle);
                handle = nullptr;
                restart_after[slot] = TimestampTzPlusMilliseconds(now, kRestartDelayMs);  // don't hammer
            }
            if (now < restart_after[slot]) continue;
            if (!looked_up) {
                db = lookup_database(dwu_database);
                looked_up = true;
            }
            if (OidIsValid(db)) {
                handle = start_sync_worker(db, slot);
                said_waiting = false;
            } else if (!said_waiting) {
                ereport(LOG, (errmsg("dwu_crm is waiting for database \"%s\" to exist", dwu_database),
                              errhint("Create it, or set dwu_crm.database to the database that has the "
                                      "dwu_crm extension.")));
                said_waiting = true;
            }
        }
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

DWU_BGWORKER_MAIN(dwu_crm_launcher_main, launcher_main)

void dwu_register_launcher(void) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 10;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "dwu_crm");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "dwu_crm_launcher_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "dwu_crm launcher");
    snprintf(worker.bgw_type, BGW_MAXLEN, "dwu_crm launcher");
    RegisterBackgroundWorker(&worker);
}
