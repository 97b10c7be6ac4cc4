#!/usr/bin/env bash
# The sync benchmark (issue 7, bench/README.md "Sync benchmark (issue 7)"): one throwaway cluster
# with the installed extension, the Dinamize simulator, no Redis; prints one table:
#   (a) trigger overhead: pgbench insert tps and a bulk INSERT … SELECT, crm_leads vs a trigger-less copy
#   (b) end-to-end sync throughput of a backlog, and the ratio to a bare libcurl client
#   (c) pickup latency, commit → the simulator receiving the request, idle system
#   (d) API calls per lead under a burst of 10 updates per lead
#   (e) memory of each sync worker after the backlog and after 500k jobs
# Usage: bash bench/run_sync.sh [--quick] [--workers W] [--accounts K] [--bare-lists L] [--backlog N]
#                               [--only abcde]
#   --quick: backlog 20k instead of 100k, no 500k memory part, shorter pgbench runs (~2 min).
# The default run takes about 8 minutes (+ up to 5 min for a 100k chunk of (e) that does not drain).
# Uses the extension installed in $PG_BIN (it does not run `make install`), builds dinamize_sim and
# bare_client into build/. Progress and details go to stderr, the table (and details) to stdout.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$DWU_ROOT/test/e2e/common.sh"
source "$DWU_ROOT/bench/bench_lib.sh"
trap dwu_cleanup EXIT

QUICK=0
WORKERS=4
ACCOUNTS=1        # Dinamize accounts (one list each) the leads are spread over
BARE_LISTS=100    # lists the bare client spreads its contacts over: see bench/README.md
BACKLOG=100000
EXTRA_CHUNKS=4    # (e): 4 × 100k more jobs after the backlog
PGBENCH_SECONDS=15
PGBENCH_CLIENTS=4
LATENCY_SAMPLES=200
BURST_LEADS=1000
CHUNK_TIMEOUT=300 # (e): longest wait for one 100k chunk
PER_CONTACT_BACKLOG=20000   # (b'): one contact/add per lead
PER_CONTACT_ACCOUNTS=20
E_STUCK=0
ONLY=abcde        # --only bc: just those measures ((e) needs (b))
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1; BACKLOG=20000; EXTRA_CHUNKS=0; PGBENCH_SECONDS=5; PER_CONTACT_BACKLOG=5000 ;;
        --workers) WORKERS=$2; shift ;;
        --accounts) ACCOUNTS=$2; shift ;;
        --bare-lists) BARE_LISTS=$2; shift ;;
        --backlog) BACKLOG=$2; shift ;;
        --only) ONLY=$2; shift ;;
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        *) dwu_die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[ "$ACCOUNTS" -ge 1 ] && [ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 16 ] || dwu_die "bad --workers/--accounts"

# ---------------------------------------------------------------------------------------------
# Build and start: simulator, cluster (installed extension), K accounts on K lists.
# ---------------------------------------------------------------------------------------------
bench_build_tools

dwu_init_workdir
dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT"
SIM_PID=${DWU_PIDS[-1]}
E2E_KEY_FILE=$DWU_WORKDIR/keys
dwu_make_key_file "$E2E_KEY_FILE"
dwu_pg_start sync "$(dwu_free_port)" \
    "shared_preload_libraries = 'pg_stat_statements,dwu_crm'" \
    "pg_stat_statements.track = all" \
    "dwu_crm.database = '$E2E_DB'" \
    "dwu_crm.encryption_key_file = '$E2E_KEY_FILE'" \
    "dwu_crm.workers = $WORKERS" \
    "dwu_crm.rate_limit = 0" \
    "dwu_crm.redis_host = ''"
E2E_LOG=$(dwu_pg_log sync)
PG_DATA=$DWU_WORKDIR/sync/data
"$PG_BIN/createdb" "$E2E_DB"
psql_q "CREATE EXTENSION dwu_crm" >/dev/null
psql_q "CREATE EXTENSION pg_stat_statements" >/dev/null
FIRST_LIST=101
A_DB=dwu_bench_triggers
# bench1 (list 101) is the default account; bench2 … benchK use lists 102 … 100+K.
psql_q "SELECT count(dwu_crm.dinamize_configure('bench' || i, '$DWU_SIM_URL', '$E2E_USER', '$E2E_PASSWORD',
                 '$E2E_CLIENT', ($FIRST_LIST - 1 + i)::text, i = 1)) FROM generate_series(1, $ACCOUNTS) i" >/dev/null
