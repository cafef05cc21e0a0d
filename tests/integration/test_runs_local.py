#!/usr/bin/python3
"""test_runs_local.py - runs, end to end on the local launcher: a manual run
(POST /jobs/{id}/run, 202 + Location) of `sh -c 'sleep 1; exit 3'` ends
failed with exit code 3 and a log file; an exit 0 ends succeeded; scheduled
firings are runs with their scheduled second; lastRun/lastRunTasks; run
pagination and 404s; and kill -9 while jobs are due: after a restart no
scheduled second is fired twice, and every second is either fired or
recorded as missed, by each job's missedRuns policy.

Run: /usr/bin/python3 tests/integration/test_runs_local.py --bin build/ecsched
"""
import datetime
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import time

import refcron
from test_api import JSON, Server, shell_task_definitions, wait_for


def all_runs(rq, job):
    st, body, _ = rq("GET", f"/jobs/{job}/runs?count=10000")
    return body["runs"] if st == 200 else []


def epoch(text):
    """Seconds of an isoformat UTC time such as 2026-11-24T10:00:02+00:00."""
    return int(time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)


def account(t, name, runs, every):
    """Each second of the job's span is claimed once or counted missed."""
    claimed = [epoch(r["scheduled"]) for r in runs
               if not r.get("message", "").startswith("missed")]
    missed = 0
    for r in runs:
        m = re.match(r"missed (\d+) firing", r.get("message", ""))
        if m:
            missed += int(m.group(1))
    t.check(len(claimed) == len(set(claimed)),
            f"{name}: a scheduled second fired twice: {sorted(claimed)}")
    span = (max(claimed) - min(claimed)) // every + 1 if claimed else 0
    t.check(span == len(set(claimed)) + missed,
            f"{name}: {span} fire times, {len(set(claimed))} fired + {missed} missed")
    return claimed, missed


