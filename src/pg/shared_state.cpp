#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/shared_state.h"

namespace {

// Guarded by mutex. A worker is "idle" from just before it claims until a claim gives it jobs or
// a commit wakes it: a commit then needs to wake only one idle worker (waking them all would
// make every worker run an empty claim per commit, half the machine at a few thousand commits/s).
struct SharedState {
    slock_t mutex;
    Latch* worker_latches[kMaxSyncWorkers];  // PGPROC latches live in shared memory: valid everywhere
    bool idle[kMaxSyncWorkers];
    int next;                           // where the round-robin search for an idle worker starts
    Oid database;                       // the workers' (dwu_crm.database): commits elsewhere have nothing for them
    pg_atomic_uint64 capture_clock;     // the last dwu_next_capture_seq() value
    pg_atomic_uint64 captured_commits;  // commits that captured changes (or asked for a wake)
    pg_atomic_uint64 moved_unvacuumed;  // captured rows moved since the last VACUUM of the table
};

SharedState* shared = nullptr;
int my_slot = -1;  // in a sync worker: its slot
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
        for (int i = 0; i < kMaxSyncWorkers; i++) {
            shared->worker_latches[i] = nullptr;
            shared->idle[i] = false;
        }
        shared->next = 0;
        shared->database = InvalidOid;
        pg_atomic_init_u64(&shared->capture_clock, 0);
        pg_atomic_init_u64(&shared->captured_commits, 0);
        pg_atomic_init_u64(&shared->moved_unvacuumed, 0);
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
    shmem_request_hook = dwu_c_callback<request_shmem>;
    prev_startup_hook = shmem_startup_hook;
    shmem_startup_hook = dwu_c_callback<startup_shmem>;
}

void dwu_publish_worker_latch(int slot) {
    if (shared == nullptr || slot < 0 || slot >= kMaxSyncWorkers) return;
    SpinLockAcquire(&shared->mutex);
    shared->worker_latches[slot] = MyLatch;
    shared->idle[slot] = true;
    shared->database = MyDatabaseId;
    SpinLockRelease(&shared->mutex);
    my_slot = slot;
    before_shmem_exit(dwu_c_callback<withdraw_latch>, Int32GetDatum(slot));
}

namespace {

// Sets the latch of one idle worker other than `except`, round robin; none idle: nothing to do
// (every worker is in a round and claims again when it ends).
void wake_one_idle(int except) {
    if (shared == nullptr) return;  // library not preloaded: there is no worker to wake
    Latch* latch = nullptr;
    SpinLockAcquire(&shared->mutex);
    for (int i = 0; i < kMaxSyncWorkers && !latch; i++) {
        const int s = (shared->next + i) % kMaxSyncWorkers;
        if (s == except || !shared->worker_latches[s] || !shared->idle[s]) continue;
        latch = shared->worker_latches[s];
        shared->idle[s] = false;  // the next commit wakes another one
        shared->next = (s + 1) % kMaxSyncWorkers;
    }
    SpinLockRelease(&shared->mutex);
    if (latch) SetLatch(latch);
}

void set_idle(bool idle) {
    if (shared == nullptr || my_slot < 0) return;
    SpinLockAcquire(&shared->mutex);
    shared->idle[my_slot] = idle;
    SpinLockRelease(&shared->mutex);
}

}  // namespace

void dwu_worker_about_to_claim(void) { set_idle(true); }

bool dwu_worker_was_woken(void) {
    if (shared == nullptr || my_slot < 0) return false;
    SpinLockAcquire(&shared->mutex);
    const bool woken = !shared->idle[my_slot];
    SpinLockRelease(&shared->mutex);
    return woken;
}

void dwu_worker_claimed(int claimed, int batch_size) {
    if (claimed <= 0) return;
    set_idle(false);
    if (claimed >= batch_size) wake_one_idle(my_slot);  // a backlog: bring in another worker
}

int64 dwu_next_capture_seq(void) {
    const uint64 now = static_cast<uint64>(Max(GetCurrentTimestamp(), 1));
    static uint64 backend_last = 0;  // library not preloaded: increasing in this backend only
    if (shared == nullptr) return static_cast<int64>(backend_last = Max(backend_last + 1, now));
    uint64 last = pg_atomic_read_u64(&shared->capture_clock);
    for (;;) {
        const uint64 next = Max(last + 1, now);
        if (pg_atomic_compare_exchange_u64(&shared->capture_clock, &last, next)) return static_cast<int64>(next);
    }
}

void dwu_note_captured_commit(void) {
    if (shared) pg_atomic_fetch_add_u64(&shared->captured_commits, 1);
}

uint64 dwu_captured_commits(void) { return shared ? pg_atomic_read_u64(&shared->captured_commits) : 0; }

void dwu_note_captured_rows_moved(uint64 rows) {
    if (shared) pg_atomic_fetch_add_u64(&shared->moved_unvacuumed, rows);
}

uint64 dwu_moved_unvacuumed(void) { return shared ? pg_atomic_read_u64(&shared->moved_unvacuumed) : 0; }

uint64 dwu_take_moved_unvacuumed(void) { return shared ? pg_atomic_exchange_u64(&shared->moved_unvacuumed, 0) : 0; }

void dwu_wake_worker(void) {
    if (shared == nullptr || shared->database != MyDatabaseId) return;  // (an Oid read: no lock needed)
    wake_one_idle(-1);
}
