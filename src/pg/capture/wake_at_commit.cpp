// dwu_crm.wake_worker_at_commit(): called by the enqueue trigger. It only raises a flag in this
// backend; the worker is woken once, when (and only if) the transaction commits.
#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/shared_state.h"

namespace {

bool wake_pending = false;
bool callback_registered = false;  // registered once per backend, never per transaction

void on_xact_event(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_COMMIT:
            if (wake_pending) {
                dwu_note_captured_commit();
                dwu_wake_worker();
            }
            wake_pending = false;
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PREPARE:  // COMMIT PREPARED happens elsewhere; the worker's idle check covers it
            wake_pending = false;
            break;
        default:
            break;
    }
}

}  // namespace

void dwu_wake_worker_at_commit(void) {
    if (!callback_registered) {
        RegisterXactCallback(dwu_c_callback<on_xact_event>, nullptr);
        callback_registered = true;
    }
    wake_pending = true;
}

static Datum wake_worker_at_commit(FunctionCallInfo) {
    dwu_wake_worker_at_commit();
    PG_RETURN_VOID();
}

DWU_SQL_FUNCTION(dwu_crm_wake_worker_at_commit, wake_worker_at_commit)
