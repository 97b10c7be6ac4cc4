# Shared by scripts/test.sh, scripts/demo.sh and the end-to-end tests: install, build, and start /
# stop throwaway servers (PostgreSQL cluster, Dinamize simulator, Redis) on loopback.
# Source it; every server started here is stopped by dwu_cleanup (install it with trap).

DWU_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=${DWU_PG_BIN:-/usr/lib/postgresql/15/bin}  # overridable: a relocated copy isolates a second checkout
PG_CONFIG=$PG_BIN/pg_config
DWU_BUILD=$DWU_ROOT/build
DWU_SIM=$DWU_BUILD/test/simulator/dinamize_sim
DWU_PACKAGES=(postgresql-15 postgresql-server-dev-15 libhiredis-dev nlohmann-json3-dev libcurl4-openssl-dev
              libssl-dev redis-server libgtest-dev libcpp-httplib-dev postgresql-15-pgtap cmake g++ make
              pkg-config curl jq ca-certificates clang-format ccache)
# Only the tests need these (the fuzz run's clang with libFuzzer and the sanitizers; a TLS
# terminator and an HTTP proxy for test_tls_and_proxy.sh): the demo does not wait for them.
DWU_TEST_PACKAGES=(clang-14 libclang-rt-14-dev socat tinyproxy debhelper dpkg-dev postgresql-server-dev-all)

dwu_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
dwu_die() { dwu_log "ERROR: $*"; exit 1; }

# Installs the Debian packages that are missing (needs root the first time): DWU_PACKAGES and
# the extra packages named.
dwu_install_packages() {
    local missing=()
    for p in "${DWU_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || dwu_die "missing packages (${missing[*]}); run as root to install them"
    dwu_log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Builds and installs the extension (PGXS), and builds the simulator and unit tests (CMake).
# Builds and installs the extension, then the CMake targets named (all of them when none is: the
# simulator, the unit tests, the hostile server, the benchmarks). The demo names only the simulator;
# the tests then reuse its build folder, so they compile only what the demo did not. Both builds use
# ccache (when installed). Sets DWU_BUILD_SECONDS.
dwu_build() {
    local started=$SECONDS
    dwu_log "building the extension"
    make -C "$DWU_ROOT" -s -j2 PG_CONFIG="$PG_CONFIG" >/dev/null
    make -C "$DWU_ROOT" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
    dwu_log "building ${*:-the simulator, unit tests and benchmarks}"
    cmake -S "$DWU_ROOT" -B "$DWU_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    local targets=()
    for t in "$@"; do targets+=(--target "$t"); done
    cmake --build "$DWU_BUILD" -j2 "${targets[@]}" >/dev/null
    DWU_BUILD_SECONDS=$((SECONDS - started))
    dwu_log "built in ${DWU_BUILD_SECONDS}s"
}

# Runs a command as the PostgreSQL server's owner (initdb and postgres refuse root).
dwu_as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A free TCP port on 127.0.0.1.
dwu_free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    dwu_die "no free port found"
}

DWU_WORKDIR=""
DWU_PIDS=()
DWU_CLUSTERS=()

# Creates this run's private folder for its servers (readable by the PostgreSQL owner) and sets
# DWU_WORKDIR. Call it in the main shell, not in $(...), or the setting is lost.
dwu_init_workdir() {
    [ -n "$DWU_WORKDIR" ] && return 0
    DWU_WORKDIR=$(mktemp -d /tmp/dwu_crm.XXXXXX)
    chmod 755 "$DWU_WORKDIR"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DWU_WORKDIR"; fi
}

# dwu_pg_start NAME PORT [extra postgresql.conf lines...] — a throwaway cluster with the library
# preloaded; sets PGHOST/PGPORT/PGUSER for psql. Its files live in $DWU_WORKDIR/NAME.
dwu_pg_start() {
    local name=$1 port=$2; shift 2
    dwu_init_workdir
    local dir="$DWU_WORKDIR/$name"
    dwu_as_pg_owner mkdir -p "$dir/sock"
    dwu_as_pg_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null \
        || dwu_die "initdb failed"
    {
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir/sock'"
        echo "shared_preload_libraries = 'dwu_crm'"
        echo "fsync = off"
        echo "max_prepared_transactions = 10"
        echo "log_line_prefix = '%m [%p] %b '"
        # Every throwaway cluster talks to the loopback simulator over plain http: allowed here,
        # refused by the default (api.dinamize.com over https only).
        echo "dwu_crm.allowed_hosts = 'api.dinamize.com, http://127.0.0.1'"
        printf '%s\n' "$@"
    } | dwu_as_pg_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { cat "$dir/server.log" >&2; dwu_die "PostgreSQL did not start"; }
    DWU_CLUSTERS+=("$dir")
    export PGHOST="$dir/sock" PGPORT=$port PGUSER=postgres
}

