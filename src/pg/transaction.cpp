#include "pg/pg_headers.h"
#include "pg/transaction.h"

bool dwu_run_in_transaction(const char* activity, void (*fn)(void*), void* arg) {
    MemoryContext caller_cxt = CurrentMemoryContext;
    volatile bool ok = true;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, activity);
        fn(arg);
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        HOLD_INTERRUPTS();
        MemoryContextSwitchTo(caller_cxt);
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
        RESUME_INTERRUPTS();
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
    {
        CHECK_FOR_INTERRUPTS();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        EmitErrorReport();
        FlushErrorState();
    }
    PG_END_TRY();
}
