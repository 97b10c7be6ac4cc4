#!/usr/bin/env bash
# Installs that cannot work say so: CREATE EXTENSION refuses a server without the library in
# shared_preload_libraries and a non-UTF-8 database (message, detail, hint; nothing created), and
# warns in a database the workers do not serve (installed, so a restore into staging works).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

sql() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }
has_extension() { [ "$(sql "$1" "select count(*) from pg_extension where extname = 'dwu_crm'")" = 1 ]; }
has_no_extension() { [ "$(sql "$1" "select count(*) from pg_extension where extname = 'dwu_crm'")" = 0 ]; }
has_no_schema() { [ "$(sql "$1" "select count(*) from pg_namespace where nspname = 'dwu_crm'")" = 0 ]; }
says() { grep -qF -- "$2" <<<"$1"; }
says_nothing_like() { ! grep -qF -- "$2" <<<"$1"; }

# A later line of postgresql.conf wins: this cluster has no library preloaded.
dwu_pg_start nopreload "$(dwu_free_port)" "shared_preload_libraries = ''"
sql postgres "CREATE DATABASE crm" >/dev/null
out=$(sql crm "CREATE EXTENSION dwu_crm" || true)
echo "$out" | sed 's/^/# /'
check "without preloading, CREATE EXTENSION fails" says "$out" "ERROR:  dwu_crm must be loaded through shared_preload_libraries"
check "with a detail" says "$out" "DETAIL:  Without it no background worker runs"
check "and a hint" says "$out" "HINT:  Add dwu_crm to shared_preload_libraries"
check "and nothing is created" has_no_extension crm
check "not even the schema" has_no_schema crm
dwu_pg_stop nopreload

dwu_pg_start served "$(dwu_free_port)" "dwu_crm.database = 'crm'"
sql postgres "CREATE DATABASE crm" >/dev/null
sql postgres "CREATE DATABASE staging" >/dev/null
sql postgres "CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
out=$(sql crm "CREATE EXTENSION dwu_crm")
check "the served database installs" has_extension crm
check "without a warning" says_nothing_like "$out" "WARNING"
out=$(sql staging "CREATE EXTENSION dwu_crm")
echo "$out" | sed 's/^/# /'
check "a database the workers do not serve installs" has_extension staging
check "with a WARNING that sync is off there" says "$out" "WARNING:  dwu_crm: sync is off in database staging"
out=$(sql latin "CREATE EXTENSION dwu_crm" || true)
echo "$out" | sed 's/^/# /'
check "a non-UTF-8 database is refused" says "$out" "ERROR:  dwu_crm needs a UTF-8 database"
check "and nothing is created there" has_no_extension latin
E2E_LOG=$(dwu_pg_log served)
check "no crash" no_crash_in_log

e2e_finish install_checks
