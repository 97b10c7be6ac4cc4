#!/usr/bin/env bash
# The requests-in-flight benchmark (issue 18 item 4, bench/README.md "Requests in flight"): one
# sync worker with dwu_crm.requests_in_flight requests in flight, against the bare libcurl client
# with as many in flight and against a minimal version of the design it replaces (bench/bullmq:
# Node + BullMQ), all in one run, against the same simulator. fsync on (the server's default),
# rate_limit 0 and no Redis for the product (the limiter out of the way for every system), bulk
# import off (one contact/add per lead, the kind of work the bare client and BullMQ do).
#   (a) simulator answering 100 ms late, one account, N leads: leads/s of dwu_crm, of the bare
#       client, of BullMQ at concurrency 5 and 50;
#   (b) the same latency, 20 accounts sharing the worker: each account's share when half is done;
#   (c) no added latency, 20k leads over 20 accounts: ratio to the bare client, and where the time
#       goes (CPU of each process, the worker's statements by pg_stat_statements);
#   (d) the worker's private memory after (c) and after 100k jobs in all.
# Usage: bash bench/run_inflight.sh [--quick] [--leads N] [--latency-ms MS] [--in-flight K]
#                                   [--only abcd] [--no-bullmq]
#   --quick: 1,000 leads in (a)/(b), 5,000 in (c), (d) up to 20k jobs (~2 min).
# The default run takes about 7 minutes. Uses the extension installed in $PG_BIN (it does not run
# `make install`), builds dinamize_sim and bare_client into build/, runs `npm ci` in bench/bullmq
# the first time (the npm registry). Progress goes to stderr, the table to stdout.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$DWU_ROOT/test/e2e/common.sh"
source "$DWU_ROOT/bench/bench_lib.sh"
trap dwu_cleanup EXIT

LEADS=5000          # (a) and (b)
LATENCY_MS=100
IN_FLIGHT=32
ACCOUNTS=20         # (b), (c)
FAST_LEADS=20000    # (c)
MEMORY_JOBS=100000  # (d): jobs done in all when the second reading is taken
SIM_THREADS=512     # each delayed request waits in a thread of its own: 512 at 100 ms = 5,120/s
BULLMQ=1
ONLY=abcd
while [ $# -gt 0 ]; do
    case $1 in
        --quick) LEADS=1000; FAST_LEADS=5000; MEMORY_JOBS=20000 ;;
        --leads) LEADS=$2; shift ;;
        --latency-ms) LATENCY_MS=$2; shift ;;
        --in-flight) IN_FLIGHT=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --no-bullmq) BULLMQ=0 ;;
        -h|--help) sed -n 2,19p "$0"; exit 0 ;;
        *) dwu_die "unknown option $1 (see --help)" ;;
    esac
    shift
done
want() { [[ $ONLY == *$1* ]]; }

