"""refcron.py - shared helpers for the integration tests of `ecsched next`:
run the real binary (one process for many questions, through --batch),
and compute reference answers from APScheduler and croniter evaluated on
wall-clock time with ecsched's DST rule applied on top.

Run by Debian's /usr/bin/python3 (python3-apscheduler, python3-croniter).
"""
import argparse
import bisect
import glob
import heapq
import json
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--bin", default="build/ecsched", help="the ecsched binary")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--cases", type=int, default=0, help="override the case count")
    return ap.parse_args()


def local_tasks_running(logs):
    """Supervisor pids of the local launcher's tasks under logs that still
    run (their state.json not STOPPED, the pid the one that claimed the
    start, by its start time): local tasks outlive `ecsched serve`."""
    pids = []
    for claim in glob.glob(os.path.join(logs, "*", "claim")):
        try:
            with open(claim) as f:
                kind, pid, start = f.read().split()[:3]
            with open(os.path.join(os.path.dirname(claim), "state.json")) as f:
                if json.load(f).get("status") == "STOPPED":
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        # fields[0] is field 3 (state); field 22 is the start time
        if kind == "supervisor" and fields[0] not in ("Z", "X") and fields[19] == start:
            pids.append(int(pid))
    return pids


def stop_local_tasks(logs, timeout=10):
    """StopTask, by hand, for every task under logs that still runs, and wait
    (bounded) until their supervisors are gone: a test's tasks must not
    outlive its temporary directory."""
    for pid in local_tasks_running(logs):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    until = time.monotonic() + timeout
    while local_tasks_running(logs) and time.monotonic() < until:
        time.sleep(0.05)
    return local_tasks_running(logs) == []


def run_batch(binary, rows, timeout=300):
    """rows: (zone, from_iso, count, expr). Returns one output line each."""
    text = "".join(f"{z}\t{f}\t{n}\t{e}\n" for z, f, n, e in rows)
    proc = subprocess.run([binary, "next", "--batch"], input=text, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"ecsched next --batch exited {proc.returncode}: {proc.stderr}")
    lines = proc.stdout.split("\n")
    if len(lines) < len(rows):
        raise RuntimeError(f"batch answered {len(lines)} lines for {len(rows)} questions")
    return lines[: len(rows)]


def run_cli(binary, *args, timeout=30):
    proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def instant(wall, zone):
    """ecsched's DST rule is exactly PEP 495's fold=0: a repeated wall time
    maps to its first occurrence, a skipped one is read with the offset in
    force before the jump (landing later by the size of the gap)."""
    return int(wall.replace(tzinfo=ZoneInfo(zone), fold=0).timestamp())


def fmt(t, zone):
    return datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat()


def local_naive(t, zone):
    return datetime.fromtimestamp(t, ZoneInfo(zone)).replace(tzinfo=None)


def expected_times(walls_from, zone, after, count, horizon):
    """The first `count` distinct instants > after (and <= horizon) of the
    wall times produced by walls_from(start_wall), a generator of naive
    datetimes in increasing order starting at or after start_wall.

    Wall times before local(after) can still land after `after` only when
    `after` lies just past a spring-forward jump (a gap wall time is read
    with the earlier offset), so the walk starts up to 3 hours early then.
    The mapping is off monotonic by at most the gap (1 hour here), so once
    a wall time maps 3 hours past the count-th instant nothing later can
    come before it."""
    start = local_naive(after, zone)
    if ZoneInfo(zone).utcoffset(local_naive(after - 3 * 3600, zone)) != ZoneInfo(zone).utcoffset(start):
        start = start - timedelta(hours=3)
    found = []  # sorted, distinct
    for wall in walls_from(start):
        t = instant(wall, zone)
        if t > horizon + 3 * 3600:
            break
        if after < t <= horizon:
            i = bisect.bisect_left(found, t)
            if i == len(found) or found[i] != t:
                found.insert(i, t)
                del found[count:]
        if len(found) >= count and t > found[count - 1] + 3 * 3600:
            break
    return found[:count]


def aps_walls(fields, end=None):
    """Wall-clock stream from APScheduler's CronTrigger evaluated in UTC.
    fields: the 8 seed-dialect tokens (second .. year); end: a naive wall
    time after which the stream stops (APScheduler otherwise walks day by
    day up to year 9999 looking for a sparse schedule's next firing)."""
    from apscheduler.triggers.cron import CronTrigger

    names = ["second", "minute", "hour", "day_of_week", "week", "day", "month", "year"]
    kw = dict(zip(names, fields))
    # The seed dialect writes the space of "1st mon" as '_' (day field only).
    kw["day"] = kw["day"].replace("_", " ")
    if end is not None:
        kw["end_date"] = end.replace(tzinfo=UTC)
    trigger = CronTrigger(timezone="UTC", **kw)

    def gen(start):
        now = start.replace(tzinfo=UTC)
        while True:
            nxt = trigger.get_next_fire_time(None, now)
            if nxt is None:
                return
            yield nxt.replace(tzinfo=None)
            now = nxt + timedelta(seconds=1)

    return gen


