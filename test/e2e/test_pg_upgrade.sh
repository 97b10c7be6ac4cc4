#!/usr/bin/env bash
# pg_upgrade: a working CRM database goes through pg_upgrade (15 to 15: the binary-upgrade path
# is the same one a major upgrade takes) into a new cluster. Nothing is refused, the workers do
# nothing while it runs, and afterwards it is the same installation: the accounts stay enabled
# (no restore check pauses them), every lead and link is there, and a new lead syncs.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

e2e_start_stack upgrade_old
OLD=$DWU_WORKDIR/upgrade_old
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
        SELECT 'Upgraded ' || i, 'upgraded' || i || '@example.com' FROM generate_series(1, 20) i" >/dev/null
check "the leads sync before the upgrade" dwu_wait_for 60 "sync" queue_drained
rows() {
    psql_q "select json_build_array((select count(*) from dwu_crm.crm_leads),
                                    (select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'),
                                    (select count(*) from dwu_crm.crm_sync_queue),
                                    (select count(*) from dwu_crm.crm_audit_log),
                                    (select string_agg(dwu_name || ':' || dwu_enabled, ',') from dwu_crm.crm_dinamize_accounts))"
}
before=$(rows)
dwu_pg_stop upgrade_old

NEW=$DWU_WORKDIR/upgrade_new
dwu_as_pg_owner mkdir -p "$NEW/sock"
dwu_as_pg_owner "$PG_BIN/initdb" -D "$NEW/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
dwu_as_pg_owner cp "$OLD/data/postgresql.conf" "$NEW/data/postgresql.conf"
dwu_as_pg_owner sed -i "s|$OLD/sock|$NEW/sock|" "$NEW/data/postgresql.conf"
upgrade_out=$NEW/pg_upgrade.out
status=0
(cd "$NEW" && dwu_as_pg_owner "$PG_BIN/pg_upgrade" -b "$PG_BIN" -B "$PG_BIN" -d "$OLD/data" -D "$NEW/data" \
     -U postgres -p "$(dwu_free_port)" -P "$(dwu_free_port)" >"$upgrade_out" 2>&1) || status=$?
check "pg_upgrade succeeds" [ "$status" = 0 ]
[ "$status" = 0 ] || tail -n 30 "$upgrade_out"

dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$NEW/data" -l "$NEW/server.log" -w -t 60 start >/dev/null
DWU_CLUSTERS+=("$NEW")
export PGHOST=$NEW/sock
E2E_LOG=$NEW/server.log
check "every lead, link, job and audit row is there, and the account is still enabled" [ "$(rows)" = "$before" ]
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('After upgrade', 'after-upgrade@example.com')" >/dev/null
check "a new lead syncs from the upgraded cluster" dwu_wait_for 60 "sync" queue_drained
check "the simulator equals the CRM" converged
check "no crash in the server log" no_crash_in_log

e2e_finish pg_upgrade
