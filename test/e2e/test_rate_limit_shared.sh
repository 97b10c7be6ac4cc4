#!/usr/bin/env bash
# Two PostgreSQL clusters, one Redis, one Dinamize account (the simulator enforcing the limit,
# lowered to 30 requests per 10 s so the test runs in about a minute).
#  1. A backlog larger than the limit on both clusters: no 240024 at all, the busiest 10 s window
#     at most 30 requests, every window at least 90% used while backlog remains, one login shared
#     by both clusters through Redis, and no plaintext token in Redis.
#  2. Dinamize's limit drops below ours: its 240024 blocks the account in Redis for both clusters,
#     and the jobs are rescheduled without spending an attempt.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT
dwu_init_workdir

LIMIT=30
WINDOW=10
LEADS_PER_CLUSTER=50

dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT"
sim_admin_post /__sim/config "{\"rate_limit_per_minute\": $LIMIT, \"rate_limit_window_seconds\": $WINDOW}" >/dev/null
dwu_redis_start
E2E_KEY_FILE=$DWU_WORKDIR/keys
dwu_make_key_file "$E2E_KEY_FILE"  # one key file: each cluster can open the token the other shared

start_cluster() {  # start_cluster NAME (common.sh: e2e_cluster, on)
    e2e_cluster "$1" \
        "dwu_crm.redis_port = $DWU_REDIS_PORT" \
        "dwu_crm.rate_limit = $LIMIT" \
        "dwu_crm.rate_limit_window = ${WINDOW}s" \
        "dwu_crm.idle_check_seconds = 3600"
}

start_cluster east
start_cluster west
E2E_LOG=$(dwu_pg_log east)

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

t_start=$(($(date +%s%3N) - 1))
insert_leads east east "$LEADS_PER_CLUSTER"
# West starts once east has logged in and shared its token.
has_contacts() { [ "$(sim_contact_count)" -ge 1 ]; }
dwu_wait_for 20 "the first contact" has_contacts
insert_leads west west "$LEADS_PER_CLUSTER"
check "both backlogs are synced" dwu_wait_for 120 "both queues drained" both_drained

stats=$(sim_admin_get /__sim/stats)
requests=$(sim_admin_get "/__sim/requests?since_ms=$t_start" | jq -c "[.requests[] | select(.client_code == \"$E2E_CLIENT\")]")
total=$(jq length <<<"$requests")
echo "# $total requests reached the simulator"
check "every lead of both clusters is a contact" [ "$(sim_contact_count)" = $((2 * LEADS_PER_CLUSTER)) ]
check "no job failed on either cluster" \
    [ "$(on east "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")$(on west "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 00 ]
check "Dinamize never answered 240024" [ "$(jq .rate_limited <<<"$stats")" = 0 ]
busiest=$(sim_admin_get "/__sim/window?client_code=$E2E_CLIENT&seconds=$WINDOW" | jq .max_in_window)
echo "# busiest ${WINDOW}s window: $busiest requests (limit $LIMIT)"
check "the busiest window holds at most the limit" [ "$busiest" -le "$LIMIT" ]

# Windows of WINDOW s from the first request; those that end before the last request had backlog
# waiting all along and must each carry at least 90% of the limit.
per_window=$(jq -c --argjson w $((WINDOW * 1000)) '
    (.[0].t_ms) as $t0 | (.[-1].t_ms) as $tn
    | [range(0; (($tn - $t0) / $w | floor)) as $k
       | [.[] | select(.t_ms >= $t0 + $k * $w and .t_ms < $t0 + ($k + 1) * $w)] | length]' <<<"$requests")
echo "# requests per full window while backlog remained: $per_window"
check "at least two full windows were observed" [ "$(jq length <<<"$per_window")" -ge 2 ]
check "every window with backlog used at least 90% of the limit" \
    [ "$(jq --argjson min $((LIMIT * 9 / 10)) '[.[] | select(. < $min)] | length' <<<"$per_window")" = 0 ]

check "one login served both clusters (token shared through Redis)" [ "$(jq .auth_ok <<<"$stats")" = 1 ]
check "west stored the shared token too, sealed" \
    [ "$(on west "select count(*) from dwu_crm.crm_auth_tokens where dwu_active and length(dwu_token) > 31")" = 1 ]
check "the token is cached in Redis" [ "$(shared_tokens)" = 1 ]
redis_dump=$DWU_WORKDIR/redis-values.txt
for key in $(dwu_redis_cli --scan --pattern 'dwu_crm:*'); do
    echo "$key"; redis-cli -h 127.0.0.1 -p "$DWU_REDIS_PORT" --no-raw DUMP "$key"
done >"$redis_dump"
token_shape='[0-9]{5}\.[0-9]{6}\.[0-9]{1,2}\.[A-Za-z0-9+/]{48}'
check "Redis holds no plaintext token nor the password" \
    bash -c "[ -s '$redis_dump' ] && ! grep -Eaq '$token_shape' '$redis_dump' && ! grep -Faq '$E2E_PASSWORD' '$redis_dump'"
check "the rate limit is described once in the server log" \
    [ "$(grep -c "dwu_crm worker rate limit: $LIMIT requests per $WINDOW s per Dinamize account, shared through redis" "$E2E_LOG")" = 1 ]

# 2. Dinamize allows fewer requests than we think: its 240024 must pause both clusters.
sim_admin_post /__sim/config "{\"rate_limit_per_minute\": 4, \"rate_limit_window_seconds\": $WINDOW}" >/dev/null
sleep $((WINDOW + 1))  # the simulator's window empties; ours still admits 30
before=$(sim_admin_get /__sim/stats | jq .rate_limited)
insert_leads east late-east 5
insert_leads west late-west 5
blocked() { [ "$(dwu_redis_cli PTTL "dwu_crm:block:$E2E_CLIENT")" -gt 0 ]; }
check "a 240024 sets the shared block in Redis" dwu_wait_for 20 "the block key" blocked
check "the late leads are synced after the block" dwu_wait_for 120 "both queues drained" both_drained
after=$(sim_admin_get /__sim/stats | jq .rate_limited)
echo "# 240024 answers while Dinamize allowed 4 per ${WINDOW}s: $((after - before))"
check "Dinamize did answer 240024" [ "$after" -gt "$before" ]
check "the late leads all became contacts" [ "$(sim_contact_count)" = $((2 * LEADS_PER_CLUSTER + 10)) ]
check "a 240024 costs no attempt (every job completed on its first counted attempt)" \
    [ "$(on east "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed' or dwu_attempt_count <> 1")$(on west "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed' or dwu_attempt_count <> 1")" = 00 ]
check "no crash on east" no_crash_in_log
E2E_LOG=$(dwu_pg_log west)
check "no crash on west" no_crash_in_log

e2e_finish rate_limit_shared
