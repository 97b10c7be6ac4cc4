#!/usr/bin/env bash
# A batch that outlasts its lease (issue 15 item 6). Every answer comes 1.2 s late, so a batch of
# 16 jobs takes about 20 s while a lease lasts 10 s, and a second worker is ready to claim any job
# whose lease runs out. The sending worker renews the leases of the jobs it has not sent yet
# before a send could outlast them: each job is claimed once and sent once, so no older payload
# can reach Dinamize after a newer one.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

LEADS=16
e2e_start_stack lease "dwu_crm.workers = 2" "dwu_crm.lease_seconds = 10" "dwu_crm.request_timeout_ms = 3000" \
    "dwu_crm.batch_size = $LEADS" "dwu_crm.idle_check_seconds = 1" "dwu_crm.import_threshold = 0"

sim_admin_post /__sim/faults '{"delay": 1.0, "delay_ms": 1200}' >/dev/null
started_ms=$(date +%s%3N)
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
        SELECT 'Lease ' || i, 'lease' || i || '@example.com' FROM generate_series(1, $LEADS) i" >/dev/null

check "the queue drains" dwu_wait_for 120 "queue drained" queue_drained
took_s=$((($(date +%s%3N) - started_ms) / 1000))
echo "# $LEADS jobs with 1.2 s answers took ${took_s} s against a 10 s lease"
check "every lead is synced" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'")" = "$LEADS" ]
check "each job was claimed once (no lease ran out mid-batch)" \
    [ "$(psql_q "select max(dwu_attempt_count) from dwu_crm.crm_sync_queue")" = 1 ]
adds=$(sim_admin_get "/__sim/requests?since_ms=$started_ms" | jq '[.requests[] | select(.path == "/emkt/contact/add")] | length')
check "each lead was sent once (one contact/add per lead)" [ "$adds" = "$LEADS" ]
check "one contact per lead in Dinamize" [ "$(sim_contacts | jq '.contacts | length')" = "$LEADS" ]
check "no crash in the server log" no_crash_in_log
e2e_finish lease_renewal
