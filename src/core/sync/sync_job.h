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
// outcome); throws Interrupted when the abort check fired. The outcome is storable (make_storable).
SyncOutcome run_job(DinamizeClient& client, const SyncJob& job, const FieldMap& field_map);

// Fills the failure fields (category, code, message, retryable, retry-after) from `e`.
void set_failure(SyncOutcome& out, const DinamizeError& e);

// Makes every field fit the columns the worker records it in (crm_sync_logs, crm_sync_queue,
// crm_lead_sync): strings valid UTF-8, NUL-free and bounded (error code 50 bytes, request_unique
// 100, message 2000), numbers not negative and within integer. A success whose contact code is
// not 1-32 digits becomes a VALIDATION failure (not retried) saying so.
void make_storable(SyncOutcome& outcome);

}  // namespace dwu
