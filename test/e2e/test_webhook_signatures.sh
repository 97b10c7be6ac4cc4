#!/usr/bin/env bash
# Signed webhooks (issue 15 item 7), as an app endpoint makes the call: a login role of
# dwu_crm_app passes the request's raw body, its signature header and its timestamp header as
# parameters. Signatures are made here by the openssl command (an HMAC implementation independent
# of the extension's). Covers what needs the server's configuration and files: the secret file
# read at each call (rotation without a reload, group/other access refused, a bad line), the
# require setting changed by a reload, the timestamp window, the secret never in the server log or
# visible to the app role, and the worker applying the signed events.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

E2E_DB=dwu_webhooks
export PGCLIENTENCODING=UTF8  # the body's bytes reach the server unchanged (a UTF8 database)
dwu_init_workdir
SECRET_FILE=$DWU_WORKDIR/webhook.secrets
OLD_SECRET="whsec-old-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
NEW_SECRET="whsec-new-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
OTHER_SECRET="whsec-nobody-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# write_secrets LINE... — the secret file, as an admin writes it (mode 600, the server's user).
write_secrets() {
    printf '%s\n' "$@" > "$SECRET_FILE"
    chmod 600 "$SECRET_FILE"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$SECRET_FILE"; fi
}
write_secrets "# old secret, until every sender has the new one" "$OLD_SECRET" "" "# new secret" "$NEW_SECRET"

dwu_pg_start webhooks "$(dwu_free_port)" "dwu_crm.database = '$E2E_DB'" "dwu_crm.redis_host = ''" \
    "dwu_crm.webhook_secret_file = '$SECRET_FILE'" "dwu_crm.webhook_require_signature = on" \
    "dwu_crm.webhook_max_age_seconds = 60"
E2E_LOG=$(dwu_pg_log webhooks)
"$PG_BIN/createdb" "$E2E_DB"
psql_q "CREATE EXTENSION dwu_crm" >/dev/null
psql_q "CREATE ROLE hook_app LOGIN IN ROLE dwu_crm_app" >/dev/null

# sign SECRET TIMESTAMP BODY — what a sender puts in its signature header.
sign() { printf '%s' "$2.$3" | openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1; }

# receive BODY SIGNATURE TIMESTAMP [VERBOSITY] — the endpoint's call, as hook_app, with the three
# values as parameters (empty = NULL: the header is absent). Prints the event id, or the error
# (its SQLSTATE alone unless VERBOSITY is given).
receive() {
    "$PG_BIN/psql" -X -At -q -U hook_app -d "$E2E_DB" -v body="$1" -v sig="$2" -v ts="$3" \
        -v verbosity="${4:-sqlstate}" 2>&1 <<'SQL' || true
\set VERBOSITY :verbosity
SELECT dwu_crm.webhook_receive(raw_body => :'body', signature => nullif(:'sig', ''),
                               signed_at => nullif(:'ts', '')::bigint);
SQL
}
is_id() { [[ "$1" =~ ^[0-9]+$ ]]; }
events() { psql_q "select count(*) from dwu_crm.crm_webhook_events"; }

now=$(date +%s)
# A body as a sender writes it: spacing, a CRLF, non-ASCII text; the signature covers its bytes.
body1=$'{"id": "wh-1",\r\n "email": "jose@example.com", "nome": "José Conceição"}'
body2='{"id": "wh-2", "email": "maria@example.com", "nome": "Maria"}'

r=$(receive "$body1" "$(sign "$NEW_SECRET" "$now" "$body1")" "$now")
check "a body signed with the new secret is accepted ($r)" is_id "$r"
r=$(receive "$body2" "$(sign "$OLD_SECRET" "$now" "$body2")" "$now")
check "a body signed with the old secret is accepted too, during the rotation ($r)" is_id "$r"
stored=$(events)
check "two events stored" [ "$stored" = 2 ]

body3='{"id": "wh-3", "email": "forged@example.com"}'
check "a signature under a secret the file does not hold is refused (28000)" \
    [ "$(receive "$body3" "$(sign "$OTHER_SECRET" "$now" "$body3")" "$now")" = "ERROR:  28000" ]
check "an unsigned call is refused while webhook_require_signature is on (28000)" \
    [ "$(receive "$body3" "" "")" = "ERROR:  28000" ]
check "a timestamp without a signature is still unsigned: refused (28000)" \
    [ "$(receive "$body3" "" "$now")" = "ERROR:  28000" ]
stale=$((now - 120))
r=$(receive "$body3" "$(sign "$NEW_SECRET" "$stale" "$body3")" "$stale" default)
check "a stale timestamp (120 s, window 60 s) is refused as old" \
    grep -q "ERROR:  webhook timestamp is 1[0-9][0-9] seconds old, outside dwu_crm.webhook_max_age_seconds (60)" <<<"$r"
check "the body of a valid signature with one byte changed is refused (28000)" \
    [ "$(receive "${body2/Maria/Mario}" "$(sign "$OLD_SECRET" "$now" "$body2")" "$now")" = "ERROR:  28000" ]
