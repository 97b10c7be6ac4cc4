#include "pg/cpp_boundary.h"
#include "pg/capture/captured_changes_vacuum.h"

#include "pg/pg_headers.h"
#include "pg/shared_state.h"
#include "pg/worker/transaction.h"

extern "C" {
#include "commands/vacuum.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
}

// Called by move_captured_changes(), whoever runs it: the workers vacuum after moves of any session.
static Datum note_captured_changes_moved(FunctionCallInfo fcinfo) {
    const int64 rows = PG_GETARG_INT64(0);
    if (rows > 0) dwu_note_captured_rows_moved(static_cast<uint64>(rows));
    PG_RETURN_VOID();
}

bool dwu_vacuum_captured_changes() {
    // vacuum() keeps its cross-transaction memory under PortalContext, which a background worker
    // does not have (autovacuum makes one too).
    static MemoryContext portal_cxt = nullptr;
    if (!portal_cxt) portal_cxt = AllocSetContextCreate(TopMemoryContext, "dwu_crm vacuum", ALLOCSET_SMALL_SIZES);
    MemoryContext caller_cxt = CurrentMemoryContext;
    volatile bool ok = true;
    pgstat_report_activity(STATE_RUNNING, "dwu_crm: VACUUM dwu_crm.crm_captured_changes");
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        PortalContext = portal_cxt;
        MemoryContextSwitchTo(portal_cxt);
        VacuumStmt* stmt = makeNode(VacuumStmt);
        // No truncation: it waits up to 5 s for a lock that the application's inserts keep taking,
        // and the worker would wait with it. The freed space is used again; autovacuum may shrink it.
        stmt->options =
            list_make2(makeDefElem(pstrdup("skip_locked"), nullptr, -1),
                       makeDefElem(pstrdup("truncate"), reinterpret_cast<Node*>(makeString(pstrdup("false"))), -1));
        stmt->rels = list_make1(
            makeVacuumRelation(makeRangeVar(pstrdup("dwu_crm"), pstrdup("crm_captured_changes"), -1), InvalidOid, NIL));
        stmt->is_vacuumcmd = true;
        // Top level: VACUUM commits the transaction started above, works in transactions of its
        // own, and leaves a new one open, committed here.
        ExecVacuum(make_parsestate(nullptr), stmt, true);
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        dwu_log_error_and_abort(caller_cxt);
        ok = false;
    }
    PG_END_TRY();
    PortalContext = nullptr;
    MemoryContextSwitchTo(caller_cxt);
    MemoryContextReset(portal_cxt);
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, nullptr);
    return ok;
}

DWU_SQL_FUNCTION(dwu_crm_note_captured_changes_moved, note_captured_changes_moved)
