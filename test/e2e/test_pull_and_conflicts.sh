#!/usr/bin/env bash
# Dinamize → CRM (issue 8), end to end against the simulator:
#   - changes made "on the Dinamize side" (admin routes, API) appear in crm_leads after pull_now(),
#     new contacts become leads (origin Dinamize, payload in dwu_source_data), opt-outs, bounces
#     and spam complaints set the e-mail status — and nothing is sent back (request log);
#   - a later local edit of a pulled lead still syncs;
#   - a lead changed on both sides is resolved by the rule: last_modified (Dinamize's change, seen
#     after the unsent local one, wins) and merge (field by field), each conflict recorded;
#   - a webhook delivered twice is applied once;
#   - after a mixed workload on both sides CRM and simulator agree field by field;
#   - audit rows for the pulled changes, the manual pull and the webhook, no secret in them.
# A pull runs over pages of 3 contacts (dwu_crm.pull_page_size) to exercise the paging.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

e2e_start_stack pull "dwu_crm.pull_page_size = 3" "dwu_crm.idle_check_seconds = 2" "dwu_crm.retry_base_seconds = 1"

now_ms() { date +%s%3N; }
sim_post() { sim_admin_post "$1" "$2" >/dev/null; }
lead_field() { psql_q "select $2 from dwu_crm.crm_leads where dwu_email = '$1'"; }
sim_contact() { sim_contacts | jq -c --arg e "$1" '.contacts[] | select(.email == $e)'; }
code_of() { psql_q "select s.dwu_dinamize_contact_id from dwu_crm.crm_lead_sync s join dwu_crm.crm_leads l on l.dwu_id = s.dwu_lead_id where l.dwu_email = '$1'"; }
# Writes (contact/add, contact/update, contact/delete, import) that reached the simulator since $1.
writes_since() {
    sim_admin_get "/__sim/requests?since_ms=$1" |
        jq '[.requests[] | select(.path | test("^/emkt/contact/(add|update|delete)$|import"))] | length'
}
pull() {  # pull: asks for a pull and waits until one started after the request has finished
    local at
    at=$(psql_q "select dwu_crm.pull_now('e2e')")
    dwu_wait_for 30 "pull" bash -c "[ \"\$('$PG_BIN/psql' -X -At -d $E2E_DB -c \"select count(*) from dwu_crm.pull_status where last_run_started_at >= '$at' and running_phase is null\")\" = 1 ]"
}
# A local change that waits unsent in the queue (as while Dinamize is unreachable) until released:
# the edit, its move into the queue and the hold commit together, so the worker never sees the job due.
local_edit_held() {
    psql_q "$1; select dwu_crm.move_captured_changes(); update dwu_crm.crm_sync_queue set dwu_next_attempt_at = now() + interval '1 hour' where dwu_status = 'queued'" >/dev/null
}
release_queue() { psql_q "update dwu_crm.crm_sync_queue set dwu_next_attempt_at = now() where dwu_status = 'queued'" >/dev/null; }
token=$(curl -s -X POST "$DWU_SIM_URL/auth" -H 'Content-Type: application/json' \
    -d "{\"user\":\"$E2E_USER\",\"password\":\"$E2E_PASSWORD\",\"client_code\":\"$E2E_CLIENT\"}" | jq -r '.body["auth-token"]')
remote_add() {  # remote_add EMAIL NAME PHONE: a contact created in Dinamize by someone else
    curl -s -X POST "$DWU_SIM_URL/emkt/contact/add" -H 'Content-Type: application/json' -H "auth-token: $token" \
        -d "{\"contact-list_code\":\"$E2E_LIST\",\"email\":\"$1\",\"name\":\"$2\",\"custom_fields\":{\"cmp4\":\"$3\"}}" >/dev/null
}
remote_update() {  # remote_update EMAIL JSON-FIELDS
    sim_post /__sim/contact-update "{\"client_code\":\"$E2E_CLIENT\",\"list\":\"$E2E_LIST\",\"email\":\"$1\",$2}"
}

# --- Leads created in the CRM reach Dinamize -------------------------------------------------
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city)
        SELECT 'Lead ' || i, 'lead' || i || '@example.com', '+55 51 9999-000' || i, 'Porto Alegre'
          FROM generate_series(1, 6) i" >/dev/null
