#!/bin/sh
# bench.sh BUILD_DIR - run every benchmark program in BUILD_DIR/bench/.
# Benchmarks print figures (with a peer's beside them where one exists);
# they never fail on a slow result.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
for b in "$BUILD"/bench/*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
    echo
done
# benchmarks that drive the real binary over its interfaces
for s in bench/*.sh; do
    [ -f "$s" ] || continue
    echo "== $(basename "$s" .sh)"
    sh "$s" "$BUILD/ecsched"
    echo
done
