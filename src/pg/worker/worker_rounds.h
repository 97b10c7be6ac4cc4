#pragma once
// The sync worker's rounds. Each returns how long to sleep before the next (0: go on at once).
//  - run_round: claim a batch (accounts taking turns, a lead's later jobs riding along), send
//    each job with no transaction open, record the batch in one statement.
//  - run_backfill_round: up to dwu_crm.import_batch due creates of one account as one Dinamize
//    bulk import (see core/sync/backfill.h), recorded the same way.
#include <random>

#include "pg/worker/worker_state.h"

namespace dwu_worker {

long run_round(WorkerState& w, std::mt19937_64& rng);
long run_backfill_round(WorkerState& w, std::mt19937_64& rng, long long account_id);

}  // namespace dwu_worker
