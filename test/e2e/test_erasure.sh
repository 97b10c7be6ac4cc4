#!/usr/bin/env bash
# Erasure (LGPD Art. 18): erase_person() removes a person's lead and contact, their values from the
# audit log, job payloads, sync logs, webhook events and conflicts, and deletes the contact in
# Dinamize through the queue. Afterwards the address is nowhere in a pg_dump of the database, the
# other leads are untouched, and the erasure's own audit row holds no personal value.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

PERSON=Maria.Erased@Example.com
person=$(tr '[:upper:]' '[:lower:]' <<<"$PERSON")
e2e_start_stack erasure
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city)
        VALUES ('Maria Apagada', '$PERSON', '+55 51 3333-0000', 'Pelotas'),
               ('Other Person', 'other@example.com', '+55 51 4444-0000', 'Rio Grande')" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_contacts (dwu_name, dwu_email) VALUES ('Maria Apagada', '$person')" >/dev/null
check "the leads sync" dwu_wait_for 60 "sync" queue_drained
psql_q "UPDATE dwu_crm.crm_leads SET dwu_city = 'Bagé' WHERE dwu_email = '$PERSON'" >/dev/null
check "the edit syncs" dwu_wait_for 60 "sync" queue_drained
psql_q "SELECT dwu_crm.webhook_receive(payload => '{\"email\": \"$person\", \"name\": \"Maria Apagada\"}'::jsonb,
                                       event_id => 'evt-erase-1')" >/dev/null
check "the person is in Dinamize" [ "$(sim_contacts | jq --arg e "$person" '[.contacts[] | select((.email | ascii_downcase) == $e)] | length')" = 1 ]
check "the person is in the audit log before" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log where dwu_changes::text ilike '%$person%'")" -gt 0 ]

# Erasure is for the admin role only.
psql_q "CREATE ROLE erasure_app LOGIN IN ROLE dwu_crm_app; CREATE ROLE erasure_admin LOGIN IN ROLE dwu_crm_admin" >/dev/null
app_out=$("$PG_BIN/psql" -X -At -U erasure_app -d "$E2E_DB" -c "SELECT dwu_crm.erase_person('$PERSON')" 2>&1 || true)
check "the app role cannot erase" grep -q "permission denied" <<<"$app_out"
null_out=$("$PG_BIN/psql" -X -At -U erasure_admin -d "$E2E_DB" -c '\set VERBOSITY verbose' \
           -c "SELECT dwu_crm.erase_person(NULL)" 2>&1 || true)
check "a NULL address is refused (22004)" grep -q "ERROR:  22004" <<<"$null_out"

result=$("$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -U erasure_admin -d "$E2E_DB" -c "SELECT dwu_crm.erase_person('$PERSON')")
echo "# erase_person: $result"
check "it erased one lead and one contact" [ "$(jq -c '[.leads, .contacts]' <<<"$result")" = "[1,1]" ]
check "it queued the Dinamize delete" [ "$(jq .dinamize_deletes_queued <<<"$result")" = 1 ]
check "it scrubbed audit rows and the webhook event" [ "$(jq '.audit_rows > 0 and .webhook_events == 1' <<<"$result")" = true ]
check "the delete reaches Dinamize" dwu_wait_for 60 "the delete" queue_drained
check "the person is gone from Dinamize" \
    [ "$(sim_contacts | jq --arg e "$person" '[.contacts[] | select((.email | ascii_downcase) == $e)] | length')" = 0 ]
check "the other lead is still in Dinamize and the CRM" \
    [ "$(sim_contacts | jq '[.contacts[] | select(.email == "other@example.com")] | length')" = 1 ] 
check "the other lead is untouched" \
    [ "$(psql_q "select dwu_city from dwu_crm.crm_leads where dwu_email = 'other@example.com'")" = "Rio Grande" ]
dump=$DWU_WORKDIR/after-erasure.sql
"$PG_BIN/pg_dump" -d "$E2E_DB" -f "$dump"
tr '[:upper:]' '[:lower:]' <"$dump" >"$dump.lower"
check "the address is nowhere in a pg_dump of the database" absent_from_file "$person" "$dump.lower"
check "nor the person's name, phone or city" \
    bash -c "! grep -Eq 'Maria Apagada|3333-0000|Bagé' '$dump'"
check "the audit rows stay (the values go)" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log where dwu_entity_type = 'lead' and dwu_changes::text like '%[erased]%'")" -gt 0 ]
check "the erasure is audited, without the address" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_audit_log where dwu_entity_type = 'person' and dwu_db_user = 'erasure_admin'")" = 1 ]
check "the erased webhook event does not bring the person back" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_leads where lower(dwu_email) = '$person'")" = 0 ]
check "no crash in the server log" no_crash_in_log

e2e_finish erasure
