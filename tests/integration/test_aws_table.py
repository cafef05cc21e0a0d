#!/usr/bin/python3
"""test_aws_table.py - `ecsched next` against a hand-checked table for what
no Python library implements: AWS cron()'s L, W, # and LW, rate() and at(),
plus schedules that can never fire (which must come back NEVER at once).

Each expected date was worked out from AWS's documentation and checked with
the independent calendar helpers below (not with ecsched).

Run: /usr/bin/python3 tests/integration/test_aws_table.py --bin build/ecsched
"""
import calendar
import sys
from datetime import date

import refcron


def last_weekday_of(y, m, wd):
    """Date of the last `wd` (0 = Monday) of month m."""
    last = calendar.monthrange(y, m)[1]
    d = date(y, m, last)
    while d.weekday() != wd:
        d = date(y, m, d.day - 1)
    return d


def nth_weekday_of(y, m, wd, n):
    d = date(y, m, 1)
    while d.weekday() != wd:
        d = date(y, m, d.day + 1)
    day = d.day + 7 * (n - 1)
    return date(y, m, day) if day <= calendar.monthrange(y, m)[1] else None


def nearest_weekday(y, m, n):
    """AWS W: the weekday nearest day n, never leaving the month."""
    last = calendar.monthrange(y, m)[1]
    d = date(y, m, n)
    if d.weekday() == 5:
        return date(y, m, n - 1) if n > 1 else date(y, m, n + 2)
    if d.weekday() == 6:
        return date(y, m, n + 1) if n < last else date(y, m, n - 2)
    return d


def last_weekday(y, m):
    last = date(y, m, calendar.monthrange(y, m)[1])
    while last.weekday() >= 5:
        last = date(y, m, last.day - 1)
    return last


def at(d, hhmm, off="+00:00"):
    return f"{d.isoformat()}T{hhmm}:00{off}"


