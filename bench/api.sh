#!/bin/sh
# api.sh BIN - the jobs API under load: `ecsched serve` pinned to core 0
# with a SQLite store holding 10,000 jobs, wrk pinned to core 1. Prints
# requests/s and latency percentiles for GET /jobs/{id}, GET
# /jobs?count=100 and POST /jobs (durable), with the issue's targets.
# Figures only: it never fails on a slow result.
set -eu
BIN=${1:-build/ecsched}
SECONDS_EACH=${BENCH_SECONDS:-5}
JOBS=10000
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if ! command -v wrk >/dev/null 2>&1; then
    echo "api: wrk is not installed (make deps installs it); skipped"
    exit 0
fi
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 0 "$BIN" serve --listen "127.0.0.1:$port" --store "sqlite:$tmp/jobs.db" --threads 1 --role api \
    2>"$tmp/serve.log" &
pid=$!

# Seed through the API itself, so the stored jobs are what clients make.
/usr/bin/python3 - "$port" "$JOBS" <<'PY'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.05)
zones = ["", "America/New_York", "Europe/London", "Asia/Kathmandu"]
for i in range(n):
    body = {"taskDefinition": f"job-{i:05d}", "schedule": "? */5", "timezone": zones[i % 4],
            "overrides": [{"containerName": "app", "environment": {"N": str(i)}}]}
    c.request("POST", "/jobs", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit(f"seeding failed at {i}: {r.status}")
PY

cat >"$tmp/post.lua" <<'LUA'
counter = 0
request = function()
    counter = counter + 1
    local body = string.format('{"taskDefinition": "post-%d-%d", "schedule": "0 */5"}',
                               math.random(1, 2000000000), counter)
    return wrk.format("POST", "/jobs", {["Content-Type"] = "application/json"}, body)
end
LUA

# run NAME TARGET_RPS TARGET_P99_MS [wrk args...]: one measured row
run() {
    name=$1
    want_rps=$2
    want_p99=$3
    shift 3
    taskset -c 1 wrk -t1 -c16 -d"${SECONDS_EACH}s" --latency "$@" >"$tmp/wrk.out" 2>&1
    awk -v name="$name" -v want_rps="$want_rps" -v want_p99="$want_p99" '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Requests\/sec:/ { rps = $2 + 0 }
        /Non-2xx/ { bad = $NF }
        END {
            verdict = (rps >= want_rps && (want_p99 == 0 || p99 <= want_p99)) ? "yes" : "no"
            target = want_p99 > 0 ? sprintf(">= %d/s, p99 <= %d ms", want_rps, want_p99) : sprintf(">= %d/s", want_rps)
            printf "%-28s %10.0f %9.2f %9.2f   %-24s %s%s\n", name, rps, p50, p99, target, verdict, bad != "" ? "  (non-2xx: " bad ")" : ""
        }' "$tmp/wrk.out"
}

echo "jobs API, server on core 0 (1 HTTP thread), wrk on core 1 (16 connections), ${JOBS} jobs stored"
printf "%-28s %10s %9s %9s   %-24s %s\n" "request" "req/s" "p50 ms" "p99 ms" "target" "met"
run "GET /jobs/{id}" 20000 5 "http://127.0.0.1:$port/jobs/job-05001"
run "GET /jobs?count=100" 0 0 "http://127.0.0.1:$port/jobs?count=100&skip=5000"
run "POST /jobs (fsync'd)" 1000 0 -s "$tmp/post.lua" "http://127.0.0.1:$port/jobs"
