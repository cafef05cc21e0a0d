#!/bin/sh
# fuzz.sh - the fuzz targets of tests/fuzz/.
#   fuzz.sh replay BUILD      every file of tests/fuzz/corpus/NAME/ through
#                             BUILD/fuzz/replay_NAME (make test; seconds)
#   fuzz.sh run FBUILD SECS [NAMES]
#                             each libFuzzer target FBUILD/fuzz_NAME (or only
#                             those NAMES, space-separated) for SECS seconds,
#                             one at a time, then executions and findings per
#                             target (make fuzz [FUZZ_TARGETS=NAMES])
# New inputs go to FBUILD/corpus/NAME (the tree's corpus is read, never
# written); a crash is written to FBUILD/findings/NAME/ and counted: copy it
# into tests/fuzz/corpus/NAME/ as crash-... once fixed. Prints
# "N passed, N failed" like every suite; non-zero on any finding.
set -u

cd "$(dirname "$0")/.." || exit 2
mode=${1:-}
dir=${2:-}
pass=0
fail=0

case "$mode" in
replay)
    for bin in "$dir"/fuzz/replay_*; do
        [ -x "$bin" ] || continue
        name=${bin##*/replay_}
        corpus=tests/fuzz/corpus/$name
        if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
            echo "FAIL fuzz replay $name: no corpus in $corpus"
            fail=$((fail + 1))
            continue
        fi
        # find | xargs: corpora may outgrow one command line
        if find "$corpus" -type f -print0 | xargs -0 "$bin" >/dev/null; then
            echo "ok   fuzz replay $name ($(find "$corpus" -type f | wc -l) files)"
            pass=$((pass + 1))
        else
            echo "FAIL fuzz replay $name"
            fail=$((fail + 1))
        fi
    done
    ;;
run)
    secs=${3:-600}
    only=${4:-}
    for bin in "$dir"/fuzz_*; do
        [ -x "$bin" ] || continue
        name=${bin##*/fuzz_}
        case " $only " in
        "  " | *" $name "*) ;;
        *) continue ;;
        esac
        work=$dir/corpus/$name
        # a directory per run, so a fixed finding of an earlier run is not
        # counted again
        found=$dir/findings/$name/$(date +%Y%m%dT%H%M%S)
        log=$dir/fuzz_$name.log
        mkdir -p "$work" "$found"
        # tests/fuzz/NAME.dict, when there is one, holds the input's syntax
        set --
        [ -f "tests/fuzz/$name.dict" ] && set -- -dict="tests/fuzz/$name.dict"
        echo "== fuzz $name for ${secs}s"
        "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$found/" "$@" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        findings=$(find "$found" -type f | wc -l)
        echo "fuzz $name: ${execs:-?} executions (${rate:-?}/s), $findings findings (log $log)"
        if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
            grep -a -E 'ERROR|SUMMARY|property failed|Test unit written' "$log" | cut -c1-300 |
                head -n 5
            fail=$((fail + 1))
        else
            pass=$((pass + 1))
        fi
    done
    ;;
*)
    echo "usage: fuzz.sh replay BUILD | fuzz.sh run FUZZ_BUILD SECONDS [NAMES]" >&2
    exit 2
    ;;
esac

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
