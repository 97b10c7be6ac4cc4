#!/usr/bin/env bash
# The main job, end to end on this machine: installs what it needs, builds, starts a throwaway
# PostgreSQL cluster with the dwu_crm worker, Redis and the Dinamize simulator on loopback (the
# simulator enforces Dinamize's 60 requests per minute), creates the extension, inserts a few
# hundred leads, shows them being synced (as one bulk import: a backfill that would take minutes
# one request per lead), edits a few (single calls, under the shared limit), prints a summary, and
# stops everything it started. Run as root on a fresh Debian 12: bash scripts/demo.sh [LEADS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap dwu_cleanup EXIT

LEADS=${1:-300}
[[ "$LEADS" =~ ^[0-9]+$ ]] && [ "$LEADS" -ge 1 ] && [ "$LEADS" -le 100000 ] || dwu_die "LEADS must be 1..100000"
DEMO_USER=demo@example.com
DEMO_PASSWORD="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"  # never printed
DEMO_CLIENT=300001
DEMO_LIST=1

dwu_install_packages
demo_started=$SECONDS
dwu_build dinamize_sim

dwu_sim_start "$DEMO_USER:$DEMO_PASSWORD:$DEMO_CLIENT" -- --rate-limit-per-minute 60
dwu_log "Dinamize simulator at $DWU_SIM_URL (60 requests per minute per account, like Dinamize)"
dwu_redis_start
dwu_log "Redis at 127.0.0.1:$DWU_REDIS_PORT (the rate limit shared by every worker)"
dwu_init_workdir
dwu_make_key_file "$DWU_WORKDIR/keys"
dwu_pg_start demo "$(dwu_free_port)" \
    "dwu_crm.database = 'dwu_crm_demo'" \
    "dwu_crm.encryption_key_file = '$DWU_WORKDIR/keys'" \
    "dwu_crm.field_map = 'dwu_phone:cmp4,dwu_city:cmp5,dwu_campaign:cmp6'" \
    "dwu_crm.redis_port = $DWU_REDIS_PORT" \
    "dwu_crm.import_threshold = 100"
dwu_log "PostgreSQL 15 cluster on port $PGPORT (socket $PGHOST)"

psql_demo() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -d dwu_crm_demo "$@"; }
"$PG_BIN/createdb" dwu_crm_demo
psql_demo -c "CREATE EXTENSION dwu_crm" >/dev/null
dwu_log "CREATE EXTENSION dwu_crm done"
psql_demo -c "SELECT dwu_crm.dinamize_configure('demo', '$DWU_SIM_URL', '$DEMO_USER', '$DEMO_PASSWORD',
                                                '$DEMO_CLIENT', '$DEMO_LIST', true)" >/dev/null
dwu_log "Dinamize account 'demo' configured (password stored AES-256-GCM encrypted)"

dwu_log "inserting $LEADS leads in one statement"
psql_demo -c "
    INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_city, dwu_campaign, dwu_origin, dwu_country)
    SELECT 'Lead ' || i, 'lead' || i || '@example.com', '+55 51 9' || lpad(i::text, 7, '0'),
           (ARRAY['Porto Alegre', 'São Paulo', 'Recife'])[1 + i % 3], 'black-friday', 'Manual', 'BR'
      FROM generate_series(1, $LEADS) i" >/dev/null

started=$SECONDS
deadline=$((SECONDS + 300))
while :; do
    read -r synced failed queued < <(psql_demo -F ' ' -c "
        SELECT count(*) FILTER (WHERE s.dwu_sync_status = 'synced'),
               count(*) FILTER (WHERE s.dwu_sync_status = 'failed'),
               (SELECT count(*) FROM dwu_crm.crm_sync_queue WHERE dwu_status IN ('queued', 'processing'))
               + (SELECT count(*) FROM dwu_crm.crm_captured_changes WHERE dwu_sync)
          FROM dwu_crm.crm_lead_sync s")
    dwu_log "synced $synced/$LEADS, failed $failed, still queued $queued"
    [ "$queued" -eq 0 ] && break
    [ $SECONDS -ge $deadline ] && dwu_die "not all leads synced within 300 s"
    sleep 1
done
elapsed=$((SECONDS - started))
until_synced=$((SECONDS - demo_started))

dwu_log "editing 5 leads (each edit is one contact/update call, under the shared rate limit)"
psql_demo -c "UPDATE dwu_crm.crm_leads SET dwu_city = 'Curitiba' WHERE dwu_id <= 5" >/dev/null
edited() {
    [ "$(curl -s "$DWU_SIM_URL/__sim/contacts?client_code=$DEMO_CLIENT&list=$DEMO_LIST" |
         jq '[.contacts[] | select(.custom_fields.cmp5 == "Curitiba")] | length')" = 5 ]
}
dwu_wait_for 90 "the edits to reach Dinamize" edited || dwu_die "the edits did not reach Dinamize"

contacts=$(curl -s "$DWU_SIM_URL/__sim/contacts?client_code=$DEMO_CLIENT&list=$DEMO_LIST" | jq '.contacts | length')
echo
echo "== dwu_crm demo summary =="
echo "leads inserted:                 $LEADS"
echo "contacts in Dinamize (sim):     $contacts"
echo "time to sync (about):           ${elapsed}s"
echo "build time:                     ${DWU_BUILD_SECONDS}s (extension and simulator)"
echo "from start to leads synced:     ${until_synced}s (packages already installed)"
stats=$(curl -s "$DWU_SIM_URL/__sim/stats")
echo "Dinamize logins by the worker:  $(jq '.auth_ok' <<<"$stats")"
echo "Dinamize requests, by path:     $(jq -c '.requests' <<<"$stats")"
echo "answers 240024 (rate limited):  $(jq '.rate_limited' <<<"$stats")"
echo
echo "crm_lead_sync by status:"
psql_demo -F ' | ' -c "SELECT dwu_sync_status, count(*) FROM dwu_crm.crm_lead_sync GROUP BY 1 ORDER BY 1"
echo "crm_sync_logs:"
psql_demo -F ' | ' -c "SELECT dwu_status, coalesce(dwu_error_category, '-'), count(*), round(avg(dwu_duration_ms), 1) || ' ms avg'
                         FROM dwu_crm.crm_sync_logs GROUP BY 1, 2 ORDER BY 1, 2"
echo "a few synced leads:"
psql_demo -F ' | ' -c "SELECT l.dwu_email, s.dwu_dinamize_contact_id, s.dwu_last_successful_sync::timestamp(0)
                         FROM dwu_crm.crm_leads l JOIN dwu_crm.crm_lead_sync s ON s.dwu_lead_id = l.dwu_id
                        ORDER BY l.dwu_id LIMIT 5"
[ "$synced" -eq "$LEADS" ] && [ "$contacts" -eq "$LEADS" ] || dwu_die "expected $LEADS synced leads and contacts"
[ "$(jq '.rate_limited' <<<"$stats")" = 0 ] || dwu_die "Dinamize's rate limit was exceeded"
dwu_log "demo finished; stopping the cluster and the simulator"