# ---------------------------------------------------------------------------------------------
# Build and start: two simulators (delayed, immediate), Redis for BullMQ, one cluster, accounts
# slow1…slow20 (lists 101…120, the delayed simulator) and fast1…fast20 (lists 201…220).
# ---------------------------------------------------------------------------------------------
bench_build_tools
BULLMQ_DIR=$DWU_ROOT/bench/bullmq
if [ "$BULLMQ" = 1 ] && [ ! -d "$BULLMQ_DIR/node_modules" ]; then
    command -v npm >/dev/null || dwu_die "npm is not installed (Node.js 18+), or run with --no-bullmq"
    dwu_log "npm ci in bench/bullmq"
    (cd "$BULLMQ_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

dwu_init_workdir
dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT" -- --threads "$SIM_THREADS" --latency-ms "$LATENCY_MS"
SLOW_URL=$DWU_SIM_URL SLOW_PID=${DWU_PIDS[-1]}
dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT" -- --threads 64
FAST_URL=$DWU_SIM_URL FAST_PID=${DWU_PIDS[-1]}
use_sim() {  # use_sim slow|fast — the simulator sim_admin_* and cpu_mark look at
    if [ "$1" = slow ]; then DWU_SIM_URL=$SLOW_URL SIM_PID=$SLOW_PID; else DWU_SIM_URL=$FAST_URL SIM_PID=$FAST_PID; fi
}
use_sim slow
[ "$BULLMQ" = 1 ] && dwu_redis_start
E2E_KEY_FILE=$DWU_WORKDIR/keys
dwu_make_key_file "$E2E_KEY_FILE"
dwu_pg_start inflight "$(dwu_free_port)" \
    "fsync = on" \
    "shared_preload_libraries = 'pg_stat_statements,dwu_crm'" \
    "pg_stat_statements.track = all" \
    "dwu_crm.database = '$E2E_DB'" \
    "dwu_crm.encryption_key_file = '$E2E_KEY_FILE'" \
    "dwu_crm.workers = 1" \
    "dwu_crm.requests_in_flight = $IN_FLIGHT" \
    "dwu_crm.import_threshold = 0" \
    "dwu_crm.rate_limit = 0" \
    "dwu_crm.redis_host = ''"
PG_DATA=$DWU_WORKDIR/inflight/data
"$PG_BIN/createdb" "$E2E_DB"
psql_q "CREATE EXTENSION dwu_crm" >/dev/null
psql_q "CREATE EXTENSION pg_stat_statements" >/dev/null
psql_q "SELECT count(dwu_crm.dinamize_configure('slow' || i, '$SLOW_URL', '$E2E_USER', '$E2E_PASSWORD',
                 '$E2E_CLIENT', (100 + i)::text, i = 1)) FROM generate_series(1, $ACCOUNTS) i" >/dev/null
psql_q "SELECT count(dwu_crm.dinamize_configure('fast' || i, '$FAST_URL', '$E2E_USER', '$E2E_PASSWORD',
                 '$E2E_CLIENT', (200 + i)::text, false)) FROM generate_series(1, $ACCOUNTS) i" >/dev/null
dwu_wait_for 30 "the sync worker" worker_pid >/dev/null || dwu_die "the sync worker did not start"