BATCH_SIZE=$(psql_q "show dwu_crm.batch_size")
UPDATE_DELAY=$(psql_q "show dwu_crm.update_delay")
workers_up() { [ "$(psql_q "select count(*) from pg_stat_activity where backend_type = 'dwu_crm sync worker'")" = "$WORKERS" ]; }
dwu_wait_for 30 "$WORKERS sync workers" workers_up || dwu_die "the sync workers did not start"

sim_count() { sim_admin_get /__sim/stats | jq --arg p "$1" '.requests[$p] // 0'; }
# Leads spread round-robin over the accounts (i mod K), e-mails PREFIX.i@example.com.
insert_leads() {  # insert_leads N PREFIX
    psql_q "INSERT INTO dwu_crm.crm_leads (dwu_account_id, dwu_name, dwu_email)
            SELECT a.ids[1 + i % $ACCOUNTS], 'Lead ' || i, '$2.' || i || '@example.com'
              FROM generate_series(1, $1) i,
                   (SELECT array_agg(dwu_id ORDER BY dwu_id) AS ids FROM dwu_crm.crm_dinamize_accounts) a" >/dev/null
}
want() { [[ $ONLY == *$1* ]]; }


# ---------------------------------------------------------------------------------------------
# (a) Trigger overhead: what the capture costs the application's writes.
# ---------------------------------------------------------------------------------------------
if want a; then
    # In a second database with the extension and an enabled default account: the trigger does all
    # its work (the captured row, the wake at commit) but the workers serve $E2E_DB, so nothing
    # moves the captured rows: the writer's cost alone, issue 7's measure. Then the same pgbench in
    # $E2E_DB, where the workers move every captured row into the queue and the audit log on the
    # same two cores (below).
    dwu_log "(a) trigger overhead: pgbench ${PGBENCH_SECONDS}s × 2 per table, $PGBENCH_CLIENTS clients, database $A_DB"
    "$PG_BIN/createdb" "$A_DB"
    psql_a() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -d "$A_DB" -c "$1"; }
    psql_a "CREATE EXTENSION dwu_crm" >/dev/null
    psql_a "SELECT dwu_crm.dinamize_configure('a', '$DWU_SIM_URL', '$E2E_USER', '$E2E_PASSWORD', '$E2E_CLIENT', '$FIRST_LIST', true)" >/dev/null
    # The same table without the extension's trigger: LIKE copies columns, checks and indexes but
    # not the foreign keys, whose own (internal) triggers every insert into crm_leads pays too.
    psql_a "CREATE TABLE public.plain_leads (LIKE dwu_crm.crm_leads INCLUDING ALL)" >/dev/null
    psql_a "ALTER TABLE public.plain_leads
              ADD FOREIGN KEY (dwu_account_id) REFERENCES dwu_crm.crm_dinamize_accounts (dwu_id),
              ADD FOREIGN KEY (dwu_converted_to_opportunity_id) REFERENCES dwu_crm.crm_opportunities (dwu_id) ON DELETE SET NULL" >/dev/null
    for t in plain_leads dwu_crm.crm_leads; do
        cat >"$DWU_WORKDIR/insert_${t#*.}.sql" <<EOF
