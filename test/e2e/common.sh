# Shared by the end-to-end tests: assertions, the cluster + simulator stack, convergence checks.
# Source after scripts/lib.sh.

E2E_USER=e2e@example.com
E2E_PASSWORD='e2e-Secret-Pa55'
E2E_CLIENT=300001
E2E_LIST=7
E2E_DB=dwu_e2e
failures=0

check() {  # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "ok - $what"; else echo "not ok - $what"; failures=$((failures + 1)); fi
}

psql_q() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -d "$E2E_DB" -c "$1"; }

# Retries a query while the server restarts (after a crash or an immediate restart).
psql_retry() {
    local out
    for _ in $(seq 1 100); do
        out=$(psql_q "$1" 2>/dev/null) && { echo "$out"; return 0; }
        sleep 0.2
    done
    return 1
}

# The worker's rate limit shared through the Redis started by e2e_start_stack; high enough to stay
# out of the way of tests about something else (tests of the limit set their own).
e2e_redis_settings() {
    echo "dwu_crm.redis_port = $DWU_REDIS_PORT"
    echo "dwu_crm.rate_limit = ${E2E_RATE_LIMIT:-100000}"
}

# e2e_start_stack NAME [extra postgresql.conf lines...] — simulator + Redis + cluster + database +
# extension.
e2e_start_stack() {
    local name=$1; shift
    dwu_init_workdir
    # E2E_SIM_OPTIONS: more simulator options for this test (e.g. --code NAME=CODE).
    # shellcheck disable=SC2086  # split into words on purpose
    dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT" -- ${E2E_SIM_OPTIONS:-}
    dwu_redis_start
    E2E_KEY_FILE=$DWU_WORKDIR/keys
    dwu_make_key_file "$E2E_KEY_FILE"
    local redis_lines
    mapfile -t redis_lines < <(e2e_redis_settings)
    dwu_pg_start "$name" "$(dwu_free_port)" \
        "dwu_crm.database = '$E2E_DB'" \
        "dwu_crm.encryption_key_file = '$E2E_KEY_FILE'" \
        "dwu_crm.field_map = 'dwu_phone:cmp4,dwu_city:cmp5'" \
        "${redis_lines[@]}" \
        "$@"
    "$PG_BIN/createdb" "$E2E_DB"
    psql_q "CREATE EXTENSION dwu_crm" >/dev/null
    e2e_configure_account
    E2E_LOG=$(dwu_pg_log "$name")
}

# How many tokens of the simulator's account Redis holds (one key per client code, base URL and
# user: <prefix>token:<client code>:<hash of the three>).
shared_tokens() { redis-cli -h 127.0.0.1 -p "$DWU_REDIS_PORT" --scan --pattern "dwu_crm:token:$E2E_CLIENT:*" | wc -l; }

# e2e_cluster NAME [postgresql.conf lines...] — one of several clusters ("servers") sharing the
# simulator and the key file $E2E_KEY_FILE: the database, the extension and the account; sets
# NAME_HOST / NAME_PORT for on().
e2e_cluster() {
    local name=$1; shift
    dwu_pg_start "$name" "$(dwu_free_port)" \
        "dwu_crm.database = '$E2E_DB'" \
        "dwu_crm.encryption_key_file = '$E2E_KEY_FILE'" \
        "$@"
    printf -v "${name}_HOST" '%s' "$PGHOST"
    printf -v "${name}_PORT" '%s' "$PGPORT"
    "$PG_BIN/createdb" "$E2E_DB"
    psql_q "CREATE EXTENSION dwu_crm" >/dev/null
    e2e_configure_account
}
# on NAME SQL — runs SQL on that cluster.
on() {
    local host_var="${1}_HOST" port_var="${1}_PORT"
    PGHOST=${!host_var} PGPORT=${!port_var} psql_q "$2"
}

# The simulator's account as the default Dinamize account of the CRM.
e2e_configure_account() {
    psql_q "SELECT dwu_crm.dinamize_configure('e2e', '$DWU_SIM_URL', '$E2E_USER', '$E2E_PASSWORD',
                                              '$E2E_CLIENT', '$E2E_LIST', true)" >/dev/null
}

sim_admin_get() { curl -s --max-time 10 "$DWU_SIM_URL$1"; }
sim_admin_post() { curl -s --max-time 10 -X POST -H 'Content-Type: application/json' -d "${2:-{\}}" "$DWU_SIM_URL$1"; }
sim_contacts() { sim_admin_get "/__sim/contacts?client_code=$E2E_CLIENT&list=$E2E_LIST"; }

worker_pid() { psql_q "select pid from pg_stat_activity where backend_type = 'dwu_crm sync worker'" 2>/dev/null; }

# True when no job is queued or in flight, and no captured write waits to become one. (One
# equality per status, so each count reads its partial index, not a queue full of finished jobs.)
queue_drained() {
    [ "$(psql_q "select (select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'queued')
                      + (select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'processing')
                      + (select count(*) from dwu_crm.crm_captured_changes where dwu_sync)" 2>/dev/null)" = 0 ]
}

# Moves the captured writes into the queue now (the worker does it before each round).
move_captured() { psql_q "select dwu_crm.move_captured_changes()" >/dev/null; }

# The CRM's leads and the simulator's contacts, as the same sorted JSON, field by field:
# e-mail, name, external code (lead id), and the mapped custom fields.
crm_view() {
    psql_q "select coalesce(json_agg(json_build_object('email', lower(dwu_email), 'name', coalesce(dwu_name, ''),
                'external_code', dwu_id::text, 'cmp4', dwu_phone, 'cmp5', dwu_city) order by lower(dwu_email)), '[]')
            from dwu_crm.crm_leads" | jq -S -c .
}
sim_view() {
    sim_contacts | jq -S -c '[.contacts[] | {email: (.email | ascii_downcase), name: (.name // ""),
        external_code: .external_code, cmp4: (.custom_fields.cmp4 // null), cmp5: (.custom_fields.cmp5 // null)}]
        | sort_by(.email)'
}
converged() { [ "$(crm_view)" = "$(sim_view)" ]; }

# Explains a failed convergence: the first differing entries.
show_divergence() {
    diff <(crm_view | jq -c '.[]') <(sim_view | jq -c '.[]') | head -n 10
}

# Leads synced (asked again across a server restart), and whether at least N are.
synced_count() { psql_retry "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'"; }
at_least_synced() { [ "$(synced_count)" -ge "$1" ]; }
# worker_replaced OLD_PID — a sync worker other than OLD_PID runs (after a kill).
worker_replaced() { local p; p=$(worker_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }
# Every e-mail at most once in the simulator's list.
no_duplicate_contacts() {
    [ "$(sim_contacts | jq '[.contacts[].email | ascii_downcase] | (length == (unique | length))')" = true ]
}

no_crash_in_log() { [ -s "$E2E_LOG" ] && ! grep -Eq 'PANIC|terminated by signal 11|terminated by signal 6' "$E2E_LOG"; }
absent_from_file() { [ -s "$2" ] && ! grep -qF -- "$1" "$2"; }

# Prints diagnostics on failure and returns the verdict.
e2e_finish() {
    local name=$1
    if [ "$failures" -gt 0 ]; then
        psql_q "select dwu_status, dwu_operation, count(*), max(dwu_attempt_count) from dwu_crm.crm_sync_queue group by 1, 2" || true
        psql_q "select * from dwu_crm.sync_errors" || true
        sim_admin_get /__sim/stats; echo
        tail -n 40 "$E2E_LOG"
    fi
    echo "$name: $failures failure(s)"
    [ "$failures" -eq 0 ]
}
