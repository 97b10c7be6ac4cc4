#pragma once
// Records a round's outcomes (crm_sync_queue, crm_lead_sync, crm_sync_logs) in one statement. When
// that statement fails for a reason of its own (an answer that breaks a table's check, text the
// jsonb cast refuses), the outcomes are recorded one by one, and an outcome that still cannot be
// recorded is replaced by a permanent failure saying so: a job Dinamize already answered is never
// left 'processing' to be sent again at each lease expiry, and one bad answer never holds the
// batch's other jobs.
#include <vector>

#include "core/sync/outcome_record.h"

namespace dwu_worker {

// False only when nothing could be recorded (the tables were busy, or the database failed).
bool record_outcomes(const std::vector<dwu::DecidedOutcome>& done);

}  // namespace dwu_worker
