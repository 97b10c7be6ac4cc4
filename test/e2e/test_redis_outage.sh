#!/usr/bin/env bash
# Redis stops in the middle of a backlog and comes back on the same port (empty, as after a crash
# without persistence). The worker must keep syncing under its local share of the limit, say so
# once in the log (not once per job), return to the shared limiter when Redis answers, and lose
# nothing.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

LIMIT=100
WINDOW=5
SHARE=0.5
LEADS=400
E2E_RATE_LIMIT=$LIMIT
e2e_start_stack outage "dwu_crm.rate_limit_window = ${WINDOW}s" "dwu_crm.rate_limit_local_share = $SHARE" \
    "dwu_crm.redis_timeout_ms = 300" "dwu_crm.idle_check_seconds = 3600"
pid_before=$(worker_pid)

synced_count() { psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'"; }
at_least_synced() { [ "$(synced_count)" -ge "$1" ]; }
drained_and_synced() { queue_drained && [ "$(synced_count)" = "$LEADS" ]; }

psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone)
        SELECT 'Lead ' || i, 'outage' || i || '@example.com', '+55 51 ' || i FROM generate_series(1, $LEADS) i" >/dev/null
check "the first window's worth is synced through the shared limiter" dwu_wait_for 30 "first leads" at_least_synced $LIMIT

dwu_redis_stop
t_down=$(date +%s%3N)
down_at=$(synced_count)
echo "# Redis stopped with $down_at of $LEADS leads synced"
check "work goes on without Redis" dwu_wait_for 60 "progress without Redis" at_least_synced $((down_at + 60))
check "the fallback to the local limiter is logged" \
    dwu_wait_for 10 "the warning" grep -q "cannot use Redis for the shared rate limit" "$E2E_LOG"
t_up=$(date +%s%3N)
dwu_redis_start "$DWU_REDIS_PORT"
echo "# Redis restarted with $(synced_count) of $LEADS leads synced"

check "every lead is synced in the end" dwu_wait_for 90 "the whole backlog" drained_and_synced
check "the return to the shared limiter is logged" \
    dwu_wait_for 10 "the return" grep -q "back on the shared rate limit" "$E2E_LOG"
check "the outage is logged once, not per job" \
    [ "$(grep -c "cannot use Redis for the shared rate limit" "$E2E_LOG")" = 1 ]
check "the return is logged once" [ "$(grep -c "back on the shared rate limit" "$E2E_LOG")" = 1 ]
check "the warning names Redis by address, not by password" \
    grep -q "cannot use Redis for the shared rate limit: .*127.0.0.1:$DWU_REDIS_PORT" "$E2E_LOG"
check "the shared limiter is in use again (its window is in Redis)" \
    [ "$(dwu_redis_cli EXISTS "dwu_crm:rl:$E2E_CLIENT:$WINDOW")" = 1 ]

# While Redis was away, the worker kept to its share: at most LIMIT * SHARE in any WINDOW s.
local_max=$(sim_admin_get "/__sim/requests?since_ms=$t_down" | jq --argjson up "$t_up" --argjson w $((WINDOW * 1000)) '
    [.requests[] | select(.t_ms < $up) | .t_ms] as $t
    | [range(0; $t | length) as $i | [$t[] | select(. >= $t[$i] and . < $t[$i] + $w)] | length] | max // 0')
echo "# busiest ${WINDOW}s window without Redis: $local_max requests (share: $(jq -n "$LIMIT * $SHARE"))"
check "without Redis the worker kept to its share of the limit" [ "$local_max" -le "$(jq -n "$LIMIT * $SHARE | floor")" ]
check "without Redis the worker was not idle either" [ "$local_max" -ge 20 ]

check "no job failed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 0 ]
check "the simulator equals the CRM field by field" converged
check "one contact per lead (nothing sent twice)" [ "$(sim_contacts | jq '.contacts | length')" = "$LEADS" ]
check "the same worker process did it all" [ "$(worker_pid)" = "$pid_before" ]
check "no crash in the server log" no_crash_in_log

e2e_finish redis_outage
