#pragma once
// crm_sync_queue as the worker sees it: each call is one short transaction (see transaction.h),
// returns false if it failed (the error is already logged), and holds no transaction open after.
#include <string>
#include <vector>

#include "core/sync_job.h"

bool dwu_extension_installed();

// Puts back jobs left 'processing' by a worker that no longer exists, or whose lease ran out.
bool dwu_recover_jobs(int* recovered);

// Claims up to batch_size due jobs (per lead, only the oldest unfinished one), leases them, and
// reads each lead's current row and linked contact code. When none is due, next_due_ms tells
// how long until one is (or -1 if the queue holds nothing waiting).
bool dwu_claim_jobs(int batch_size, int lease_seconds, const std::string& list_code,
                    std::vector<dwu::SyncJob>& jobs, long& next_due_ms);

// Applies a batch of outcomes (JSON rows from outcome_rows) in one statement: queue status,
// crm_lead_sync link, crm_sync_logs rows.
bool dwu_record_outcomes(const std::string& rows_json, const std::string& list_code);

// Returns claimed jobs that were never attempted (shutdown mid-batch) to the queue, attempt refunded.
bool dwu_release_jobs(const std::vector<long long>& job_ids);

// Allocations for the copies made inside transactions; created once by the worker.
void dwu_job_store_init();