check "local leads synced" dwu_wait_for 20 "sync" bash -c "[ \"\$('$PG_BIN/psql' -X -At -d $E2E_DB -c \"select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'\")\" = 6 ]"
check "the first pull sees them back and changes nothing" pull
check "  ...and records a hash per contact" [ "$(psql_q "select count(*) from dwu_crm.crm_remote_contacts")" = 6 ]

# --- Changes made in Dinamize appear after a pull, with no echo --------------------------------
remote_update lead1@example.com '"name":"Lead One (Dinamize)","custom_fields":{"cmp5":"Canoas"}'
remote_add new1@example.com "New One" "+55 11 5555-0001"
remote_add new2@example.com "New Two" "+55 11 5555-0002"
remote_add new3@example.com "New Three" "+55 11 5555-0003"
sim_post /__sim/optout "{\"client_code\":\"$E2E_CLIENT\",\"list\":\"$E2E_LIST\",\"email\":\"lead2@example.com\"}"
sim_post /__sim/event "{\"client_code\":\"$E2E_CLIENT\",\"list\":\"$E2E_LIST\",\"email\":\"lead3@example.com\",\"kind\":8,\"info2\":\"DE\"}"
sim_post /__sim/event "{\"client_code\":\"$E2E_CLIENT\",\"list\":\"$E2E_LIST\",\"email\":\"lead4@example.com\",\"kind\":9}"
sim_post /__sim/event "{\"client_code\":\"$E2E_CLIENT\",\"list\":\"$E2E_LIST\",\"email\":\"lead5@example.com\",\"kind\":8,\"info2\":\"SB\"}"
t_pull=$(now_ms)
check "pull after changes in Dinamize" pull
check "a remote name change reached the lead" [ "$(lead_field lead1@example.com dwu_name)" = "Lead One (Dinamize)" ]
check "a remote custom field change reached the mapped column" [ "$(lead_field lead1@example.com dwu_city)" = "Canoas" ]
check "contacts created in Dinamize became leads (origin Dinamize)" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_leads where dwu_email like 'new%' and dwu_origin = 'Dinamize'")" = 3 ]
check "  ...with their mapped fields" [ "$(lead_field new2@example.com dwu_phone)" = "+55 11 5555-0002" ]
check "  ...the full Dinamize payload in dwu_source_data" \
    [ "$(psql_q "select dwu_source_data->>'code' = s.dwu_dinamize_contact_id and dwu_source_data ? 'insert_date' from dwu_crm.crm_leads l join dwu_crm.crm_lead_sync s on s.dwu_lead_id = l.dwu_id where dwu_email = 'new3@example.com'")" = t ]
check "  ...and linked to their contact" [ -n "$(code_of new1@example.com)" ]
check "an opt-out made in Dinamize: opted_out" [ "$(lead_field lead2@example.com dwu_email_status)" = opted_out ]
check "a hard bounce: bounced" [ "$(lead_field lead3@example.com dwu_email_status)" = bounced ]
check "a spam complaint: spam_complaint" [ "$(lead_field lead4@example.com dwu_email_status)" = spam_complaint ]
check "a soft bounce: soft_bounced" [ "$(lead_field lead5@example.com dwu_email_status)" = soft_bounced ]
sleep 2.5  # the worker has had every chance to send something back
check "no echo: nothing queued for the pulled changes" queue_drained
check "no echo: not one contact write reached Dinamize" [ "$(writes_since "$t_pull")" = 0 ]
check "the pull read the list in pages (several search requests)" \
    [ "$(sim_admin_get "/__sim/requests?since_ms=$t_pull" | jq '[.requests[] | select(.path == "/emkt/contact/search")] | length')" -ge 3 ]
check "a second pull with nothing changed applies nothing" pull
check "  ...its counts say so" [ "$(psql_q "select coalesce(last_stats->>'updated', '0') || '/' || coalesce(last_stats->>'created', '0') from dwu_crm.pull_status")" = "0/0" ]

# --- A later local edit of a pulled lead still syncs ------------------------------------------
t_edit=$(now_ms)
psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'New One (CRM)' WHERE dwu_email = 'new1@example.com'" >/dev/null
check "a local edit after the pull reaches Dinamize" dwu_wait_for 15 "local edit" \
    bash -c "curl -s '$DWU_SIM_URL/__sim/contacts?client_code=$E2E_CLIENT&list=$E2E_LIST' | jq -e '.contacts[] | select(.email == \"new1@example.com\" and .name == \"New One (CRM)\")' >/dev/null"
check "  ...as one contact/update" [ "$(writes_since "$t_edit")" = 1 ]

