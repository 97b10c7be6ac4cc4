#!/usr/bin/env bash
# Dump and restore round trip (the CRM's data is the user's): a working database — leads with a
# column and an index the user added, an account with its sealed password and token, queued,
# failed and finished jobs, logs, audit rows — goes through pg_dump -Fc and pg_restore into a new
# cluster with the same key file. Every row comes back, the sequences where they were, nothing is
# re-captured by the restore, the account arrives paused (the copy calls Dinamize only when an
# admin says so), and once resumed the copy syncs. Then DROP EXTENSION: refused, and CASCADE
# keeps the leads.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

e2e_start_stack dump_source
psql_q "ALTER TABLE dwu_crm.crm_leads ADD COLUMN my_segment text" >/dev/null
psql_q "CREATE INDEX my_segment_idx ON dwu_crm.crm_leads (my_segment)" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, my_segment)
        SELECT 'Lead ' || i, 'dump' || i || '@example.com', 'seg' || (i % 3) FROM generate_series(1, 30) i" >/dev/null
check "the leads sync in the source" dwu_wait_for 60 "sync" queue_drained
# A failed job and a queued one (its retry due in ten minutes), set by hand next to the completed ones.
psql_q "INSERT INTO dwu_crm.crm_sync_queue (dwu_lead_id, dwu_operation, dwu_status, dwu_last_error)
        VALUES (1, 'update', 'failed', 'kept for the admin');
        INSERT INTO dwu_crm.crm_sync_queue (dwu_lead_id, dwu_operation, dwu_next_attempt_at)
        VALUES (2, 'update', now() + interval '10 minutes')" >/dev/null

# What the copy must hold, table by table (rows as JSON, order-independent).
snapshot() {
    psql_q "select json_build_object(
        'leads', (select json_agg(l order by dwu_id) from dwu_crm.crm_leads l),
        'links', (select json_agg(json_build_array(dwu_lead_id, dwu_dinamize_contact_id, dwu_sync_status) order by dwu_lead_id) from dwu_crm.crm_lead_sync),
        'jobs', (select json_agg(json_build_array(dwu_id, dwu_lead_id, dwu_operation, dwu_status, dwu_attempt_count) order by dwu_id) from dwu_crm.crm_sync_queue),
        'logs', (select count(*) from dwu_crm.crm_sync_logs),
        'audit', (select count(*) from dwu_crm.crm_audit_log),
        'accounts', (select json_agg(json_build_array(dwu_name, dwu_password, dwu_client_code) order by dwu_id) from dwu_crm.crm_dinamize_accounts),
        'tokens', (select count(*) from dwu_crm.crm_auth_tokens),
        'captured', (select count(*) from dwu_crm.crm_captured_changes))" | jq -S -c .
}
before=$(snapshot)
check "the source has leads, jobs of three states, logs, audit rows and a token" \
    [ "$(jq '[(.leads | length), .logs, .audit, .tokens] | min > 0 and ($in.jobs | map(.[3]) | unique | length) == 3' \
          --argjson in "$before" <<<"$before")" = true ]
dump=$DWU_WORKDIR/crm.dump
"$PG_BIN/pg_dump" -Fc -d "$E2E_DB" -f "$dump"
dwu_pg_stop dump_source  # the source is gone: only the copy could call Dinamize from here on
calls_before=$(sim_admin_get /__sim/stats | jq '[.requests | to_entries[] | .value] | add')

# A new cluster with the same key file (the password and token open there), same Redis.
mapfile -t redis_lines < <(e2e_redis_settings)
dwu_pg_start dump_copy "$(dwu_free_port)" "dwu_crm.database = '$E2E_DB'" \
    "dwu_crm.encryption_key_file = '$E2E_KEY_FILE'" "dwu_crm.field_map = 'dwu_phone:cmp4,dwu_city:cmp5'" \
    "${redis_lines[@]}"
E2E_LOG=$(dwu_pg_log dump_copy)
"$PG_BIN/createdb" "$E2E_DB"
restore_out=$DWU_WORKDIR/restore.out
restore_status=0
"$PG_BIN/pg_restore" -d "$E2E_DB" "$dump" >"$restore_out" 2>&1 || restore_status=$?
check "pg_restore reports no error" [ "$restore_status" = 0 ]
grep -i error "$restore_out" | head -n 5 || true
check "the restore warns that the account arrived paused (server log)" \
    grep -q "WARNING:  dwu_crm: Dinamize account e2e restored paused" "$E2E_LOG"

after=$(snapshot)
check "every row came back (leads with the user's column, links, jobs, logs, audit, sealed account, token)" \
    [ "$(jq -c 'del(.accounts)' <<<"$after")" = "$(jq -c 'del(.accounts)' <<<"$before")" ]
check "the account's sealed password and settings came back" \
    [ "$(jq -c .accounts <<<"$after")" = "$(jq -c .accounts <<<"$before")" ]
check "the user's index came back" \
    [ "$(psql_q "select count(*) from pg_indexes where indexname = 'my_segment_idx'")" = 1 ]
check "the capture triggers came back" \
    [ "$(psql_q "select count(*) from pg_trigger where tgrelid = 'dwu_crm.crm_leads'::regclass and tgname = 'crm_leads_capture'")" = 1 ]
check "nothing was re-captured by the restore" [ "$(jq .captured <<<"$after")" = "$(jq .captured <<<"$before")" ]
check "the account arrived paused" \
    [ "$(psql_q "select dwu_enabled from dwu_crm.crm_dinamize_accounts where dwu_name = 'e2e'")" = f ]
sleep 3
check "the copy called Dinamize for nothing while paused" \
    [ "$(sim_admin_get /__sim/stats | jq '[.requests | to_entries[] | .value] | add')" = "$calls_before" ]

# Sequences where they were: new rows take new ids, in the user's tables and the extension's.
check "a new lead is inserted (its sequence was restored)" \
    psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('After restore', 'after-restore@example.com')"
move_captured
check "a new job takes a new id (the queue's sequence was restored)" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue q join dwu_crm.crm_leads l on l.dwu_id = q.dwu_lead_id
                  where l.dwu_email = 'after-restore@example.com'")" = 1 ]
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', true)" >/dev/null
psql_q "UPDATE dwu_crm.crm_sync_queue SET dwu_next_attempt_at = now() WHERE dwu_status = 'queued'" >/dev/null
check "resumed, the copy syncs the queued job and the new lead" dwu_wait_for 60 "sync" queue_drained
check "the simulator equals the CRM" converged
check "nothing failed but the failed job kept from the source" \
    [ "$(psql_q "select string_agg(dwu_last_error, ',') from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = "kept for the admin" ]

# DROP EXTENSION never deletes a lead: refused, and CASCADE removes only what needs the extension.
leads=$(psql_q "select count(*) from dwu_crm.crm_leads")
drop_out=$("$PG_BIN/psql" -X -At -d "$E2E_DB" -c "DROP EXTENSION dwu_crm" 2>&1 || true)
check "a plain DROP EXTENSION is refused, naming the capture trigger" \
    grep -q "trigger crm_leads_capture on table dwu_crm.crm_leads depends on function" <<<"$drop_out"
psql_q "DROP EXTENSION dwu_crm CASCADE" >/dev/null 2>&1
check "DROP EXTENSION CASCADE keeps every lead and the user's column" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_leads where my_segment is not null or dwu_email like '%restore%'")" = "$leads" ]
check "no crash in the server log" no_crash_in_log

e2e_finish dump_restore