\set n :n + 1
INSERT INTO $t (dwu_name, dwu_email) VALUES ('Bench ' || :client_id, 'r' || :run || 'c' || :client_id || 'n' || :n || '@example.com');
EOF
    done
    pgbench_tps() {  # pgbench_tps TABLE [DB] — the e-mails of each run are unique (run = nanoseconds)
        local out
        out=$("$PG_BIN/pgbench" -n -f "$DWU_WORKDIR/insert_${1#*.}.sql" -c "$PGBENCH_CLIENTS" -j 2 -T "$PGBENCH_SECONDS" \
              -D run="$(date +%s%N)" -D n=0 "${2:-$A_DB}" 2>&1) || { echo "$out" >&2; dwu_die "pgbench failed"; }
        echo "$out" | awk '/^tps = .*without initial connection time/ { print $3 }'
    }
    # tps_pair LABEL — pgbench on both tables, runs alternated; sets tps_plain, tps_ext, tps_ratio
    tps_pair() {
        local plain_tps=() ext_tps=() run
        for run in 1 2; do
            cpu_mark p0
            plain_tps+=("$(pgbench_tps plain_leads)")
            cpu_mark p1
            ext_tps+=("$(pgbench_tps dwu_crm.crm_leads)")
            cpu_mark p2
            dwu_log "    $1 run $run: plain ${plain_tps[-1]} tps, crm_leads ${ext_tps[-1]} tps"
        done
        tps_plain=$(calc "(${plain_tps[0]} + ${plain_tps[1]}) / 2")
        tps_ext=$(calc "(${ext_tps[0]} + ${ext_tps[1]}) / 2")
        tps_ratio=$(calc "$tps_ext / $tps_plain")
        detail "(a) $1: pgbench $PGBENCH_CLIENTS clients × ${PGBENCH_SECONDS}s, runs alternated: plain ${plain_tps[*]} tps, crm_leads ${ext_tps[*]} tps; last crm_leads run: $(cpu_report p1 p2)"
    }
    tps_row() {  # tps_row WHAT
        row "(a) pgbench insert tps, $1: crm_leads / plain" \
            "$(fmt "$tps_ext" 0) / $(fmt "$tps_plain" 0) = $(fmt "$tps_ratio" 2)" ">= 0.80" "$(verdict "$tps_ratio >= 0.8")"
    }
    bulk_ms() {  # bulk_ms TABLE PREFIX — server time of INSERT … SELECT of 100k leads
        "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -d "$A_DB" -c '\timing on' \
            -c "INSERT INTO $1 (dwu_name, dwu_email) SELECT 'Bulk ' || i, '$2.' || i || '@example.com' FROM generate_series(1, 100000) i" \
            | awk '/^Time:/ { print $2 }'
    }
    bulk_pair() {  # bulk_pair LABEL — sets bulk_plain, bulk_ext, bulk_ratio
        local plain_bulk=() ext_bulk=() run
        for run in 1 2; do
            plain_bulk+=("$(bulk_ms plain_leads "$1$run")")
            ext_bulk+=("$(bulk_ms dwu_crm.crm_leads "$1$run")")
        done
        bulk_plain=$(calc "(${plain_bulk[0]} + ${plain_bulk[1]}) / 2")
        bulk_ext=$(calc "(${ext_bulk[0]} + ${ext_bulk[1]}) / 2")
        bulk_ratio=$(calc "$bulk_plain / $bulk_ext")
        detail "(a) $1 bulk 100k: plain ${plain_bulk[*]} ms, crm_leads ${ext_bulk[*]} ms"
    }
    bulk_row() {  # bulk_row WHAT
        row "(a) bulk INSERT..SELECT 100k ms, $1: crm_leads / plain" \
            "$(fmt "$bulk_ext" 0) / $(fmt "$bulk_plain" 0) -> speed ratio $(fmt "$bulk_ratio" 2)" "(no target)" "info"
    }
    audit() { psql_a "ALTER DATABASE $A_DB SET dwu_crm.audit_row_changes = $1" >/dev/null; }
    cluster_fsync() { psql_a "ALTER SYSTEM SET fsync = $1" >/dev/null; psql_a "SELECT pg_reload_conf()" >/dev/null; sleep 1; }
    # Each captured insert writes a queue row (capture) and an audit row (issue 8's audit trail,
    # dwu_crm.audit_row_changes): measured with and without the audit row; fsync off (CPU only,
    # as in the rest of this benchmark), then on (what a durable commit costs on this disk).
    tps_pair audit_on; tps_row "capture + audit (default), fsync off"
    tps_plain_default=$tps_plain
    bulk_pair audit_on; bulk_row "capture + audit, fsync off"
    audit off
    tps_pair audit_off; tps_row "capture only (audit_row_changes off), fsync off"
    bulk_pair audit_off; bulk_row "capture only, fsync off"
    cluster_fsync on
    tps_pair fsync_audit_off; tps_row "capture only, fsync on"
    audit on
    tps_pair fsync_audit_on; tps_row "capture + audit, fsync on"
    cluster_fsync off
    "$PG_BIN/dropdb" "$A_DB"
    # The same pgbench in the workers' database with the accounts paused (as an operator would
    # pause before a mass load): the workers move the captured rows into the queue and the audit
    # log as they come, on the same two cores as pgbench, and then find the jobs paused.
    set_enabled false
    cpu_mark q0
    paused_tps=$(pgbench_tps dwu_crm.crm_leads "$E2E_DB")
    cpu_mark q1
    # What the workers had not moved into the queue yet is moved here, outside the idle window.
    move_captured
    cpu_mark q1b
    sleep 5
    cpu_mark q2
    detail "(a) crm_leads with the accounts paused in the workers' database: $(fmt "$paused_tps" 0) tps; $(cpu_report q0 q1)"
    detail "(a) then 5 s with no client at all, $(in_flight) jobs of paused accounts queued: $(cpu_report q1b q2)"
    idle_worker_cpu=$(calc "(${q2[1]} - ${q1b[1]}) / $CLK_TCK")
    paused_worker_cpu=$(calc "(${q1[1]} - ${q0[1]}) / $CLK_TCK")
    row "(a) pgbench tps, capture + audit, workers moving the rows on the same cores / plain" \
        "$(fmt "$paused_tps" 0) / $(fmt "$tps_plain_default" 0) = $(fmt "$(calc "$paused_tps / $tps_plain_default")" 2)" \
        "(no target)" "info"
    row "(a) sync workers' CPU s during that ${PGBENCH_SECONDS} s pgbench (moving its captured rows)" "$(fmt "$paused_worker_cpu" 1)" \
        "(no target)" "info"
    row "(a) worker CPU s in 5 s idle, paused account's jobs queued" "$(fmt "$idle_worker_cpu" 1)" "~0" "$(verdict "$idle_worker_cpu < 0.5")"
    # A clean queue for the rest (TRUNCATE fires no delete trigger).
    psql_q "TRUNCATE dwu_crm.crm_leads, dwu_crm.crm_sync_queue, dwu_crm.crm_captured_changes" >/dev/null
    psql_q "VACUUM ANALYZE" >/dev/null
    set_enabled true
