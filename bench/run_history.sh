#!/usr/bin/env bash
# The history benchmark (issue 16 item 5, bench/README.md "History benchmark"): does a database
# that has synced for months drain a backlog as fast as a fresh one? One throwaway cluster with
# fsync on (the server's default), the installed extension, the simulator, no Redis, rate_limit 0,
# the default dwu_crm.workers. Each round measures, in this order:
#   fresh     — the extension created anew (schema dropped), one account;
#   history   — the same database after N finished jobs, N sync log rows and N audit rows, 2 days
#               old, were added (VACUUM ANALYZE afterwards, as autovacuum would have over months);
#   retained  — after the worker's retention (TTLs of 1 day) deleted that history and autovacuum
#               went over the three tables (no manual VACUUM);
# and in each state two drains of a backlog loaded while the account was paused: through the bulk
# import (the default) and one contact/add per lead (import_threshold 0, the per-job path).
# Rounds alternate the states (fresh, history, retained, fresh, …); each round's ratios are its
# own state / its own fresh. Prints one table.
# Usage: bash bench/run_history.sh [--rounds R] [--leads N] [--import-leads N] [--history N]
#   defaults: 2 rounds, 5,000 leads per one-by-one drain and 50,000 per import drain, 1,000,000
#   history rows per table (~15 min).
#   DWU_BENCH_PG_CONF: more postgresql.conf lines (e.g. auto_explain's, to see the slow plans).
#   DWU_BENCH_STATEMENTS=1: pg_stat_statements (worker statements included) reset before each
#               drain; the statements that took most of it are listed in the details.
# Uses the extension installed in $PG_BIN (it does not run `make install`), builds dinamize_sim.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$DWU_ROOT/test/e2e/common.sh"
source "$DWU_ROOT/bench/bench_lib.sh"
trap dwu_cleanup EXIT

ROUNDS=2
LEADS=5000          # per one-by-one drain
IMPORT_LEADS=50000  # per bulk-import drain: 5 batches, so one slow batch does not decide the ratio
HISTORY=1000000
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift ;;
        --leads) LEADS=$2; shift ;;
        --import-leads) IMPORT_LEADS=$2; shift ;;
        --history) HISTORY=$2; shift ;;
        -h|--help) sed -n 2,21p "$0"; exit 0 ;;
        *) dwu_die "unknown option $1 (see --help)" ;;
    esac
    shift
done

dwu_install_packages
[ -f "$("$PG_CONFIG" --pkglibdir)/dwu_crm.so" ] || dwu_die "dwu_crm is not installed in $PG_BIN: make install first"
[ -f "$DWU_BUILD/CMakeCache.txt" ] || cmake -S "$DWU_ROOT" -B "$DWU_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
dwu_log "building dinamize_sim"
cmake --build "$DWU_BUILD" -j2 --target dinamize_sim >/dev/null

dwu_init_workdir
dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT"
E2E_KEY_FILE=$DWU_WORKDIR/keys
dwu_make_key_file "$E2E_KEY_FILE"
dwu_pg_start history "$(dwu_free_port)" \
    "fsync = on" \
    "dwu_crm.database = '$E2E_DB'" \
    "dwu_crm.encryption_key_file = '$E2E_KEY_FILE'" \
    "dwu_crm.rate_limit = 0" \
    "dwu_crm.redis_host = ''" \
    ${DWU_BENCH_STATEMENTS:+"shared_preload_libraries = 'dwu_crm,pg_stat_statements'"} \
    ${DWU_BENCH_STATEMENTS:+"pg_stat_statements.track = all"} \
    ${DWU_BENCH_STATEMENTS:+"pg_stat_statements.track_planning = on"} \
    ${DWU_BENCH_PG_CONF:+"$DWU_BENCH_PG_CONF"}
E2E_LOG=$(dwu_pg_log history)
"$PG_BIN/createdb" "$E2E_DB"
[ -n "${DWU_BENCH_STATEMENTS:-}" ] && psql_q "CREATE EXTENSION pg_stat_statements" >/dev/null
WORKERS=$(psql_q "show dwu_crm.workers")

