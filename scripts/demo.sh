#!/bin/sh
# demo.sh - show what ecsched does today: the next fire times of one example
# of every schedule dialect, in a few time zones, including a daylight-saving
# change handled by ecsched's rule; then (on a terminal) the jobs API.
set -eu
BIN=${1:-build/ecsched}

show() {
    zone=$1
    from=$2
    expr=$3
    count=${4:-4}
    printf '\n$ ecsched next %s --tz %s --from %s --count %s\n' "'$expr'" "$zone" "$from" "$count"
    "$BIN" next "$expr" --tz "$zone" --from "$from" --count "$count"
}

echo "ecsched demo: next fire times (see docs/schedules.md)"
show UTC 2026-01-01T00:00:00Z '? */5'
show America/New_York 2026-01-01T00:00:00 '0 0 9 mon-fri'
show Europe/London 2026-01-01T00:00:00 'cron(0 18 ? * MON-FRI *)'
show UTC 2026-01-01T00:00:00Z 'cron(0 10 ? * 6L *)'
show Asia/Kathmandu 2026-01-01T00:00:00 'crontab(30 2 1 * *)'
show UTC 2026-01-01T00:02:00Z 'rate(5 minutes)'
show America/New_York 2026-01-01T00:00:00 'at(2027-03-14T02:30:00)'
echo
echo "Daylight saving in New York, 2024: the repeated 01:xx hour fires once,"
echo "the skipped 02:xx hour fires shifted by the gap:"
show America/New_York 2024-11-03T00:50:00 'crontab(*/15 * * * *)' 6
show America/New_York 2024-03-10T01:40:00 'crontab(*/15 * * * *)' 6

# The daemon (API and scheduler, local launcher with the example task
# definitions, state in ./.ecsched) with seed 004's example jobs, showing
# the tasks' output as they run. Only on a terminal, so that scripted runs
# of the demo end by themselves.
if [ -t 0 ] && [ -t 1 ]; then
    STATE=./.ecsched
    PORT=${ECSCHED_DEMO_PORT:-5000}
    mkdir -p "$STATE"
    echo
    echo "Starting ecsched on http://127.0.0.1:$PORT (state in $STATE, local launcher,"
    echo "task definitions in examples/task-definitions). Ctrl-C stops it."
    ECSCHED_STATE_DIR=$STATE "$BIN" serve --listen "127.0.0.1:$PORT" \
        --task-definitions examples/task-definitions --log-dir "$STATE/logs" \
        --poll-interval 1 2>"$STATE/events.log" &
    pid=$!
    trap 'kill "$pid" 2>/dev/null; wait "$pid"; echo; echo "ecsched stopped."; exit 0' INT TERM
    # seed 004's jobs, with schedules quick enough to watch
    /usr/bin/python3 - "$PORT" <<'PY'
import http.client, json, sys, time
port = int(sys.argv[1])
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
jobs = [
    {"taskDefinition": "sleeper-task", "schedule": "*/10"},
    {"taskDefinition": "sleeper-task", "id": "long-sleep-task", "schedule": "5/15",
     "overrides": [{"containerName": "sleeper-container", "environment": {"SLEEP_SECONDS": "10"}}]},
    {"taskDefinition": "consumer-task", "schedule": "*/20", "maxCount": 10},
]
for j in jobs:
    c.request("DELETE", "/jobs/" + j.get("id", j["taskDefinition"])); c.getresponse().read()
    c.request("POST", "/jobs", json.dumps(j), {"Content-Type": "application/json"})
    r = c.getresponse(); print(f"POST /jobs {json.dumps(j)} -> {r.status}"); r.read()
c.request("GET", "/jobs"); r = c.getresponse()
for j in json.loads(r.read())["jobs"]:
    print(f"  {j['id']:16} schedule {j['schedule']:6} next {j.get('estimatedNextRun')}")
PY
    echo
    echo "Runs as the jobs fire and their tasks end (events in $STATE/events.log;"
    echo "try: curl localhost:$PORT/jobs/sleeper-task/runs):"
    # follow the daemon's JSON-lines events and say them in words
    tail -n 0 -F "$STATE/events.log" 2>/dev/null | /usr/bin/python3 -u scripts/demo_events.py &
    follower=$!
    trap 'kill "$pid" 2>/dev/null; wait "$pid"; kill "$follower" 2>/dev/null; echo; echo "ecsched stopped."; exit 0' INT TERM
    wait "$pid"
fi
