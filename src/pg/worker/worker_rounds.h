#pragma once
// The sync worker's rounds. Each returns how long to sleep before the next (0: go on at once).
//  - run_round: claim a batch (accounts taking turns, a lead's later jobs riding along), send
//    each job with no transaction open, record the batch in one statement.
//  - run_backfill_round: up to dwu_crm.import_batch due creates of one account as one Dinamize
//    bulk import (see core/sync/backfill.h), recorded the same way.
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/sync/outcome_record.h"
#include "core/sync/retry_policy.h"
#include "pg/worker/worker_state.h"

namespace dwu_worker {

long run_round(WorkerState& w, std::mt19937_64& rng);
// The same with up to dwu_crm.requests_in_flight jobs in flight at once (inflight_round.cpp).
long run_round_in_flight(WorkerState& w, std::mt19937_64& rng);
long run_backfill_round(WorkerState& w, std::mt19937_64& rng, long long account_id);

// What the two job rounds share (sync_round.cpp).
struct RoundBatch {
    std::vector<dwu::SyncJob> jobs;
    std::chrono::steady_clock::time_point lease_ends;
    std::vector<dwu::DecidedOutcome> done;
    std::vector<long long> unattempted;
    std::map<long, std::vector<long long>> deferred;  // delay (ms) → jobs returned unattempted
    std::map<long long, long> paused;                 // account → how long its jobs wait (rate limit)
    std::vector<long long> lost;                      // leases that ran out and another worker took
    std::string problem;                              // why an account cannot be used, to log once
};
// Claims a batch; false when there is none (or the claim failed), with how long to sleep.
bool claim_batch(RoundBatch& b, long& sleep_ms);
// Whether the job waits (its account unusable or paused: then deferred); else its session.
bool job_must_wait(WorkerState& w, RoundBatch& b, const dwu::SyncJob& job, Session*& session);
// Whether a send starting now could outlast the batch's leases.
bool leases_need_renewal(const RoundBatch& b);
// Whether the job's lease ran out and another worker claimed it.
bool lost_to_another_worker(const RoundBatch& b, long long job_id);
// Renews the leases of the batch's jobs still ours; false when the transaction failed.
bool renew_batch_leases(RoundBatch& b);
// Records the outcomes, releases what was not attempted or waits, keeps the tokens, logs.
long finish_round(WorkerState& w, RoundBatch& b);

}  // namespace dwu_worker
