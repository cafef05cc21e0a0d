#!/bin/sh
# demo.sh - show what ecsched's schedule engine does today: the next fire
# times of one example of every dialect, in a few time zones, including a
# daylight-saving change handled by ecsched's rule.
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
