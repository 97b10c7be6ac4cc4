#!/usr/bin/env bash
# Runs the rate limiter benchmark (bench/README.md) on this machine: installs the packages it needs
# (apt), builds rate_limiter_bench into build/, starts a throwaway redis-server on a free loopback
# port and runs the bench against it. Extra arguments go to the bench, e.g.
#   bench/run_rate_limiter.sh --seconds 10 --workers 1,8 --request-ms 0
# The default run takes about 1 minute 40 s after the build.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
trap dwu_cleanup EXIT

dwu_install_packages
# Same build type as dwu_build, so that sharing build/ with the tests never forces a full rebuild.
if [ ! -f "$DWU_BUILD/CMakeCache.txt" ]; then
    cmake -S "$DWU_ROOT" -B "$DWU_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
dwu_log "building rate_limiter_bench"
cmake --build "$DWU_BUILD" -j2 --target rate_limiter_bench >/dev/null

dwu_redis_start
dwu_log "redis-server on 127.0.0.1:$DWU_REDIS_PORT"
"$DWU_BUILD/bench/rate_limiter_bench" --redis-port "$DWU_REDIS_PORT" "$@"
