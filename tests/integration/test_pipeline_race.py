#!/usr/bin/python3
"""test_pipeline_race.py - the pipeline graph holds under racing writers:
two API daemons on one SQLite file, a writer on each, released together
by a barrier over 1,000 fresh pairs of jobs. Half the pairs race
`PUT a {after: b}` against `PUT b {after: a}` (exactly one may win, or
the two would make a cycle), half race `PUT c {after: d}` against
`DELETE d` (exactly one may win, or c would follow a job that is gone).
At the end no cycle and no follower of a missing job is stored.

Run: /usr/bin/python3 tests/integration/test_pipeline_race.py --bin build/ecsched
"""
import http.client
import json
import os
import tempfile
import threading

import refcron
from test_api import JSON, Server, tidy

PAIRS = 1000


class Writer:
    """One keep-alive connection to one daemon."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                data = json.dumps(body).encode() if body is not None else None
                self.conn.request(method, path, body=data, headers=JSON if data else {})
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
            except (http.client.HTTPException, ConnectionError):
                # the daemon closed an idle keep-alive connection: reconnect
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        return 0, None


def race(barrier, results, writer, jobs):
    for i, (method, path, body) in enumerate(jobs):
        barrier.wait()
        results[i] = writer.request(method, path, body)


def job(id_):
    return {"id": id_, "taskDefinition": "t", "schedule": "0 0 1 1 *", "suspended": True}


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("pipeline_race")
    tmp = tempfile.mkdtemp(prefix="ecsched-race-")
    store = f"sqlite:{tmp}/jobs.db"
    one = Server(os.path.abspath(args.bin), store, role="api")
    two = Server(os.path.abspath(args.bin), store, role="api")
    try:
        one.start()
        two.start()
        setup = Writer(one.port)
        half = PAIRS // 2
        for i in range(PAIRS):
            for name in (f"a{i}", f"b{i}"):
                st, body = setup.request("POST", "/jobs", job(name))
                if st != 201:
                    t.check(False, f"create {name}: {st} {body}")
                    return t.finish()
        # writer 1 on daemon one, writer 2 on daemon two
        left = []
        right = []
        for i in range(half):
            left.append(("PUT", f"/jobs/a{i}", {"after": {"job": f"b{i}"}}))
            right.append(("PUT", f"/jobs/b{i}", {"after": {"job": f"a{i}"}}))
        for i in range(half, PAIRS):
            left.append(("PUT", f"/jobs/a{i}", {"after": {"job": f"b{i}"}}))
            right.append(("DELETE", f"/jobs/b{i}", None))
        barrier = threading.Barrier(2)
        got_left = [None] * PAIRS
        got_right = [None] * PAIRS
        threads = [threading.Thread(target=race, args=(barrier, got_left, Writer(one.port), left)),
                   threading.Thread(target=race, args=(barrier, got_right, Writer(two.port), right))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        both_won = 0
        neither = 0
        unexpected = []
        for i in range(PAIRS):
            (sl, bl), (sr, br) = got_left[i], got_right[i]
            wins = (sl == 200) + (sr == 200)
            both_won += wins == 2
            neither += wins == 0
            for st, body in ((sl, bl), (sr, br)):
                if st not in (200, 400, 409) or (st != 200 and not isinstance(body, dict)):
                    unexpected.append((i, st, body))
        t.check(both_won == 0, f"{both_won} of {PAIRS} races let both writers win")
        t.check(neither == 0, f"{neither} of {PAIRS} races let neither writer win")
        t.check(not unexpected, f"answers other than 200/400/409 JSON: {unexpected[:3]}")
        # the losers were told why
        cycle_msgs = [b for (s, b) in got_left[:half] + got_right[:half] if s == 400]
        t.check(all("cycle" in json.dumps(b) for b in cycle_msgs) and cycle_msgs,
                f"a refused link names the cycle: {cycle_msgs[:1]}")
        # what is stored: no cycle, no follower of a missing job
        jobs = {}
        skip = 0
        while True:
            st, body = setup.request("GET", f"/jobs?skip={skip}&count=500")
            if st != 200 or not body.get("jobs"):
                break
            for j in body["jobs"]:
                jobs[j["id"]] = (j.get("after") or {}).get("job")
            skip += len(body["jobs"])
        cycles = sum(1 for i in range(PAIRS)
                     if jobs.get(f"a{i}") == f"b{i}" and jobs.get(f"b{i}") == f"a{i}")
        dangling = sorted(k for k, up in jobs.items() if up is not None and up not in jobs)
        t.check(cycles == 0, f"{cycles} cycles stored")
        t.check(not dangling, f"{len(dangling)} jobs follow a missing job: {dangling[:5]}")
        deleted = sum(1 for i in range(half, PAIRS) if f"b{i}" not in jobs)
        print(f"  {PAIRS} racing pairs over two daemons: {half} link races, {PAIRS - half} "
              f"link/delete races ({deleted} deletes won); cycles {cycles}, followers of a "
              f"missing job {len(dangling)}, both won {both_won}")
    finally:
        one.stop()
        two.stop()
        tidy(t, tmp)
    return t.finish()


if __name__ == "__main__":
    raise SystemExit(main())
