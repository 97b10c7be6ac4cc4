#!/usr/bin/env bash
# End to end: a real cluster with the worker preloaded, the real simulator over loopback HTTP.
# Leads inserted → each becomes a Dinamize contact and crm_lead_sync shows it synced.
# Needs the build from scripts/test.sh (extension installed, simulator built).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT
dwu_init_workdir

USER_EMAIL=$E2E_USER
PASSWORD=$E2E_PASSWORD
CLIENT=$E2E_CLIENT
LIST=$E2E_LIST
LEADS=50

dwu_sim_start "$USER_EMAIL:$PASSWORD:$CLIENT"
dwu_redis_start
dwu_make_key_file "$DWU_WORKDIR/keys"
# idle_check_seconds is an hour: a lead synced within seconds proves the commit woke the worker.
dwu_pg_start e2e "$(dwu_free_port)" \
    "dwu_crm.database = 'dwu_e2e'" \
    "dwu_crm.encryption_key_file = '$DWU_WORKDIR/keys'" \
    "dwu_crm.field_map = 'dwu_phone:cmp4,dwu_city:cmp5'" \
    "dwu_crm.redis_port = $DWU_REDIS_PORT" \
    "dwu_crm.idle_check_seconds = 3600"

# The launcher waits for the database, then starts the worker, which waits for the extension.
check "launcher is running before the database exists" dwu_wait_for 10 "launcher" \
    bash -c "[ \"\$('$PG_BIN/psql' -X -At -d postgres -c \"select count(*) from pg_stat_activity where backend_type = 'dwu_crm launcher'\")\" = 1 ]"
"$PG_BIN/createdb" dwu_e2e
check "sync worker starts once the database exists" dwu_wait_for 15 "sync worker" \
    bash -c "[ \"\$('$PG_BIN/psql' -X -At -d postgres -c \"select count(*) from pg_stat_activity where backend_type = 'dwu_crm sync worker' and datname = 'dwu_e2e'\")\" = 1 ]"
psql_q "CREATE EXTENSION dwu_crm" >/dev/null
e2e_configure_account
sleep 1.5  # let the worker notice the extension (it checks every second until it exists)

# A rolled-back insert enqueues nothing.
psql_q "BEGIN; INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('rolled.back@example.com'); ROLLBACK;" >/dev/null
check "a rolled-back insert leaves the queue empty" [ "$(psql_q 'select count(*) from dwu_crm.crm_sync_queue')" = 0 ]

# The contact for one lead already exists in Dinamize (as after a crash between call and record).
token=$(curl -s -X POST "$DWU_SIM_URL/auth" -H 'Content-Type: application/json' \
    -d "{\"user\":\"$USER_EMAIL\",\"password\":\"$PASSWORD\",\"client_code\":\"$CLIENT\"}" | jq -r '.body["auth-token"]')
existing=$(curl -s -X POST "$DWU_SIM_URL/emkt/contact/add" -H 'Content-Type: application/json' -H "auth-token: $token" \
    -d "{\"contact-list_code\":\"$LIST\",\"email\":\"lead1@example.com\",\"name\":\"Old name\"}" | jq -r '.body.code')
unset token

psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city, dwu_origin)
        SELECT 'Lead ' || i, 'lead' || i || '@example.com', '+55 51 9999-' || lpad(i::text, 4, '0'), 'Porto Alegre', 'Manual'
          FROM generate_series(1, $LEADS) i" >/dev/null
move_captured
check "the insert enqueued one create job per lead" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_operation = 'create'")" = "$LEADS" ]

synced() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'")" = "$LEADS" ]; }
check "every lead is synced (woken by the commit, idle check is 1 h)" dwu_wait_for 30 "leads synced" synced

contacts=$(curl -s "$DWU_SIM_URL/__sim/contacts?client_code=$CLIENT&list=$LIST")
check "the simulator holds one contact per lead" [ "$(jq '.contacts | length' <<<"$contacts")" = "$LEADS" ]
check "every lead's e-mail is a contact" [ "$(jq '[.contacts[].email] | map(select(test("^lead[0-9]+@example.com$"))) | length' <<<"$contacts")" = "$LEADS" ]
check "custom fields follow dwu_crm.field_map" \
    [ "$(jq -r '.contacts[] | select(.email == "lead2@example.com") | .custom_fields.cmp5' <<<"$contacts")" = "Porto Alegre" ]
check "the pre-existing contact was reused, not duplicated" \
    [ "$(psql_q "select s.dwu_dinamize_contact_id from dwu_crm.crm_lead_sync s join dwu_crm.crm_leads l on l.dwu_id = s.dwu_lead_id where l.dwu_email = 'lead1@example.com'")" = "$existing" ]
check "crm_lead_sync codes match the simulator's" [ "$(psql_q "select string_agg(dwu_dinamize_contact_id, ',' order by dwu_dinamize_contact_id::bigint) from dwu_crm.crm_lead_sync")" = "$(jq -r '[.contacts[].code | tonumber] | sort | map(tostring) | join(",")' <<<"$contacts")" ]
check "every job completed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'completed' and dwu_locked_until is null")" = "$LEADS" ]
check "one success log per job, with a duration" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_logs where dwu_status = 'success' and dwu_duration_ms >= 0")" = "$LEADS" ]
# Two logins in all: this script's own (to pre-create a contact) and the worker's single one.
check "the worker authenticated once for all jobs" [ "$(curl -s "$DWU_SIM_URL/__sim/stats" | jq '.auth_ok')" = 2 ]

