#!/usr/bin/env bash
# The real Dinamize answers the five unpublished conditions with codes of its own (issue 17). Here
# the simulator answers them with codes none of our defaults name, and:
#   (1) from SQL, a code means what crm_response_codes says, at once, and again the default when
#       the row goes;
#   (1b) dinamize_probe_codes() learns the simulator's codes with requests that change nothing;
#   (2) a mixed workload under faults (duplicates in Dinamize already, contacts deleted on
#       Dinamize's side, updates and deletes of those, lost answers, 5xx, a revoked token) ends
#       with Dinamize equal to the CRM field by field, no job failed for good, and few logins,
#       never two within dwu_crm.login_min_interval;
#   (3) after a probe the worker takes the learned codes at their word.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

EXPIRED=359001 INVALID=359002 DUPLICATE=359003 NOT_FOUND=359004
E2E_SIM_OPTIONS="--code expired_token=$EXPIRED --code invalid_field=$INVALID --code duplicate_email=$DUPLICATE
                 --code not_found=$NOT_FOUND --code duplicate_title=359006"
INTERVAL_S=5
LEADS=400
e2e_start_stack codes "dwu_crm.login_min_interval = ${INTERVAL_S}s" "dwu_crm.retry_base_seconds = 1" \
    "dwu_crm.retry_max_seconds = 3" "dwu_crm.max_attempts = 30" "dwu_crm.batch_size = 20" \
    "dwu_crm.import_threshold = 0"

# (1) The SQL functions follow the table.
sqlstate_of() {  # the SQLSTATE "SELECT $1" fails with (nothing when it succeeds)
    "$PG_BIN/psql" -X -At -d "$E2E_DB" -v VERBOSITY=verbose -c "SELECT $1" 2>&1 |
        sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -1
}
missing="dwu_crm.dinamize_contact_get('$E2E_LIST', '999999999')"
check "an unknown code is an external routine error (38000)" [ "$(sqlstate_of "$missing")" = 38000 ]
psql_q "SELECT count(*) FROM dwu_crm.dinamize_set_code('not_found', '$NOT_FOUND')" >/dev/null
check "set as not_found, the same answer is no_data_found (P0002)" [ "$(sqlstate_of "$missing")" = P0002 ]
check "dinamize_response_codes shows it, and the invented default for that meaning gives way" \
    [ "$(psql_q "SELECT string_agg(code || ':' || source, ',' ORDER BY code) FROM dwu_crm.dinamize_response_codes()
                  WHERE meaning = 'not_found'")" = "$NOT_FOUND:admin" ]
psql_q "DELETE FROM dwu_crm.crm_response_codes" >/dev/null
check "with the row gone the code is unknown again" [ "$(sqlstate_of "$missing")" = 38000 ]
check "dinamize_set_code refuses an unknown meaning with 22023" \
    bash -c "'$PG_BIN/psql' -X -At -d '$E2E_DB' -v VERBOSITY=verbose \
             -c \"SELECT dwu_crm.dinamize_set_code('teapot', '1')\" 2>&1 | grep -q 'ERROR:  22023: unknown meaning'"

# (1b) The probe, on an empty list: three codes learned and stored, the duplicate skipped (no
# e-mail to add twice), the duplicate title not probed; nothing created in Dinamize.
probe=$(psql_q "SELECT meaning || '=' || coalesce(code, '-') || ':' || stored FROM dwu_crm.dinamize_probe_codes() ORDER BY 1")
echo "# probe: $(echo $probe)"
check "the probe learns the expired-token, not-found and invalid-field codes" \
    [ "$(grep -cxE "expired_token=$EXPIRED:true|not_found=$NOT_FOUND:true|invalid_field=$INVALID:true" <<<"$probe")" = 3 ]
check "on an empty list the duplicate is skipped, the title not probed" \
    [ "$(grep -cxE 'duplicate_email=-:false|duplicate_title=-:false' <<<"$probe")" = 2 ]
check "the probe created nothing in Dinamize" [ "$(sim_contacts | jq '.contacts | length')" = 0 ]
check "the learned codes are stored for the account, dated" \
    [ "$(psql_q "SELECT count(*) FROM dwu_crm.crm_response_codes WHERE dwu_source = 'probe' AND dwu_learned_at IS NOT NULL
                  AND dwu_account_id = dwu_crm.default_account_id()")" = 3 ]
check "a missing contact is no_data_found (P0002) now" [ "$(sqlstate_of "$missing")" = P0002 ]
psql_q "DELETE FROM dwu_crm.crm_response_codes" >/dev/null  # the workload below knows none of them

# (2) The workload, with the defaults only (none of the simulator's codes known).
# 40 of the leads' addresses are in Dinamize already: their adds answer a duplicate.
psql_q "SELECT count(dwu_crm.dinamize_contact_create('$E2E_LIST', jsonb_build_object('email', 'uc' || i || '@example.com',
                                                                             'name', 'Old ' || i)))
          FROM generate_series(1, 40) i" >/dev/null
existing_codes() { sim_contacts | jq -c '[.contacts[] | select(.email | test("^uc([1-9]|[1-3][0-9]|40)@")) | .code] | sort'; }
codes_before=$(existing_codes)
sim_admin_post /__sim/faults '{"lost_response": 0.05, "http_5xx": 0.05, "seed": 7}' >/dev/null
t_start=$(date +%s%3N)
auth_before=$(sim_admin_get /__sim/stats | jq '.auth_ok')
synced() { psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'"; }
at_least_synced() { [ "$(synced)" -ge "$1" ]; }

psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city)
        SELECT 'Lead ' || i, 'uc' || i || '@example.com', '+55 51 9' || lpad(i::text, 7, '0'), 'Pelotas'
          FROM generate_series(1, $LEADS) i" >/dev/null
