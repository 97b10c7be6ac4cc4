#!/usr/bin/env bash
# Throughput features of the worker, against the simulator with two Dinamize accounts:
#  1. coalescing: pending changes of one lead become one call carrying its latest state (create +
#     updates → one create; updates → one update; updates + delete → one delete; create + delete
#     → no call), recorded per job in crm_sync_logs;
#  2. a burst of 10 updates per lead costs about one call per lead;
#  3. fairness: one account's large backlog does not hold up another account's few leads;
#  4. several workers share the queue: all present, nothing sent twice, CRM and simulator agree;
#  5. batching: the worker's claim and record statements run once per batch (pg_stat_statements);
#  6. a COPY of 20,000 leads enqueues 20,000 jobs in the same transaction.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT
dwu_init_workdir

OTHER_USER=other@example.com
OTHER_PASSWORD='other-Secret-Pa55'
OTHER_CLIENT=300002
WORKERS=3

dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT" "$OTHER_USER:$OTHER_PASSWORD:$OTHER_CLIENT"
dwu_redis_start
E2E_KEY_FILE=$DWU_WORKDIR/keys
dwu_make_key_file "$E2E_KEY_FILE"
E2E_RATE_LIMIT=0  # limiter out of the way: this test is about the queue
mapfile -t redis_lines < <(e2e_redis_settings)
dwu_pg_start batching "$(dwu_free_port)" \
    "shared_preload_libraries = 'pg_stat_statements,dwu_crm'" \
    "pg_stat_statements.track = all" \
    "dwu_crm.database = '$E2E_DB'" \
    "dwu_crm.encryption_key_file = '$E2E_KEY_FILE'" \
    "dwu_crm.field_map = 'dwu_phone:cmp4,dwu_city:cmp5'" \
    "dwu_crm.workers = $WORKERS" \
    "dwu_crm.batch_size = 20" \
    "dwu_crm.import_threshold = 0" \
    "${redis_lines[@]}"
E2E_LOG=$(dwu_pg_log batching)
"$PG_BIN/createdb" "$E2E_DB"
psql_q "CREATE EXTENSION dwu_crm" >/dev/null
psql_q "CREATE EXTENSION pg_stat_statements" >/dev/null
e2e_configure_account
psql_q "SELECT dwu_crm.dinamize_configure('other', '$DWU_SIM_URL', '$OTHER_USER', '$OTHER_PASSWORD',
                                          '$OTHER_CLIENT', '$E2E_LIST', false)" >/dev/null
other_id=$(psql_q "select dwu_id from dwu_crm.crm_dinamize_accounts where dwu_name = 'other'")
# The convergence checks compare the default account's leads with its simulator list.
crm_view() {
    psql_q "select coalesce(json_agg(json_build_object('email', lower(dwu_email), 'name', coalesce(dwu_name, ''),
                'external_code', dwu_id::text, 'cmp4', dwu_phone, 'cmp5', dwu_city) order by lower(dwu_email)), '[]')
            from dwu_crm.crm_leads where dwu_account_id is distinct from $other_id" | jq -S -c .
}

sim_requests_since() {  # sim_requests_since MS PATH — number of requests to PATH since MS
    sim_admin_get "/__sim/requests?since_ms=$1" | jq --arg p "$2" '[.requests[] | select(.path == $p)] | length'
}
synced_count() { psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'"; }
all_synced() { queue_drained && [ "$(synced_count)" = "$(psql_q "select count(*) from dwu_crm.crm_leads")" ]; }

check "$WORKERS sync workers run" dwu_wait_for 15 "the workers" \
    bash -c "[ \"\$('$PG_BIN/psql' -X -At -d $E2E_DB -c \"select count(*) from pg_stat_activity where backend_type = 'dwu_crm sync worker'\")\" = $WORKERS ]"

# 1. Coalescing, made deterministic by pausing the account while the changes pile up.
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES
            ('B', 'b@example.com'), ('C', 'c@example.com')" >/dev/null
check "the first leads are synced" dwu_wait_for 20 "first leads" all_synced
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', false)" >/dev/null
t1=$(date +%s%3N)
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('A0', 'a@example.com'), ('D', 'd@example.com')" >/dev/null
for i in 1 2 3; do psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'A$i' WHERE dwu_email = 'a@example.com'" >/dev/null; done
for i in 1 2 3 4 5; do psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'B$i', dwu_city = 'City $i' WHERE dwu_email = 'b@example.com'" >/dev/null; done
for i in 1 2; do psql_q "UPDATE dwu_crm.crm_leads SET dwu_name = 'C$i' WHERE dwu_email = 'c@example.com'" >/dev/null; done
psql_q "DELETE FROM dwu_crm.crm_leads WHERE dwu_email IN ('c@example.com', 'd@example.com')" >/dev/null
move_captured
check "fourteen changes are queued" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'queued'")" = 14 ]
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', true)" >/dev/null
check "the piled-up changes are done" dwu_wait_for 20 "the queue" queue_drained
check "create + 3 updates: one contact/add" [ "$(sim_requests_since "$t1" /emkt/contact/add)" = 1 ]
check "5 updates: one contact/update" [ "$(sim_requests_since "$t1" /emkt/contact/update)" = 1 ]
check "2 updates + delete: one contact/delete" [ "$(sim_requests_since "$t1" /emkt/contact/delete)" = 1 ]
check "the created contact carries the latest name" \
    [ "$(sim_contacts | jq -r '.contacts[] | select(.email == "a@example.com") | .name')" = A3 ]
