# The servers of the pg_regress run (sourced after lib.sh by scripts/test.sh):
#   - a Dinamize simulator for the API tests (sql/api_*.sql), seeded through its /__sim/ admin
#     routes with what the protocol cannot create (a list title, list-of-values entries, history
#     events, an opt-out);
#   - a second simulator that delays every answer by 10 s (the statement_timeout test);
#   - a third that allows one request per minute (the rate-limit error), a fourth that answers
#     malformed JSON (the API error);
#   - the cluster, with the URLs as placeholder settings dwu_test.sim_url, slow_sim_url,
#     limited_sim_url and broken_sim_url, so the SQL reads them and the random ports never reach
#     the expected output.
# The account the tests configure: user regress@dwu.example, client code 300100.

DWU_REGRESS_ACCOUNT="regress@dwu.example:Regress-Pa55:300100"

# dwu_sim_admin PATH JSON — one POST to the regress simulator's admin routes; fails loudly.
dwu_sim_admin() {
    curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$DWU_REGRESS_SIM_URL$1" >/dev/null \
        || dwu_die "simulator admin call $1 failed"
}

# dwu_sim_api PATH JSON [TOKEN] — one Dinamize call; prints the body.
dwu_sim_api() {
    local out
    out=$(curl -sf -X POST -H 'Content-Type: application/json; charset=utf-8' ${3:+-H "auth-token: $3"} \
        -d "$2" "$DWU_REGRESS_SIM_URL$1") || dwu_die "simulator call $1 failed"
    [ "$(jq -r .code <<<"$out")" = "480001" ] || dwu_die "simulator call $1 answered $(jq -c . <<<"$out")"
    jq -c .body <<<"$out"
}

dwu_regress_seed() {
    local c=300100 token
    dwu_sim_admin /__sim/lists "{\"client_code\":\"$c\",\"code\":\"2\",\"title\":\"Clientes\"}"
    # List 1: a list-of-values field (code 4) with two values.
    dwu_sim_admin /__sim/fields "{\"client_code\":\"$c\",\"list\":\"1\",\"title\":\"Segmento\",\"type\":\"LV\"}"
    dwu_sim_admin /__sim/field-lov "{\"client_code\":\"$c\",\"list\":\"1\",\"field_code\":\"4\",\"value\":\"Varejo\"}"
    dwu_sim_admin /__sim/field-lov "{\"client_code\":\"$c\",\"list\":\"1\",\"field_code\":\"4\",\"value\":\"Atacado\"}"
    # List 3: two contacts with a history and an opt-out (contact codes 100001 and 100002).
    token=$(dwu_sim_api /auth '{"user":"regress@dwu.example","password":"Regress-Pa55","client_code":"300100"}' \
        | jq -r '."auth-token"')
    dwu_sim_api /emkt/contact/add '{"contact-list_code":"3","email":"historia@example.com","name":"Hist","external_code":"900"}' "$token" >/dev/null
    dwu_sim_api /emkt/contact/add '{"contact-list_code":"3","email":"outro@example.com","name":"Outro","external_code":"901"}' "$token" >/dev/null
    local e
    for e in '"kind":4,"time":"2025-03-01 09:00:00","action_code":"5001"' \
             '"kind":5,"time":"2025-03-01 10:15:00","action_code":"5001"' \
             '"kind":6,"time":"2025-03-01 10:16:00","action_code":"5001","info2":"77"' \
             '"kind":4,"time":"2025-03-02 09:00:00","action_code":"5002"'; do
        dwu_sim_admin /__sim/event "{\"client_code\":\"$c\",\"list\":\"3\",\"email\":\"historia@example.com\",$e}"
    done
    dwu_sim_admin /__sim/event "{\"client_code\":\"$c\",\"list\":\"3\",\"email\":\"outro@example.com\",\"kind\":4,\"time\":\"2025-03-01 09:00:00\",\"action_code\":\"5001\"}"
    dwu_sim_admin /__sim/optout "{\"client_code\":\"$c\",\"list\":\"3\",\"email\":\"outro@example.com\",\"origin\":\"D\",\"request_date\":\"2025-03-05 08:00:00\"}"
}

# dwu_regress_start — simulators (seeded), then the cluster; sets PGHOST/PGPORT/PGUSER.
dwu_regress_start() {
    dwu_init_workdir
    dwu_make_key_file "$DWU_WORKDIR/regress.keys"
    # The secret of signed webhooks; sql/webhooks.sql reads it back (pg_read_file) to sign its calls.
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DWU_WORKDIR/regress.webhook_secret"
    chmod 600 "$DWU_WORKDIR/regress.webhook_secret"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DWU_WORKDIR/regress.webhook_secret"; fi
    dwu_sim_start "$DWU_REGRESS_ACCOUNT" -- --list "1:Leads"
    DWU_REGRESS_SIM_URL=$DWU_SIM_URL
    dwu_regress_seed
    dwu_sim_start "$DWU_REGRESS_ACCOUNT" -- --fault-delay 1 --fault-delay-ms 10000
    DWU_REGRESS_SLOW_SIM_URL=$DWU_SIM_URL
    dwu_sim_start "$DWU_REGRESS_ACCOUNT" -- --rate-limit-per-minute 1
    DWU_REGRESS_LIMITED_SIM_URL=$DWU_SIM_URL
    dwu_sim_start "$DWU_REGRESS_ACCOUNT" -- --fault-malformed-json 1
    DWU_REGRESS_BROKEN_SIM_URL=$DWU_SIM_URL
    dwu_pg_start regress "$(dwu_free_port)" "dwu_crm.database = 'contrib_regression'" \
        "dwu_crm.encryption_key_file = '$DWU_WORKDIR/regress.keys'" "dwu_crm.redis_host = ''" \
        "dwu_crm.webhook_secret_file = '$DWU_WORKDIR/regress.webhook_secret'" \
        "dwu_test.sim_url = '$DWU_REGRESS_SIM_URL'" "dwu_test.slow_sim_url = '$DWU_REGRESS_SLOW_SIM_URL'" \
        "dwu_test.limited_sim_url = '$DWU_REGRESS_LIMITED_SIM_URL'" \
        "dwu_test.broken_sim_url = '$DWU_REGRESS_BROKEN_SIM_URL'"
}
