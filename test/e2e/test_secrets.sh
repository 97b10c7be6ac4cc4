#!/usr/bin/env bash
# No plaintext anywhere: after a sync with a distinctive password, neither the password nor any
# Dinamize token (by its shape) appears in a pg_dump, the server log or the data directory's files.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

E2E_PASSWORD='Zq7-distinctive-Secret-91x'
e2e_start_stack secrets
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) SELECT 's' || i || '@example.com' FROM generate_series(1, 20) i" >/dev/null
check "the leads sync with the encrypted credentials" dwu_wait_for 30 "sync" queue_drained
check "a token was stored, sealed" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_auth_tokens where dwu_active and length(dwu_token) > 31")" = 1 ]
psql_q "CHECKPOINT" >/dev/null

# Simulator tokens look like 12345.300001.12.<48 base64 chars> (reference §2).
token_shape='[0-9]{5}\.[0-9]{6}\.[0-9]{1,2}\.[A-Za-z0-9+/]{48}'
dump=$DWU_WORKDIR/dump.sql
"$PG_BIN/pg_dump" -d "$E2E_DB" > "$dump"
check "pg_dump holds the CRM data (extension tables are marked for dump)" grep -q "^COPY dwu_crm.crm_dinamize_accounts" "$dump"
check "pg_dump holds the leads" grep -q "^s1@example.com\|s1@example.com" "$dump"
check "the password is not in pg_dump" absent_from_file "$E2E_PASSWORD" "$dump"
check "no token is in pg_dump" bash -c "! grep -Eq '$token_shape' '$dump'"
# Failing calls that carry the password: the server logs their errors (log_min_error_statement is
# ERROR by default), but never the statement that held the password.
bad_url_call="SELECT dwu_crm.dinamize_configure('e2e', 'ftp://nowhere', '$E2E_USER', '$E2E_PASSWORD', '$E2E_CLIENT', '$E2E_LIST')"
! psql_q "$bad_url_call" >/dev/null 2>&1
! psql_q "SELECT dwu_crm.dinamize_configure('bad name!', '$DWU_SIM_URL', '$E2E_USER', '$E2E_PASSWORD', '1', '1')" >/dev/null 2>&1
check "the failing calls' errors are in the server log" bash -c "[ \$(grep -c 'ERROR: .*base URL must look like\|ERROR: .*account name must be' '$E2E_LOG') -ge 2 ]"
check "the password is not in the server log" absent_from_file "$E2E_PASSWORD" "$E2E_LOG"
check "no token is in the server log" bash -c "! grep -Eq '$token_shape' '$E2E_LOG'"
data_dir=$DWU_WORKDIR/secrets/data
check "the password is in no file of the data directory" bash -c "! grep -rqaF -- '$E2E_PASSWORD' '$data_dir'"
check "no token is in any file of the data directory" bash -c "! grep -rqaE '$token_shape' '$data_dir'"

# A password sealed by 0.1.0 (bound to its row only) still opens; the worker re-seals it bound to
# the account's base URL, user and client code at first use.
account_id=$(psql_q "select dwu_id from dwu_crm.crm_dinamize_accounts where dwu_name = 'e2e'")
legacy_hex=$(printf '%s' "$E2E_PASSWORD" | "$DWU_BUILD/test/tools/seal_secret" "$E2E_KEY_FILE" "crm_dinamize_accounts:$account_id:password")
psql_q "UPDATE dwu_crm.crm_dinamize_accounts SET dwu_password = '\\x$legacy_hex'::bytea,
               dwu_config_version = dwu_config_version + 1 WHERE dwu_id = $account_id" >/dev/null
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('legacy@example.com')" >/dev/null
check "a lead syncs with the password 0.1.0 sealed" dwu_wait_for 30 "sync" queue_drained
check "the worker re-sealed that password under the new binding" \
    [ "$(psql_q "select dwu_password <> '\\x$legacy_hex'::bytea from dwu_crm.crm_dinamize_accounts where dwu_id = $account_id")" = t ]
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('resealed@example.com')" >/dev/null
check "and the re-sealed password works" dwu_wait_for 30 "sync" queue_drained
check "no lead failed" [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 0 ]

# Any change of an account's settings retires its tokens, in the table and in Redis.
one_shared_token() { [ "$(shared_tokens)" = 1 ]; }
check "the worker shared its token through Redis" dwu_wait_for 10 "token in Redis" one_shared_token
e2e_configure_account
check "reconfiguring removed the token from Redis" [ "$(shared_tokens)" = 0 ]
check "and retired the stored one" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_auth_tokens where dwu_active or length(dwu_token) > 0")" = 0 ]

e2e_finish secrets