fi

# ---------------------------------------------------------------------------------------------
# (b) Backlog throughput, and the bare client first (the simulator then starts empty for both).
# ---------------------------------------------------------------------------------------------
if want b; then
    sim_reset
    dwu_log "(b) bare client: $BACKLOG contact/add, concurrency $WORKERS, over $BARE_LISTS lists"
    cpu_mark c0
    bare_out=$("$BARE" --url "$DWU_SIM_URL" --user "$E2E_USER" --password "$E2E_PASSWORD" --client-code "$E2E_CLIENT" \
               --list "$FIRST_LIST" --lists "$BARE_LISTS" --count "$BACKLOG" --concurrency "$WORKERS" --prefix bare) \
        || dwu_die "bare client failed: $bare_out"
    cpu_mark c1
    bare_rate=$(echo "$bare_out" | sed -n 's/.*per_second=\([0-9.]*\).*/\1/p')
    detail "(b) bare client: $bare_out; $(cpu_report c0 c1)"

    sim_reset
    dwu_log "(b) backlog: inserting $BACKLOG leads while the accounts are paused"
    set_enabled false
    insert_leads "$BACKLOG" backlog
    move_captured  # the backlog is in the queue before t0
    psql_q "ANALYZE dwu_crm.crm_leads; ANALYZE dwu_crm.crm_sync_queue" >/dev/null
    psql_q "SELECT pg_stat_statements_reset()" >/dev/null
    dwu_log "(b) resuming: $WORKERS workers, batch $BATCH_SIZE, rate_limit 0, no Redis"
    cpu_mark s0
    t0=$(now_ms)
    set_enabled true
    dwu_wait_for 3600 "the backlog" queue_drained || dwu_die "the backlog did not drain ($(in_flight) left)"
    t1=$(now_ms)
    cpu_mark s1
    synced=$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'")
    [ "$synced" = "$BACKLOG" ] || dwu_die "(b) only $synced of $BACKLOG leads synced"
    sync_rate=$(calc "$BACKLOG * 1000 / ($t1 - $t0)")
    sync_ratio=$(calc "$sync_rate / $bare_rate")
    detail "(b) sync: $BACKLOG leads in $((t1 - t0)) ms; $(cpu_report s0 s1)"
    detail "(b) simulator requests during the sync: $(sim_admin_get /__sim/stats | jq -c .requests)"
    detail "(b) top statements by total time during the backlog (pg_stat_statements):"
    while IFS= read -r line; do detail "      $line"; done < <(psql_q "
        select format('%s calls, %s ms total, %s ms/call: %s', calls, round(total_exec_time), round(mean_exec_time::numeric, 3),
                      left(regexp_replace(query, '\s+', ' ', 'g'), 70))
          from pg_stat_statements order by total_exec_time desc limit 6")
    row "(b) backlog sync, leads/s ($BACKLOG leads, $WORKERS workers, batch $BATCH_SIZE)" "$(fmt "$sync_rate" 0)" ">= 2000" \
        "$(verdict "$sync_rate >= 2000")"
    row "(b) / bare libcurl client, $WORKERS in flight ($(fmt "$bare_rate" 0) adds/s)" "$(fmt "$sync_ratio" 2)" ">= 0.50" \
        "$(verdict "$sync_ratio >= 0.5")"

    # (b') The same work one contact/add per lead (imports off), the bare client's kind of work:
    #      the fair ratio. The simulator checks duplicates by scanning the list, so both sides
    #      spread their contacts (the product over PER_CONTACT_ACCOUNTS accounts, one list each).
    psql_q "ALTER SYSTEM SET dwu_crm.import_threshold = 0" >/dev/null
    psql_q "SELECT pg_reload_conf()" >/dev/null
    while [ "$(psql_q "select count(*) from dwu_crm.crm_dinamize_accounts")" -lt "$PER_CONTACT_ACCOUNTS" ]; do
        n=$(( $(psql_q "select count(*) from dwu_crm.crm_dinamize_accounts") + 1 ))
        psql_q "SELECT dwu_crm.dinamize_configure('bench$n', '$DWU_SIM_URL', '$E2E_USER', '$E2E_PASSWORD',
                                                  '$E2E_CLIENT', '$((FIRST_LIST + n - 1))', false)" >/dev/null
    done
    sleep 1
    sim_reset
    set_enabled false
    saved_accounts=$ACCOUNTS
    ACCOUNTS=$PER_CONTACT_ACCOUNTS
    insert_leads "$PER_CONTACT_BACKLOG" single
    move_captured
    ACCOUNTS=$saved_accounts
    psql_q "ANALYZE dwu_crm.crm_sync_queue" >/dev/null
    t0=$(now_ms)
    set_enabled true
    wait_drained 1800 "(b') the per-contact backlog"
    t1=$(now_ms)
    single_rate=$(calc "$PER_CONTACT_BACKLOG * 1000 / ($t1 - $t0)")
    single_ratio=$(calc "$single_rate / $bare_rate")
    detail "(b') per-contact: $PER_CONTACT_BACKLOG leads in $((t1 - t0)) ms; requests: $(sim_admin_get /__sim/stats | jq -c .requests)"
    row "(b') same, one contact/add per lead (imports off), leads/s" "$(fmt "$single_rate" 0)" ">= 2000" \
        "$(verdict "$single_rate >= 2000")"
    row "(b') / bare libcurl client (same kind of work)" "$(fmt "$single_ratio" 2)" ">= 0.50" \
        "$(verdict "$single_ratio >= 0.5")"
    psql_q "ALTER SYSTEM RESET dwu_crm.import_threshold" >/dev/null
    psql_q "SELECT pg_reload_conf()" >/dev/null

    rss_1=$(rss_of RssAnon); vmrss_1=$(rss_of VmRSS); jobs_1=$(jobs_done)
    detail "(e) after $jobs_1 jobs: worker RssAnon MB: $rss_1; VmRSS MB (includes shared buffers touched): $vmrss_1"