reload_with() {  # reload_with "SETTING = VALUE" … — ALTER SYSTEM each (VALUE "default" resets), reload
    local s
    for s in "$@"; do
        if [ "${s#*= }" = default ]; then psql_q "ALTER SYSTEM RESET ${s%% =*}" >/dev/null
        else psql_q "ALTER SYSTEM SET $s" >/dev/null; fi
    done
    psql_q "SELECT pg_reload_conf()" >/dev/null
    sleep 1
}

# The extension as a new installation has it: everything of the previous round dropped.
fresh_extension() {
    psql_q "DROP EXTENSION IF EXISTS dwu_crm CASCADE" >/dev/null 2>&1
    psql_q "DROP SCHEMA IF EXISTS dwu_crm CASCADE" >/dev/null 2>&1
    psql_q "CREATE EXTENSION dwu_crm" >/dev/null
    psql_q "SELECT dwu_crm.dinamize_configure('bench', '$DWU_SIM_URL', '$E2E_USER', '$E2E_PASSWORD',
                                              '$E2E_CLIENT', '$E2E_LIST', true)" >/dev/null
    psql_q "CHECKPOINT" >/dev/null
}

# What a busy week of sync leaves behind: N completed jobs of leads long deleted, one success log row
# each, one audit row each, all 2 days old: kept by the default TTLs (7 days for jobs), so no retention
# runs beside the drains of this state (that is the retained state's part).
add_history() {
    psql_q "
      INSERT INTO dwu_crm.crm_sync_queue (dwu_lead_id, dwu_operation, dwu_payload, dwu_status, dwu_attempt_count,
                                          dwu_next_attempt_at, dwu_completed_at, created_at, updated_at)
      SELECT -i, (array['create', 'update', 'delete'])[1 + i % 3],
             jsonb_build_object('email', 'old.' || i || '@example.com', 'name', 'Old lead ' || i),
             'completed', 1, t, t, t, t
        FROM generate_series(1, $HISTORY) i, LATERAL (SELECT now() - interval '2 days' - i * interval '1 ms' AS t) x" >/dev/null
    psql_q "
      INSERT INTO dwu_crm.crm_sync_logs (dwu_queue_id, dwu_lead_id, dwu_operation, dwu_status, dwu_attempt,
                                         dwu_duration_ms, dwu_request_unique, created_at)
      SELECT i, -i, (array['create', 'update', 'delete'])[1 + i % 3], 'success', 1, 3, 'req-' || i,
             now() - interval '2 days' - i * interval '1 ms'
        FROM generate_series(1, $HISTORY) i" >/dev/null
    psql_q "
      INSERT INTO dwu_crm.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes, created_at)
      SELECT 'UPDATE', 'crm_leads', i, jsonb_build_object('dwu_name', jsonb_build_array('Old ' || i, 'Older ' || i)),
             now() - interval '2 days' - i * interval '1 ms'
        FROM generate_series(1, $HISTORY) i" >/dev/null
    psql_q "VACUUM ANALYZE dwu_crm.crm_sync_queue, dwu_crm.crm_sync_logs, dwu_crm.crm_audit_log" >/dev/null
    psql_q "CHECKPOINT" >/dev/null
}

