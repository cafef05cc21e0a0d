#!/bin/sh
# demo.sh - show what ecsched does today: the next fire times of one example
# of every schedule dialect, in a few time zones, including a daylight-saving
# change handled by ecsched's rule; then the daemon firing seed 004's jobs.
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
# definitions, state in ./.ecsched) with seed 004's example jobs, narrating
# each firing and finished run with the tasks' own output. On a terminal it
# runs until Ctrl-C; otherwise (piped, in CI) for DEMO_SECONDS (default
# 40), so scripted runs end by themselves. DEMO_SECONDS also bounds a run
# on a terminal.
STATE=${ECSCHED_DEMO_STATE:-./.ecsched}
PORT=${ECSCHED_DEMO_PORT:-5000}
SECONDS_TO_RUN=${DEMO_SECONDS:-}
if [ -z "$SECONDS_TO_RUN" ] && ! { [ -t 0 ] && [ -t 1 ]; }; then
    SECONDS_TO_RUN=40
fi
mkdir -p "$STATE"
echo
if [ -n "$SECONDS_TO_RUN" ]; then
    echo "Starting ecsched on http://127.0.0.1:$PORT for $SECONDS_TO_RUN s (state in $STATE,"
    echo "local launcher, task definitions in examples/task-definitions; DEMO_SECONDS sets how long)."
else
    echo "Starting ecsched on http://127.0.0.1:$PORT (state in $STATE, local launcher,"
    echo "task definitions in examples/task-definitions). Ctrl-C stops it."
fi
: >"$STATE/events.log"
ECSCHED_STATE_DIR=$STATE "$BIN" serve --listen "127.0.0.1:$PORT" \
    --task-definitions examples/task-definitions --log-dir "$STATE/logs" \
    --poll-interval 1 2>>"$STATE/events.log" &
pid=$!
follower=
stop() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # the narrator reads what the daemon wrote last, then goes
    sleep 1
    [ -n "$follower" ] && kill "$follower" 2>/dev/null
    echo
    echo "ecsched stopped."
    exit 0
}
trap stop INT TERM
# seed 004's jobs, with schedules quick enough to watch. consumer-task has
# seed 004's sqs trigger only where there is an SQS to ask (AWS settings in
# the environment); without one it runs on its schedule alone.
/usr/bin/python3 - "$PORT" <<'PY'
import http.client, json, os, sys, time
port = int(sys.argv[1])
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
consumer = {"taskDefinition": "consumer-task", "schedule": "*/20", "maxCount": 10}
if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_REGION"):
    consumer["trigger"] = {"type": "sqs", "queueName": "consumer-task-queue"}
else:
    print("(no AWS settings in the environment: consumer-task runs on its schedule, "
          "without seed 004's sqs trigger)")
jobs = [
    {"taskDefinition": "sleeper-task", "schedule": "*/10"},
    {"taskDefinition": "sleeper-task", "id": "long-sleep-task", "schedule": "5/15",
     "overrides": [{"containerName": "sleeper-container", "environment": {"SLEEP_SECONDS": "10"}}]},
    consumer,
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
echo "Runs as the jobs fire and their tasks end, with the tasks' output (events in"
echo "$STATE/events.log; try: curl localhost:$PORT/jobs/sleeper-task/runs):"
# follow the daemon's JSON-lines events and say them in words
tail -n +1 -F "$STATE/events.log" 2>/dev/null |
    /usr/bin/python3 -u scripts/demo_events.py "$STATE/logs" &
follower=$!
if [ -n "$SECONDS_TO_RUN" ]; then
    sleep "$SECONDS_TO_RUN" &
    wait $! || true
    stop
fi
wait "$pid"