def iso_ms(text):
    """Unix ms of an ISO-8601 time with an offset and optional .mmm."""
    try:
        return int(datetime.datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        return None


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("runs_local")
    tmp = tempfile.mkdtemp(prefix="ecsched-runs-")
    defs = os.path.join(tmp, "defs")
    logs = os.path.join(tmp, "logs")
    shell_task_definitions(defs, {"exit3": "echo started $MARK; sleep 1; exit 3",
                                  "ok": "echo ok $MARK"}, {"MARK": "unset"})
    log = os.path.join(tmp, "daemon.log")
    srv = Server(os.path.abspath(args.bin), f"sqlite:{tmp}/jobs.db", role="all", log=log,
                 extra=["--launcher", "local", "--task-definitions", defs, "--log-dir", logs,
                        "--poll-interval", "0.3"])
    try:
        srv.start()
        rq = srv.request
        # a manual run of a suspended job (manual runs are explicit)
        st, body, _ = rq("POST", "/jobs", {"taskDefinition": "exit3", "id": "three",
                                           "schedule": "0 0 0", "suspended": True}, JSON)
        t.check(st == 201, f"create: {st} {body}")
        st, body, h = rq("POST", "/jobs/three/run", {
            "requestedBy": "alice",
            "overrides": [{"containerName": "main", "environment": {"MARK": "by-hand"}}]}, JSON)
        t.check(st == 202, f"manual run: {st} {body}")
        href = h.get("location", "")
        t.check(re.fullmatch(r"/jobs/three/runs/\d+", href) is not None, f"Location {href}")
        t.check(body.get("status") == "pending" and body.get("reason") == "manual"
                and body.get("requestedBy") == "alice", f"202 body {body}")
        t.check(body.get("link", {}).get("href") == href, f"link {body.get('link')}")

        def finished():
            st, run, _ = rq("GET", href)
            return run if st == 200 and run["status"] not in ("pending", "running") else None
        run = wait_for(finished, 8)
        t.check(run is not None, "the manual run never finished")
        if run:
            t.check(run["status"] == "failed", f"exit 3 run status {run['status']}")
            codes = [c.get("exitCode") for task in run["tasks"] for c in task["containers"]]
            t.check(codes == [3], f"exit codes {codes}")
            t.check(run.get("durationSeconds", 0) >= 1, f"duration {run.get('durationSeconds')}")
            # a task never seems to start before the run that launched it
            # (its time was rounded down to the second before)
            launched = iso_ms(run.get("launched", ""))
            started = [iso_ms(task.get("startedAt", "")) for task in run["tasks"]]
            t.check(launched is not None and started and all(
                s is not None and s >= launched for s in started),
                f"startedAt {[task.get('startedAt') for task in run['tasks']]} vs launched "
                f"{run.get('launched')}")
            task_id = run["tasks"][0]["taskArn"].rsplit("/", 1)[-1]
            files = glob.glob(os.path.join(logs, task_id, "*.log"))
            text = open(files[0]).read() if files else ""
            t.check("started by-hand" in text, f"log file {files}: {text!r}")
            st, job, _ = rq("GET", "/jobs/three")
            t.check(job.get("lastRunTasks") == [{"taskId": run["tasks"][0]["taskArn"]}],
                    f"lastRunTasks {job.get('lastRunTasks')}")
            t.check(job.get("lastRun", "").startswith(run["scheduled"][:16]),
                    f"lastRun {job.get('lastRun')} vs {run['scheduled']}")
        # exit 0 succeeds
        rq("POST", "/jobs", {"taskDefinition": "ok", "id": "fine", "schedule": "0 0 0",
                             "suspended": True}, JSON)
        st, body, h = rq("POST", "/jobs/fine/run")
        t.check(st == 202, f"manual run without a body: {st} {body}")
        run = wait_for(lambda: (lambda r: r if r["status"] != "pending" and r["status"] != "running"
                                else None)(rq("GET", h.get("location", "/"))[1]), 8)
        t.check(run is not None and run["status"] == "succeeded", f"exit 0 run {run}")

        # bad requests
        st, body, _ = rq("POST", "/jobs/nope/run")
        t.check(st == 404 and body == {"message": "Job nope does not exist."}, f"{st} {body}")
        st, body, _ = rq("POST", "/jobs/fine/run", b"x", {"Content-Type": "text/plain"})
        t.check(st == 415, f"text body: {st}")
        st, body, _ = rq("POST", "/jobs/fine/run", {"overrides": [{"environment": 5}]}, JSON)
        t.check(st == 400 and "overrides" in body.get("messages", {}), f"bad overrides: {st} {body}")
        st, body, _ = rq("POST", "/jobs/fine/run", [1], JSON)
        t.check(st == 400, f"non-object body: {st} {body}")
        st, body, _ = rq("GET", "/jobs/fine/runs/abc")
        t.check(st == 404 and body == {"message": "Job fine has no run abc."}, f"{st} {body}")
        st, body, _ = rq("GET", "/jobs/fine/runs/99999")
        t.check(st == 404 and body == {"message": "Job fine has no run 99999."}, f"{st} {body}")
        st, body, _ = rq("GET", "/jobs/nope/runs")
        t.check(st == 404, f"runs of a missing job: {st}")
        st, body, h = rq("GET", "/jobs/fine/run")
        t.check(st == 405 and h.get("allow") == "POST, OPTIONS", f"GET run: {st} {h.get('allow')}")

        # scheduled firings are runs; pagination
        rq("POST", "/jobs", {"taskDefinition": "ok", "id": "tick", "schedule": "*/2"}, JSON)
        rq("POST", "/jobs", {"taskDefinition": "ok", "id": "tock", "schedule": "*/2",
                             "missedRuns": "skip"}, JSON)
        time.sleep(4.5)
        runs = all_runs(rq, "tick")
        t.check(len(runs) >= 2 and all(r["reason"] == "schedule" for r in runs),
                f"tick runs {len(runs)}")
        t.check(all(epoch(r["scheduled"]) % 2 == 0 for r in runs), "fired on odd seconds")
        late = [float(r["launched"][17:23]) - float(r["scheduled"][17:19]) for r in runs
                if "launched" in r]
        t.check(late and max(late) < 0.5, f"launch lateness {late}")
        print(f"  launch lateness on the local launcher: max {max(late or [0]) * 1000:.0f} ms")
        # tick fires every 2 s: a firing between the listing and the page
        # shifts the page, so both are taken again until none came between
        for _ in range(5):
            runs = all_runs(rq, "tick")
            st, page, _ = rq("GET", "/jobs/tick/runs?count=1&skip=1")
            if all_runs(rq, "tick")[0]["id"] == runs[0]["id"]:
                break
        t.check(st == 200 and len(page["runs"]) == 1 and page["runs"][0]["id"] == runs[1]["id"],
                f"page {page}")
        want_next = "/jobs/tick/runs?count=1&skip=2" if page.get("total", 0) > 2 else None
        t.check(page.get("next") == want_next and page.get("prev") == "/jobs/tick/runs?count=1",
                f"links {page}")

        # kill -9 while both are due every 2 s; come back 1.3 s after an even
        # second, so that second is missed, not merely late
        srv.kill9()
        killed = time.time()
        time.sleep(4)
        wake = int(time.time()) + 1
        if wake % 2 == 0:
            wake += 1
        time.sleep(max(0, wake + 0.3 - time.time()))
        srv.start()
        time.sleep(2.5)
        tick_runs = all_runs(rq, "tick")
        tick, tick_missed = account(t, "tick (once)", tick_runs, 2)
        tock, tock_missed = account(t, "tock (skip)", all_runs(rq, "tock"), 2)
        t.check(tick_missed >= 1 and tock_missed >= 2,
                f"missed while down ({wake - killed:.1f} s): once {tick_missed}, skip {tock_missed}")
        t.check(tock_missed == tick_missed + 1,
                f"once catches up one firing that skip does not: {tick_missed} vs {tock_missed}")
        catchup = [r for r in tick_runs if epoch(r["scheduled"]) == wake - 1]
        t.check(len(catchup) == 1 and "launched" in catchup[0],
                f"once: the second before the restart ran late: {catchup}")
        print(f"  after kill -9: once fired {len(tick)} missed {tick_missed}; "
              f"skip fired {len(tock)} missed {tock_missed}; no second twice")
    finally:
        t.check(srv.stop() == 0, "serve stopped cleanly on SIGTERM")
        if t.failed:
            sys.stderr.write(open(log).read()[-4000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
