#!/usr/bin/python3
"""test_differential.py - `ecsched next` against reference implementations.

Thousands of generated (expression, zone, start, count) cases: the seed
dialect against APScheduler 3's CronTrigger, crontab and macros against
croniter (with Vixie's OR rule), plain AWS cron() against croniter with the
day-of-week renumbered and the year filtered here. The references run on
wall-clock time and ecsched's DST rule is applied on top (refcron.instant),
so every difference is either a bug or one of the deliberate choices in
docs/schedules.md. Start times are placed just before and after real DST
transitions in several zones, at month ends, leap days and year ends.

Run: /usr/bin/python3 tests/integration/test_differential.py --bin build/ecsched
"""
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import refcron

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu",
         "Pacific/Chatham", "Australia/Sydney", "America/Sao_Paulo", "UTC"]
# References are compared up to this far past the start (APScheduler and
# croniter slow down or give up on very sparse schedules).
HORIZON_YEARS = 12

SEED_FIELDS = [
    ["0", "0", "30", "*/15", "5,35", "10-20/5", "0-59/20", "7/20", "*"],
    ["0", "0", "*/5", "15,45", "0-30/10", "30", "1-5", "5/15", "*"],
    ["*", "0", "1", "2", "3", "1-3", "*/6", "9-17", "0,12", "22-23", "2/3"],
    ["*", "*", "*", "mon-fri", "0", "6", "sat,sun", "0-2", "tue", "*/2", "WED-fri"],
    ["*", "*", "*", "*", "*", "*", "1", "10-20", "*/2", "53", "1,27"],
    ["*", "*", "*", "*", "1", "15", "last", "1st_mon", "last_fri", "5th_sat", "*/7",
     "28-31", "29", "31", "2nd_tue,last", "10-20/3"],
    ["*", "*", "*", "*", "1", "jan-mar", "2", "*/3", "feb,aug", "11-12", "oct", "3,11"],
    ["*", "*", "*", "*", "*", "*", "2024-2030", "*/2", "2025,2027", "2026-2040/3"],
]

CRONTAB_FIELDS = [
    ["0", "*/15", "30", "0,30", "5-10", "*/20", "45", "*", "0-30/10"],
    ["*", "0", "1", "2", "3", "1-3", "*/6", "9-17", "0,12", "23"],
    ["*", "*", "*", "*", "*", "1", "15", "13", "1-7", "*/2", "28-31", "29", "31", "10,20"],
    ["*", "*", "*", "*", "1", "2", "3", "jan-mar", "*/3", "11", "oct-dec"],
    ["*", "*", "*", "*", "*", "1-5", "0", "7", "mon", "fri", "6,0", "*/2", "sun", "1"],
]

AWS_MIN = ["0", "0/15", "30", "5,35", "10-20", "*/20", "0/5", "45"]
AWS_HOUR = ["*", "0", "1", "2", "3", "1-3", "0/6", "9-17", "0,12", "22"]
AWS_DOW = ["MON-FRI", "1", "7", "SUN,SAT", "2-4", "FRI", "*", "3"]
AWS_DOM = ["*", "1", "15", "1-7", "28-31", "31", "29", "10,20", "*/5"]
AWS_MON = ["*", "*", "1", "JAN-MAR", "2", "*/3", "11", "OCT-DEC", "3/4"]
AWS_YEAR = ["*", "*", "*", "2024-2030", "2027", "2026/2", "2025,2028"]


def transitions(zone, first=2020, last=2030):
    """Instants where the zone's offset changes, found by scanning."""
    zi = ZoneInfo(zone)
    out = []
    t = int(datetime(first, 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(last, 12, 31, tzinfo=timezone.utc).timestamp())
    prev = datetime.fromtimestamp(t, zi).utcoffset()
    step = 6 * 3600
    while t < end:
        cur = datetime.fromtimestamp(t + step, zi).utcoffset()
        if cur != prev:
            lo, hi = t, t + step
            while hi - lo > 60:
                mid = (lo + hi) // 2
                if datetime.fromtimestamp(mid, zi).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            prev = cur
        t += step
    return out


def start_times(rng, zone, trans):
    """A start instant: near a DST change, a month end, a leap day, a year
    end, or anywhere in 2020-2035."""
    kind = rng.random()
    if trans and kind < 0.45:
        return rng.choice(trans) + rng.randint(-4 * 3600, 2 * 3600)
    zi = ZoneInfo(zone)
    if kind < 0.6:
        y = rng.randint(2020, 2034)
        m = rng.randint(1, 12)
        nxt = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=zi)
        return int(nxt.timestamp()) - rng.randint(60, 30 * 3600)
    if kind < 0.7:
        d = rng.choice([datetime(2024, 2, 28, 20, tzinfo=zi), datetime(2028, 2, 28, 22, tzinfo=zi),
                        datetime(2100, 2, 28, 20, tzinfo=zi), datetime(2099, 12, 31, 23, tzinfo=zi)])
        return int(d.timestamp()) + rng.randint(-7200, 7200)
    if kind < 0.78:
        y = rng.randint(2020, 2034)
        return int(datetime(y, 12, 31, 22, tzinfo=zi).timestamp()) + rng.randint(0, 7200)
    return rng.randint(int(datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()),
                       int(datetime(2035, 1, 1, tzinfo=timezone.utc).timestamp()))