fi

# ---------------------------------------------------------------------------------------------
# (c) Pickup latency, idle system: commit time taken in the inserting transaction, just before
#     its commit; arrival = the simulator's t_ms of the contact/add. One insert at a time, ~100 ms
#     apart, so the n-th contact/add is the n-th lead's.
# ---------------------------------------------------------------------------------------------
if want c; then
    psql_q "VACUUM ANALYZE dwu_crm.crm_sync_queue" >/dev/null
    sleep 2
    dwu_log "(c) pickup latency: $LATENCY_SAMPLES single-lead inserts ~100 ms apart"
    t_c=$(now_ms)
    : >"$DWU_WORKDIR/commits"
    for i in $(seq 1 "$LATENCY_SAMPLES"); do
        # psql -q: only the SELECT's value is printed (PostgreSQL 15's psql shows every result of -c).
        "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$E2E_DB" -c \
            "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('Latency $i', 'latency.$i@example.com');
             SELECT round(extract(epoch from clock_timestamp()) * 1000)::bigint" >>"$DWU_WORKDIR/commits"
        sleep 0.1
    done
    wait_drained 60 "(c) latency leads"
    sim_admin_get "/__sim/requests?since_ms=$t_c" \
        | jq -r '.requests[] | select(.path == "/emkt/contact/add") | .t_ms' | sort -n >"$DWU_WORKDIR/arrivals"
    n_arrivals=$(wc -l <"$DWU_WORKDIR/arrivals")
    [ "$n_arrivals" = "$LATENCY_SAMPLES" ] || dwu_die "(c) $n_arrivals contact/add for $LATENCY_SAMPLES inserts"
    paste -d' ' <(sort -n "$DWU_WORKDIR/commits") "$DWU_WORKDIR/arrivals" | awk '{ print $2 - $1 }' | sort -n >"$DWU_WORKDIR/latency"
    pct() { awk -v p="$1" '{ v[NR] = $1 } END { r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; print v[r] }' "$DWU_WORKDIR/latency"; }
    lat_med=$(pct 50); lat_p95=$(pct 95); lat_p99=$(pct 99); lat_min=$(pct 0); lat_max=$(pct 100)
    detail "(c) latency ms: min $lat_min, median $lat_med, p95 $lat_p95, p99 $lat_p99, max $lat_max (n = $LATENCY_SAMPLES)"
    row "(c) pickup latency median, ms (commit -> simulator)" "$lat_med" "<= 20" "$(verdict "$lat_med <= 20")"
    row "(c) pickup latency p99, ms (p95 $lat_p95, max $lat_max)" "$lat_p99" "<= 100" "$(verdict "$lat_p99 <= 100")"
