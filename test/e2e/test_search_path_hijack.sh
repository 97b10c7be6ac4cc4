#!/usr/bin/env bash
# The sync worker runs as the bootstrap superuser. A database owner who is not a superuser sets a
# search_path that puts public first and creates public.make_interval(secs integer), an exact
# match for the worker's claim (make_interval(secs => $2) with an int4 $2): if the worker used the
# database's search_path, that function would run as superuser at every claim. The worker pins
# search_path = pg_catalog, pg_temp at connect, so the leads sync and the trap never fires.
# Needs the build from scripts/test.sh (extension installed, simulator built).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT
dwu_init_workdir

LEADS=20
dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT"
dwu_make_key_file "$DWU_WORKDIR/keys"
dwu_pg_start hijack "$(dwu_free_port)" \
    "dwu_crm.database = '$E2E_DB'" \
    "dwu_crm.encryption_key_file = '$DWU_WORKDIR/keys'"
E2E_LOG=$(dwu_pg_log hijack)

"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE crm_owner LOGIN"
"$PG_BIN/createdb" -O crm_owner "$E2E_DB"
psql_q "CREATE EXTENSION dwu_crm" >/dev/null
e2e_configure_account

# The owner's trap: every call records who ran it.
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -U crm_owner -d "$E2E_DB" <<'SQL'
CREATE TABLE public.hijack_calls (called_by text NOT NULL, called_at timestamptz NOT NULL DEFAULT now());
GRANT INSERT ON public.hijack_calls TO PUBLIC;
CREATE FUNCTION public.make_interval(secs integer) RETURNS interval LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.hijack_calls (called_by) VALUES (current_user);
    RETURN pg_catalog.make_interval(secs => secs::double precision);
END $$;
ALTER DATABASE dwu_e2e SET search_path = public, pg_catalog;
SQL
check "the owner is not a superuser" [ "$(psql_q "select rolsuper from pg_roles where rolname = 'crm_owner'")" = f ]

# The trap is real: a session that takes the database's search_path calls it.
psql_q "SELECT make_interval(secs => 1)" >/dev/null
check "a session with the database's search_path runs the owner's function" \
    [ "$(psql_q 'select count(*) from public.hijack_calls')" = 1 ]
psql_q "TRUNCATE public.hijack_calls" >/dev/null

# A worker connected before the ALTER DATABASE would not see it: restart it so it connects anew.
old_pid=$(worker_pid)
psql_q "SELECT pg_terminate_backend($old_pid)" >/dev/null
new_worker() { local p; p=$(worker_pid); [ -n "$p" ] && [ "$p" != "$old_pid" ]; }
check "a new sync worker connected after the ALTER DATABASE" dwu_wait_for 30 "a new worker" new_worker

psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_origin)
        SELECT 'Lead ' || i, 'hijack' || i || '@example.com', 'Manual' FROM generate_series(1, $LEADS) i" >/dev/null
synced() { [ "$(psql_q "select count(*) from dwu_crm.crm_lead_sync where dwu_sync_status = 'synced'")" = "$LEADS" ]; }
check "the leads sync under the owner's search_path" dwu_wait_for 60 "leads synced" synced
check "the worker never called public.make_interval" [ "$(psql_q 'select count(*) from public.hijack_calls')" = 0 ]
check "no crash in the server log" no_crash_in_log

echo "search_path_hijack: $failures failure(s)"
[ "$failures" -eq 0 ]