check "the updated contact carries the latest state" \
    [ "$(sim_contacts | jq -c '.contacts[] | select(.email == "b@example.com") | [.name, .custom_fields.cmp5]')" = '["B5","City 5"]' ]
check "the deleted and the never-sent leads are not in Dinamize" \
    [ "$(sim_contacts | jq '[.contacts[] | select(.email == "c@example.com" or .email == "d@example.com")] | length')" = 0 ]
check "every job is completed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 0 ]
check "the logs record each job that rode along, and with which call" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_logs l join dwu_crm.crm_sync_queue q on q.dwu_id = l.dwu_queue_id
                 where l.dwu_coalesced_into is not null and q.dwu_coalesced_into = l.dwu_coalesced_into
                   and l.dwu_error_message like 'coalesced into job %'")" = 10 ]
check "the view counts calls and jobs that rode along" \
    [ "$(psql_q "select sum(coalesced_jobs) from dwu_crm.sync_outcomes_per_minute")" = 10 ]

# Two leads with one e-mail (one with the default account implied, one naming it) reach one
# Dinamize contact: the later one takes the link, and the batch is recorded (it used to fail on
# the unique link at every retry).
e2e_id=$(psql_q "select dwu_id from dwu_crm.crm_dinamize_accounts where dwu_name = 'e2e'")
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('Same 1', 'same@example.com')" >/dev/null
check "the first of two leads with one e-mail is synced" dwu_wait_for 20 "the first" queue_drained
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_account_id) VALUES ('Same 2', 'same@example.com', $e2e_id)" >/dev/null
check "the second lead with that e-mail is synced too" dwu_wait_for 20 "the second" queue_drained
check "both became one Dinamize contact" [ "$(sim_contacts | jq '[.contacts[] | select(.email == "same@example.com")] | length')" = 1 ]
check "the later lead holds the link, the earlier one says why it lost it" \
    [ "$(psql_q "select string_agg(coalesce(s.dwu_dinamize_contact_id, '-') || ':' || coalesce(left(s.dwu_last_error_message, 25), ''), ',' order by l.dwu_id)
                   from dwu_crm.crm_leads l join dwu_crm.crm_lead_sync s on s.dwu_lead_id = l.dwu_id
                  where l.dwu_email = 'same@example.com'")" = \
      "-:Dinamize contact $(sim_contacts | jq -r '.contacts[] | select(.email == "same@example.com") | .code | tostring') i,$(sim_contacts | jq -r '.contacts[] | select(.email == "same@example.com") | .code | tostring'):" ]
psql_q "DELETE FROM dwu_crm.crm_leads WHERE dwu_email = 'same@example.com'" >/dev/null
dwu_wait_for 20 "the deletes" queue_drained || true

# 2. A burst of 10 updates per lead, as fast as the application can commit them: updates wait
#    dwu_crm.update_delay so that such bursts become one call.
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) SELECT 'Burst ' || i, 'burst' || i || '@example.com'
          FROM generate_series(1, 200) i" >/dev/null