old_rows() {
    psql_q "select (select count(*) from dwu_crm.crm_sync_queue where dwu_completed_at < now() - interval '1 day')
                 + (select count(*) from dwu_crm.crm_sync_logs where created_at < now() - interval '1 day')
                 + (select count(*) from dwu_crm.crm_audit_log where created_at < now() - interval '1 day')"
}
no_old_rows() { [ "$(old_rows)" = 0 ]; }
retain() {  # the worker's retention removes the history; the TTLs go back to their defaults after
    local t0=$SECONDS since
    since=$(psql_q "select now()")
    reload_with "dwu_crm.finished_jobs_ttl = '1d'" "dwu_crm.sync_logs_ttl = '1d'" "dwu_crm.audit_log_ttl = '1d'"
    dwu_wait_for 1800 "retention" no_old_rows || dwu_die "retention left $(old_rows) old rows"
    reload_with "dwu_crm.finished_jobs_ttl = default" "dwu_crm.sync_logs_ttl = default" "dwu_crm.audit_log_ttl = default"
    RETAIN_SECONDS=$((SECONDS - t0))
    # Then autovacuum's own pass over what retention deleted (no manual VACUUM): the drain measures
    # the state retention leaves, not a vacuum of 3M dead rows running beside it on the same cores.
    # Done when each table was autovacuumed since retention began and its dead rows are under
    # autovacuum's threshold (a pass during retention's last batches leaves nothing to trigger one
    # more).
    t0=$SECONDS
    vacuumed_since() {
        [ "$(psql_q "select count(*) from pg_stat_user_tables where schemaname = 'dwu_crm'
                       and relname in ('crm_sync_queue', 'crm_sync_logs', 'crm_audit_log')
                       and last_autovacuum >= '$since'
                       and n_dead_tup < current_setting('autovacuum_vacuum_threshold')::int
                                        + current_setting('autovacuum_vacuum_scale_factor')::float8 * n_live_tup")" = 3 ]
    }
    dwu_wait_for 600 "autovacuum after retention" vacuumed_since || detail "autovacuum had not visited all three tables after 600 s"
    AUTOVACUUM_SECONDS=$((SECONDS - t0))
    # As after the other two states' set-up: no checkpoint of retention's dirty pages runs beside
    # the drains.
    psql_q "CHECKPOINT" >/dev/null
}

table_state() {  # live and dead tuples of the queue, logs and audit log
    psql_q "select string_agg(format('%s %s live/%s dead', relname, n_live_tup, n_dead_tup), ', ' order by relname)
              from pg_stat_user_tables where schemaname = 'dwu_crm'
               and relname in ('crm_sync_queue', 'crm_sync_logs', 'crm_audit_log')"
}

top_statements() {  # the statements that took most of the drain's time (DWU_BENCH_STATEMENTS)
    psql_q "SELECT format('$1: %s calls %s ms exec %s ms plan: %s', calls, round(total_exec_time), round(total_plan_time),
                          left(regexp_replace(query, '\s+', ' ', 'g'), 90))
              FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
             ORDER BY total_exec_time + total_plan_time DESC LIMIT 8" | while read -r line; do dwu_log "$line"; done
}

# drain KIND PREFIX — loads $LEADS leads ($IMPORT_LEADS for the import) while the account is paused, moves them into the queue,
# resumes, and prints leads/s from the resume's commit to the last job's completion, both by the
# server's clock.
drain() {
    local kind=$1 prefix=$2 t0 t1 synced first leads=$LEADS
    [ "$kind" = import ] && leads=$IMPORT_LEADS
    if [ "$kind" = single ]; then reload_with "dwu_crm.import_threshold = 0"; else reload_with "dwu_crm.import_threshold = default"; fi
    # Emptied lists, but new contact codes: reused codes would make every earlier drain's links
    # look stolen (crm_lead_sync rows unlinked by the thousand), which the real API never causes.
    sim_admin_post "/__sim/reset?keep_codes=true" >/dev/null
    set_enabled false
    first=$(psql_q "select coalesce(max(dwu_id), 0) from dwu_crm.crm_sync_queue")
    psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
            SELECT 'Lead ' || i, '$prefix.' || i || '@example.com' FROM generate_series(1, $leads) i" >/dev/null
    move_captured
    [ -n "${DWU_BENCH_STATEMENTS:-}" ] && psql_q "SELECT pg_stat_statements_reset()" >/dev/null
    t0=$(psql_q "WITH e AS (SELECT count(dwu_crm.dinamize_set_account_enabled(dwu_name, true)) FROM dwu_crm.crm_dinamize_accounts)
                 SELECT extract(epoch FROM clock_timestamp()) FROM e")
    dwu_wait_for 600 "the $prefix backlog" queue_drained || dwu_die "$prefix: the backlog did not drain"
    t1=$(psql_q "select extract(epoch from max(dwu_completed_at)) from dwu_crm.crm_sync_queue where dwu_id > $first")
    synced=$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_id > $first and dwu_status = 'completed'")
    [ "$synced" = "$leads" ] || dwu_die "$prefix: $synced of $leads jobs completed"
    [ -n "${DWU_BENCH_STATEMENTS:-}" ] && top_statements "$prefix"
    calc "$leads / ($t1 - $t0)"
}

declare -A RATE   # RATE[state,kind,round]
# What the server wrote: buffers the backends (the worker) had to write out themselves to free one,
# WAL bytes and full-page images. Printed per drain as the difference.
io_counters() {
    psql_q "select b.buffers_backend || ' ' || w.wal_bytes || ' ' || w.wal_fpi from pg_stat_bgwriter b, pg_stat_wal w"
}
measure() {  # measure STATE ROUND
    local kind before after
    detail "round $2, $1: $(table_state)"
    for kind in import single; do
        before=$(io_counters)
        RATE[$1,$kind,$2]=$(drain "$kind" "r$2$1$kind")
        after=$(io_counters)
        detail "round $2, $1, $kind: $(fmt "${RATE[$1,$kind,$2]}" 0) leads/s; $(awk -v a="$before" -v b="$after" 'BEGIN {
            split(a, x, " "); split(b, y, " ")
            printf "%d buffers written by backends, %.0f MB of WAL, %d full-page images", y[1] - x[1], (y[2] - x[2]) / 1048576, y[3] - x[3] }')"
    done
}