fi

# ---------------------------------------------------------------------------------------------
# (d) Burst: 10 updates per lead as fast as one session can commit them, default update_delay.
# ---------------------------------------------------------------------------------------------
if want d; then
    dwu_log "(d) burst: $BURST_LEADS leads, then 10 rounds of UPDATE"
    psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
            SELECT 'Burst ' || i, 'burst.' || i || '@example.com' FROM generate_series(1, $BURST_LEADS) i" >/dev/null
    wait_drained 120 "(d) burst leads"
    t_d=$(now_ms)
    for round in $(seq 1 10); do
        echo "UPDATE dwu_crm.crm_leads SET dwu_name = 'Burst round $round' WHERE dwu_email LIKE 'burst.%';"
    done | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$E2E_DB" >/dev/null
    t_d_end=$(now_ms)
    wait_drained 120 "(d) burst updates"
    sim_admin_get "/__sim/requests?since_ms=$t_d" >"$DWU_WORKDIR/burst.json"
    burst_updates=$(jq '[.requests[] | select(.path == "/emkt/contact/update")] | length' "$DWU_WORKDIR/burst.json")
    burst_other=$(jq '[.requests[] | select(.path != "/emkt/contact/update" and .path != "/auth")] | length' "$DWU_WORKDIR/burst.json")
    per_lead=$(calc "$burst_updates / $BURST_LEADS")
    detail "(d) $((BURST_LEADS * 10)) updates committed in $((t_d_end - t_d)) ms → $burst_updates contact/update calls ($burst_other other calls), update_delay $UPDATE_DELAY"
    row "(d) API calls per lead, 10 updates each (update_delay $UPDATE_DELAY)" "$(fmt "$per_lead" 2)" "<= 1.2" \
        "$(verdict "$per_lead <= 1.2")"
