# Helpers the sync benchmarks share (bench/run_sync.sh, bench/run_inflight.sh); sourced after
# scripts/lib.sh and test/e2e/common.sh. The CPU and memory helpers need PG_DATA and SIM_PID, which
# the caller sets once its cluster and simulator run.

bench_build_tools() {  # the simulator and the bare client into build/; sets BARE
    dwu_install_packages
    [ -f "$("$PG_CONFIG" --pkglibdir)/dwu_crm.so" ] || dwu_die "dwu_crm is not installed in $PG_BIN: make install first"
    if [ ! -f "$DWU_BUILD/CMakeCache.txt" ] || ! grep -q bare_client "$DWU_BUILD/bench/Makefile" 2>/dev/null; then
        cmake -S "$DWU_ROOT" -B "$DWU_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    dwu_log "building dinamize_sim and bare_client"
    cmake --build "$DWU_BUILD" -j2 --target dinamize_sim bare_client >/dev/null
    BARE=$DWU_BUILD/bench/bare_client
}

now_ms() { date +%s%3N; }
fmt() { LC_ALL=C printf "%.${2:-1}f" "$1"; }
calc() { awk "BEGIN { print $1 }"; }
max_of() { tr ' ' '\n' | awk 'NF { if ($1 > m) m = $1 } END { printf "%.1f", m }'; }

set_enabled() { psql_q "SELECT count(dwu_crm.dinamize_set_account_enabled(dwu_name, $1)) FROM dwu_crm.crm_dinamize_accounts" >/dev/null; }
sim_reset() { sim_admin_post /__sim/reset >/dev/null; }
worker_pids() { psql_q "select pid from pg_stat_activity where backend_type = 'dwu_crm sync worker' order by pid"; }
in_flight() { psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status in ('queued', 'processing')"; }
jobs_done() { psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'completed'"; }
wait_drained() {  # wait_drained SECONDS WHAT
    dwu_wait_for "$1" "$2" queue_drained || dwu_die "$2: queue not drained after $1 s ($(in_flight) left)"
}
rss_of() {  # rss_of FIELD — the /proc/PID/status FIELD of each worker, in MB
    local pid
    for pid in $(worker_pids); do
        printf '%s ' "$(awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")"
    done
}

# CPU seconds (user + system) of a set of processes, and of the whole machine (busy jiffies).
CLK_TCK=$(getconf CLK_TCK)
proc_cpu() {  # proc_cpu PID... — jiffies, summed (gone processes count 0)
    local total=0 pid line
    for pid in "$@"; do
        line=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        line=${line##*) }   # the fields after "(comm) "
        set -- $line
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
postgres_pids() { pgrep -P "$(head -n 1 "$PG_DATA/postmaster.pid")" | tr '\n' ' '; }
cpu_mark() {  # cpu_mark VAR — remembers sim, workers, all postgres processes, machine, time
    local -n m=$1
    m=("$(proc_cpu "$SIM_PID")" "$(proc_cpu $(worker_pids))" "$(proc_cpu $(postgres_pids))" "$(machine_busy)" "$(now_ms)")
}
cpu_report() {  # cpu_report BEFORE AFTER — one line of CPU seconds
    local -n b=$1 a=$2
    local secs; secs=$(calc "(${a[4]} - ${b[4]}) / 1000")
    printf 'wall %.1f s; CPU s: simulator %.1f, sync workers %.1f, machine busy %.1f of %.1f' \
        "$secs" "$(calc "(${a[0]} - ${b[0]}) / $CLK_TCK")" "$(calc "(${a[1]} - ${b[1]}) / $CLK_TCK")" \
        "$(calc "(${a[3]} - ${b[3]}) / $CLK_TCK")" "$(calc "$secs * $(nproc)")"
}

ROWS=()   # measure|value|target|verdict
row() { ROWS+=("$1|$2|$3|$4"); }
verdict() { awk "BEGIN { exit !($1) }" && echo ok || echo MISSED; }
DETAILS=()
detail() { DETAILS+=("$*"); dwu_log "$*"; }

bench_header() {  # bench_header TITLE SETUP — the lines above every table: what ran, where, when
    echo
    echo "$1"
    echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine: $(. /etc/os-release; echo "$PRETTY_NAME"), $(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }'), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "build:   dwu_crm.so installed $(date -u -r "$("$PG_CONFIG" --pkglibdir)/dwu_crm.so" '+%Y-%m-%d %H:%M UTC'), checkout $(git -C "$DWU_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$DWU_ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ local changes)')"
    echo "setup:   $2"
    echo
}

bench_table() {  # bench_table — ROWS as aligned columns, then DETAILS
    printf '%s\n' "${ROWS[@]}" | awk -F'|' '
        { m[NR] = $1; v[NR] = $2; t[NR] = $3; d[NR] = $4
          if (length($1) > wm) wm = length($1); if (length($2) > wv) wv = length($2); if (length($3) > wt) wt = length($3) }
        END {
          fmt = "%-" wm "s  %-" wv "s  %-" wt "s  %s\n"
          printf fmt, "measure", "value", "target", "verdict"
          line = ""; for (i = 0; i < wm + wv + wt + 13; i++) line = line "-"; print line
          for (i = 1; i <= NR; i++) printf fmt, m[i], v[i], t[i], d[i]
        }'
    echo
    echo "details:"
    printf '  %s\n' "${DETAILS[@]}"
}
