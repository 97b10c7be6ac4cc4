#!/usr/bin/env bash
# Builds the answer-parsing fuzz target (test/fuzz/response_fuzz.cpp: libFuzzer, AddressSanitizer,
# UndefinedBehaviorSanitizer) with clang++ into build-fuzz/ and runs it for N seconds:
#
#   bash test/fuzz/run_fuzz.sh [SECONDS]        (default 60; longer runs: any number, e.g. 3600)
#
# Exits 0 when the time ran out with no finding; non-zero on a build failure, a crash, an uncaught
# exception, a sanitizer report or a leak (the input that did it is left in build-fuzz/findings/).
# Needs, besides the project's build packages, Debian's clang-14 and libclang-rt-14-dev.
# Environment: DWU_FUZZ_BUILD (build folder), DWU_FUZZ_CXX (compiler), DWU_FUZZ_JOBS (build jobs).
set -euo pipefail

seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "run_fuzz: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${DWU_FUZZ_BUILD:-$root/build-fuzz}
cxx=${DWU_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
if [ -z "$cxx" ]; then
    echo "run_fuzz: no clang++ (Debian packages clang-14 and libclang-rt-14-dev)" >&2
    exit 2
fi

started=$(date +%s)
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE= -DDWU_FUZZ=ON >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; echo "run_fuzz: configure failed" >&2; exit 2; }
if ! grep -q '^DWU_HAVE_LIBFUZZER:INTERNAL=1' "$build/CMakeCache.txt"; then
    echo "run_fuzz: $cxx cannot link -fsanitize=fuzzer,address,undefined (install clang-14 and libclang-rt-14-dev)" >&2
    exit 2
fi
cmake --build "$build" -j"${DWU_FUZZ_JOBS:-$(nproc)}" --target response_fuzz
built=$(date +%s)
echo "run_fuzz: built in $((built - started)) s; fuzzing for $seconds s"

# The corpus grows in a scratch folder: the seeds in the tree stay as they are.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/corpus/"* "$work/"
mkdir -p "$build/findings"
status=0
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/test/fuzz/response_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -dict="$here/response.dict" -artifact_prefix="$build/findings/" -print_final_stats=1 "$work" \
    >"$build/fuzz.log" 2>&1 || status=$?
ended=$(date +%s)
if [ "$status" -ne 0 ]; then
    tail -n 80 "$build/fuzz.log" >&2  # the report; libFuzzer's progress lines are in the log
    echo "run_fuzz: FINDING (exit $status) after $((ended - built)) s: see $build/fuzz.log and $build/findings/" >&2
    exit 1
fi
grep '^stat::' "$build/fuzz.log" || true
echo "run_fuzz: no finding in $((ended - built)) s ($((ended - started)) s with the build)"
