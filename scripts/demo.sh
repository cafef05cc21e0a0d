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

# The jobs API, in the foreground, with its state in ./.ecsched (only on a
# terminal, so that scripted runs of the demo end by themselves).
if [ -t 0 ] && [ -t 1 ]; then
    echo
    echo "Starting the jobs API on http://127.0.0.1:5000 (store ./.ecsched/jobs.db; Ctrl-C stops it)."
    echo "In another terminal, for example:"
    echo "  curl -i localhost:5000/jobs -H 'Content-Type: application/json' \\"
    echo "       -d '{\"taskDefinition\": \"sleeper-task\", \"schedule\": \"? */5\"}'"
    echo "  curl localhost:5000/jobs/sleeper-task"
    echo "  curl localhost:5000/jobs"
    ECSCHED_STATE_DIR=./.ecsched exec "$BIN" serve --listen 127.0.0.1:5000
fi
