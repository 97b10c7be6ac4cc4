#!/usr/bin/env bash
# Dinamize misbehaving: 5xx answers, timeouts and malformed JSON over a few thousand changes; tokens
# expired mid-run; SIGTERM with a request in flight. Every change still reaches Dinamize as it
# ended up, nothing fails for good, and re-authentication happens once per expiry.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

# A retry must leave after a delayed answer has landed (timeout 400 ms + backoff ≥ 1.5 s > delay
# 1 s), or a late stale update could overwrite a newer one: the same care the real API needs.
e2e_start_stack faults "dwu_crm.request_timeout_ms = 400" "dwu_crm.retry_base_seconds = 2" \
    "dwu_crm.retry_max_seconds = 4" "dwu_crm.max_attempts = 25" "dwu_crm.batch_size = 20" \
    "dwu_crm.import_threshold = 0"  # faults per single call here; test_backfill_import covers imports

faults='{"http_5xx": 0.20, "delay": 0.05, "delay_ms": 1000, "malformed_json": 0.05, "seed": 42}'
check "the simulator accepts the fault settings" bash -c "[ \"\$(curl -s -X POST -H 'Content-Type: application/json' \
    -d '$faults' '$DWU_SIM_URL/__sim/faults' | jq '.http_5xx')\" = 0.2 ]"

# (a) about two thousand changes: inserts, then updates and deletes while the backlog drains.
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city)
        SELECT 'Lead ' || i, 'f' || i || '@example.com', '+55 51 9' || lpad(i::text, 7, '0'), 'Pelotas'
          FROM generate_series(1, 1200) i" >/dev/null
for chunk in 0 1 2; do
    sleep 1
    psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'Changed ' || dwu_id, dwu_city = 'Rio Grande'
             WHERE split_part(substring(dwu_email from 2), '@', 1)::int % 6 = $chunk" >/dev/null
done
psql_q "DELETE FROM dwu_crm.crm_leads WHERE split_part(substring(dwu_email from 2), '@', 1)::int % 6 = 5" >/dev/null
move_captured
check "about two thousand changes were queued" \
    [ "$(psql_q "select count(*) >= 1900 from dwu_crm.crm_sync_queue")" = t ]

check "the queue drains despite the faults" dwu_wait_for 300 "queue drained" queue_drained
stats=$(sim_admin_get /__sim/stats)
check "5xx answers were injected" [ "$(jq '.faults.http_5xx' <<<"$stats")" -gt 100 ]
check "timeouts were injected" [ "$(jq '.faults.delay' <<<"$stats")" -gt 20 ]
check "malformed JSON was injected" [ "$(jq '.faults.malformed_json' <<<"$stats")" -gt 20 ]
check "no job failed for good" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "the retried errors were logged with their categories" \
    [ "$(psql_q "select count(distinct dwu_error_category) from dwu_crm.crm_sync_logs where dwu_status = 'error'")" -ge 2 ]
check "the simulator equals the CRM field by field" converged
[ "$failures" -eq 0 ] || show_divergence

# (e) tokens expired mid-run: one re-authentication per expiry, not one per job.
# Every answer takes 150 ms so that the backlog lasts a few seconds (32 requests in flight).
sim_admin_post /__sim/faults '{"clear": true, "delay": 1.0, "delay_ms": 150}' >/dev/null
auth_before=$(sim_admin_get /__sim/stats | jq '.auth_ok')
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) SELECT 'tok' || i || '@example.com' FROM generate_series(1, 1000) i" >/dev/null
expiries=0
for _ in 1 2 3; do
    sleep 1
    queue_drained && break
    sim_admin_post /__sim/expire-tokens >/dev/null
    expiries=$((expiries + 1))
done
check "the queue drains after token expiries" dwu_wait_for 60 "queue drained" queue_drained
auth_after=$(sim_admin_get /__sim/stats | jq '.auth_ok')
echo "# $expiries expiries, $((auth_after - auth_before)) authentications"
check "tokens were expired while the backlog drained" [ "$expiries" -ge 2 ]
check "one authentication per expiry, not one per job" [ $((auth_after - auth_before)) -eq "$expiries" ]
check "the lead set still converges" converged

# SIGTERM with a request in flight: the worker stops within a second and loses nothing.
sim_admin_post /__sim/faults '{"delay": 1.0, "delay_ms": 20000}' >/dev/null
psql_q "ALTER SYSTEM SET dwu_crm.request_timeout_ms = 60000" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('inflight@example.com')" >/dev/null
in_flight() { [ "$(psql_q "select count(*) from pg_stat_activity where backend_type = 'dwu_crm sync worker' and query like 'dwu_crm: sending%' and wait_event_type = 'Extension'")" = 1 ]; }
check "the worker is waiting on Dinamize" dwu_wait_for 10 "request in flight" in_flight
pid=$(worker_pid)
start_ns=$(date +%s%N)
psql_q "select pg_terminate_backend($pid)" >/dev/null
gone() { ! kill -0 "$pid" 2>/dev/null; }
dwu_wait_for 5 "worker exit" gone || true
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
echo "# the worker exited ${elapsed_ms} ms after SIGTERM"
check "SIGTERM stops the worker within one second with a request in flight" [ "$elapsed_ms" -le 1000 ]
check "the interrupted job went back to the queue" \
    [ "$(psql_q "select q.dwu_status from dwu_crm.crm_sync_queue q join dwu_crm.crm_leads l on l.dwu_id = q.dwu_lead_id where l.dwu_email = 'inflight@example.com'")" = queued ]
sim_admin_post /__sim/faults '{"clear": true}' >/dev/null
synced_inflight() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync s join dwu_crm.crm_leads l on l.dwu_id = s.dwu_lead_id where l.dwu_email = 'inflight@example.com' and s.dwu_sync_status = 'synced'")" = 1 ]; }
check "the restarted worker syncs it" dwu_wait_for 30 "sync after SIGTERM" synced_inflight
check "no PANIC or crash" no_crash_in_log

e2e_finish faults