# A lead Dinamize refuses (our shape check lets 'x@y..z' pass, Dinamize's does not) fails at once.
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('bad@exa mple.com')" >/dev/null 2>&1 \
    && echo "not ok - constraint should have refused an e-mail with a space" && failures=$((failures + 1))
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('x@y..z')" >/dev/null
failed() { [ "$(psql_q "select dwu_status || '/' || dwu_attempt_count from dwu_crm.crm_sync_queue q join dwu_crm.crm_leads l on l.dwu_id = q.dwu_lead_id where l.dwu_email = 'x@y..z'")" = "failed/1" ]; }
check "a Dinamize validation error fails the job at once, without retries" dwu_wait_for 15 "validation failure" failed
check "the failure is logged with category VALIDATION and the Dinamize code" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_logs where dwu_error_category = 'VALIDATION' and dwu_error_code ~ '^[0-9]{6}$'")" = 1 ]
check "crm_lead_sync shows the error count and message" \
    [ "$(psql_q "select dwu_sync_status || '/' || dwu_sync_error_count || '/' || (dwu_last_error_message is not null) from dwu_crm.crm_lead_sync s join dwu_crm.crm_leads l on l.dwu_id = s.dwu_lead_id where l.dwu_email = 'x@y..z'")" = "failed/1/true" ]

# Updates and deletes reach Dinamize; the mapped custom fields follow.
psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'Renamed', dwu_city = 'Recife' WHERE dwu_email = 'lead2@example.com'" >/dev/null
psql_q "UPDATE dwu_crm.crm_leads SET dwu_address = 'local only' WHERE dwu_email = 'lead4@example.com'" >/dev/null
psql_q "DELETE FROM dwu_crm.crm_leads WHERE dwu_email IN ('lead3@example.com', 'x@y..z')" >/dev/null
check "after updates and deletes the simulator equals the CRM field by field" dwu_wait_for 20 "convergence" converged
move_captured
check "a local-only update enqueued nothing" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue q join dwu_crm.crm_leads l on l.dwu_id = q.dwu_lead_id where l.dwu_email = 'lead4@example.com' and q.dwu_operation = 'update'")" = 0 ]
check "the deleted lead's link says deleted" [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'deleted'")" = 1 ]

# SIGHUP: a reload keeps the worker (same pid) and its work.
pid_before=$(psql_q "select pid from pg_stat_activity where backend_type = 'dwu_crm sync worker'")
psql_q "select pg_reload_conf()" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('after.reload@example.com')" >/dev/null
after_reload() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync s join dwu_crm.crm_leads l on l.dwu_id = s.dwu_lead_id where l.dwu_email = 'after.reload@example.com' and s.dwu_sync_status = 'synced'")" = 1 ]; }
check "a lead inserted after a reload is synced" dwu_wait_for 15 "sync after reload" after_reload
check "the reload kept the same worker process" [ "$(psql_q "select pid from pg_stat_activity where backend_type = 'dwu_crm sync worker'")" = "$pid_before" ]

# SIGTERM: the worker stops and the launcher starts a new one that carries on.
psql_q "select pg_terminate_backend($pid_before)" >/dev/null
new_worker() { p=$(psql_q "select pid from pg_stat_activity where backend_type = 'dwu_crm sync worker'"); [ -n "$p" ] && [ "$p" != "$pid_before" ]; }
check "after SIGTERM the launcher restarts the worker" dwu_wait_for 20 "worker restart" new_worker
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('after.restart@example.com')" >/dev/null
after_restart() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync s join dwu_crm.crm_leads l on l.dwu_id = s.dwu_lead_id where l.dwu_email = 'after.restart@example.com' and s.dwu_sync_status = 'synced'")" = 1 ]; }
check "a lead inserted after the restart is synced" dwu_wait_for 15 "sync after restart" after_restart
check "the stored (encrypted) token was reused across the reload and the restart" \
    [ "$(curl -s "$DWU_SIM_URL/__sim/stats" | jq '.auth_ok')" = 2 ]
check "one active token is stored, encrypted" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_auth_tokens where dwu_active and length(dwu_token) > 31 and dwu_expires_at > now()")" = 1 ]

# Secrets: the password is in no log and no table.
log=$(dwu_pg_log e2e)
check "the password appears nowhere in the server log" absent_from_file "$PASSWORD" "$log"
check "the password appears nowhere in the simulator log" absent_from_file "$PASSWORD" "$DWU_WORKDIR/sim.log"
check "the password appears in no sync log row" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_logs where dwu_error_message like '%$PASSWORD%'")" = 0 ]
check "no crash in the server log" bash -c "[ -s '$log' ] && ! grep -Eq 'terminated by signal|PANIC|was terminated by' '$log'"

E2E_LOG=$log
e2e_finish sync_end_to_end
