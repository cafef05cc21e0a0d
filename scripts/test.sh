#!/bin/sh
# test.sh - build and run every test, first with the normal build, then
# (unless --fast) with AddressSanitizer + UndefinedBehaviorSanitizer. Each
# suite prints "N passed, N failed"; this script adds them up and ends with
# the same line for the whole run. Exit status is non-zero on any failure.
set -u

cd "$(dirname "$0")/.." || exit 2
JOBS=$(nproc 2>/dev/null || echo 2)
builds="build"
if [ "${1:-}" != "--fast" ]; then
    builds="build build-san"
fi

total_pass=0
total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_suite NAME CMD...: run one suite, echo its output, add its counts.
run_suite() {
    name=$1
    shift
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(printf '%s\n' "$line" | sed -n 's/.*\([^0-9]\|^\)\([0-9][0-9]*\) passed.*/\2/p')
    f=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
    [ -n "$p" ] || p=0
    [ -n "$f" ] || f=0
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "SUITE $name exited with status $rc"
        f=1
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

for b in $builds; do
    san=0
    [ "$b" = build-san ] && san=1
    echo "== building ($b)"
    if ! make --no-print-directory -j"$JOBS" SAN=$san all >"$log" 2>&1; then
        cat "$log"
        echo "build $b failed"
        total_fail=$((total_fail + 1))
        continue
    fi
    for t in "$b"/tests/test_*; do
        [ -x "$t" ] || continue
        run_suite "$b/$(basename "$t")" "$t"
    done
    # every fuzz corpus and regression file through its target (seconds)
    run_suite "$b/fuzz-replay" sh scripts/fuzz.sh replay "$b"
    for t in tests/integration/test_*.sh tests/integration/test_*.py; do
        [ -f "$t" ] || continue
        case "$t" in
        *.py) run_suite "$b/$(basename "$t")" /usr/bin/python3 "$t" --bin "$b/ecsched" ;;
        *.sh) run_suite "$b/$(basename "$t")" sh "$t" "$b/ecsched" ;;
        esac
    done
done

echo "== all suites"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
