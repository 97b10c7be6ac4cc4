#pragma once
// Shared memory that lets any backend wake the worker: the worker publishes its latch here.
void dwu_install_shmem_hooks(void);
// In the worker: publish (and, at exit, withdraw) this process's latch.
void dwu_publish_worker_latch(void);
// Sets the worker's latch, if a worker is running. Safe to call at transaction commit.
void dwu_wake_worker(void);
// Wakes the worker when the current transaction commits (nothing on rollback).
void dwu_wake_worker_at_commit(void);
