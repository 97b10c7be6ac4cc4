#!/usr/bin/env bash
# Redis behind a Sentinel (dwu_crm.redis_sentinels, redis_sentinel_master), shared by two clusters
# ("servers", one worker each): each worker asks the sentinel where the master is, shares the limit
# there, and after a failover mid-backlog (the sentinel names another, empty server and the old
# master dies) finds the new master, puts its recent requests back and keeps the limit (simulator
# enforcing 60 per 5 s): no 240024, every lead of both synced. The old master dies in mid-burst,
# so a server that falls back to its local share must count what the other may have admitted
# after the last total it saw (LocalRateLimiter::shared_lost).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT
dwu_init_workdir

LIMIT=60
WINDOW=5
LEADS=200  # per cluster

# sentinel_start MASTER_PORT — a sentinel monitoring master "dwu" there; sets SENTINEL_PORT.
sentinel_start() {
    SENTINEL_PORT=$(dwu_free_port)
    mkdir -p "$DWU_WORKDIR/redis-sentinel"
    printf 'port %s\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor dwu 127.0.0.1 %s 1\n' \
        "$SENTINEL_PORT" "$DWU_WORKDIR/redis-sentinel" "$DWU_WORKDIR/redis-sentinel/sentinel.log" "$1" \
        >"$DWU_WORKDIR/redis-sentinel/sentinel.conf"
    /usr/bin/redis-server "$DWU_WORKDIR/redis-sentinel/sentinel.conf" --sentinel &
    DWU_PIDS+=($!)
    dwu_wait_for 10 "redis sentinel" redis-cli -p "$SENTINEL_PORT" PING >/dev/null 2>&1
}
sentinel_cli() { redis-cli -h 127.0.0.1 -p "$SENTINEL_PORT" "$@"; }

dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT"
sim_admin_post /__sim/config "{\"rate_limit_per_minute\": $LIMIT, \"rate_limit_window_seconds\": $WINDOW}" >/dev/null
dwu_redis_start
OLD_PORT=$DWU_REDIS_PORT
sentinel_start "$OLD_PORT"
# The replica to fail over to: another Redis, empty (as if it lacked the latest writes).
NEW_PORT=$(dwu_free_port)
/usr/bin/redis-server --port "$NEW_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$DWU_WORKDIR" --logfile "$DWU_WORKDIR/redis-new.log" &
DWU_PIDS+=($!)
dwu_wait_for 10 "the second redis-server" redis-cli -p "$NEW_PORT" PING >/dev/null 2>&1

E2E_KEY_FILE=$DWU_WORKDIR/keys
dwu_make_key_file "$E2E_KEY_FILE"
start_cluster() {  # start_cluster NAME (common.sh: e2e_cluster, on)
    e2e_cluster "$1" \
        "dwu_crm.redis_host = ''" \
        "dwu_crm.redis_sentinels = '127.0.0.1:$SENTINEL_PORT'" \
        "dwu_crm.redis_sentinel_master = 'dwu'" \
        "dwu_crm.redis_timeout_ms = 300" \
        "dwu_crm.rate_limit = $LIMIT" \
        "dwu_crm.rate_limit_window = ${WINDOW}s" \
        "dwu_crm.rate_limit_local_share = 0.4" \
        "dwu_crm.idle_check_seconds = 3600"
}
start_cluster east
start_cluster west
EAST_LOG=$(dwu_pg_log east)
WEST_LOG=$(dwu_pg_log west)
E2E_LOG=$EAST_LOG

synced_count() {  # both clusters
    echo $(( $(on east "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'")
           + $(on west "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'") ))
}
at_least_synced() { [ "$(synced_count)" -ge "$1" ]; }
drained_and_synced() { [ "$(synced_count)" = $((2 * LEADS)) ]; }

for c in east west; do
    on "$c" "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
             SELECT 'Lead ' || i, 'sentinel-$c' || i || '@example.com' FROM generate_series(1, $LEADS) i" >/dev/null
done
check "leads are synced through the master the sentinel names" dwu_wait_for 30 "first leads" at_least_synced $((LIMIT + 10))
check "the limit lives on that master" [ "$(redis-cli -p "$OLD_PORT" EXISTS "dwu_crm:rl:$E2E_CLIENT:$WINDOW")" = 1 ]
check "the log names the master and the sentinel" \
    grep -q "shared through redis master dwu (sentinels 127.0.0.1:$SENTINEL_PORT)" "$EAST_LOG"

# The failover: the sentinel names the other server, the old master dies.
sentinel_cli SENTINEL REMOVE dwu >/dev/null
sentinel_cli SENTINEL MONITOR dwu 127.0.0.1 "$NEW_PORT" 1 >/dev/null
dwu_redis_stop
echo "# failed over with $(synced_count) of $LEADS leads synced"

check "every lead of both clusters is synced in the end" dwu_wait_for 120 "the whole backlog" drained_and_synced
check "the new master holds the limit" [ "$(redis-cli -p "$NEW_PORT" EXISTS "dwu_crm:rl:$E2E_CLIENT:$WINDOW")" = 1 ]
for c in EAST WEST; do
    log_var="${c}_LOG"
    check "${c,,}: the return names the new master" \
        grep -q "back on the shared rate limit: redis dwu@127.0.0.1:$NEW_PORT answers again" "${!log_var}"
done
check "a worker put its recent requests back on the new master" \
    bash -c "cat '$EAST_LOG' '$WEST_LOG' | grep -q 'put [0-9]* of its recent requests back into the shared rate limit'"
for c in EAST WEST; do  # each server's switches, for the record
    log_var="${c}_LOG"
    grep -Eo '^[0-9:. -]+UTC|cannot use Redis|back on the shared rate limit|put [0-9]+ of its recent' "${!log_var}" |
        paste -sd' ' | grep -Eo '[0-9:.]+ UTC (cannot use Redis|back on the shared rate limit|put [0-9]+ of its recent)' |
        sed "s/^/# ${c,,} /" || true
done
stats=$(sim_admin_get /__sim/stats)
busiest=$(sim_admin_get "/__sim/window?client_code=$E2E_CLIENT&seconds=$WINDOW" | jq .max_in_window)
echo "# busiest ${WINDOW}s window: $busiest (limit $LIMIT); 240024 answers: $(jq .rate_limited <<<"$stats")"
check "the busiest window holds at most the limit" [ "$busiest" -le "$LIMIT" ]
check "Dinamize never answered 240024" [ "$(jq .rate_limited <<<"$stats")" = 0 ]
for c in east west; do
    check "$c: no job failed" [ "$(on "$c" "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 0 ]
done
check "$((2 * LEADS)) contacts in Dinamize, one per lead" [ "$(sim_contacts | jq '.contacts | length')" = $((2 * LEADS)) ]
check "no crash in the server logs" bash -c "! grep -Eq 'PANIC|terminated by signal 11|terminated by signal 6' '$EAST_LOG' '$WEST_LOG'"

e2e_finish redis_sentinel
