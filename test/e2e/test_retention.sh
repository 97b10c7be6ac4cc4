#!/usr/bin/env bash
# Retention: the worker deletes completed jobs, sync logs and (only when asked) audit rows older
# than their settings, in batches; recent rows and failed jobs stay.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

e2e_start_stack retention
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) SELECT 'r' || i || '@example.com' FROM generate_series(1, 20) i" >/dev/null
check "the leads sync" dwu_wait_for 30 "sync" queue_drained
recent_jobs=$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'completed'")
recent_logs=$(psql_q "select count(*) from dwu_crm.crm_sync_logs")
recent_audit=$(psql_q "select count(*) from dwu_crm.crm_audit_log")
check "the sync left jobs, logs and audit rows" [ "$recent_jobs" -ge 20 -a "$recent_logs" -ge 20 -a "$recent_audit" -ge 20 ]

# Ten days of history: 2,500 completed jobs (more than one batch), logs, audit rows, and an old failed job.
psql_q "INSERT INTO dwu_crm.crm_sync_queue (dwu_lead_id, dwu_operation, dwu_status, dwu_completed_at)
        SELECT 1, 'update', 'completed', now() - interval '10 days' FROM generate_series(1, 2500);
        INSERT INTO dwu_crm.crm_sync_queue (dwu_lead_id, dwu_operation, dwu_status, dwu_last_error, updated_at)
        VALUES (1, 'update', 'failed', 'old failure', now() - interval '10 days');
        INSERT INTO dwu_crm.crm_sync_logs (dwu_lead_id, dwu_operation, dwu_status, created_at)
        SELECT 1, 'update', 'success', now() - interval '10 days' FROM generate_series(1, 1500);
        INSERT INTO dwu_crm.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, created_at)
        SELECT 'UPDATE', 'lead', 1, now() - interval '10 days' FROM generate_series(1, 300)" >/dev/null

old_jobs() { psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'completed' and dwu_completed_at < now() - interval '1 day'"; }
old_logs() { psql_q "select count(*) from dwu_crm.crm_sync_logs where created_at < now() - interval '1 day'"; }
old_audit() { psql_q "select count(*) from dwu_crm.crm_audit_log where created_at < now() - interval '1 day'"; }
no_old_history() { [ "$(old_jobs)" = 0 ] && [ "$(old_logs)" = 0 ]; }
no_old_audit() { [ "$(old_audit)" = 0 ]; }

psql_q "ALTER SYSTEM SET dwu_crm.finished_jobs_ttl = '1d'" >/dev/null
psql_q "ALTER SYSTEM SET dwu_crm.sync_logs_ttl = '1d'" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
check "completed jobs and logs older than their TTL are deleted" dwu_wait_for 60 "retention" no_old_history
check "recent completed jobs stay" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'completed'")" = "$recent_jobs" ]
check "recent logs stay" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_logs")" = "$recent_logs" ]
check "an old failed job stays (it needs an admin)" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 1 ]
check "the audit log is kept by default" [ "$(old_audit)" = 300 ]

psql_q "ALTER SYSTEM SET dwu_crm.audit_log_ttl = '2d'" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
check "with dwu_crm.audit_log_ttl, old audit rows go" dwu_wait_for 60 "audit retention" no_old_audit
check "recent audit rows stay" [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log")" -ge "$recent_audit" ]
# A backlog the planner cannot see: statistics taken while 50,000 finished jobs and no queued one
# were there, and 3,000 new jobs far under autovacuum's threshold (and autovacuum off here). Planned
# from "about one queued job", the claim would join the backlog to itself row by row
# (bench/run_history.sh); the worker analyzes the queue itself.
psql_q "ALTER TABLE dwu_crm.crm_sync_queue SET (autovacuum_enabled = false)" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_sync_queue (dwu_lead_id, dwu_operation, dwu_status, dwu_completed_at)
        SELECT 1, 'update', 'completed', now() FROM generate_series(1, 50000)" >/dev/null
psql_q "ANALYZE dwu_crm.crm_sync_queue" >/dev/null
queued_estimate() {
    psql_q "EXPLAIN SELECT 1 FROM dwu_crm.crm_sync_queue WHERE dwu_status = 'queued'" | sed -n '1s/.*rows=\([0-9]*\).*/\1/p'
}
analyzes() { psql_q "select analyze_count from pg_stat_user_tables where relid = 'dwu_crm.crm_sync_queue'::regclass"; }
analyzes_before=$(analyzes)
psql_q "SELECT dwu_crm.dinamize_set_account_enabled(dwu_name, false) FROM dwu_crm.crm_dinamize_accounts" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) SELECT 'backlog' || i || '@example.com' FROM generate_series(1, 3000) i" >/dev/null
move_captured
psql_q "SELECT dwu_crm.dinamize_set_account_enabled(dwu_name, true) FROM dwu_crm.crm_dinamize_accounts" >/dev/null
analyzed() { [ "$(analyzes)" -gt "$analyzes_before" ]; }
check "the worker analyzes the queue" dwu_wait_for 20 "the worker's ANALYZE" analyzed
check "the backlog syncs" dwu_wait_for 120 "the backlog" queue_drained
check "the statistics it took saw the backlog (estimate $(queued_estimate) queued jobs)" [ "$(queued_estimate)" -ge 1000 ]

psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('after@example.com')" >/dev/null
check "the worker still syncs" dwu_wait_for 30 "sync" queue_drained
check "no crash" no_crash_in_log

e2e_finish retention