check "nothing was stored for the refused calls" [ "$(events)" = "$stored" ]

# Rotation done: the old secret leaves the file. The file is read at each call: no reload.
write_secrets "$NEW_SECRET"
body4='{"id": "wh-4", "email": "late.sender@example.com"}'
check "after the rotation, the old secret is refused (28000)" \
    [ "$(receive "$body4" "$(sign "$OLD_SECRET" "$now" "$body4")" "$now")" = "ERROR:  28000" ]
r=$(receive "$body4" "$(sign "$NEW_SECRET" "$now" "$body4")" "$now")
check "after the rotation, the new secret is accepted ($r)" is_id "$r"

# The file's mode: group or other access refuses every signed call, naming the file.
for mode in 640 604 644; do
    chmod "$mode" "$SECRET_FILE"
    r=$(receive "$body4" "$(sign "$NEW_SECRET" "$now" "$body4")" "$now" default)
    check "a secret file of mode $mode is refused (config file error, 'run chmod 600')" \
        grep -q "ERROR:  dwu_crm.webhook_secret_file: webhook secret file \"$SECRET_FILE\" is accessible to its group or to other users; run chmod 600 on it" <<<"$r"
done
chmod 640 "$SECRET_FILE"
r=$(receive "$body4" "$(sign "$NEW_SECRET" "$now" "$body4")" "$now")
chmod 600 "$SECRET_FILE"
check "the error's SQLSTATE is F0000 (config_file_error)" [ "$r" = "ERROR:  F0000" ]
short=short-secret
write_secrets "$NEW_SECRET" "$short"
r=$(receive "$body4" "$(sign "$NEW_SECRET" "$now" "$body4")" "$now" default)
check "a too short secret is refused, naming its line" grep -q "webhook.secrets, line 2: the secret is 12 bytes, at least 16" <<<"$r"
lacks() { ! grep -qF -- "$1" <<<"$2"; }  # lacks NEEDLE TEXT
check "the error does not show the secret" lacks "$short" "$r"
write_secrets "$NEW_SECRET"

# What the app role may not do: see the secret file's name, call the check alone.
check "the app role cannot see dwu_crm.webhook_secret_file" bash -c \
    "! '$PG_BIN/psql' -X -At -U hook_app -d '$E2E_DB' -c 'SHOW dwu_crm.webhook_secret_file' >/dev/null 2>&1"
check "the app role cannot call webhook_verify_signature" bash -c \
    "'$PG_BIN/psql' -X -At -U hook_app -d '$E2E_DB' -c \"SELECT dwu_crm.webhook_verify_signature('{}', repeat('ab', 32), 1)\" 2>&1 |
     grep -q 'permission denied for function webhook_verify_signature'"

# Signatures no longer required (a reload): unsigned calls are accepted again.
psql_q "ALTER SYSTEM SET dwu_crm.webhook_require_signature = off" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
require_is_off() { [ "$(psql_q "SHOW dwu_crm.webhook_require_signature")" = off ]; }
check "the reload turns webhook_require_signature off" dwu_wait_for 10 "the reload" require_is_off
r=$(receive '{"id": "wh-5", "email": "unsigned@example.com"}' "" "")
check "an unsigned call is accepted when no signature is required ($r)" is_id "$r"
check "a signed call is still checked when not required (28000)" \
    [ "$(receive "$body3" "$(sign "$OTHER_SECRET" "$now" "$body3")" "$now")" = "ERROR:  28000" ]

# The worker applies the signed events like any other.
all_processed() { [ "$(psql_q "select count(*) from dwu_crm.crm_webhook_events where not dwu_processed")" = 0 ]; }
check "the worker applied every event" dwu_wait_for 30 "the webhook events" all_processed
check "the signed body's lead has its text exactly (CRLF body, non-ASCII name)" \
    [ "$(psql_q "select dwu_name from dwu_crm.crm_leads where dwu_email = 'jose@example.com'")" = "José Conceição" ]
check "only the accepted calls were stored (wh-1, wh-2, wh-4, wh-5)" \
    [ "$(psql_q "select string_agg(dwu_event_id, ',' order by dwu_event_id) from dwu_crm.crm_webhook_events")" = "wh-1,wh-2,wh-4,wh-5" ]
check "no lead for the refused calls" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_leads where dwu_email = 'forged@example.com' or dwu_name = 'Mario'")" = 0 ]

check "the refusals are in the server log" grep -q "ERROR:  webhook signature does not match" "$E2E_LOG"
for s in "$OLD_SECRET" "$NEW_SECRET" "$OTHER_SECRET"; do
    check "no secret is in the server log (${s:0:12}…)" absent_from_file "$s" "$E2E_LOG"
done
check "no crash in the server log" no_crash_in_log

echo "webhook_signatures: $failures failure(s)"
if [ "$failures" -gt 0 ]; then tail -n 30 "$E2E_LOG"; fi
[ "$failures" -eq 0 ]