# drain N PREFIX K TAG — N leads spread round-robin over accounts PREFIX1…PREFIXK, loaded while
# every account is paused, then only those resumed; sets drain_ms and drain_rate. With K > 1, also
# half_shares: each account's finished jobs when half of all were finished (sampled every 0.2 s).
drain() {
    local n=$1 prefix=$2 k=$3 tag=$4 mark t0 t1 deadline
    local these="a.dwu_name ~ '^${prefix}[0-9]+$' AND substr(a.dwu_name, ${#prefix} + 1)::int <= $k"  # the K accounts
    set_enabled false
    mark=$(psql_q "select coalesce(max(dwu_id), 0) from dwu_crm.crm_sync_queue")
    psql_q "INSERT INTO dwu_crm.crm_leads (dwu_account_id, dwu_name, dwu_email)
            SELECT a.ids[1 + i % $k], 'Lead ' || i, '$tag.' || i || '@example.com'
              FROM generate_series(1, $n) i,
                   (SELECT array_agg(a.dwu_id ORDER BY a.dwu_id) AS ids FROM dwu_crm.crm_dinamize_accounts a
                     WHERE $these) a" >/dev/null
    move_captured
    psql_q "ANALYZE dwu_crm.crm_leads; ANALYZE dwu_crm.crm_sync_queue" >/dev/null
    psql_q "SELECT pg_stat_statements_reset()" >/dev/null
    half_shares=""
    t0=$(now_ms)
    psql_q "SELECT count(dwu_crm.dinamize_set_account_enabled(a.dwu_name, true)) FROM dwu_crm.crm_dinamize_accounts a
             WHERE $these" >/dev/null
    deadline=$((t0 + 1800 * 1000))
    while ! queue_drained; do
        [ "$(now_ms)" -lt "$deadline" ] || dwu_die "$tag: $(in_flight) jobs left after 1800 s"
        if [ "$k" -gt 1 ] && [ -z "$half_shares" ] &&
           [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_id > $mark and dwu_status = 'completed'")" -ge $((n / 2)) ]; then
            half_shares=$(psql_q "select string_agg(coalesce(c, 0)::text, ' ' order by a.dwu_id)
                                    from dwu_crm.crm_dinamize_accounts a
                                    left join (select dwu_account_id, count(*) c from dwu_crm.crm_sync_queue
                                                where dwu_id > $mark and dwu_status = 'completed' group by 1) q
                                           on q.dwu_account_id = a.dwu_id
                                   where $these")
        fi
        sleep 0.2
    done
    t1=$(now_ms)
    local synced
    synced=$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_id > $mark and dwu_status = 'completed'")
    [ "$synced" -ge "$n" ] || dwu_die "$tag: only $synced of $n jobs completed"
    drain_ms=$((t1 - t0))
    drain_rate=$(calc "$n * 1000 / $drain_ms")
    detail "$tag: simulator requests $(sim_admin_get /__sim/stats | jq -c .requests)"
}

bare() {  # bare COUNT LISTS FIRST_LIST TAG — sets bare_rate
    local out
    out=$("$BARE" --url "$DWU_SIM_URL" --user "$E2E_USER" --password "$E2E_PASSWORD" --client-code "$E2E_CLIENT" \
          --list "$3" --lists "$2" --count "$1" --concurrency "$IN_FLIGHT" --prefix "${4//[^a-z]/}") \
        || dwu_die "bare client failed: $out"
    bare_rate=$(echo "$out" | sed -n 's/.*per_second=\([0-9.]*\).*/\1/p')
    detail "$4: bare client, $IN_FLIGHT in flight: $out"
}

bullmq() {  # bullmq COUNT CONCURRENCY — sets bullmq_rate (BullMQ's tables in a database of their own)
    local out
    psql_q "SELECT 1 FROM pg_database WHERE datname = 'bullmq'" | grep -q 1 || "$PG_BIN/createdb" bullmq
    out=$(node "$BULLMQ_DIR/run.js" --sim-url "$DWU_SIM_URL" --user "$E2E_USER" --password "$E2E_PASSWORD" \
          --client-code "$E2E_CLIENT" --list 101 --pg-url "postgresql://postgres@/bullmq?host=$PGHOST&port=$PGPORT" \
          --redis-port "$DWU_REDIS_PORT" --concurrency "$2" --count "$1" --prefix "bullmq$2") || dwu_die "bench/bullmq failed: $out"
    bullmq_rate=$(echo "$out" | sed -n 's/.*per_second=\([0-9.]*\).*/\1/p')
    detail "(a) BullMQ, concurrency $2: $out"
}

statements_per_lead() {  # the worker's statements that took most of the drain, µs per lead
    local n=$1 line
    while IFS= read -r line; do detail "      $line"; done < <(psql_q "
        select format('%s µs/lead (%s calls, %s ms/call): %s', round(total_exec_time * 1000 / $n), calls,
                      round(mean_exec_time::numeric, 3), left(regexp_replace(query, '\s+', ' ', 'g'), 90))
          from pg_stat_statements order by total_exec_time desc limit 8")
}

# ---------------------------------------------------------------------------------------------
# (a) Delayed answers, one account.
# ---------------------------------------------------------------------------------------------
if want a; then
    use_sim slow
    sim_reset
    bare "$LEADS" 1 101 "(a) bare"
    a_bare=$bare_rate
    sim_reset
    dwu_log "(a) dwu_crm: $LEADS leads, one account, $IN_FLIGHT in flight, ${LATENCY_MS} ms latency"
    cpu_mark a0
    drain "$LEADS" slow 1 inflight_a
    cpu_mark a1
    a_rate=$drain_rate
    detail "(a) dwu_crm: $LEADS leads in $drain_ms ms; $(cpu_report a0 a1)"
    row "(a) ${LATENCY_MS} ms latency, 1 account, $LEADS leads: dwu_crm leads/s (1 worker, $IN_FLIGHT in flight)" \
        "$(fmt "$a_rate" 0)" "(info)" "info"
    row "(a) / bare client, $IN_FLIGHT in flight ($(fmt "$a_bare" 0)/s)" "$(fmt "$(calc "$a_rate / $a_bare")" 2)" ">= 0.80" \
        "$(verdict "$a_rate / $a_bare >= 0.8")"
    if [ "$BULLMQ" = 1 ]; then
        for c in 5 50; do
            sim_reset
            # At concurrency 5 a full backlog would take minutes at 100 ms: a fifth of it (a rate).
            count=$LEADS; [ "$c" = 5 ] && count=$((LEADS / 5))
            dwu_log "(a) BullMQ: $count jobs, concurrency $c"
            bullmq "$count" "$c"
            target=5; [ "$c" = 50 ] && target=1.5
            row "(a) dwu_crm / BullMQ concurrency $c ($(fmt "$bullmq_rate" 0)/s)" "$(fmt "$(calc "$a_rate / $bullmq_rate")" 1)" \
                ">= $target" "$(verdict "$a_rate / $bullmq_rate >= $target")"
        done
    fi
fi

# ---------------------------------------------------------------------------------------------
# (b) Delayed answers, 20 accounts sharing the worker.
# ---------------------------------------------------------------------------------------------
if want b; then
    use_sim slow
    sim_reset
    bare "$LEADS" "$ACCOUNTS" 101 "(b) bare"
    b_bare=$bare_rate
    sim_reset
    dwu_log "(b) dwu_crm: $LEADS leads over $ACCOUNTS accounts"
    drain "$LEADS" slow "$ACCOUNTS" inflight_b
    b_rate=$drain_rate
    share_min=$(echo "$half_shares" | tr ' ' '\n' | sort -n | head -1)
    share_max=$(echo "$half_shares" | tr ' ' '\n' | sort -n | tail -1)
    even=$((LEADS / 2 / ACCOUNTS))
    detail "(b) dwu_crm: $LEADS leads in $drain_ms ms; each account's finished jobs at half done (even share $even): $half_shares; the worker's statements:"
    statements_per_lead "$LEADS"
    row "(b) ${LATENCY_MS} ms, $ACCOUNTS accounts: dwu_crm leads/s / bare ($(fmt "$b_bare" 0)/s)" \
        "$(fmt "$b_rate" 0) / $(fmt "$b_bare" 0) = $(fmt "$(calc "$b_rate / $b_bare")" 2)" ">= 0.80" \
        "$(verdict "$b_rate / $b_bare >= 0.8")"
    row "(b) fairness: fewest / most jobs of one account at half done (even $even)" "$share_min / $share_max" \
        "each within 50% of even" "$(verdict "$share_min >= $even * 0.5 && $share_max <= $even * 1.5")"
fi

# ---------------------------------------------------------------------------------------------
# (c) No added latency: what the worker itself costs per lead.
# ---------------------------------------------------------------------------------------------
if want c; then
    use_sim fast
    sim_reset
    bare "$FAST_LEADS" "$ACCOUNTS" 201 "(c) bare"
    c_bare=$bare_rate
    sim_reset
    dwu_log "(c) dwu_crm: $FAST_LEADS leads over $ACCOUNTS accounts, no added latency"
    cpu_mark c0
    drain "$FAST_LEADS" fast "$ACCOUNTS" inflight_c
    cpu_mark c1
    c_rate=$drain_rate
    sql_ms=$(psql_q "select round(sum(total_exec_time)) from pg_stat_statements")
    per_lead() { calc "($1) / $CLK_TCK * 1000000 / $FAST_LEADS"; }
    detail "(c) dwu_crm: $FAST_LEADS leads in $drain_ms ms; $(cpu_report c0 c1)"
    detail "(c) CPU µs per lead: simulator $(fmt "$(per_lead "${c1[0]} - ${c0[0]}")" 0), sync worker $(fmt "$(per_lead "${c1[1]} - ${c0[1]}")" 0), other postgres processes (WAL writer, checkpointer, psql) $(fmt "$(per_lead "${c1[2]} - ${c0[2]} - (${c1[1]} - ${c0[1]})")" 0); wall per lead $(fmt "$(calc "$drain_ms * 1000 / $FAST_LEADS")" 0) µs; statements' execution $(fmt "$(calc "$sql_ms * 1000 / $FAST_LEADS")" 0) µs per lead in all, the largest:"
    statements_per_lead "$FAST_LEADS"
    row "(c) no latency, fsync on, $FAST_LEADS leads / $ACCOUNTS accounts: dwu_crm / bare ($(fmt "$c_bare" 0)/s)" \
        "$(fmt "$c_rate" 0) / $(fmt "$c_bare" 0) = $(fmt "$(calc "$c_rate / $c_bare")" 2)" ">= 0.50" \
        "$(verdict "$c_rate / $c_bare >= 0.5")"
fi

# ---------------------------------------------------------------------------------------------
# (d) The worker's private memory: after (c), and after MEMORY_JOBS jobs in all (chunks of
#     FAST_LEADS, the simulator emptied before each so its lists stay short).
# ---------------------------------------------------------------------------------------------
private_mb() {  # private_mb FIELD — smaps_rollup FIELD of the sync worker, MB
    awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$(worker_pid)/smaps_rollup"
}
if want d; then
    use_sim fast
    jobs_1=$(jobs_done); anon_1=$(private_mb Anonymous); priv_1=$(calc "$(private_mb Private_Dirty) + $(private_mb Private_Clean)")
    chunk=0
    while [ "$(jobs_done)" -lt "$MEMORY_JOBS" ]; do
        chunk=$((chunk + 1))
        sim_reset
        dwu_log "(d) chunk $chunk: $FAST_LEADS more leads ($(jobs_done) jobs done)"
        drain "$FAST_LEADS" fast "$ACCOUNTS" "memory$chunk"
    done
    jobs_2=$(jobs_done); anon_2=$(private_mb Anonymous); priv_2=$(calc "$(private_mb Private_Dirty) + $(private_mb Private_Clean)")
    growth=$(calc "$anon_2 - $anon_1")
    detail "(d) sync worker smaps_rollup after $jobs_1 jobs: Anonymous $anon_1 MB, Private $priv_1 MB; after $jobs_2: Anonymous $anon_2 MB, Private $priv_2 MB (Private includes shared-buffer pages no other process has mapped)"
    row "(d) worker private anonymous memory MB, $jobs_1 -> $jobs_2 jobs" "$anon_1 -> $anon_2 (+$(fmt "$growth" 1))" "<= +5" \
        "$(verdict "$growth <= 5")"
fi

if grep -Eq 'PANIC|terminated by signal' "$(dwu_pg_log inflight)"; then detail "WARNING: crash in the server log"; fi
failed_jobs=$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")
[ "$failed_jobs" = 0 ] || detail "WARNING: $failed_jobs failed jobs"

bench_header "dwu_crm requests-in-flight benchmark (issue 18)" \
    "PostgreSQL $("$PG_BIN/postgres" -V | awk '{ print $3 }') (fsync on), dwu_crm.workers 1, requests_in_flight $IN_FLIGHT, import_threshold 0, rate_limit 0, no Redis; simulator $SIM_THREADS threads, ${LATENCY_MS} ms latency for (a)/(b), none for (c)/(d); BullMQ $( [ "$BULLMQ" = 1 ] && echo "$(node --version), bench/bullmq" || echo 'not run')"
bench_table
