#!/usr/bin/env bash
# Logins never storm (issue 17 item 4): one login per account at a time across every worker and
# SQL session sharing Redis, none within dwu_crm.login_min_interval of the last, and one token
# for all of them.
#   (1) 20 SQL sessions call Dinamize at once on a new account: one login between them.
#   (2) two workers drain a backlog; the token is revoked mid-backlog: one new login, not one per
#       worker, never two within the interval, nothing lost.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

INTERVAL_S=3
LEADS=1200
e2e_start_stack logins "dwu_crm.workers = 2" "dwu_crm.login_min_interval = ${INTERVAL_S}s" \
    "dwu_crm.import_threshold = 0" "dwu_crm.retry_base_seconds = 1" "dwu_crm.retry_max_seconds = 2" \
    "dwu_crm.max_attempts = 20"
auth_ok() { sim_admin_get /__sim/stats | jq '.auth_ok'; }

# (1) Twenty sessions at once.
before=$(auth_ok)
pids=()
for _ in $(seq 1 20); do
    psql_q "SELECT count(*) FROM dwu_crm.dinamize_search('$E2E_LIST')" >/dev/null &
    pids+=($!)
done
wait "${pids[@]}"  # not a bare wait: the simulator, Redis and the server are background jobs too
logins=$(( $(auth_ok) - before ))
echo "# 20 concurrent SQL sessions: $logins login(s)"
check "20 SQL sessions at once share one login" [ "$logins" = 1 ]

# (2) Two workers, a backlog, a revoked token.
sim_admin_post /__sim/faults '{"delay": 1.0, "delay_ms": 1000}' >/dev/null  # the backlog outlasts the interval, 32 in flight a worker
t_start=$(date +%s%3N)
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
        SELECT 'Lead ' || i, 'sf' || i || '@example.com' FROM generate_series(1, $LEADS) i" >/dev/null
synced() { psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'"; }
some_synced() { [ "$(synced)" -ge 50 ]; }
check "both workers are sending" dwu_wait_for 60 "50 synced" some_synced
sleep $((INTERVAL_S + 1))  # past the interval of the first login, so that a new one is allowed
t_revoked=$(date +%s%3N)
sim_admin_post /__sim/expire-tokens >/dev/null
check "the backlog drains" dwu_wait_for 120 "queue drained" queue_drained
sim_admin_post /__sim/faults '{"clear": true}' >/dev/null

auths=$(sim_admin_get "/__sim/requests?since_ms=$t_start" | jq -c '[.requests[] | select(.path == "/auth" and .outcome == "480001") | .t_ms]')
after_revoke=$(jq --argjson t "$t_revoked" 'map(select(. > $t)) | length' <<<"$auths")
closest=$(jq '[range(1; length) as $i | .[$i] - .[$i - 1]] | min // 1000000' <<<"$auths")
echo "# logins since the backlog began: $(jq length <<<"$auths"), after the revocation: $after_revoke, closest ${closest} ms apart"
check "one login after the revocation, for both workers" [ "$after_revoke" = 1 ]
check "never two logins within the interval" [ "$closest" -ge $((INTERVAL_S * 1000)) ]
check "two workers did the work" \
    [ "$(psql_q "select count(*) from pg_stat_activity where backend_type = 'dwu_crm sync worker'")" = 2 ]
check "no job failed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "the simulator equals the CRM field by field" converged
check "no crash in the server log" no_crash_in_log
e2e_finish login_single_flight
