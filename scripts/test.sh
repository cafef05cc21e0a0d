#!/bin/sh
# test.sh - build and run every test, with the normal build and (unless
# --fast) with AddressSanitizer + UndefinedBehaviorSanitizer. The two
# builds' suites run side by side (TEST_SERIAL=1: one after the other):
# most of the time goes to integration tests waiting on daemons, kills and
# clocks, which two cores can do twice at once. Each suite prints "N
# passed, N failed" (and ", N skipped" for parts that cannot run here,
# with SKIPPED lines saying why); this script adds them up and ends with
# "N passed, N failed, N skipped" for the whole run. Exit status is
# non-zero on any failure; a skip is not one.
set -u

cd "$(dirname "$0")/.." || exit 2
JOBS=$(nproc 2>/dev/null || echo 2)
builds="build"
if [ "${1:-}" != "--fast" ]; then
    builds="build build-san"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_suite BUILD NAME CMD...: run one suite, echo its output, add its
# counts to BUILD's tally.
run_suite() {
    b=$1
    name=$2
    shift 2
    log="$work/$b.suite"
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(printf '%s\n' "$line" | sed -n 's/.*\([^0-9]\|^\)\([0-9][0-9]*\) passed.*/\2/p')
    f=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
    k=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p')
    [ -n "$p" ] || p=0
    [ -n "$f" ] || f=0
    [ -n "$k" ] || k=0
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "SUITE $name exited with status $rc"
        f=1
    fi
    read -r tp tf tk <"$work/$b.tally"
    echo "$((tp + p)) $((tf + f)) $((tk + k))" >"$work/$b.tally"
}

# run_build BUILD: build it and run every suite on it.
run_build() {
    b=$1
    san=0
    [ "$b" = build-san ] && san=1
    echo "0 0 0" >"$work/$b.tally"
    echo "== building ($b)"
    if ! make --no-print-directory -j"$JOBS" SAN=$san all >"$work/$b.make" 2>&1; then
        cat "$work/$b.make"
        echo "build $b failed"
        echo "0 1 0" >"$work/$b.tally"
        return
    fi
    for t in "$b"/tests/test_*; do
        [ -x "$t" ] || continue
        run_suite "$b" "$b/$(basename "$t")" "$t"
    done
    # every fuzz corpus and regression file through its target (seconds)
    run_suite "$b" "$b/fuzz-replay" sh scripts/fuzz.sh replay "$b"
    for t in tests/integration/test_*.sh tests/integration/test_*.py; do
        [ -f "$t" ] || continue
        case "$t" in
        *.py) run_suite "$b" "$b/$(basename "$t")" /usr/bin/python3 "$t" --bin "$b/ecsched" ;;
        *.sh) run_suite "$b" "$b/$(basename "$t")" sh "$t" "$b/ecsched" ;;
        esac
    done
}

if [ "${TEST_SERIAL:-0}" = 1 ]; then
    for b in $builds; do
        run_build "$b"
    done
else
    for b in $builds; do
        run_build "$b" >"$work/$b.out" 2>&1 &
    done
    wait
    for b in $builds; do
        cat "$work/$b.out"
    done
fi

total_pass=0
total_fail=0
total_skip=0
for b in $builds; do
    read -r p f k <"$work/$b.tally"
    echo "== $b: $p passed, $f failed, $k skipped"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + k))
done
echo "== all suites"
if [ "$total_skip" -gt 0 ]; then
    echo "skipped (the suites' SKIPPED lines say why):"
    grep -h '^SKIPPED' "$work"/*.out "$work"/*.suite 2>/dev/null | sort -u
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
