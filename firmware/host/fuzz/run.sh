#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang and run each for N seconds (default 60),
# then print one line per harness with its executions per second (from libFuzzer's
# final "#N DONE ... exec/s: X" stats line). Exit status is non-zero if any harness
# crashed, leaked, timed out or hit a sanitizer report; the reproducer is kept in
# build/fuzz/artifacts/.
#
#   firmware/host/fuzz/run.sh [SECONDS] [HARNESS...]
#   harnesses: server_msg manifest console image eventline answer (default: all)
#   env: TEDDY_FUZZ_BUILD (build dir, default <repo>/build/fuzz), CC (default clang),
#        TEDDY_FUZZ_JOBS (parallel build jobs, default nproc)
set -euo pipefail

secs="${1:-60}"
shift || true
case "$secs" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS] [HARNESS...]" >&2; exit 2 ;;
esac
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
    harnesses=(server_msg manifest console image eventline answer)
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
build="${TEDDY_FUZZ_BUILD:-$repo/build/fuzz}"
cc="${CC:-clang}"
jobs="${TEDDY_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"

cmake -S "$repo/firmware/host" -B "$build" -DTEDDY_FUZZ=ON -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target teddy_fuzzers >/dev/null

artifacts="$build/artifacts"
mkdir -p "$artifacts"
status=0
printf '%-12s %10s %12s %8s %s\n' harness runs exec/s cov result
for h in "${harnesses[@]}"; do
    bin="$build/fuzz/fuzz_$h"
    seeds="$build/fuzz/corpus/$h"
    work="$build/work/$h" # libFuzzer adds new inputs to the first dir; seeds stay clean
    log="$build/fuzz_$h.log"
    if [ ! -x "$bin" ]; then
        echo "unknown harness: $h" >&2
        status=1
        continue
    fi
    mkdir -p "$work"
    set +e
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$h-" "$work" "$seeds" >"$log" 2>&1
    rc=$?
    set -e
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
    runs="$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$done_line")"
    eps="$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$done_line")"
    cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$done_line")"
    if [ -z "$eps" ]; then # no DONE line: use the stats dump
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
        eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    fi
    result=ok
    if [ $rc -ne 0 ]; then
        result="FAILED (rc=$rc, see $log)"
        status=1
    fi
    printf '%-12s %10s %12s %8s %s\n' "$h" "${runs:-?}" "${eps:-?}" "${cov:-?}" "$result"
done
exit $status