check "the first half is synced" dwu_wait_for 120 "half synced" at_least_synced $((LEADS / 2))

# 30 contacts removed on Dinamize's side (none of the 40 above); then every lead changes, and 20
# leads go: 10 of the removed ones and 10 others.
removed=$(psql_q "SELECT dwu_lead_id || ':' || dwu_dinamize_contact_id FROM dwu_crm.crm_lead_sync
                   WHERE dwu_dinamize_contact_id IS NOT NULL AND dwu_lead_id > 40 ORDER BY dwu_lead_id LIMIT 30")
for pair in $removed; do
    sim_admin_post /__sim/contact-delete \
        "{\"client_code\": \"$E2E_CLIENT\", \"list\": \"$E2E_LIST\", \"contact_code\": \"${pair#*:}\"}" >/dev/null
done
check "30 contacts were removed on Dinamize's side" [ "$(echo "$removed" | wc -w)" = 30 ]
removed_ids=$(for pair in $removed; do echo "${pair%%:*}"; done | head -10 | paste -sd,)
# The token is revoked once the worker's has been in use for longer than the interval, and then
# every lead changes.
sleep $((INTERVAL_S + 1))
t_revoked=$(date +%s%3N)
sim_admin_post /__sim/expire-tokens >/dev/null
psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'Changed ' || dwu_id, dwu_city = 'Rio Grande'" >/dev/null
psql_q "DELETE FROM dwu_crm.crm_leads WHERE dwu_id IN ($removed_ids) OR dwu_id > $((LEADS - 10))" >/dev/null

check "the queue drains" dwu_wait_for 240 "queue drained" queue_drained
sim_admin_post /__sim/faults '{"clear": true}' >/dev/null
stats=$(sim_admin_get /__sim/stats)
echo "# faults: $(jq -c '.faults' <<<"$stats")"
check "answers were lost and 5xx sent" [ "$(jq '.faults.lost_response + .faults.http_5xx' <<<"$stats")" -gt 10 ]
check "no job failed for good" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed'")" = 0 ]
check "the simulator equals the CRM field by field" converged
[ "$failures" -eq 0 ] || show_divergence
check "each lead is one contact" [ "$(sim_contacts | jq '.contacts | length')" = "$(psql_q "select count(*) from dwu_crm.crm_leads")" ]
kept_codes() { [ "$(jq length <<<"$codes_before")" = 40 ] && [ "$(existing_codes)" = "$codes_before" ]; }
check "the 40 that were in Dinamize kept their contact codes" kept_codes

logins=$(sim_admin_get "/__sim/requests?since_ms=$t_start" | jq -c '[.requests[] | select(.path == "/auth" and .outcome == "480001") | .t_ms]')
count=$(jq 'length' <<<"$logins")
closest=$(jq '[range(1; length) as $i | .[$i] - .[$i - 1]] | min // 1000000' <<<"$logins")
echo "# $count logins during the workload (auth_ok $auth_before -> $(jq '.auth_ok' <<<"$stats")), closest ${closest} ms apart"
if [ "${DWU_DEBUG_LOGINS:-}" ]; then
    sim_admin_get "/__sim/requests?since_ms=$t_start" | jq -c --argjson r "$t_revoked" '.requests as $q | [range(0; $q | length) as $i
        | select($q[$i].path == "/auth") | {t: ($q[$i].t_ms - $r), before: [$q[($i - 3):$i][] | [.path, .outcome]]}]'
fi
check "at most 3 logins during the workload" [ "$count" -le 3 ]
check "the revoked token was replaced (a login after it)" [ "$(jq --argjson t "$t_revoked" 'map(select(. > $t)) | length' <<<"$logins")" -ge 1 ]
check "never two logins within the interval" [ "$closest" -ge $((INTERVAL_S * 1000)) ]
# (3) The probe on a list with contacts learns the duplicate too, changing no contact, and the
# worker then takes each answer at its word: a contact gone from Dinamize is created again
# without a contact/get to ask.
contacts_before=$(sim_contacts | jq -S -c '.contacts')
probe=$(psql_q "SELECT meaning || '=' || coalesce(code, '-') || ':' || stored FROM dwu_crm.dinamize_probe_codes() ORDER BY 1")
check "with contacts in the list the probe learns the duplicate code" grep -qx "duplicate_email=$DUPLICATE:true" <<<"$probe"
check "and the probe changed no contact" [ "$(sim_contacts | jq -S -c '.contacts')" = "$contacts_before" ]
gone=$(psql_q "SELECT dwu_lead_id || ':' || dwu_dinamize_contact_id FROM dwu_crm.crm_lead_sync
                WHERE dwu_dinamize_contact_id IS NOT NULL ORDER BY dwu_lead_id DESC LIMIT 10")
for pair in $gone; do
    sim_admin_post /__sim/contact-delete \
        "{\"client_code\": \"$E2E_CLIENT\", \"list\": \"$E2E_LIST\", \"contact_code\": \"${pair#*:}\"}" >/dev/null
done
sleep 1.2  # the worker re-reads the codes at most once a second
t_known=$(date +%s%3N)
psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'Known ' || dwu_id WHERE dwu_id IN ($(for p in $gone; do echo "${p%%:*}"; done | paste -sd,))" >/dev/null
check "the queue drains again" dwu_wait_for 60 "queue drained" queue_drained
check "the 10 gone contacts are back, converged" converged
gets=$(sim_admin_get "/__sim/requests?since_ms=$t_known" | jq '[.requests[] | select(.path == "/emkt/contact/get")] | length')
check "with the learned not-found code, no contact/get was needed" [ "$gets" = 0 ]
check "no crash in the server log" no_crash_in_log
e2e_finish unknown_codes