def table():
    """(expr, zone, from, expected list)."""
    rows = []
    months_2026 = [(2026, m) for m in range(1, 13)]
    # L: last day of the month, every month of 2026 (leap 2028 too)
    rows.append(("cron(0 0 L * ? *)", "UTC", "2025-12-31T12:00:00Z",
                 [at(date(y, m, calendar.monthrange(y, m)[1]), "00:00") for y, m in months_2026]))
    rows.append(("cron(30 6 L 2 ? *)", "UTC", "2027-03-01T00:00:00Z",
                 [at(date(2028, 2, 29), "06:30"), at(date(2029, 2, 28), "06:30")]))
    # LW: last weekday of the month
    rows.append(("cron(0 17 LW * ? *)", "UTC", "2025-12-31T18:00:00Z",
                 [at(last_weekday(y, m), "17:00") for y, m in months_2026]))
    # nW for several n, including the month edges
    for n in (1, 3, 15, 28, 30, 31):
        want = []
        for y, m in months_2026:
            if n <= calendar.monthrange(y, m)[1]:
                want.append(at(nearest_weekday(y, m, n), "09:00"))
        rows.append((f"cron(0 9 {n}W * ? 2026)", "UTC", "2025-12-31T12:00:00Z", want))
    # nL: last given weekday (AWS 1 = SUN .. 7 = SAT; Python 0 = Monday)
    for aws, py in ((1, 6), (2, 0), (6, 4), (7, 5)):
        rows.append((f"cron(0 10 ? * {aws}L 2026)", "UTC", "2025-12-31T12:00:00Z",
                     [at(last_weekday_of(y, m, py), "10:00") for y, m in months_2026]))
    rows.append(("cron(0 10 ? * FRIL 2026)", "UTC", "2025-12-31T12:00:00Z",
                 [at(last_weekday_of(y, m, 4), "10:00") for y, m in months_2026]))
    # L alone in day-of-week: Saturday
    sats = [date(2026, 1, d) for d in (3, 10, 17, 24, 31)]
    rows.append(("cron(0 8 ? * L *)", "UTC", "2026-01-01T00:00:00Z", [at(d, "08:00") for d in sats]))
    # #: nth weekday, including 5th (skipped in months without one)
    for aws, py in ((2, 0), (3, 1), (6, 4), (1, 6)):
        for k in (1, 2, 3, 5):
            want = []
            for y, m in months_2026:
                d = nth_weekday_of(y, m, py, k)
                if d is not None:
                    want.append(at(d, "12:00"))
            rows.append((f"cron(0 12 ? * {aws}#{k} 2026)", "UTC", "2025-12-31T13:00:00Z", want))
    rows.append(("cron(0 12 ? * MON#1 2026)", "UTC", "2025-12-31T13:00:00Z",
                 [at(nth_weekday_of(y, m, 0, 1), "12:00") for y, m in months_2026]))
    # in a zone with DST: last Friday 02:30 New York, around the 2027 change
    rows.append(("cron(30 2 ? * 6L 2027)", "America/New_York", "2027-02-01T00:00:00-05:00",
                 ["2027-02-26T02:30:00-05:00", "2027-03-26T02:30:00-04:00"]))
    # 2027-03-14 is the second Sunday of March: 02:30 is in the gap
    rows.append(("cron(30 2 ? * 1#2 2027)", "America/New_York", "2027-03-01T00:00:00-05:00",
                 ["2027-03-14T03:30:00-04:00", "2027-04-11T02:30:00-04:00"]))

    # rate(): elapsed time from 1970-01-01T00:00:00Z
    rows.append(("rate(5 minutes)", "UTC", "2026-01-01T00:02:00Z",
                 ["2026-01-01T00:05:00+00:00", "2026-01-01T00:10:00+00:00", "2026-01-01T00:15:00+00:00"]))
    rows.append(("rate(1 minute)", "UTC", "2026-01-01T00:00:00Z",
                 ["2026-01-01T00:01:00+00:00", "2026-01-01T00:02:00+00:00"]))
    rows.append(("rate(7 hours)", "UTC", "1970-01-01T00:00:00Z",
                 ["1970-01-01T07:00:00+00:00", "1970-01-01T14:00:00+00:00"]))
    rows.append(("rate(1 day)", "America/New_York", "2026-03-07T12:00:00-05:00",
                 ["2026-03-07T19:00:00-05:00", "2026-03-08T20:00:00-04:00", "2026-03-09T20:00:00-04:00"]))
    rows.append(("rate(12 hours)", "Australia/Lord_Howe", "2026-04-04T00:00:00Z",
                 ["2026-04-04T23:00:00+11:00", "2026-04-05T10:30:00+10:30", "2026-04-05T22:30:00+10:30"]))

    # at(): once, at a wall time in the zone
    rows.append(("at(2027-01-01T09:00:00)", "UTC", "2026-01-01T00:00:00Z", ["2027-01-01T09:00:00+00:00"]))
    rows.append(("at(2027-07-01T09:00:00)", "Asia/Kathmandu", "2026-01-01T00:00:00Z",
                 ["2027-07-01T09:00:00+05:45"]))
    rows.append(("at(2027-03-14T02:30:00)", "America/New_York", "2026-01-01T00:00:00Z",
                 ["2027-03-14T03:30:00-04:00"]))
    rows.append(("at(2026-11-01T01:30:00)", "America/New_York", "2026-01-01T00:00:00Z",
                 ["2026-11-01T01:30:00-04:00"]))
    rows.append(("at(2020-01-01T09:00:00)", "UTC", "2026-01-01T00:00:00Z", []))
    return rows


# Never fires: each must answer NEVER, and quickly.
NEVER = [
    "cron(0 0 30 2 ? *)", "cron(0 0 31 4 ? *)", "crontab(0 0 31 2 *)", "crontab(0 0 30 2 *)",
    "0 0 0 * * 31 2", "0 0 0 * * 30 2", "cron(0 0 1 1 ? 1999-2005)", "0 0 0 * * 1 1 1990-2000",
    "0 0 0 mon * 29 2 2100", "cron(0 0 29 2 ? 2100)", "cron(0 0 ? 2 2#5 2026)",
    "0 0 0 * * 5th_mon 2 2026",
]


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    tally = refcron.Tally("aws_table")
    rows = table()
    batch = [(z, f, max(1, len(w)), e) for e, z, f, w in rows]
    batch += [("UTC", "2026-01-01T00:00:00Z", 3, e) for e in NEVER]
    got = refcron.run_batch(args.bin, batch)
    for (expr, zone, frm, want), line in zip(rows, got):
        have = [] if line == "NEVER" else line.split(" ")
        tally.check(have == want, f"{expr!r} {zone} from {frm}\n    want {want}\n    got  {have}")
    for expr, line in zip(NEVER, got[len(rows):]):
        tally.check(line == "NEVER", f"{expr!r} should never fire, got {line}")
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
