#!/usr/bin/env bash
# A backfill past the rate limit: 5,000 new leads while Dinamize allows 30 requests per 10 s.
# One contact per request that would take ~28 minutes; through the bulk import (files of 2,000
# leads) it takes a few requests. Every lead must end linked to its contact, with its latest
# values, under the limit.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

LEADS=5000
E2E_RATE_LIMIT=30
e2e_start_stack backfill "dwu_crm.rate_limit_window = 10s" "dwu_crm.import_threshold = 500" \
    "dwu_crm.import_batch = 2000" "dwu_crm.request_timeout_ms = 1500" "dwu_crm.retry_base_seconds = 2" \
    "dwu_crm.retry_max_seconds = 4" "dwu_crm.max_attempts = 25"
sim_admin_post /__sim/config '{"rate_limit_per_minute": 30, "rate_limit_window_seconds": 10}' >/dev/null

psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', false)" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city)
        SELECT 'Lead ' || i, 'backfill' || i || '@example.com', '+55 51 ' || i, 'City ' || (i % 7)
          FROM generate_series(1, $LEADS) i" >/dev/null
# Edits made before the backfill runs ride along with the creates: the import carries them.
psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'Edited ' || dwu_id WHERE dwu_id % 50 = 0" >/dev/null
move_captured  # all of it in the queue before the account resumes, as after a pause of any length
t0=$(date +%s%3N)
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', true)" >/dev/null

synced() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'")" = "$LEADS" ]; }
check "all $LEADS leads are synced within 2 minutes" dwu_wait_for 120 "the backfill" synced
elapsed_ms=$(( $(date +%s%3N) - t0 ))
check "the queue is drained, nothing failed" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 0 ]
stats=$(sim_admin_get /__sim/stats)
requests=$(jq '[.requests | to_entries[] | .value] | add' <<<"$stats")
imports=$(jq '.requests["/emkt/contact"] // 0' <<<"$stats")
singles=$(jq '.requests["/emkt/contact/add"] // 0' <<<"$stats")
echo "# $LEADS leads in $((elapsed_ms / 1000)) s: $requests requests ($imports imports, $singles single adds)," \
     "$(jq -n "$requests * 10000 / $LEADS") requests per 10k leads"
check "the leads went through imports of 2,000" [ "$imports" = 3 ]
check "no lead needed a single call" [ "$singles" = 0 ]
check "fewer than 30 requests for $LEADS leads" [ "$requests" -lt 30 ]
check "Dinamize never answered 240024" [ "$(jq .rate_limited <<<"$stats")" = 0 ]
check "every lead is linked to the contact with its e-mail" \
    [ "$(psql_q "select json_object_agg(lower(l.dwu_email), s.dwu_dinamize_contact_id order by l.dwu_email)
                   from dwu_crm.crm_leads l join dwu_crm.crm_lead_sync s on s.dwu_lead_id = l.dwu_id" | jq -S -c .)" = \
      "$(sim_contacts | jq -S -c '[.contacts[] | {key: (.email | ascii_downcase), value: (.code | tostring)}] | from_entries')" ]
check "the simulator equals the CRM field by field (latest values included)" converged
check "the logs name the import" \
    [ "$(psql_q "select count(distinct dwu_request_unique) from dwu_crm.crm_sync_logs where dwu_error_message like 'imported (Dinamize import %'")" = 3 ]

# 1b. An import that fails as a whole (every call answers 503) comes back as one import, not as a
#     thousand single adds: its rows share one retry time. Faults go off once the failure is recorded.
before=$(sim_admin_get /__sim/stats)
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', false)" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
        SELECT 'Retry ' || i, 'retried' || i || '@example.com' FROM generate_series(1, 1000) i" >/dev/null
move_captured
sim_admin_post /__sim/faults '{"http_5xx": 1.0, "seed": 3}' >/dev/null
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', true)" >/dev/null
import_failed() {
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue
                  where dwu_status = 'queued' and dwu_attempt_count > 0 and dwu_last_error like 'bulk import failed%'")" = 1000 ]
}
check "the failed import's 1000 rows wait for their retry" dwu_wait_for 60 "the failed import" import_failed
sim_admin_post /__sim/faults '{"clear": true}' >/dev/null
check "the retried import drains the queue" dwu_wait_for 60 "the retried import" queue_drained
after=$(sim_admin_get /__sim/stats)
check "the rows went again as an import" \
    [ "$(jq -n --argjson a "$after" --argjson b "$before" '$a.requests["/emkt/contact"] - $b.requests["/emkt/contact"]')" -ge 2 ]
check "no row of the failed import went one by one" \
    [ "$(jq -n --argjson a "$after" --argjson b "$before" '($a.requests["/emkt/contact/add"] // 0) - ($b.requests["/emkt/contact/add"] // 0)')" = 0 ]

# 2. A second backfill while Dinamize fails some requests (5xx) and lets others answer too late
#    (3 s > the 1.5 s timeout: the import may land after the worker gave up on it).
#    Some leads are edited and some deleted before it starts.
#    The rate limit is lifted for this part: it is about faults, and retries under 30 requests per
#    10 s made its duration depend on the fault draws.
sim_admin_post /__sim/config '{"rate_limit_per_minute": 0}' >/dev/null
psql_q "ALTER SYSTEM SET dwu_crm.rate_limit = 0" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
sim_admin_post /__sim/faults '{"http_5xx": 0.15, "delay": 0.1, "delay_ms": 3000, "seed": 7}' >/dev/null
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', false)" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_city)
        SELECT 'Second ' || i, 'second' || i || '@example.com', 'Rio Grande' FROM generate_series(1, 2000) i" >/dev/null
psql_q "UPDATE dwu_crm.crm_leads SET dwu_city = 'Pelotas' WHERE dwu_email LIKE 'second%' AND dwu_id % 7 = 0" >/dev/null
psql_q "DELETE FROM dwu_crm.crm_leads WHERE dwu_email LIKE 'second%' AND dwu_id % 11 = 0" >/dev/null
move_captured
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', true)" >/dev/null
check "the second backfill drains despite the faults" dwu_wait_for 240 "the second backfill" queue_drained
faults=$(sim_admin_get /__sim/stats | jq -c .faults)
echo "# faults injected: $faults"
check "faults were injected" [ "$(jq '.http_5xx + .delay' <<<"$faults")" -gt 0 ]
check "nothing failed for good" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "after the faults the simulator equals the CRM field by field" converged
[ "$failures" -eq 0 ] || show_divergence
check "no crash in the server log" no_crash_in_log
e2e_finish backfill_import
