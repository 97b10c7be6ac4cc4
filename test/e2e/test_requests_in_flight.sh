#!/usr/bin/env bash
# Many requests in flight (dwu_crm.requests_in_flight = 16) against a simulator 100 ms away
# (--latency-ms) that also answers 5xx, resets and delays: each lead's create, updates and delete
# reach Dinamize in order and the simulator equals the CRM field by field, with no duplicate and
# no job failed; the requests really overlap; kill -9 of the worker with requests in flight loses
# nothing; SIGTERM with requests in flight stops the worker before their answers come; one
# account's 240024 does not hold up another account's requests.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

LEADS=400
OTHER_USER=other@example.com
OTHER_PASSWORD='other-Secret-Pa55'
OTHER_CLIENT=300002
E2E_SIM_OPTIONS="--account $OTHER_USER:$OTHER_PASSWORD:$OTHER_CLIENT --latency-ms 100 --fault-http-5xx 0.03 --fault-reset 0.03 --fault-delay 0.02 --fault-delay-ms 300 --seed 18"
e2e_start_stack inflight "dwu_crm.requests_in_flight = 16" "dwu_crm.rate_limit = 0" "dwu_crm.import_threshold = 0" \
    "dwu_crm.retry_base_seconds = 1" "dwu_crm.retry_max_seconds = 2" "dwu_crm.max_attempts = 10"
data_dir=$DWU_WORKDIR/inflight/data

psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city)
        SELECT 'Lead ' || i, 'inflight' || i || '@example.com', '+55 51 9' || lpad(i::text, 7, '0'), 'Canoas'
          FROM generate_series(1, $LEADS) i" >/dev/null
# Each lead's later changes queue behind its create: two updates of 100 leads, 50 deleted.
psql_q "UPDATE dwu_crm.crm_leads SET dwu_city = 'Esteio' WHERE dwu_id % 4 = 0" >/dev/null
psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'Renamed ' || dwu_id WHERE dwu_id % 4 = 0" >/dev/null
psql_q "DELETE FROM dwu_crm.crm_leads WHERE dwu_id % 8 = 1" >/dev/null

# kill -9 of the worker while its requests are in flight.
dwu_wait_for 60 "first leads" at_least_synced 60 || true
pid=$(worker_pid)
check "the worker runs before the kill" [ -n "$pid" ]
[ -n "$pid" ] && kill -9 "$pid"
check "a new worker is up after kill -9" dwu_wait_for 30 "new worker" worker_replaced "$pid"

check "the backlog drains" dwu_wait_for 240 "queue drained" queue_drained
check "no job failed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "the simulator equals the CRM field by field" converged
[ "$failures" -eq 0 ] || show_divergence
check "no contact was created twice" no_duplicate_contacts
# One request at a time, a request 100 ms away gives at most one arrival per 100 ms.
busiest=$(sim_admin_get "/__sim/window?client_code=$E2E_CLIENT&seconds=1" | jq .max_in_window)
echo "# busiest second: $busiest requests"
check "requests overlapped: more than 10 arrived within one second" [ "$busiest" -gt 10 ]
stats=$(sim_admin_get /__sim/stats)
check "faults were injected and retried" [ "$(jq '.faults.http_5xx + .faults.reset' <<<"$stats")" -gt 0 ]

# SIGTERM with requests in flight, answers 10 s away: the worker is gone long before, and its jobs
# are back in the queue (sent again once, when the server is up again).
sim_admin_post /__sim/faults '{"clear": true, "delay": 1, "delay_ms": 10000}' >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email, dwu_city)
        SELECT 'late' || i || '@example.com', 'Esteio' FROM generate_series(1, 40) i" >/dev/null
in_flight() { [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'processing'")" -ge 8 ]; }
check "jobs are in flight" dwu_wait_for 30 "jobs in flight" in_flight
started=$(date +%s%N)
dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$data_dir" -m fast -w -t 60 stop >/dev/null
stopped_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "# the server stopped ${stopped_ms} ms after SIGTERM with requests in flight"
check "the server stopped before the answers could come (10 s)" [ "$stopped_ms" -lt 10000 ]
sim_admin_post /__sim/faults '{"clear": true}' >/dev/null
dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$data_dir" -w -t 60 start -l "$E2E_LOG" >/dev/null
check "after the restart the backlog drains" dwu_wait_for 120 "queue drained" queue_drained
check "no job failed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "and the simulator equals the CRM field by field again" converged
check "still no contact twice" no_duplicate_contacts
# One account's 240024 does not hold up another's requests: the simulator allows each account 20
# requests per 5 s; the default account gets a backlog of 80, the other 10 leads a moment later.
psql_q "SELECT dwu_crm.dinamize_configure('other', '$DWU_SIM_URL', '$OTHER_USER', '$OTHER_PASSWORD',
                                          '$OTHER_CLIENT', '$E2E_LIST', false)" >/dev/null 2>&1
other_id=$(psql_q "select dwu_id from dwu_crm.crm_dinamize_accounts where dwu_name = 'other'")
sim_admin_post /__sim/config '{"rate_limit_per_minute": 20, "rate_limit_window_seconds": 5}' >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) SELECT 'blocked' || i || '@example.com' FROM generate_series(1, 80) i" >/dev/null
sleep 1
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email, dwu_account_id)
        SELECT 'other' || i || '@example.com', $other_id FROM generate_series(1, 10) i" >/dev/null
other_synced() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_account_id = $other_id and dwu_sync_status = 'synced'")" = 10 ]; }
check "the other account's leads are synced" dwu_wait_for 60 "other account" other_synced
waiting=$(psql_q "select count(*) from dwu_crm.crm_sync_queue q join dwu_crm.crm_leads l on l.dwu_id = q.dwu_lead_id
                   where l.dwu_email like 'blocked%' and q.dwu_status in ('queued', 'processing')")
echo "# when the other account's 10 leads were synced, $waiting of the blocked account's 80 jobs still waited"
check "while the first account still waited out its limit" [ "$waiting" -gt 0 ]
check "Dinamize answered 240024 to the first account" [ "$(sim_admin_get /__sim/stats | jq .rate_limited)" -gt 0 ]
check "then its backlog drains too" dwu_wait_for 120 "queue drained" queue_drained
check "and no job failed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "no crash in the server log other than the kill" no_crash_in_log

e2e_finish requests_in_flight
