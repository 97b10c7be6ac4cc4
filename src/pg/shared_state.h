#pragma once
// Shared memory that lets any backend wake the sync workers: each publishes its latch in its slot.
constexpr int kMaxSyncWorkers = 16;  // the upper bound of dwu_crm.workers
void dwu_install_shmem_hooks(void);
// In a sync worker: publish (and, at exit, withdraw) this process's latch in slot 0..kMaxSyncWorkers-1.
void dwu_publish_worker_latch(int slot);
// Sets every running sync worker's latch (the idle ones claim; the busy ones notice nothing).
// Safe to call at transaction commit.
void dwu_wake_worker(void);
// Wakes the worker when the current transaction commits (nothing on rollback).
void dwu_wake_worker_at_commit(void);
