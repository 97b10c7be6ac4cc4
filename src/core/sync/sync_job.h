#pragma once
#include "core/pg_free.h"
// One queued change to a lead, and what became of it. PostgreSQL-free: the worker's glue reads
// jobs from crm_sync_queue into SyncJob and writes SyncOutcome back.
#include <optional>
#include <string>

#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_errors.h"

namespace dwu {

struct SyncJob {
    long long id = 0;
    long long lead_id = 0;
    long long account_id = 0;      // the Dinamize account the job goes to
    std::string list_code;         // that account's contact list
    int config_version = 0;        // of the account's settings when the job was claimed
    std::string operation;         // create | update | delete: what to do, the lead's jobs coalesced
    std::string queued_operation;  // what the claimed job itself was queued as
    int attempt = 0;               // 1 for the first try
    std::string lead_json;         // the lead row as it is now (to_jsonb), empty if the lead is gone
    std::string contact_code;      // Dinamize contact code already linked to the lead, if any
    std::string payload_json;      // what the trigger recorded (the only source once a lead is deleted)
};

struct SyncOutcome {
    long long job_id = 0;
    long long lead_id = 0;
    long long account_id = 0;
    std::string list_code;
    std::string operation;
    int attempt = 0;
    bool ok = false;
    bool skipped = false;      // nothing to send (e.g. the lead was deleted before it was created)
    std::string contact_code;  // on success: the Dinamize contact the lead maps to
    std::optional<ErrorCategory> category;
    std::string error_code;  // Dinamize code, empty for transport errors
    std::string message;     // never holds a secret
    bool retryable = false;
    int retry_after_seconds = 0;
    long duration_ms = 0;
    std::string request_unique;
};

// An outcome for `job` with its identity filled in (ids, account, list, operation, attempt).
SyncOutcome outcome_for(const SyncJob& job);

// Performs the job against Dinamize. Never throws for a Dinamize or data problem (that is the
// outcome); throws Interrupted when the abort check fired.
SyncOutcome run_job(DinamizeClient& client, const SyncJob& job, const FieldMap& field_map);

}  // namespace dwu
