#!/usr/bin/python3
"""croniter_rate.py - croniter's next-fire rate, the peer figure that
bench/next_fire prints beside ecsched's. Reads lines ZONE<TAB>EXPR on stdin
and prints ZONE<TAB>EXPR<TAB>computations-per-second for each, chaining
get_next() from 2026-01-01 00:00 in that zone for about half a second."""
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter

SECONDS = 0.5


def rate(zone, expr):
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo(zone))
    it = croniter(expr, start)
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + SECONDS
    while True:
        for _ in range(100):
            # restart past 2100, as the C side does, so rare schedules
            # never run into datetime's year 9999 limit
            if it.get_next(datetime).year > 2100:
                it = croniter(expr, start)
        n += 100
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0)


for line in sys.stdin:
    line = line.rstrip("\n")
    if not line:
        continue
    zone, expr = line.split("\t", 1)
    try:
        figure = f"{rate(zone, expr):.0f}"
    except Exception as e:  # report and go on with the other cases
        print(f"croniter_rate: {zone} {expr}: {e}", file=sys.stderr)
        figure = "0"
    print(f"{zone}\t{expr}\t{figure}", flush=True)
