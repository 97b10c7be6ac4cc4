#!/usr/bin/env bash
# Runs every test of dwu_crm on this machine, from nothing: installs the packages it needs (apt),
# builds and installs the extension, builds the simulator and unit tests, then runs
#   0. the source checks (scripts/check_sources.sh: clang-format, entry points),
#   1. the GoogleTest unit tests of the core against the simulator (CTest), then a 60 s fuzz run
#      of the answer parsing (test/fuzz/run_fuzz.sh; DWU_FUZZ_SECONDS sets the time),
#   2. the pg_regress tests on a throwaway cluster with the library preloaded, then the Debian
#      package (test/package: built, installed, part of the suite run against it, removed),
#   3. the end-to-end tests in test/e2e (each starts its own cluster and simulator).
# Run as root on a fresh Debian 12 (PostgreSQL runs as the postgres user). Exits non-zero on any
# failure and ends with a line "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/regress_servers.sh"
trap dwu_cleanup EXIT

passed=0
failed=0
since=$SECONDS  # each line says how long its part took: the whole run must stay under 20 minutes
record() {  # record NAME EXIT_CODE
    local took="($((SECONDS - since)) s)"
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS: $1 $took"; else failed=$((failed + 1)); echo "FAIL: $1 $took"; fi
    since=$SECONDS
}

set -e
dwu_install_packages "${DWU_TEST_PACKAGES[@]}"
set +e
echo "== source checks (format, C++/PostgreSQL boundary) =="
bash "$DWU_ROOT/scripts/check_sources.sh"
record "source checks" $?
set -e
# What the tests run (the benchmarks build when bench/ scripts run).
dwu_build core_unit_tests dinamize_sim hostile_dinamize seal_secret
since=$SECONDS
set +e

echo "== unit tests (GoogleTest, CTest) =="
(cd "$DWU_BUILD" && ctest --output-on-failure --timeout 120)
record "unit tests" $?

echo "== fuzzing the answer parsing (libFuzzer, ASan/UBSan, ${DWU_FUZZ_SECONDS:-60} s) =="
bash "$DWU_ROOT/test/fuzz/run_fuzz.sh" "${DWU_FUZZ_SECONDS:-60}"
record "fuzz" $?

echo "== pg_regress =="
dwu_regress_start  # the Dinamize simulators of the api_* tests first, then the cluster
make -C "$DWU_ROOT" -s installcheck PG_CONFIG="$PG_CONFIG"
status=$?
if [ $status -ne 0 ] && [ -f "$DWU_ROOT/regression.diffs" ]; then cat "$DWU_ROOT/regression.diffs"; fi
if grep -Eq 'terminated by signal|PANIC' "$(dwu_pg_log regress)"; then
    echo "the server log of the regression cluster shows a crash:"; grep -E 'terminated by signal|PANIC' "$(dwu_pg_log regress)"
    status=1
fi
record "pg_regress" $status
dwu_cleanup

echo "== Debian package (build, install, installcheck) =="
bash "$DWU_ROOT/test/package/test_debian_package.sh"
record "Debian package" $?

echo "== end-to-end tests =="
for t in "$DWU_ROOT"/test/e2e/test_*.sh; do
    echo "-- $(basename "$t")"
    bash "$t"
    status=$?  # before any $(...) below: a command substitution would reset $?
    record "e2e $(basename "$t" .sh)" "$status"
done

echo
echo "$passed passed, $failed failed in $((SECONDS / 60)) min $((SECONDS % 60)) s"
[ "$failed" -eq 0 ]