check "200 burst leads are synced" dwu_wait_for 30 "burst leads" all_synced
t2=$(date +%s%3N)
# Ten transactions from one session (no process start between them, as an application would),
# which sets a 2 s update delay: the default 500 ms covers such a burst on an idle machine, not on
# a loaded CI runner.
(echo "SET dwu_crm.update_delay = '2s';"
for round in $(seq 1 10); do
    echo "UPDATE dwu_crm.crm_leads SET dwu_name = 'Burst round $round' WHERE dwu_email LIKE 'burst%';"
done) | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$E2E_DB" >/dev/null
check "the burst is done" dwu_wait_for 60 "the burst" queue_drained
updates=$(sim_requests_since "$t2" /emkt/contact/update)
echo "# 2000 updates of 200 leads became $updates calls ($(jq -n "$updates / 200") per lead)"
check "at most 1.2 calls per lead for 10 updates each" [ "$updates" -le 240 ]
check "after the burst the simulator equals the CRM field by field" converged

# 3. Fairness: the default account's backlog of 3000 does not hold up the other account's leads.
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) SELECT 'Backlog ' || i, 'backlog' || i || '@example.com'
          FROM generate_series(1, 3000) i" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_account_id) SELECT 'Other ' || i, 'other' || i || '@example.com', $other_id
          FROM generate_series(1, 5) i" >/dev/null
other_synced() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_account_id = $other_id and dwu_sync_status = 'synced'")" = 5 ]; }
dwu_wait_for 60 "the other account's leads" other_synced || true
backlog_left=$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'queued'")
echo "# when the other account's 5 leads were synced, $backlog_left of the 3000 still waited"
check "the other account's leads went ahead of the backlog" [ "$backlog_left" -ge 1500 ]
check "the whole backlog is synced" dwu_wait_for 120 "the backlog" all_synced
# The 3,000 captured inserts the workers moved left dead rows: a worker vacuums them away.
vacuumed() { [ "$(psql_q "select vacuum_count from pg_stat_user_tables where relid = 'dwu_crm.crm_captured_changes'::regclass")" -gt 0 ]; }
check "a worker vacuums crm_captured_changes once it has emptied it" dwu_wait_for 10 "a vacuum" vacuumed
check "several workers sent nothing twice (one contact per lead)" \
    [ "$(sim_contacts | jq '.contacts | length')" = "$(psql_q "select count(*) from dwu_crm.crm_leads where dwu_account_id is null")" ]
check "the simulator equals the CRM field by field" converged

# 5. One claim and one record statement per batch, not per job.
jobs=$(psql_q "select count(*) from dwu_crm.crm_sync_queue")
claims=$(psql_q "select coalesce(sum(calls), 0) from pg_stat_statements where query like '%riders AS (%'")
records=$(psql_q "select coalesce(sum(calls), 0) from pg_stat_statements where query like '%riders_done AS (%'")
echo "# $jobs jobs: claim statement ran $claims times, record statement $records times"
per_batch() { [ "$1" -gt 0 ] && [ "$1" -lt $((jobs / 5)) ]; }
check "the claim runs per batch (pg_stat_statements)" per_batch "$claims"
check "the record runs per batch (pg_stat_statements)" per_batch "$records"

# 6. COPY of 20,000 leads: one job each, enqueued by the statement, in its transaction.
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', false)" >/dev/null
seq 1 20000 | awk '{ printf "Copy %d\tcopy%d@example.com\n", $1, $1 }' >"$DWU_WORKDIR/leads.tsv"
chmod 644 "$DWU_WORKDIR/leads.tsv"
move_captured
before=$(psql_q "select count(*) from dwu_crm.crm_sync_queue")
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$E2E_DB" -c "\\copy dwu_crm.crm_leads (dwu_name, dwu_email) from '$DWU_WORKDIR/leads.tsv'"
move_captured
after=$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_operation = 'create' and dwu_status = 'queued'")
check "COPY of 20,000 leads enqueued 20,000 creates" [ $(( $(psql_q "select count(*) from dwu_crm.crm_sync_queue") - before )) = 20000 ]
check "all of them wait for the paused account" [ "$after" = 20000 ]

# Idle workers cost nothing: 20,000 jobs of a paused account must not keep them polling.
worker_ticks() {  # CPU ticks (user + system) of all sync workers
    local pid total=0
    for pid in $(psql_q "select pid from pg_stat_activity where backend_type = 'dwu_crm sync worker'"); do
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    echo "$total"
}
sleep 1
ticks_before=$(worker_ticks)
sleep 3
ticks=$(( $(worker_ticks) - ticks_before ))
echo "# $WORKERS workers used $ticks CPU ticks (1/100 s) in 3 s next to a paused account's backlog"
check "workers stay idle next to a paused account's backlog" [ "$ticks" -lt 30 ]

check "no crash in the server log" no_crash_in_log
e2e_finish batching_coalescing
