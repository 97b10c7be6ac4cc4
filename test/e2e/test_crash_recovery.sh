#!/usr/bin/env bash
# The worker never loses a job: kill -9 of the worker mid-run (twice), then an immediate restart of
# the whole server mid-run; every change still reaches Dinamize exactly once, as it ended up.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

LEADS=1500
e2e_start_stack crash "dwu_crm.batch_size = 10" "dwu_crm.retry_base_seconds = 1" "dwu_crm.retry_max_seconds = 2" \
    "dwu_crm.max_attempts = 10"
data_dir=$DWU_WORKDIR/crash/data

psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city)
        SELECT 'Lead ' || i, 'crash' || i || '@example.com', '+55 51 9' || lpad(i::text, 7, '0'), 'Canoas'
          FROM generate_series(1, $LEADS) i" >/dev/null

# (b) kill -9 of the worker while it works, twice. The postmaster resets the whole server.
for round in 1 2; do
    target=$((round * LEADS / 4))
    dwu_wait_for 60 "$target synced" at_least_synced "$target" || true
    pid=$(worker_pid)
    check "round $round: the worker is running before the kill" [ -n "$pid" ]
    [ -n "$pid" ] && kill -9 "$pid"
    check "round $round: a new worker is up after kill -9" dwu_wait_for 30 "new worker" worker_replaced "$pid"
done

# Changes made while jobs are still pending: an update and a delete among the backlog.
psql_retry "UPDATE dwu_crm.crm_leads SET dwu_name = 'Updated ' || dwu_id, dwu_city = 'Gravataí'
            WHERE dwu_email LIKE 'crash1%@example.com'" >/dev/null
psql_retry "DELETE FROM dwu_crm.crm_leads WHERE dwu_email LIKE 'crash2%@example.com'" >/dev/null

# (c) an immediate restart of the whole server mid-run.
psql_retry "INSERT INTO dwu_crm.crm_leads (dwu_email, dwu_city)
            SELECT 'late' || i || '@example.com', 'Esteio' FROM generate_series(1, 300) i" >/dev/null
dwu_wait_for 30 "some progress" at_least_synced $((LEADS / 2 + 50)) || true
dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$data_dir" -m immediate -w -t 60 restart -l "$E2E_LOG" >/dev/null
check "the server came back after an immediate restart" dwu_wait_for 30 "server" psql_retry "select 1"

check "the queue drains after the crashes" dwu_wait_for 240 "queue drained" queue_drained
check "no job failed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "the simulator equals the CRM field by field (no loss, no duplicate)" converged
[ "$failures" -eq 0 ] || show_divergence
check "no contact was created twice" no_duplicate_contacts
check "every remaining lead is linked and synced" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_leads l join dwu_crm.crm_lead_sync s on s.dwu_lead_id = l.dwu_id and s.dwu_sync_status = 'synced'")" = "$(psql_q "select count(*) from dwu_crm.crm_leads")" ]
check "no PANIC or crash other than our kills" no_crash_in_log

e2e_finish crash_recovery
