#!/usr/bin/env bash
# The TLS settings a company network needs, with real components: the simulator behind a TLS
# terminator (socat) whose certificate a private CA signed, and a real HTTP proxy (tinyproxy).
#   - dwu_crm.ca_file: without it the private CA is not trusted (the call fails on the certificate,
#     verification stays on); with it the same call succeeds.
#   - dwu_crm.https_proxy: a base URL whose name resolves to loopback is refused when connected to
#     directly; through the proxy (CONNECT tunnel) the call reaches the simulator.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

e2e_start_stack tls_and_proxy
tls=$DWU_WORKDIR/tls
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dwu-test-ca -keyout "$tls/ca.key" -out "$tls/ca.pem" \
    2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName = DNS:localhost, IP:127.0.0.1\n' >"$tls/san.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
    -extfile "$tls/san.ext" -out "$tls/server.pem" 2>/dev/null
chmod 644 "$tls"/*.pem && chmod 755 "$tls"

sim_port=${DWU_SIM_URL##*:}
tls_port=$(dwu_free_port)
socat "OPENSSL-LISTEN:$tls_port,bind=127.0.0.1,reuseaddr,fork,cert=$tls/server.pem,key=$tls/server.key,verify=0" \
    "TCP:127.0.0.1:$sim_port" 2>"$tls/socat.log" &
DWU_PIDS+=($!)
proxy_port=$(dwu_free_port)
cat >"$tls/tinyproxy.conf" <<EOF
Port $proxy_port
Listen 127.0.0.1
Timeout 30
MaxClients 20
Allow 127.0.0.1
LogLevel Connect
EOF
tinyproxy -d -c "$tls/tinyproxy.conf" >"$tls/tinyproxy.log" 2>&1 &
DWU_PIDS+=($!)
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
check "the TLS terminator listens" dwu_wait_for 10 "socat" up "$tls_port"
check "the proxy listens" dwu_wait_for 10 "tinyproxy" up "$proxy_port"

# One session per call, with the settings given (superuser-only: SET works here). Prints "ok:N"
# or the error.
lists_of() {  # lists_of ACCOUNT "SET ...;"...
    local account=$1; shift
    "$PG_BIN/psql" -X -At -d "$E2E_DB" -c "$* SELECT 'ok:' || count(*) FROM dwu_crm.dinamize_lists('$account')" 2>&1 |
        grep -v '^SET$' | tr '\n' ' ' || true
}
psql_q "SET dwu_crm.allowed_hosts = 'localhost, http://localhost';
        SELECT dwu_crm.dinamize_configure('tls', 'https://localhost:$tls_port', '$E2E_USER', '$E2E_PASSWORD',
                                          '$E2E_CLIENT', '$E2E_LIST');
        SELECT dwu_crm.dinamize_configure('named', 'http://localhost:$sim_port', '$E2E_USER', '$E2E_PASSWORD',
                                          '$E2E_CLIENT', '$E2E_LIST')" >/dev/null

untrusted=$(lists_of tls "SET dwu_crm.allowed_hosts = 'localhost, 127.0.0.1';")
echo "# without dwu_crm.ca_file: $untrusted"
check "a private CA is not trusted by default" grep -qi "certificate" <<<"$untrusted"
trusted=$(lists_of tls "SET dwu_crm.allowed_hosts = 'localhost, 127.0.0.1';" "SET dwu_crm.ca_file = '$tls/ca.pem';")
echo "# with dwu_crm.ca_file: $trusted"
check "with dwu_crm.ca_file the same call succeeds over verified TLS" grep -q "^ok:[0-9]" <<<"$trusted"
check "verification stayed on" [ "$(psql_q "show dwu_crm.verify_tls")" = on ]

# Through the proxy: connecting directly is refused (localhost is loopback, and no address entry of
# the list covers it); the tunnelled call goes through, the proxy resolving the name.
direct=$(lists_of named "SET dwu_crm.allowed_hosts = 'http://localhost';")
echo "# direct: $direct"
check "a name resolving to loopback is not connected to directly" grep -q "refused to connect to" <<<"$direct"
proxied=$(lists_of named "SET dwu_crm.allowed_hosts = 'http://localhost';" \
    "SET dwu_crm.https_proxy = 'http://127.0.0.1:$proxy_port';")
echo "# through the proxy: $proxied"
check "through dwu_crm.https_proxy the call reaches Dinamize" grep -q "^ok:[0-9]" <<<"$proxied"
check "the proxy tunnelled it (CONNECT in its log)" grep -q "CONNECT localhost:$sim_port" "$tls/tinyproxy.log"
both=$(lists_of tls "SET dwu_crm.allowed_hosts = 'localhost';" \
    "SET dwu_crm.https_proxy = 'http://127.0.0.1:$proxy_port';" "SET dwu_crm.ca_file = '$tls/ca.pem';")
echo "# https through the proxy: $both"
check "https through the proxy, verified with the CA file" grep -q "^ok:[0-9]" <<<"$both"
check "no crash" no_crash_in_log

e2e_finish tls_and_proxy
