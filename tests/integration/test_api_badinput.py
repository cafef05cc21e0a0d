#!/usr/bin/python3
"""test_api_badinput.py - hundreds of malformed requests against the real
server: wrong types for every field, broken and truncated JSON, invalid
UTF-8, deep nesting, huge numbers, oversized bodies, absurd schedules,
wrong media types, methods and paths. Every answer must be a JSON 4xx, and
afterwards the SQLite store must hold byte for byte what it held before.

Run: /usr/bin/python3 tests/integration/test_api_badinput.py --bin build/ecsched
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile

import refcron
from test_api import JSON, Server

BAD_NAMES = [None, 5, "", "a b", "x\n", "a" * 300, [], {}, True, "job:3"]
# a task definition may pin a revision or be an ARN, as RunTask takes it
BAD_TASK_DEFINITIONS = [n for n in BAD_NAMES if n != "job:3"] + [
    "job:0", "job:x", "job:3:4", ":3", "arn:aws:ecs:eu-west-1:1:task-definition/j:1",
    "arn:aws:s3:eu-west-1:123456789012:task-definition/j:1"]
BAD_VALUES = {
    "id": BAD_NAMES,
    "taskDefinition": BAD_TASK_DEFINITIONS,
    "schedule": [None, 5, "", "   ", "61", "* * * * * * * * *", "cron(", "cron(0 0 * * * *)",
                 "rate(0 minutes)", "rate(1 minutes)", "at(9999-99-99T99:99:99)",
                 "crontab(@reboot)", "?/5", "0 0 0 mon/2", "0 0 0 * * 32", "x" * 5000, [], {},
                 True, "cron(0 0 ? * 8 *)", "0 0 0 * 54", "crontab(0 0 * * 8)", "1 2 3 ? 5",
                 "rate(5 fortnights)", "at(2027-02-30T00:00:00)", "\u0000", "0 0 0 * * 1st_xyz"],
    "taskCount": [None, 0, 51, -1, "x", "1.5", "1e1", [], {}, 1e300, "", 10 ** 30],
    "maxCount": [None, 0, 51, -7, "y", [], {}, "2.5"],
    "scheduleStart": [None, 5, "", "2017-01-01", "2017-13-01T00:00", "yesterday", [], "2017-01-01T24:00"],
    "scheduleEnd": [None, 5, "", "20170101T000000", "2017-02-30T00:00", {}],
    "timezone": [None, 5, "Mars/Base", "../etc/passwd", "a" * 300, [], "/etc/passwd", "America"],
    "suspended": [None, "yes", 2, [], {}, "", -1],
    "trigger": [None, "sqs", 5, [], {}, {"type": 5}, {"type": "sqs"}, {"type": None},
                {"type": "sqs", "queueName": "q", "messagesPerTask": 0},
                {"type": "sqs", "queueName": 5}],
    "overrides": [None, {}, "x", [5], [{}], [{"containerName": 5}],
                  [{"containerName": "c", "environment": []}],
                  [{"containerName": "c", "environment": {"A": 1}}],
                  [{"containerName": "c", "command": "x"}], [{"containerName": "c", "command": [1]}],
                  [{"containerName": "c", "cpu": -1}], [{"containerName": "c", "memory": 0}]],
}
VALID = {"taskDefinition": "base-task", "schedule": "0 */5", "taskCount": 2,
         "overrides": [{"containerName": "c", "environment": {"A": "1"}}]}


def snapshot(db):
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT seq, id, data, version FROM jobs ORDER BY seq").fetchall()
    finally:
        con.close()
    return json.dumps(rows).encode()


def requests():
    """(method, path, body bytes or None, headers, label)."""
    out = []
    for field, values in BAD_VALUES.items():
        for v in values:
            body = dict(VALID, id="fresh-one")
            body[field] = v
            if field == "id" and v is not None:
                body["id"] = v
            out.append(("POST", "/jobs", json.dumps(body).encode(), JSON, f"POST {field}={v!r:.40}"))
            if field != "id":  # an update ignores `id` (contract 1.8): not malformed
                out.append(("PUT", "/jobs/keep-a", json.dumps({field: v}).encode(), JSON,
                            f"PUT {field}={v!r:.40}"))
    raw = json.dumps(dict(VALID, id="fresh-two")).encode()
    for cut in range(1, len(raw) - 1, 3):
        out.append(("POST", "/jobs", raw[:cut], JSON, f"truncated at {cut}"))
    junk = [b"", b" ", b"{", b"}", b"[", b"null", b"nul", b"{\"a\":}", b"{'a': 1}", b"{\"a\" 1}",
            b"\x00", b"{\"schedule\": \"\xff\xfe\"}", b"{\"taskDefinition\": \"\xc3\x28\"}",
            b"\xef\xbb\xbf{}", b"{\"id\": \"a\"} trailing", b"[" * 5000, b"{\"a\":" * 3000,
            b"{\"taskCount\": 1e999999}", b"{\"taskCount\": 99999999999999999999999999}",
            b"{\"taskCount\": -99999999999999999999999999}", b"{\"taskCount\": NaN}",
            b"{\"taskCount\": Infinity}", b"\"just a string\"", b"42", b"true", b"[]",
            b"[{\"taskDefinition\": \"x\", \"schedule\": \"0\"}]"]
    for j in junk:
        out.append(("POST", "/jobs", j, JSON, f"junk {j[:30]!r}"))
        out.append(("PUT", "/jobs/keep-a", j, JSON, f"PUT junk {j[:30]!r}"))
    big = b"{\"taskDefinition\": \"" + b"a" * (2 * 1024 * 1024) + b"\", \"schedule\": \"0\"}"
    out.append(("POST", "/jobs", big, JSON, "2 MiB body"))
    out.append(("PUT", "/jobs/keep-a", big, JSON, "2 MiB PUT"))
    good = json.dumps(dict(VALID, id="fresh-three")).encode()
    for ct in (None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx",
               "APPLICATION/JSON", "json", "application/xml", ""):
        hdr = {} if ct is None else {"Content-Type": ct}
        out.append(("POST", "/jobs", good, hdr, f"content type {ct!r}"))
        out.append(("PUT", "/jobs/keep-a", good, hdr, f"PUT content type {ct!r}"))
    for method, path in (("PATCH", "/jobs"), ("DELETE", "/jobs"), ("PUT", "/jobs"),
                         ("POST", "/jobs/keep-a"), ("PATCH", "/jobs/keep-a"), ("POST", "/"),
                         ("DELETE", "/"), ("POST", "/healthz"), ("GET", "/jobs/"),
                         ("GET", "/jobs/keep-a/x"), ("DELETE", "/jobs/nope"), ("PUT", "/jobs/nope"),
                         ("GET", "/jobs?skip=x"), ("GET", "/jobs?count=1.5"), ("GET", "/jobz"),
                         ("DELETE", "/jobs/keep-a/"), ("GET", "/jobs?skip=%ff")):
        out.append((method, path, good if method in ("POST", "PUT") else None, JSON,
                    f"{method} {path}"))
    return out


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("api_badinput")
    tmp = tempfile.mkdtemp(prefix="ecsched-bad-")
    db = os.path.join(tmp, "jobs.db")
    srv = Server(os.path.abspath(args.bin), f"sqlite:{db}")
    try:
        srv.start()
        for i, name in enumerate(("keep-a", "keep-b", "keep-c")):
            st, body, h = srv.request("POST", "/jobs", dict(VALID, id=name, taskCount=i + 1), JSON)
            t.check(st == 201, f"setup {name}: {st} {body}")
        before = snapshot(db)
        reqs = requests()
        t.check(len(reqs) >= 300, f"only {len(reqs)} malformed requests")
        for method, path, body, headers, label in reqs:
            try:
                st, parsed, h = srv.request(method, path, body, headers)
            except Exception as e:  # a dropped connection is a failure too
                t.check(False, f"{label}: {e}")
                continue
            ok = (400 <= st < 500 and h.get("content-type") == "application/json"
                  and isinstance(parsed, dict)
                  and ("message" in parsed or "messages" in parsed))
            t.check(ok, f"{label}: status {st}, type {h.get('content-type')}, body {str(parsed)[:200]}")
        t.check(snapshot(db) == before, "the store changed")
        st, body, h = srv.request("GET", "/healthz")
        t.check(st == 200, "server still healthy")
        print(f"sent {len(reqs)} malformed requests")
    finally:
        t.check(srv.stop() == 0, "server stopped cleanly")
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