# --- Conflicts: both sides changed a lead since the last sync ---------------------------------
# last_modified (default): the local edit waits unsent; Dinamize's change, seen later, wins.
local_edit_held "UPDATE dwu_crm.crm_leads SET dwu_name = 'Six (CRM)' WHERE dwu_email = 'lead6@example.com'"
remote_update lead6@example.com '"name":"Six (Dinamize)"'
check "pull with a conflict (last_modified)" pull
check "last_modified: the newer (Dinamize) version won" [ "$(lead_field lead6@example.com dwu_name)" = "Six (Dinamize)" ]
check "  ...the conflict is recorded with both versions" \
    [ "$(psql_q "select dwu_rule || '/' || dwu_winner || '/' || (dwu_local->>'dwu_name') || '/' || (dwu_remote->>'dwu_name') from dwu_crm.crm_sync_conflicts c join dwu_crm.crm_leads l on l.dwu_id = c.dwu_lead_id where l.dwu_email = 'lead6@example.com'")" = "last_modified/remote/Six (CRM)/Six (Dinamize)" ]
release_queue
check "  ...and Dinamize keeps the winner" dwu_wait_for 15 "drain" queue_drained
check "  ...(simulator)" [ "$(sim_contact lead6@example.com | jq -r .name)" = "Six (Dinamize)" ]

# merge: local wins on the fields changed locally, Dinamize on the others.
psql_q "select dwu_crm.pull_configure('e2e', conflict_rule => 'merge')" >/dev/null
local_edit_held "UPDATE dwu_crm.crm_leads SET dwu_name = 'Five (CRM)' WHERE dwu_email = 'lead5@example.com'"
remote_update lead5@example.com '"custom_fields":{"cmp5":"Gramado"}'
check "pull with a conflict (merge)" pull
check "merge: the local field kept" [ "$(lead_field lead5@example.com dwu_name)" = "Five (CRM)" ]
check "merge: the remote field taken" [ "$(lead_field lead5@example.com dwu_city)" = "Gramado" ]
check "  ...recorded as merged" [ "$(psql_q "select dwu_rule || '/' || dwu_winner from dwu_crm.crm_sync_conflicts c join dwu_crm.crm_leads l on l.dwu_id = c.dwu_lead_id where l.dwu_email = 'lead5@example.com'")" = "merge/merged" ]
release_queue
check "  ...and Dinamize gets the merged contact" dwu_wait_for 15 "merged in simulator" \
    bash -c "curl -s '$DWU_SIM_URL/__sim/contacts?client_code=$E2E_CLIENT&list=$E2E_LIST' | jq -e '.contacts[] | select(.email == \"lead5@example.com\" and .name == \"Five (CRM)\" and .custom_fields.cmp5 == \"Gramado\")' >/dev/null"

# --- A webhook delivered twice is applied once ------------------------------------------------
t_hook=$(now_ms)
payload='{"id": "form-7781", "email": "hook@example.com", "nome": "Hook Lead", "telefone": "+55 21 3333-0001", "campaign": "landing-1"}'
first=$(psql_q "select dwu_crm.webhook_receive('$payload'::jsonb, 'lead.upsert', 'landing')")
second=$(psql_q "select dwu_crm.webhook_receive('$payload'::jsonb, 'lead.upsert', 'landing')")
check "the replayed webhook returns the first event" [ "$first" = "$second" ]
check "the webhook is processed" dwu_wait_for 15 "webhook" \
    bash -c "[ \"\$('$PG_BIN/psql' -X -At -d $E2E_DB -c \"select dwu_processed and dwu_error is null from dwu_crm.crm_webhook_events where dwu_id = $first\")\" = t ]"
check "  ...one event stored, one lead" [ "$(psql_q "select (select count(*) from dwu_crm.crm_webhook_events) || '/' || (select count(*) from dwu_crm.crm_leads where dwu_email = 'hook@example.com' and dwu_origin = 'Webhook' and dwu_name = 'Hook Lead')")" = "1/1" ]
check "  ...which syncs as usual (one contact/add)" dwu_wait_for 15 "hook synced" \
    bash -c "curl -s '$DWU_SIM_URL/__sim/contacts?client_code=$E2E_CLIENT&list=$E2E_LIST' | jq -e '.contacts[] | select(.email == \"hook@example.com\" and .custom_fields.cmp4 == \"+55 21 3333-0001\")' >/dev/null"
psql_q "select dwu_crm.webhook_receive('$payload'::jsonb, 'lead.upsert', 'landing')" >/dev/null
sleep 1
check "  ...a late third delivery changes nothing" [ "$(writes_since "$t_hook")" = 1 ]

