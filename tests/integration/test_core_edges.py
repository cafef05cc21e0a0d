#!/usr/bin/python3
"""test_core_edges.py - issue 13's core findings through the real daemon:
a job anchored before 1970 (finding 1: the sanitizer build aborted, then
exited at every restart with the job stored; the plain build never fired
it) is accepted, has a next run and survives a restart; a datetime whose
offset carries it before year 0000 (finding 8) is refused with a message;
a scheduleStart read in a zone east of UTC in year 0000 is shown as one the
API reads back.

Run: /usr/bin/python3 tests/integration/test_core_edges.py --bin build/ecsched
"""
import datetime
import os
import re
import sys
import tempfile

import refcron
from test_api import JSON, Server


# what ecsched writes (Python's datetime stops at year 1, ecsched at 0000)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d(:\d\d)?$")


def parses(text):
    return isinstance(text, str) and ISO.match(text) is not None


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("core_edges")
    with tempfile.TemporaryDirectory(prefix="ecsched-edges-") as tmp:
        srv = Server(os.path.abspath(args.bin), f"sqlite:{tmp}/jobs.db", role="all",
                     extra=["--launcher", "fake"])
        try:
            check_edges(srv, t)
        finally:
            t.check(srv.stop() == 0, "server stopped cleanly")
    return t.finish()


def check_edges(srv, t):
    srv.start()
    job = {"taskDefinition": "t", "schedule": "rate(1 hour)", "scheduleStart": "1013-02-01T00:00"}
    st, body, _ = srv.request("POST", "/jobs", job, JSON)
    t.check(st == 201, f"POST a job anchored in 1013: {st} {body}")
    st, body, _ = srv.request("GET", "/jobs/t")
    nxt = body.get("estimatedNextRun") if isinstance(body, dict) else None
    t.check(st == 200 and parses(nxt), f"its next run: {st} {body}")
    if parses(nxt) and not nxt.startswith("0000"):
        when = datetime.datetime.fromisoformat(nxt)
        now = datetime.datetime.now(datetime.timezone.utc)
        t.check(when > now and when.minute == 0 and when.second == 0,
                f"next run {nxt} is on the hour, after now")
    t.check(srv.stop() == 0, "stopped cleanly with the job stored")
    srv.start()
    st, body, _ = srv.request("GET", "/jobs/t")
    t.check(st == 200, f"restarted with the job stored: {st} {body}")

    bad = {"taskDefinition": "u", "schedule": "0 0", "scheduleStart": "0000-1-1T0:0+05"}
    st, body, _ = srv.request("POST", "/jobs", bad, JSON)
    t.check(st == 400 and "scheduleStart" in str(body), f"start before year 0000: {st} {body}")

    east = {"taskDefinition": "v", "schedule": "0 0", "scheduleStart": "0000-01-01T00:00",
            "timezone": "Asia/Kathmandu"}
    st, body, _ = srv.request("POST", "/jobs", east, JSON)
    t.check(st == 201, f"year 0000 in Asia/Kathmandu: {st} {body}")
    st, body, _ = srv.request("GET", "/jobs/v")
    t.check(st == 200 and parses(body.get("scheduleStart")) and
            parses(body.get("estimatedNextRun")), f"shown readably: {st} {body}")


if __name__ == "__main__":
    sys.exit(main())