def gen_seed(rng):
    fields = [rng.choice(opts) for opts in SEED_FIELDS]
    # leave off trailing '*' fields sometimes, as users do
    while len(fields) > 1 and fields[-1] == "*" and rng.random() < 0.7:
        fields.pop()
    return " ".join(fields)


def gen_crontab(rng):
    return "crontab(" + " ".join(rng.choice(opts) for opts in CRONTAB_FIELDS) + ")"


def gen_aws(rng):
    if rng.random() < 0.5:
        dom, dow = "?", rng.choice(AWS_DOW)
    else:
        dom, dow = rng.choice(AWS_DOM), "?"
    return (f"cron({rng.choice(AWS_MIN)} {rng.choice(AWS_HOUR)} {dom} {rng.choice(AWS_MON)} "
            f"{dow} {rng.choice(AWS_YEAR)})")


def gen_macro(rng):
    return rng.choice(sorted(refcron.MACROS))


# The DST examples, written out in full.
REGRESSIONS = [
    ("crontab(30 1 * * *)", "America/New_York", "2024-11-02T12:00:00-04:00",
     ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]),
    ("crontab(*/15 * * * *)", "America/New_York", "2024-11-03T00:50:00-04:00",
     ["2024-11-03T01:00:00-04:00", "2024-11-03T01:15:00-04:00", "2024-11-03T01:30:00-04:00",
      "2024-11-03T01:45:00-04:00", "2024-11-03T02:00:00-05:00"]),
    ("crontab(30 2 * * *)", "America/New_York", "2024-03-09T12:00:00-05:00",
     ["2024-03-10T03:30:00-04:00"]),
    ("0 15 2", "Australia/Lord_Howe", "2024-10-05T12:00:00+10:30",
     ["2024-10-06T02:45:00+11:00"]),
    ("crontab(*/15 * * * *)", "America/New_York", "2024-03-10T01:40:00-05:00",
     ["2024-03-10T01:45:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:15:00-04:00",
      "2024-03-10T03:30:00-04:00"]),
]


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    rng = random.Random(args.seed)
    total = args.cases or 2600
    tally = refcron.Tally("differential")
    trans = {z: transitions(z) for z in ZONES}

    # (kind, expr, zone, after, count)
    cases = []
    mix = [(gen_seed, 0.42), (gen_crontab, 0.33), (gen_aws, 0.20), (gen_macro, 0.05)]
    for _ in range(total):
        r = rng.random()
        acc = 0.0
        gen = mix[-1][0]
        for g, share in mix:
            acc += share
            if r < acc:
                gen = g
                break
        zone = rng.choice(ZONES)
        cases.append((gen(rng), zone, start_times(rng, zone, trans[zone]), rng.randint(1, 8)))

    rows = [(z, datetime.fromtimestamp(a, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), n, e)
            for e, z, a, n in cases]
    rows += [(z, f, len(w), e) for e, z, f, w in REGRESSIONS]
    got = refcron.run_batch(args.bin, rows)

    for (expr, zone, after, count), line in zip(cases, got):
        horizon = after + HORIZON_YEARS * 366 * 86400
        try:
            end = refcron.local_naive(horizon, zone) + timedelta(days=1)
            want = refcron.expected_times(refcron.reference_walls(expr, end), zone, after,
                                          count, horizon)
        except Exception as e:  # a reference that cannot answer is a test bug
            tally.check(False, f"{expr!r} {zone}: reference failed: {e}")
            continue
        want_s = [refcron.fmt(t, zone) for t in want]
        have = [] if line == "NEVER" else line.split(" ")
        if line.startswith("ERROR"):
            have = [line]
        # compare within the horizon the references were asked about
        have_in = [h for h in have
                   if h.startswith("ERROR") or
                   datetime.fromisoformat(h).timestamp() <= horizon][:count]
        tally.check(have_in == want_s,
                    f"{expr!r} zone={zone} after={refcron.fmt(after, zone)} count={count}\n"
                    f"    want {want_s}\n    got  {have}")

    for (expr, zone, frm, want), line in zip(REGRESSIONS, got[len(cases):]):
        tally.check(line.split(" ") == want, f"{expr!r} {zone} {frm}: want {want} got {line}")
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
