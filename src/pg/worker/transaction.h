#pragma once
// Where the worker enters PostgreSQL's error world (with dwu_vacuum_captured_changes, which runs
// VACUUM outside any transaction of ours). `fn` runs inside its own short
// transaction with SPI connected and a snapshot pushed; an ERROR raised inside is logged, the
// transaction rolled back, and false returned. It also returns false, without running `fn`, when
// one of the extension's tables is locked by maintenance (TRUNCATE, DROP EXTENSION, ...). `fn` must be C-style: no C++
// object with a destructor may be alive in its frames (a longjmp would skip the destructor), and no C++ exception may
// leave it.
//
// Outside these calls the worker has no PG_TRY active, so an ERROR there becomes FATAL and ends
// the process (it is restarted and recovers its jobs): a longjmp never crosses C++ frames.
bool dwu_run_in_transaction(const char* activity, void (*fn)(void*), void* arg);

typedef struct MemoryContextData* MemoryContext;  // as PostgreSQL's utils/palloc.h declares it

// Inside a PG_CATCH of the worker: logs the error, aborts the transaction and returns to
// caller_cxt, leaving no error state behind.
void dwu_log_error_and_abort(MemoryContext caller_cxt);

// Whether the last dwu_run_in_transaction returned false because a table was locked by
// maintenance (rather than because fn failed).
bool dwu_last_transaction_was_busy(void);

// CHECK_FOR_INTERRUPTS where a query-cancel ERROR is logged and ignored rather than fatal.
void dwu_check_for_interrupts(void);