fi

# ---------------------------------------------------------------------------------------------
# (e) Worker memory after 500k jobs: 4 more chunks of 100k (simulator emptied before each, so its
#     lists stay short).
# ---------------------------------------------------------------------------------------------
if want b; then
    if [ "$EXTRA_CHUNKS" -gt 0 ] && want e; then
        for chunk in $(seq 1 "$EXTRA_CHUNKS"); do
            dwu_log "(e) chunk $chunk of $EXTRA_CHUNKS: 100k more leads"
            # As in (b): loaded while paused, analyzed, resumed. (Loading 100k while the workers
            # run once left all four stuck in one claim for > 7 min: bench/README.md.)
            sim_reset
            set_enabled false
            insert_leads 100000 "more$chunk"
            psql_q "ANALYZE dwu_crm.crm_leads; ANALYZE dwu_crm.crm_sync_queue" >/dev/null
            tc0=$(now_ms)
            set_enabled true
            if ! dwu_wait_for "$CHUNK_TIMEOUT" "(e) chunk $chunk" queue_drained; then
                detail "(e) chunk $chunk: $(in_flight) jobs left after $CHUNK_TIMEOUT s; memory part stopped"
                E_STUCK=1
                break
            fi
            dwu_log "    drained in $(( $(now_ms) - tc0 )) ms"
        done
        rss_2=$(rss_of RssAnon); vmrss_2=$(rss_of VmRSS); jobs_2=$(jobs_done)
        detail "(e) after $jobs_2 jobs: worker RssAnon MB: $rss_2; VmRSS MB: $vmrss_2"
    fi
    if [ "$EXTRA_CHUNKS" -gt 0 ] && want e; then
        growth=$(paste -d' ' <(echo "$rss_1" | tr ' ' '\n' | sed '/^$/d') <(echo "$rss_2" | tr ' ' '\n' | sed '/^$/d') \
                 | awk '{ d = $2 - $1; if (d > m) m = d } END { printf "%.1f", m + 0 }')
        row "(e) worker heap (RssAnon) MB after $jobs_1 -> $jobs_2 jobs, max of $WORKERS" \
            "$(echo "$rss_1" | max_of) -> $(echo "$rss_2" | max_of) (growth <= $growth)" "no growth (<= 2 MB)" \
            "$([ "$E_STUCK" = 1 ] && echo "MISSED (queue stuck)" || verdict "$growth <= 2")"
        row "(e) worker VmRSS MB after $jobs_1 -> $jobs_2 jobs, max of $WORKERS" \
            "$(echo "$vmrss_1" | max_of) -> $(echo "$vmrss_2" | max_of)" "(shared buffers incl.)" "info"
    else
        row "(e) worker heap (RssAnon) MB after $jobs_1 jobs, max of $WORKERS" "$(echo "$rss_1" | max_of)" \
            "500k part skipped (--quick)" "n/a"
    fi

    if grep -Eq 'PANIC|terminated by signal' "$E2E_LOG"; then detail "WARNING: crash in the server log"; fi
    failed_jobs=$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")
    [ "$failed_jobs" = 0 ] || detail "WARNING: $failed_jobs failed jobs"
fi

# ---------------------------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------------------------
{
    bench_header "dwu_crm sync benchmark (issue 7)$([ "$QUICK" = 1 ] && echo ' --quick')" \
        "PostgreSQL $("$PG_BIN/postgres" -V | awk '{ print $3 }') (fsync off), dwu_crm.workers $WORKERS, batch_size $BATCH_SIZE, rate_limit 0, no Redis; simulator 16 threads; $ACCOUNTS Dinamize account(s); bare client over $BARE_LISTS lists"
    bench_table
}
