#!/bin/sh
# soak.sh [BUILD_DIR [KILLS]] - the kill -9 chaos test at length: 50 jobs on
# the local launcher, the daemon killed KILLS times (default 300, about 25
# minutes) and every scheduled second accounted for. SOAK_SEED=S picks the
# random moments. Ends with the test's "N passed, N failed" line; exits
# non-zero when any figure is not 0 (the temp dir is kept and named).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:-build}
KILLS=${2:-300}
if [ -n "${SOAK_SEED:-}" ]; then
    exec /usr/bin/python3 tests/integration/test_chaos.py --bin "$BUILD/ecsched" --kills "$KILLS" --seed "$SOAK_SEED"
fi
exec /usr/bin/python3 tests/integration/test_chaos.py --bin "$BUILD/ecsched" --kills "$KILLS"
