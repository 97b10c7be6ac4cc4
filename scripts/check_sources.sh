#!/usr/bin/env bash
# Fast source checks (seconds), run by scripts/test.sh before anything is built:
#   1. every C++ file is formatted as .clang-format says (clang-format 14, Debian's);
#   2. the C++/PostgreSQL boundary (src/pg/cpp_boundary.h) is the only way into the extension:
#      no entry point (SQL function, _PG_init, worker main, hook or callback) written by hand, no
#      PG_TRY outside the three places that own one.
# Exits non-zero, naming each offending file and line, when a check fails.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
fail() { echo "check_sources: $*" >&2; status=1; }

mapfile -t sources < <(git ls-files -co --exclude-standard 'src/*.cpp' 'src/*.h' 'test/*.cpp' 'test/*.h' 'bench/*.cpp' 'bench/*.h' |
    while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done)
CLANG_FORMAT=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$CLANG_FORMAT" ]; then
    fail "clang-format is not installed (Debian package clang-format)"
else
    # One process for every file: it names each file it would change.
    while IFS= read -r f; do fail "$f is not formatted: run $CLANG_FORMAT -i $f"; done < <(
        "$CLANG_FORMAT" --dry-run "${sources[@]}" 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: code should be clang-formatted.*/\1/p' | sort -u)
fi

boundary=(src/pg/cpp_boundary.h src/pg/pg_headers.h)
glue=$(printf '%s\n' "${sources[@]}" | grep '^src/pg/' | grep -vxF -e "${boundary[0]}" -e "${boundary[1]}")
# Entry points are written only by DWU_SQL_FUNCTION, DWU_PG_INIT and DWU_BGWORKER_MAIN.
while IFS= read -r hit; do fail "$hit: an entry point written by hand (use the macros of src/pg/cpp_boundary.h)"; done < <(
    grep -nE 'PG_FUNCTION_INFO_V1|PGDLLEXPORT|PG_MODULE_MAGIC|\(PG_FUNCTION_ARGS\)|extern "C" [^{]' $glue)
# Every function handed to PostgreSQL as a callback goes through dwu_c_callback<>.
while IFS= read -r hit; do fail "$hit: a callback without dwu_c_callback<>"; done < <(
    grep -nE '(RegisterXactCallback|RegisterSubXactCallback|before_shmem_exit|on_shmem_exit|on_proc_exit|RegisterResourceReleaseCallback)\(|(^|[^a-z_])(shmem_request|shmem_startup|planner|ExecutorStart|ExecutorRun|ExecutorFinish|ExecutorEnd|ProcessUtility|post_parse_analyze|emit_log|object_access|ClientAuthentication)_hook = ' $glue |
        grep -v 'dwu_c_callback<')
while IFS= read -r hit; do fail "$hit: a GUC hook without dwu_c_callback<>"; done < <(
    grep -nE '(^|[ (,])(check|assign|show)_[a-z_]+, ' $glue | grep -E 'PGC_' | grep -v 'dwu_c_callback<')
# A PostgreSQL error is caught only where a frame owns no C++ object: pg_guarded, the worker's
# transaction wrapper and its VACUUM call.
while IFS= read -r hit; do fail "$hit: PG_TRY outside the boundary"; done < <(
    grep -nE 'PG_TRY\(\)' $glue | grep -vE '^src/pg/(worker/transaction|capture/captured_changes_vacuum)\.cpp:')
exit $status
