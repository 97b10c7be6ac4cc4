#include "pg/pg_headers.h"
#include "pg/shared_state.h"

namespace {

struct SharedState {
    slock_t mutex;
    Latch* worker_latch;  // PGPROC latches live in shared memory: the pointer is valid everywhere
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
        shared->worker_latch = nullptr;
    }
    LWLockRelease(AddinShmemInitLock);
}

void withdraw_latch(int, Datum) {
    SpinLockAcquire(&shared->mutex);
    if (shared->worker_latch == MyLatch) shared->worker_latch = nullptr;
    SpinLockRelease(&shared->mutex);
}

}  // namespace

void dwu_install_shmem_hooks(void) {
    prev_request_hook = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

void dwu_publish_worker_latch(void) {
    if (shared == nullptr) return;
    SpinLockAcquire(&shared->mutex);
    shared->worker_latch = MyLatch;
    SpinLockRelease(&shared->mutex);
    before_shmem_exit(withdraw_latch, 0);
}

void dwu_wake_worker(void) {
    if (shared == nullptr) return;  // library not preloaded: there is no worker to wake
    SpinLockAcquire(&shared->mutex);
    Latch* latch = shared->worker_latch;
    SpinLockRelease(&shared->mutex);
    if (latch) SetLatch(latch);
}
