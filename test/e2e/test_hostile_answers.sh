#!/usr/bin/env bash
# Whatever base_url answers is data, never a crash (issue 15). A hostile server (test/hostile/)
# answers /auth normally and everything else as its current mode says: JSON nested 100,000 deep, a
# 100 MB body, bytes that are not UTF-8, NULs, a 40-digit number where a code belongs, wrong types,
# a contact code that is not digits, over-long fields, HTML, garbage, a body that never ends, a
# reset mid-answer. For each: a SQL function gets a clear error (never a lost connection, never
# XX000), the worker records an outcome for the mode's job and goes on with the next one, and no
# process of the server dies by a signal. Once the server behaves, the queue drains.
# Needs the build from scripts/test.sh (extension installed, test/hostile built).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT
dwu_init_workdir

HOSTILE=$DWU_BUILD/test/hostile/hostile_dinamize
port_file=$DWU_WORKDIR/hostile.port
"$HOSTILE" --port 0 --port-file "$port_file" >"$DWU_WORKDIR/hostile.log" 2>&1 &
DWU_PIDS+=($!)
dwu_wait_for 10 "the hostile server" test -s "$port_file" || exit 1
HOSTILE_URL="http://127.0.0.1:$(cat "$port_file")"
set_mode() { curl -s --max-time 5 -X POST --data-binary "$1" "$HOSTILE_URL/__hostile/mode" >/dev/null; }

dwu_make_key_file "$DWU_WORKDIR/keys"
# Short timeouts and retries: a body that never ends costs 3 s, a failed job is retried once.
dwu_pg_start hostile "$(dwu_free_port)" \
    "dwu_crm.database = '$E2E_DB'" \
    "dwu_crm.encryption_key_file = '$DWU_WORKDIR/keys'" \
    "dwu_crm.request_timeout_ms = 3000" \
    "dwu_crm.retry_base_seconds = 1" \
    "dwu_crm.max_attempts = 2" \
    "dwu_crm.lease_seconds = 30" \
    "restart_after_crash = off"
E2E_LOG=$(dwu_pg_log hostile)
"$PG_BIN/createdb" "$E2E_DB"
psql_q "CREATE EXTENSION dwu_crm" >/dev/null
psql_q "SELECT dwu_crm.dinamize_configure('hostile', '$HOSTILE_URL', 'e2e@example.com', 'secret', '300001', '1', true)" >/dev/null

# The SQLSTATE a SQL function call ends with ("ok" when it succeeds).
sqlstate_of() {
    "$PG_BIN/psql" -X -q -At -d "$E2E_DB" -c "DO \$\$ BEGIN PERFORM $1; RAISE NOTICE 'sqlstate ok';
        EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'sqlstate %', SQLSTATE; END \$\$" 2>&1 | sed -n 's/.*NOTICE:  sqlstate //p'
}
# The outcome the worker recorded for lead $1: the queue's status and error category.
job_outcome() {
    psql_q "select dwu_status || ' ' || coalesce(dwu_last_error_category, '-') from dwu_crm.crm_sync_queue
             where dwu_lead_id = $1 order by dwu_id desc limit 1" 2>/dev/null
}
job_attempted() { local o; o=$(job_outcome "$1"); [ -n "$o" ] && [ "$o" != "queued -" ] && [ "$o" != "processing -" ]; }

# The category each answer must be recorded with (issue 15): not the JSON envelope → API_ERROR; a
# bad value inside a valid envelope → VALIDATION; a reset or a body that never ends → NETWORK.
declare -A expected=([deep]=API_ERROR [html]=API_ERROR [garbage]=API_ERROR [wrong_types]=API_ERROR
                     [bad_code]=VALIDATION [nul]=VALIDATION [huge_number]=VALIDATION [bad_utf8]=VALIDATION
                     [slow]=NETWORK [reset]=NETWORK)
# Modes that only spoil contact/add: the list search is answered normally.
declare -A lists_fine=([bad_code]=1)

lead=0
for mode in deep huge bad_utf8 long_detail nul huge_number wrong_types bad_code long_fields html garbage slow reset; do
    set_mode "$mode"
    lists=$(sqlstate_of "dwu_crm.dinamize_lists()")
    create=$(sqlstate_of "dwu_crm.dinamize_contact_create('1', '{\"email\": \"sql.$mode@example.com\"}')")
    if [ -n "${lists_fine[$mode]:-}" ]; then
        check "$mode: dinamize_lists() still works (got ${lists:-no answer})" [ "$lists" = ok ]
    else
        check "$mode: dinamize_lists() ends with a clear error (got ${lists:-no answer})" \
            bash -c "[ -n '$lists' ] && [ '$lists' != XX000 ] && [ '$lists' != ok ]"
    fi
    check "$mode: dinamize_contact_create() ends with an answer, not a crash (got ${create:-no answer})" \
        bash -c "[ -n '$create' ] && [ '$create' != XX000 ]"
    lead=$((lead + 1))
    psql_q "INSERT INTO dwu_crm.crm_leads (dwu_id, dwu_email, dwu_origin) OVERRIDING SYSTEM VALUE
            VALUES ($lead, 'worker.$mode@example.com', 'Manual')" >/dev/null
    dwu_wait_for 30 "an outcome" job_attempted "$lead" || true
    outcome=$(job_outcome "$lead" || true)
    check "$mode: the worker recorded an outcome for the job ($outcome)" job_attempted "$lead"
    if [ -n "${expected[$mode]:-}" ]; then
        check "$mode: recorded as ${expected[$mode]}" [ "${outcome#* }" = "${expected[$mode]}" ]
    fi
    check "$mode: no process died" no_crash_in_log
done

# The server behaves again: every job, retried, reaches Dinamize.
set_mode normal
psql_q "SELECT dwu_crm.requeue_failed()" >/dev/null
check "once the server behaves, the queue drains" dwu_wait_for 60 "the queue" queue_drained
check "every lead is synced" [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'")" = "$lead" ]
check "the sync worker is still the one that started, or came back" [ -n "$(worker_pid)" ]
check "no process of the server died by a signal" no_crash_in_log

echo "hostile_answers: $failures failure(s)"
[ "$failures" -eq 0 ]
