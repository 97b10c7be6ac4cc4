#include "pg/capture/capture_mover.h"

#include "pg/capture/captured_changes_vacuum.h"
#include "pg/worker/job_store.h"
#include "pg/worker/worker_state.h"
#include "pg/pg_headers.h"  // after the headers that include core ones
#include "pg/shared_state.h"
#include "pg/worker/transaction.h"

namespace dwu_worker {

namespace {
constexpr long kBusyRetryMs = 10;  // another mover, or a TRUNCATE/ALTER holding one of our tables
// Scan now and then even when no capturing commit was counted (rows restored by hand, say).
constexpr auto kRescanEvery = std::chrono::seconds(10);
constexpr std::uint64_t kVacuumEveryMoved = 20000;
constexpr auto kIdleVacuumGap = std::chrono::seconds(1);
}  // namespace

CapturedChangesMover::Step CapturedChangesMover::move(Clock::time_point now) {
    Step step;
    if (now < retry_at_) {
        step.again_ms = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now).count();
        return step;
    }
    // Read before the move's snapshot: a commit counted after this read may be missing from it.
    const std::uint64_t commits = dwu_captured_commits();
    if (clean_known_ && commits == clean_at_commits_ && now - last_scan_ < kRescanEvery) return step;
    clean_known_ = false;
    last_scan_ = now;
    long long moved = 0;
    if (dwu_move_captured_changes(kMoveBatch, moved)) {
        if (moved < 0) {  // another transaction was moving them, perhaps from before the commit that woke us
            step.again_ms = kBusyRetryMs;
        } else {
            step.moved = moved;
            step.more = moved >= kMoveBatch;
            clean_known_ = !step.more;
            clean_at_commits_ = commits;
        }
    } else if (dwu_last_transaction_was_busy()) {
        step.again_ms = kBusyRetryMs;
    } else {  // logged; the claim goes on with what is queued
        retry_at_ = now + std::chrono::milliseconds(kRetryAfterErrorMs);
        step.again_ms = kRetryAfterErrorMs;
    }
    return step;
}

void CapturedChangesMover::maybe_vacuum(bool idle, Clock::time_point now) {
    const std::uint64_t pending = dwu_moved_unvacuumed();
    if (pending >= kVacuumEveryMoved || (pending > 0 && idle && now - last_vacuum_ >= kIdleVacuumGap)) {
        if (dwu_take_moved_unvacuumed() == 0) return;  // another worker took them first: it vacuums
        dwu_vacuum_captured_changes();
        last_vacuum_ = Clock::now();
    }
}

}  // namespace dwu_worker