def croniter_walls(expr5, day_or, years=None):
    """Wall-clock stream from croniter on naive datetimes; `years`, when
    given, is a sorted list of allowed years (AWS's sixth field)."""
    from croniter import croniter

    def gen(start):
        t = start  # the next wall time must be >= t
        while True:
            if years is not None:
                later = [y for y in years if y >= t.year]
                if not later:
                    return
                if later[0] > t.year:
                    t = datetime(later[0], 1, 1)
            it = croniter(expr5, t - timedelta(seconds=1), day_or=day_or)
            while True:
                try:
                    nxt = it.get_next(datetime)
                except Exception:  # croniter gives up on far-apart dates
                    return
                if years is not None and nxt.year not in years:
                    t = datetime(nxt.year, 1, 1)
                    break
                yield nxt
    return gen


def expand_field(field, lo, hi):
    """A numeric cron field (`*`, `a`, `a-b`, `a/n`, `a-b/n`, lists) as the
    sorted list of values it names within lo..hi."""
    out = set()
    for item in field.split(","):
        step = 1
        if "/" in item:
            item, s = item.split("/")
            step = int(s)
        if item == "*":
            a, b = lo, hi
        elif "-" in item:
            a, b = (int(x) for x in item.split("-"))
        else:
            a = int(item)
            b = hi if step != 1 else a
        out.update(range(a, b + 1, step))
    return sorted(out)


def expand_years(field):
    """AWS year field -> sorted list of years."""
    return expand_field(field, 1970, 2199)


def aws_to_croniter(expr):
    """cron(m h dom mon dow year) without L/W/# -> (croniter expr, years)."""
    inner = expr[len("cron("):-1].split()
    m, h, dom, mon, dow, year = inner
    if dow != "?":
        def one(tok):
            return str(int(tok) - 1) if tok.isdigit() else tok
        parts = []
        for item in dow.split(","):
            parts.append("-".join(one(x) for x in item.split("-")))
        dow = ",".join(parts)
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else dow
    return f"{m} {h} {dom} {mon} {dow}", expand_years(year)


def dom_days(dom):
    """The days a day-of-month field names, as a sorted list."""
    return expand_field(dom, 1, 31)


def by_day_walls(m, h, dom, mon, dow, years=None):
    """croniter with the day-of-month given one day at a time, merged.
    croniter 1.3.5 mishandles lists holding days that a month lacks: from
    2026-02-28, '0 0 1,30 * *' answers 30 March, skipping 1 March; with a
    single day per expression it is right."""
    if dom == "*":
        return croniter_walls(f"{m} {h} * {mon} {dow}", False, years)
    streams = [croniter_walls(f"{m} {h} {d} {mon} {dow}", False, years) for d in dom_days(dom)]
    return union_walls(*streams)


def union_walls(*streams):
    """The sorted union of wall-clock streams, without repeats."""
    def gen(start):
        last = None
        for w in heapq.merge(*(s(start) for s in streams)):
            if w != last:
                yield w
            last = w
    return gen


MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def reference_walls(expr, end=None):
    """The wall-clock stream of any dialect that has a Python reference;
    end (naive wall time) bounds the work of the seed dialect's reference."""
    if expr.startswith("cron("):
        c, years = aws_to_croniter(expr)
        return by_day_walls(*c.split(), years=years)
    if expr.startswith("crontab(") or expr.startswith("@"):
        body = expr[len("crontab("):-1] if expr.startswith("crontab(") else MACROS[expr]
        m, h, dom, mon, dow = body.split()
        # Vixie: OR only when neither day field's text starts with '*'. The
        # OR is the union of a day-of-month stream and a day-of-week stream
        # (croniter's own day_or gives up when the day-of-month alone is
        # impossible, such as 31 in November, though weekdays still match).
        if not dom.startswith("*") and not dow.startswith("*"):
            return union_walls(by_day_walls(m, h, dom, mon, "*"),
                               by_day_walls(m, h, "*", mon, dow))
        return by_day_walls(m, h, dom, mon, dow)
    fields = expr.split()
    fields += ["*"] * (8 - len(fields))
    return aps_walls(fields, end)


class Tally:
    """Counts cases and prints the closing line the test runner reads."""

    def __init__(self, suite, show=20):
        self.suite = suite
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.skip_reasons = []
        self.show = show

    def skip(self, reason):
        """A part that cannot run here, and why: counted and said, never a
        failure and never silent."""
        self.skipped += 1
        self.skip_reasons.append(reason)
        print(f"SKIPPED {reason}")

    def check(self, ok, detail):
        if ok:
            self.passed += 1
            return
        self.failed += 1
        if self.failed <= self.show:
            print(f"MISMATCH {detail}")

    def finish(self):
        tail = f", {self.skipped} skipped" if self.skipped else ""
        print(f"{self.suite}: {self.passed} passed, {self.failed} failed{tail}")
        return 0 if self.failed == 0 else 1
