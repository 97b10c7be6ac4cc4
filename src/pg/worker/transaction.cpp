#include "pg/pg_headers.h"
#include "pg/worker/transaction.h"

extern "C" {
#include "catalog/namespace.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
}

namespace {

// Every table a worker transaction may touch, always locked in this order.
const char* const kWorkerTables[] = {"crm_dinamize_accounts", "crm_leads",     "crm_sync_queue",
                                     "crm_lead_sync",         "crm_sync_logs", "crm_auth_tokens",
                                     "crm_captured_changes",  "crm_audit_log"};

// Takes the worker's locks without waiting. If TRUNCATE, DROP EXTENSION, DROP DATABASE or an
// ALTER holds one, the worker steps aside instead of queueing behind it (or deadlocking with it).
bool lock_worker_tables() {
    Oid schema = get_namespace_oid("dwu_crm", true);
    if (!OidIsValid(schema)) return false;
    for (const char* name : kWorkerTables) {
        Oid rel = get_relname_relid(name, schema);
        if (!OidIsValid(rel) || !ConditionalLockRelationOid(rel, RowExclusiveLock)) return false;
    }
    return true;
}

bool last_busy = false;

}  // namespace

bool dwu_last_transaction_was_busy(void) { return last_busy; }

void dwu_log_error_and_abort(MemoryContext caller_cxt) {
    HOLD_INTERRUPTS();
    MemoryContextSwitchTo(caller_cxt);
    EmitErrorReport();
    FlushErrorState();
    AbortCurrentTransaction();
    RESUME_INTERRUPTS();
}

bool dwu_run_in_transaction(const char* activity, void (*fn)(void*), void* arg) {
    MemoryContext caller_cxt = CurrentMemoryContext;
    volatile bool ok = true;
    last_busy = false;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        if (lock_worker_tables()) {
            if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
            PushActiveSnapshot(GetTransactionSnapshot());
            pgstat_report_activity(STATE_RUNNING, activity);
            fn(arg);
            SPI_finish();
            PopActiveSnapshot();
        } else {
            ok = false;  // busy: try again later, nothing to log
            last_busy = true;
        }
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_cxt);
        if (geterrcode() == ERRCODE_LOCK_NOT_AVAILABLE) {
            // A row lock held past lock_timeout (an application's open transaction on a lead):
            // like a busy table, tried again later; one line, not an ERROR with its context.
            HOLD_INTERRUPTS();
            FlushErrorState();
            AbortCurrentTransaction();
            RESUME_INTERRUPTS();
            ereport(LOG, (errmsg("%s: a row lock was held longer than lock_timeout; trying again later", activity)));
            last_busy = true;
        } else {
            dwu_log_error_and_abort(caller_cxt);
        }
        ok = false;
    }
    PG_END_TRY();
    MemoryContextSwitchTo(caller_cxt);
    pgstat_report_stat(false);  // let autovacuum see the queue's churn
    pgstat_report_activity(STATE_IDLE, nullptr);
    return ok;
}

void dwu_check_for_interrupts(void) {
    MemoryContext cxt = CurrentMemoryContext;
    PG_TRY();
    { CHECK_FOR_INTERRUPTS(); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        EmitErrorReport();
        FlushErrorState();
    }
    PG_END_TRY();
}
