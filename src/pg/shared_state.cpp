#include "pg/pg_headers.h"
#include "pg/shared_state.h"

namespace {

struct SharedState {
    slock_t mutex;
    Latch* worker_latches[kMaxSyncWorkers];  // PGPROC latches live in shared memory: valid everywhere
};

SharedState* shared = nullptr;
shmem_request_hook_type prev_request_hook = nullptr;
shmem_startup_hook_type prev_startup_hook = nullptr;

void request_shmem() {
    if (prev_request_hook) prev_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
}

void startup_shmem() {
    if (prev_startup_hook) prev_startup_hook();
    bool found = false;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    shared = static_cast<SharedState*>(ShmemInitStruct("dwu_crm", sizeof(SharedState), &found));
    if (!found) {
        SpinLockInit(&shared->mutex);
        for (Latch*& latch : shared->worker_latches) latch = nullptr;
    }
    LWLockRelease(AddinShmemInitLock);
}

void withdraw_latch(int, Datum slot) {
    SpinLockAcquire(&shared->mutex);
    Latch*& latch = shared->worker_latches[DatumGetInt32(slot)];
    if (latch == MyLatch) latch = nullptr;
    SpinLockRelease(&shared->mutex);
}

}  // namespace

void dwu_install_shmem_hooks(void) {
    prev_request_hook = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

void dwu_publish_worker_latch(int slot) {
    if (shared == nullptr || slot < 0 || slot >= kMaxSyncWorkers) return;
    SpinLockAcquire(&shared->mutex);
    shared->worker_latches[slot] = MyLatch;
    SpinLockRelease(&shared->mutex);
    before_shmem_exit(withdraw_latch, Int32GetDatum(slot));
}

void dwu_wake_worker(void) {
    if (shared == nullptr) return;  // library not preloaded: there is no worker to wake
    Latch* latches[kMaxSyncWorkers];
    SpinLockAcquire(&shared->mutex);
    memcpy(latches, shared->worker_latches, sizeof latches);
    SpinLockRelease(&shared->mutex);
    for (Latch* latch : latches)
        if (latch) SetLatch(latch);
}
