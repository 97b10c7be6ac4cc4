#pragma once
// The worker's side of crm_captured_changes: before each round, move the captured writes into the
// queue and the audit log (move_captured_changes, at most kMoveBatch at a time); after it, vacuum
// the table once enough rows were moved, by this worker or any session.
#include <chrono>
#include <cstdint>

namespace dwu_worker {

class CapturedChangesMover {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr int kMoveBatch = 5000;

    struct Step {
        long long moved = 0;  // rows moved this time
        bool more = false;    // a full batch: more may be waiting, go on at once
        long again_ms = 0;    // > 0: the move could not run; come back for it this soon at the latest
    };
    Step move(Clock::time_point now);
    void maybe_vacuum(bool idle, Clock::time_point now);

private:
    Clock::time_point retry_at_{}, last_scan_{}, last_vacuum_{};
    // The table held nothing visible when the count of capturing commits was clean_at_commits_:
    // while that count stays the same, there is nothing to move and the scan is skipped.
    bool clean_known_ = false;
    std::uint64_t clean_at_commits_ = 0;
};

}  // namespace dwu_worker