# --- Mixed workload on both sides, then convergence ------------------------------------------
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_city)
        SELECT 'Mix ' || i, 'mix' || i || '@example.com', 'Pelotas' FROM generate_series(1, 12) i" >/dev/null
dwu_wait_for 20 "mix synced" queue_drained || true
for i in 1 2 3 4; do remote_update "mix$i@example.com" "\"name\":\"Mix $i (Dinamize)\""; done
for i in 5 6 7; do remote_update "mix$i@example.com" "\"custom_fields\":{\"cmp5\":\"Remote city $i\"}"; done
for i in 4 5 6 7; do remote_add "far$i@example.com" "Far $i" "+55 31 4444-000$i"; done
psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = dwu_name || ' (CRM)' WHERE dwu_email IN ('mix8@example.com', 'mix9@example.com', 'mix5@example.com')" >/dev/null
psql_q "UPDATE dwu_crm.crm_leads SET dwu_phone = '+55 51 7777-0010' WHERE dwu_email = 'mix10@example.com'" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('Late', 'late@example.com')" >/dev/null
check "pull during the workload" pull
dwu_wait_for 20 "drain" queue_drained || true
check "pull after it" pull
dwu_wait_for 20 "drain" queue_drained || true
mixed_view_crm() {
    psql_q "select coalesce(json_agg(json_build_object('email', lower(dwu_email), 'name', coalesce(dwu_name, ''),
                'cmp4', dwu_phone, 'cmp5', dwu_city) order by lower(dwu_email)), '[]') from dwu_crm.crm_leads" | jq -S -c .
}
mixed_view_sim() {
    sim_contacts | jq -S -c '[.contacts[] | {email: (.email | ascii_downcase), name: (.name // ""),
        cmp4: (.custom_fields.cmp4 // null), cmp5: (.custom_fields.cmp5 // null)}] | sort_by(.email)'
}
check "convergence: CRM and Dinamize agree field by field" [ "$(mixed_view_crm)" = "$(mixed_view_sim)" ]
[ "$(mixed_view_crm)" = "$(mixed_view_sim)" ] || diff <(mixed_view_crm | jq -c '.[]') <(mixed_view_sim | jq -c '.[]') | head
check "every lead is linked to a contact" [ "$(psql_q "select count(*) from dwu_crm.crm_leads l where not exists (select 1 from dwu_crm.crm_lead_sync s where s.dwu_lead_id = l.dwu_id and s.dwu_dinamize_contact_id is not null)")" = 0 ]

# --- Audit trail ------------------------------------------------------------------------------
move_captured
check "audit: the pulled changes, by the worker" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log where dwu_entity_type = 'lead' and dwu_user_agent = 'dwu_crm worker: Dinamize pull' and dwu_action in ('CREATE', 'UPDATE')")" -ge 8 ]
check "audit: a pulled update shows only the changed fields" \
    [ "$(psql_q "select dwu_changes from dwu_crm.crm_audit_log a join dwu_crm.crm_leads l on l.dwu_id = a.dwu_entity_id where l.dwu_email = 'lead6@example.com' and a.dwu_user_agent like 'dwu_crm worker%' and a.dwu_action = 'UPDATE' and a.dwu_changes->'after' ? 'dwu_name' order by a.dwu_id limit 1" | jq -c '.after | keys')" = '["dwu_name"]' ]
check "audit: every pull_now() is a SYNC row" [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log where dwu_action = 'SYNC' and dwu_changes->>'pull' = 'requested'")" -ge 7 ]
check "audit: the webhook's lead, created by the worker" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log where dwu_action = 'CREATE' and dwu_user_agent = 'dwu_crm worker: webhook' and dwu_changes->'after'->>'dwu_email' = 'hook@example.com'")" = 1 ]
check "audit: the pull_configure() change" [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log where dwu_action = 'CONFIGURE' and dwu_changes->>'conflict_rule' = 'merge'")" = 1 ]
psql_q "select * from dwu_crm.crm_audit_log" > "$DWU_WORKDIR/audit.txt"
check "audit: no password in it" absent_from_file "$E2E_PASSWORD" "$DWU_WORKDIR/audit.txt"
check "no pull error recorded" [ -z "$(psql_q "select last_error from dwu_crm.pull_status")" ]
check "no crash in the server log" no_crash_in_log

e2e_finish test_pull_and_conflicts
