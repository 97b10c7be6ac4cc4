#pragma once
// crm_sync_queue as the worker sees it: each call is one short transaction (see transaction.h),
// returns false if it failed (the error is already logged), and holds no transaction open after.
#include <string>
#include <vector>

#include "core/sync/sync_job.h"

// Puts back jobs left 'processing' by a worker that no longer exists, or whose lease ran out.
bool dwu_recover_jobs(int* recovered);

// Moves up to max_changes captured writes (crm_captured_changes) into the queue and the audit log;
// moved is -1 when another transaction was moving them (it may not see the newest).
bool dwu_move_captured_changes(int max_changes, long long& moved);

// Claims up to batch_size due jobs (per lead, only the oldest unfinished one), leases them, and
// reads each lead's current row and linked contact code. When none is due, next_due_ms tells
// how long until one is (or -1 if the queue holds nothing waiting).
// only_account (0: all) and creates_only narrow the claim to one account's creates: a backfill.
bool dwu_claim_jobs(int batch_size, int lease_seconds, std::vector<dwu::SyncJob>& jobs, long& next_due_ms,
                    long long only_account = 0, bool creates_only = false);

// An enabled account with at least `threshold` due creates (account_id 0: none).
bool dwu_find_backfill(int threshold, long long& account_id);

// Applies a batch of outcomes (JSON rows from outcome_rows) in one statement: queue status,
// crm_lead_sync link, crm_sync_logs rows.
bool dwu_record_outcomes(const std::string& rows_json);

// Renews the lease of claimed jobs not yet sent (and of the jobs riding along with them) for
// lease_seconds from now; `kept` gets the ones still this worker's. False when the statement failed.
bool dwu_renew_leases(const std::vector<long long>& job_ids, int lease_seconds, std::vector<long long>& kept);

// Returns claimed jobs that were not attempted (shutdown mid-batch, account unusable) to the queue,
// attempt refunded, due again after delay_ms.
bool dwu_release_jobs(const std::vector<long long>& job_ids, long delay_ms = 0);

// Allocations for the copies made inside transactions; created once by the worker.
void dwu_job_store_init();
