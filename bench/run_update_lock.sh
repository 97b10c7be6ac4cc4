#!/usr/bin/env bash
# How long ALTER EXTENSION dwu_crm UPDATE (0.1.0 -> the default version) takes, that is how long it
# holds its locks (README "What the update locks"): a throwaway cluster, fsync on, a 0.1.0 install
# with N finished jobs (default 1,000,000) and 100,000 leads, then the update, timed by psql.
# Usage: bash bench/run_update_lock.sh [N]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$DWU_ROOT/test/e2e/common.sh"
trap dwu_cleanup EXIT
N=${1:-1000000}
dwu_init_workdir
dwu_make_key_file "$DWU_WORKDIR/keys"
# The workers serve another database: nothing else runs during the update.
dwu_pg_start upd "$(dwu_free_port)" "fsync = on" "dwu_crm.database = 'other'" \
    "dwu_crm.encryption_key_file = '$DWU_WORKDIR/keys'" "dwu_crm.redis_host = ''"
"$PG_BIN/createdb" upd
p() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -d upd "$@"; }
p -c "SET client_min_messages = error" -c "CREATE EXTENSION dwu_crm VERSION '0.1.0'"
p -c "SELECT dwu_crm.dinamize_configure('a', 'http://127.0.0.1:9', 'u@example.com', 'x', '1', '7', true)" >/dev/null
dwu_log "loading $N finished jobs and 100,000 leads"
p -c "INSERT INTO dwu_crm.crm_sync_queue (dwu_lead_id, dwu_account_id, dwu_operation, dwu_status, dwu_completed_at)
      SELECT i, 1, 'create', 'completed', now() - (i || ' s')::interval FROM generate_series(1, $N) i" >/dev/null
p -c "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
      SELECT 'L' || i, 'l' || i || '@example.com' FROM generate_series(1, 100000) i" >/dev/null
p -c "VACUUM ANALYZE"
echo "ALTER EXTENSION dwu_crm UPDATE with $N finished jobs, 100,000 leads: $(p -c '\timing on' -c "ALTER EXTENSION dwu_crm UPDATE" | sed -n 's/^Time: //p')"