dwu_pg_log() { echo "$DWU_WORKDIR/$1/server.log"; }

dwu_pg_stop() {
    local dir="$DWU_WORKDIR/$1"
    [ -d "$dir/data" ] && dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
    return 0
}

# dwu_make_key_file PATH [VERSION...] — a key file (VERSION:hex key lines, default version 1)
# readable only by the PostgreSQL owner, as dwu_crm.encryption_key_file wants.
dwu_make_key_file() {
    local path=$1; shift
    local versions=("${@:-1}")
    {
        echo "# dwu_crm test keys"
        for v in "${versions[@]}"; do echo "$v:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"; done
    } > "$path"
    chmod 600 "$path"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$path"; fi
}

# dwu_sim_start ACCOUNT... [-- SIMULATOR OPTION...] — starts the simulator (accounts as
# user:password:client_code; options such as --list 2:Title or --fault-delay 1) on a free port and
# sets DWU_SIM_URL. May be called more than once: each simulator has its own port file and log.
DWU_SIM_COUNT=0
dwu_sim_start() {
    dwu_init_workdir
    DWU_SIM_COUNT=$((DWU_SIM_COUNT + 1))
    local suffix=""
    [ "$DWU_SIM_COUNT" -gt 1 ] && suffix=".$DWU_SIM_COUNT"
    local port_file="$DWU_WORKDIR/sim$suffix.port"
    local args=()
    while [ $# -gt 0 ]; do
        if [ "$1" = "--" ]; then shift; args+=("$@"); break; fi
        args+=(--account "$1"); shift
    done
    rm -f "$port_file"
    "$DWU_SIM" --port 0 --port-file "$port_file" "${args[@]}" >"$DWU_WORKDIR/sim$suffix.log" 2>&1 &
    DWU_PIDS+=($!)
    for _ in $(seq 1 100); do
        [ -s "$port_file" ] && break
        sleep 0.1
    done
    [ -s "$port_file" ] || dwu_die "the simulator did not start"
    DWU_SIM_URL="http://127.0.0.1:$(cat "$port_file")"
}

# dwu_redis_start [PORT] — a throwaway redis-server on 127.0.0.1 (no persistence, private port),
# sets DWU_REDIS_PORT and DWU_REDIS_PID. Calling it again with the same port restarts Redis there
# (empty: the data is not kept, as after a real crash without persistence).
dwu_redis_start() {
    dwu_init_workdir
    DWU_REDIS_PORT=${1:-$(dwu_free_port)}
    /usr/bin/redis-server --port "$DWU_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$DWU_WORKDIR" --logfile "$DWU_WORKDIR/redis.log" &
    DWU_REDIS_PID=$!
    DWU_PIDS+=("$DWU_REDIS_PID")
    dwu_wait_for 10 "redis-server" dwu_redis_cli PING >/dev/null || dwu_die "redis-server did not start"
}

# dwu_redis_cli ARGS... — redis-cli against the Redis started above; fails when it is not answering.
dwu_redis_cli() { redis-cli -h 127.0.0.1 -p "$DWU_REDIS_PORT" "$@" 2>/dev/null | grep -v '^$' || return 1; }

dwu_redis_stop() {
    [ -z "${DWU_REDIS_PID:-}" ] && return 0
    kill "$DWU_REDIS_PID" 2>/dev/null || true
    wait "$DWU_REDIS_PID" 2>/dev/null || true
    local kept=() pid
    for pid in "${DWU_PIDS[@]}"; do [ "$pid" = "$DWU_REDIS_PID" ] || kept+=("$pid"); done
    DWU_PIDS=("${kept[@]}")
    DWU_REDIS_PID=""
}

# dwu_wait_for SECONDS DESCRIPTION COMMAND... — polls (bounded) until COMMAND succeeds.
dwu_wait_for() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ $SECONDS -ge $deadline ] && { dwu_log "timed out after ${seconds}s waiting for $what"; return 1; }
        sleep 0.2
    done
}

# Runs from EXIT traps, often under set -e: no step may fail, or the rest would be skipped.
dwu_cleanup() {
    local pid dir
    for pid in "${DWU_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${DWU_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for dir in "${DWU_CLUSTERS[@]}"; do
        dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    done
    DWU_PIDS=()
    DWU_CLUSTERS=()
    DWU_SIM_COUNT=0
    [ -n "$DWU_WORKDIR" ] && [ -z "${DWU_KEEP_WORKDIR:-}" ] && rm -rf "$DWU_WORKDIR"
    DWU_WORKDIR=""
}
