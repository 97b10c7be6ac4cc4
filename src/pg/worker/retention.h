#pragma once
// Retention: the worker deletes history older than its setting, in small batches (each its own
// short transaction, so no lock is held long and a busy table is skipped, not waited for):
//   dwu_crm.finished_jobs_ttl   completed jobs of crm_sync_queue (failed ones stay: they need an admin)
//   dwu_crm.sync_logs_ttl       crm_sync_logs
//   dwu_crm.audit_log_ttl       crm_audit_log (default 0: kept; it is the company's record)
// 0 keeps a table's rows. Returns how long until the next visit is worth it: soon while batches come
// back full, else a minute.
long dwu_run_retention();
