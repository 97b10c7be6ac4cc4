#pragma once
// Shared memory that lets any backend wake the sync workers: each publishes its latch in its slot.
constexpr int kMaxSyncWorkers = 16;  // the upper bound of dwu_crm.workers
void dwu_install_shmem_hooks(void);
// In a sync worker: publish (and, at exit, withdraw) this process's latch in slot 0..kMaxSyncWorkers-1.
void dwu_publish_worker_latch(int slot);
// Sets the latch of one idle sync worker (busy ones claim again after their round anyway).
// Safe to call at transaction commit.
void dwu_wake_worker(void);
// In a sync worker: it is about to look for work, moving captured changes then claiming (a commit
// from now on must wake it: the move may not see it), and what the claim gave (jobs: busy; a full
// batch: wake another idle worker for the backlog).
void dwu_worker_about_to_claim(void);
void dwu_worker_claimed(int claimed, int batch_size);
// In a sync worker: whether a commit chose it since dwu_worker_about_to_claim (it must not sleep
// then, even if its latch was reset meanwhile: a lock wait inside a round resets the latch too).
bool dwu_worker_was_woken(void);
// The order of captured changes (crm_captured_changes.dwu_seq): the current time in microseconds
// since 2000, made strictly increasing across the whole server (a lock-free counter in shared
// memory). A sequence did the same for a tenth of the application's insert rate. After a restart
// it starts again from the clock, so a clock set back across a restart could order changes
// captured before it after those captured since.
int64 dwu_next_capture_seq(void);
// Counted at the commit of every transaction that captured changes (after they became visible):
// a worker whose move found nothing skips the next ones while this count has not changed.
void dwu_note_captured_commit(void);
uint64 dwu_captured_commits(void);
// Captured rows moved (by anyone) since a worker last vacuumed crm_captured_changes.
void dwu_note_captured_rows_moved(uint64 rows);
uint64 dwu_moved_unvacuumed(void);
uint64 dwu_take_moved_unvacuumed(void);  // and reset to 0
// Wakes the worker when the current transaction commits (nothing on rollback).
void dwu_wake_worker_at_commit(void);
