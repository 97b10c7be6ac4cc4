#pragma once
#include "core/pg_free.h"
// Turns a batch of outcomes and their retry decisions into the JSON array that the worker's
// single recording statement reads with jsonb_to_recordset. PostgreSQL-free.
#include <nlohmann/json.hpp>

#include <vector>

#include "core/sync/retry_policy.h"

namespace dwu {

struct DecidedOutcome {
    SyncOutcome outcome;
    RetryDecision decision;
};

// Each outcome goes through make_storable (sync_job.h) first: the array's dump() never throws,
// and a success make_storable turns into a failure is recorded as failed.
nlohmann::json outcome_rows(const std::vector<DecidedOutcome>& batch);

}  // namespace dwu
