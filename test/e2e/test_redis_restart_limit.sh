#!/usr/bin/env bash
# The shared rate limit holds through Redis restarts (issue 17 item 5). Two clusters ("servers",
# one worker each) share one Redis and one rate-limited Dinamize account (the simulator enforcing
# 100 requests per 5 s) in the middle of a backlog:
#  1. Redis stops for 3 s and starts again empty: each server goes on with its local share, and
#     when it is back on Redis puts what it sent in the window back before admitting more.
#  2. Redis restarts empty between two calls (stop and start at once).
# Afterwards: the busiest 5 s window by the simulator's arrival clock holds at most the limit,
# Dinamize never answered 240024, both servers logged putting requests back, every lead synced.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT
dwu_init_workdir

LIMIT=100
WINDOW=5
SHARE=0.4  # per server while Redis is away: 2 x 40 leaves room for the unevenness of the split
LEADS_PER_CLUSTER=450

dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT"
sim_admin_post /__sim/config "{\"rate_limit_per_minute\": $LIMIT, \"rate_limit_window_seconds\": $WINDOW}" >/dev/null
dwu_redis_start
E2E_KEY_FILE=$DWU_WORKDIR/keys
dwu_make_key_file "$E2E_KEY_FILE"

start_cluster() {  # start_cluster NAME (common.sh: e2e_cluster, on)
    e2e_cluster "$1" \
        "dwu_crm.redis_port = $DWU_REDIS_PORT" \
        "dwu_crm.redis_timeout_ms = 300" \
        "dwu_crm.rate_limit = $LIMIT" \
        "dwu_crm.rate_limit_window = ${WINDOW}s" \
        "dwu_crm.rate_limit_local_share = $SHARE" \
        "dwu_crm.idle_check_seconds = 3600"
}

start_cluster east
start_cluster west
EAST_LOG=$(dwu_pg_log east)
WEST_LOG=$(dwu_pg_log west)

insert_leads() {  # insert_leads CLUSTER PREFIX COUNT
    on "$1" "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
             SELECT 'Lead ' || i, '$2' || i || '@example.com' FROM generate_series(1, $3) i" >/dev/null
}
drained() {
    [ "$(on "$1" "select (select count(*) from dwu_crm.crm_sync_queue where dwu_status in ('queued', 'processing'))
                       + (select count(*) from dwu_crm.crm_captured_changes where dwu_sync)")" = 0 ]
}
both_drained() { drained east && drained west; }
sim_contact_count() { sim_contacts | jq '.contacts | length'; }
at_least_contacts() { [ "$(sim_contact_count)" -ge "$1" ]; }
returns() { cat "$EAST_LOG" "$WEST_LOG" | grep -c "back on the shared rate limit" || true; }
at_least_returns() { [ "$(returns)" -ge "$1" ]; }

t_start=$(($(date +%s%3N) - 1))
insert_leads east east "$LEADS_PER_CLUSTER"
insert_leads west west "$LEADS_PER_CLUSTER"
check "a full window is synced through the shared limiter" dwu_wait_for 30 "first contacts" at_least_contacts $((LIMIT + 50))

# 1. An outage of 3 s, then Redis back empty.
dwu_redis_stop
echo "# Redis stopped with $(sim_contact_count) contacts"
sleep 3
dwu_redis_start "$DWU_REDIS_PORT"
check "both servers are back on the shared limiter after the outage" \
    dwu_wait_for 20 "both returns" at_least_returns 2
sleep 3
# 2. Redis restarted empty between two calls.
echo "# Redis restarted with $(sim_contact_count) contacts"
dwu_redis_stop
dwu_redis_start "$DWU_REDIS_PORT"
check "both servers are back on the shared limiter after the restart" \
    dwu_wait_for 20 "both returns" at_least_returns 4
echo "# $(sim_contact_count) contacts once both are back"
check "the backlog lasted past the second restart" [ "$(sim_contact_count)" -lt $((2 * LEADS_PER_CLUSTER)) ]

check "both backlogs are synced" dwu_wait_for 90 "both queues drained" both_drained

stats=$(sim_admin_get /__sim/stats)
busiest=$(sim_admin_get "/__sim/window?client_code=$E2E_CLIENT&seconds=$WINDOW" | jq .max_in_window)
total=$(sim_admin_get "/__sim/requests?since_ms=$t_start" | jq "[.requests[] | select(.client_code == \"$E2E_CLIENT\")] | length")
echo "# $total requests; busiest ${WINDOW}s window by arrival: $busiest (limit $LIMIT); 240024 answers: $(jq .rate_limited <<<"$stats")"
check "the busiest window holds at most the limit" [ "$busiest" -le "$LIMIT" ]
check "Dinamize never answered 240024" [ "$(jq .rate_limited <<<"$stats")" = 0 ]
check "every lead of both clusters is a contact (nothing lost)" [ "$(sim_contact_count)" = $((2 * LEADS_PER_CLUSTER)) ]
check "no job failed on either cluster" \
    [ "$(on east "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")$(on west "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 00 ]
check "east put its requests back into Redis" grep -q "put [0-9]* of its recent requests back into the shared rate limit" "$EAST_LOG"
check "west put its requests back into Redis" grep -q "put [0-9]* of its recent requests back into the shared rate limit" "$WEST_LOG"
check "the epoch marker is in Redis again" [ "$(dwu_redis_cli EXISTS dwu_crm:rl-epoch)" = 1 ]
E2E_LOG=$EAST_LOG
check "no crash on east" no_crash_in_log
E2E_LOG=$WEST_LOG
check "no crash on west" no_crash_in_log

e2e_finish redis_restart_limit
