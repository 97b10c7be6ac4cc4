#!/usr/bin/env bash
# The README's "Installing in your own server" steps, run as they are written (issue 20 item 6):
# the code blocks between <!-- readme-install:begin --> and <!-- readme-install:end -->, the sh
# ones as root in the checkout, the sql one through psql in database crm, against Debian's own
# cluster 15/main. Then: the key file is the server user's with mode 600, the library is preloaded
# next to what was there, the worker runs in crm, the account and the lead are in place, and
# CREATE EXTENSION said nothing was off. Everything the steps made is removed afterwards and the
# cluster left as it was found; the test refuses to run where those steps would touch a real
# install (a crm database, the key file or the settings file already there).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"

# A DBA's shell: the server's defaults, not the throwaway clusters the test command set up before.
unset PGHOST PGPORT PGUSER PGDATABASE
CONF=/etc/postgresql/15/main/conf.d/dwu_crm.conf
KEYS=/etc/postgresql/dwu_crm.keys
[ "$(id -u)" -eq 0 ] || dwu_die "run as root: the README's steps are root's"
command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql/15/main ] || dwu_die "no Debian cluster 15/main here"
as_pg() { runuser -u postgres -- "$@"; }
main_online() { pg_lsclusters -h | awk '$1 == 15 && $2 == "main" { print $4 }' | grep -q online; }
was_online=false
main_online && was_online=true
[ ! -e "$CONF" ] && [ ! -e "$KEYS" ] || dwu_die "refusing: $CONF or $KEYS exists (a real install?)"
$was_online || pg_ctlcluster 15 main start
if [ "$(as_pg psql -XAtc "select count(*) from pg_database where datname = 'crm'")" != 0 ]; then
    $was_online || pg_ctlcluster 15 main stop
    dwu_die "refusing: cluster 15/main has a database crm"
fi
$was_online || pg_ctlcluster 15 main stop  # the README's steps start it themselves

dwu_init_workdir
undo() {
    if main_online; then
        as_pg dropdb --if-exists --force crm 2>/dev/null || true  # --force: the worker is connected
        as_pg psql -Xq -c "DROP ROLE IF EXISTS my_app_user" -c "DROP ROLE IF EXISTS my_dba_user" 2>/dev/null || true
    fi
    rm -f "$CONF" "$KEYS"
    if $was_online; then pg_ctlcluster 15 main restart 2>/dev/null || true
    else pg_ctlcluster 15 main stop 2>/dev/null || true; fi
    dwu_cleanup
}
trap undo EXIT

# The blocks, in order: every sh block into one script, the sql block into another.
awk -v sh="$DWU_WORKDIR/steps.sh" -v sql="$DWU_WORKDIR/steps.sql" '
    /<!-- readme-install:begin -->/ { on = 1; next }
    /<!-- readme-install:end -->/ { on = 0 }
    !on { next }
    /^```sh$/ { out = sh; next }
    /^```sql$/ { out = sql; next }
    /^```$/ { out = ""; next }
    out != "" { print > out }' "$DWU_ROOT/README.md"
blocks_found() { [ "$(grep -c 'pg_ctlcluster 15 main restart' "$DWU_WORKDIR/steps.sh")" = 1 ] && [ -s "$DWU_WORKDIR/steps.sql" ]; }
check "the README's install section has its sh and sql blocks" blocks_found

libs_before=$(if $was_online; then as_pg psql -XAtc 'SHOW shared_preload_libraries'; fi)
steps_status=0
(cd "$DWU_ROOT" && bash -e "$DWU_WORKDIR/steps.sh") > "$DWU_WORKDIR/steps.out" 2>&1 || steps_status=$?
check "the README's shell steps run as written" [ "$steps_status" = 0 ]
[ "$steps_status" = 0 ] || tail -n 30 "$DWU_WORKDIR/steps.out"
check "CREATE EXTENSION gave no warning" bash -c "! grep -q WARNING '$DWU_WORKDIR/steps.out'"
check "the key file is the server user's, mode 600" [ "$(stat -c '%U %a' "$KEYS")" = "postgres 600" ]
check "shared_preload_libraries keeps what it had and adds dwu_crm" \
    [ "$(as_pg psql -XAtc 'SHOW shared_preload_libraries')" = "${libs_before:+$libs_before,}dwu_crm" ]
worker_in_crm() { [ "$(as_pg psql -XAtc "select count(*) from pg_stat_activity where backend_type = 'dwu_crm sync worker' and datname = 'crm'")" -ge 1 ]; }
dwu_wait_for 20 "the sync worker in crm" worker_in_crm || true
check "the worker runs in database crm" worker_in_crm

sql_status=0
as_pg psql -X -v ON_ERROR_STOP=1 -d crm -f "$DWU_WORKDIR/steps.sql" > "$DWU_WORKDIR/sql.out" 2>&1 || sql_status=$?
check "the README's SQL runs as written" [ "$sql_status" = 0 ]
[ "$sql_status" = 0 ] || tail -n 30 "$DWU_WORKDIR/sql.out"
check "the account is configured, its password stored encrypted" \
    [ "$(as_pg psql -XAtc "select count(*) from dwu_crm.crm_dinamize_accounts where dwu_name = 'acme' and dwu_is_default" -d crm)" = 1 ]
check "the lead is captured for sync" \
    [ "$(as_pg psql -XAtc "select (select count(*) from dwu_crm.crm_sync_queue) + (select count(*) from dwu_crm.crm_captured_changes where dwu_sync)" -d crm)" -ge 1 ]
check "no secret in what the steps printed" bash -c "! grep -q '…password…' '$DWU_WORKDIR/steps.out' '$DWU_WORKDIR/sql.out'"

echo "readme_install: $failures failure(s)"
[ "$failures" -eq 0 ]