HEADER_DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
HEADER_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
    dwu_log "round $round: fresh extension"
    fresh_extension
    measure fresh "$round"
    dwu_log "round $round: adding $HISTORY finished jobs, log rows and audit rows"
    add_history
    measure history "$round"
    dwu_log "round $round: retention"
    retain
    detail "round $round: retention removed the history in ${RETAIN_SECONDS} s, autovacuum then took ${AUTOVACUUM_SECONDS} s"
    measure retained "$round"
done
grep -Eq 'PANIC|terminated by signal' "$E2E_LOG" && detail "WARNING: crash in the server log"

{
    echo
    echo "dwu_crm history benchmark (issue 16 item 5)"
    echo "date:    $HEADER_DATE, load at start $HEADER_LOAD"
    echo "machine: $(. /etc/os-release; echo "$PRETTY_NAME"), nproc $(nproc)"
    echo "build:   checkout $(git -C "$DWU_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$DWU_ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ local changes)')"
    echo "setup:   PostgreSQL $("$PG_BIN/postgres" -V | awk '{ print $3 }') fsync on, dwu_crm.workers $WORKERS, rate_limit 0, no Redis, loopback simulator;"
    echo "         $IMPORT_LEADS leads per import drain, $LEADS per one-by-one drain, history $HISTORY rows each in crm_sync_queue, crm_sync_logs, crm_audit_log"
    echo
    printf '%-9s %-7s %-28s %-24s %s\n' state drain "leads/s by round" "ratio to fresh by round" "worst ratio"
    for state in fresh history retained; do
        for kind in import single; do
            rates="" ratios="" worst=""
            for round in $(seq 1 "$ROUNDS"); do
                r=${RATE[$state,$kind,$round]}; f=${RATE[fresh,$kind,$round]}
                rates+="$(fmt "$r" 0) "
                q=$(calc "$r / $f"); ratios+="$(fmt "$q" 2) "
                if [ -z "$worst" ] || awk "BEGIN { exit !($q < $worst) }"; then worst=$q; fi
            done
            verdict=""
            [ "$state" != fresh ] && verdict="$(fmt "$worst" 2) $(awk "BEGIN { exit !($worst >= 0.9) }" && echo ok || echo 'MISSED (>= 0.90)')"
            printf '%-9s %-7s %-28s %-24s %s\n' "$state" "$kind" "$rates" "$ratios" "$verdict"
        done
    done
    echo
    echo "details:"
    printf '  %s\n' "${DETAILS[@]}"
}
