#!/usr/bin/python3
"""test_pipeline_local.py - pipelines (`after`) end to end on the local
launcher: seed 003's nightly ETL as three jobs runs in order, each step a
run with reason "pipeline", its upstream in the record and in
ECSCHED_UPSTREAM_JOB/ECSCHED_UPSTREAM_RUN; a failing step stops the chain
and starts the jobs that follow on failure or completion; cycles, self
references, missing upstreams and unknown fields are 400s naming the
problem; deleting a job others follow is a 409 naming them; nothing runs
twice after a restart.

Run: /usr/bin/python3 tests/integration/test_pipeline_local.py --bin build/ecsched
"""
import glob
import json
import os
import sys
import tempfile
import time

import refcron
from test_api import JSON, Server, shell_task_definitions, tidy, wait_for


def runs_of(rq, job):
    st, body, _ = rq("GET", f"/jobs/{job}/runs?count=1000")
    return body["runs"] if st == 200 else []


def ended(rq, job, n=1):
    """The job's runs once n of them have ended, oldest first."""
    def done():
        runs = [r for r in runs_of(rq, job) if r["status"] in ("succeeded", "failed")]
        return sorted(runs, key=lambda r: r["id"]) if len(runs) >= n else None
    return wait_for(done, 15) or []


def log_text(logs, run):
    out = ""
    for task in run.get("tasks", []):
        for f in glob.glob(os.path.join(logs, task["taskArn"].rsplit("/", 1)[-1], "*.log")):
            with open(f) as fh:
                out += fh.read()
    return out


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("pipeline_local")
    tmp = tempfile.mkdtemp(prefix="ecsched-pipe-")
    defs = os.path.join(tmp, "defs")
    logs = os.path.join(tmp, "logs")
    shell_task_definitions(defs, {
        "step": "echo step $STEP upstream=$ECSCHED_UPSTREAM_JOB/$ECSCHED_UPSTREAM_RUN; sleep 0.3",
        "broken": "echo broken; exit 4",
    }, {"STEP": "?"})
    log = os.path.join(tmp, "daemon.log")
    srv = Server(os.path.abspath(args.bin), f"sqlite:{tmp}/jobs.db", role="all", log=log,
                 extra=["--launcher", "local", "--task-definitions", defs, "--log-dir", logs,
                        "--poll-interval", "0.2"])
    try:
        srv.start()
        rq = srv.request

        def env(step):
            return [{"containerName": "main", "environment": {"STEP": step}}]
        # seed 003: extract on a schedule, load after extract, sync after load
        st, body, _ = rq("POST", "/jobs", {"id": "extract", "taskDefinition": "step",
                                           "schedule": "0 0 2", "suspended": True,
                                           "overrides": env("extract")}, JSON)
        t.check(st == 201, f"extract: {st} {body}")
        st, body, _ = rq("POST", "/jobs", {"id": "load", "taskDefinition": "step",
                                           "after": {"job": "extract"},
                                           "overrides": env("load")}, JSON)
        t.check(st == 201, f"load (no schedule, after extract): {st} {body}")
        st, body, _ = rq("POST", "/jobs", {"id": "sync", "taskDefinition": "step",
                                           "after": {"job": "load", "on": "success"},
                                           "overrides": env("sync")}, JSON)
        t.check(st == 201, f"sync: {st} {body}")
        st, job, _ = rq("GET", "/jobs/load")
        t.check(job.get("after") == {"job": "extract", "on": "success"}
                and "estimatedNextRun" not in job and "schedule" not in job,
                f"a pipeline step's view: {job}")

        # bad pipelines are refused, naming the problem; nothing changes
        bad = [
            ("PUT", "/jobs/extract", {"after": {"job": "sync"}}, "cycle: extract -> sync -> load -> extract"),
            ("PUT", "/jobs/extract", {"after": {"job": "extract"}}, "cannot run after itself"),
            ("POST", "/jobs", {"id": "orphan", "taskDefinition": "step",
                               "after": {"job": "nowhere"}}, "Job nowhere does not exist."),
            ("POST", "/jobs", {"id": "odd", "taskDefinition": "step",
                               "after": {"job": "load", "on": "sometimes"}}, "on"),
            ("POST", "/jobs", {"id": "odd", "taskDefinition": "step",
                               "after": {"job": "load", "when": "x"}}, "Unknown field."),
            ("POST", "/jobs", {"id": "odd", "taskDefinition": "step", "after": "load"},
             "Not a valid mapping type."),
            ("POST", "/jobs", {"id": "odd", "taskDefinition": "step"}, "schedule"),
        ]
        for method, path, body, want in bad:
            st, resp, _ = rq(method, path, body, JSON)
            text = json.dumps(resp)
            t.check(st == 400 and want.replace("cycle: ", "") in text.replace("\\u003e", ">"),
                    f"{method} {path} {body}: {st} {text}")
        st, job, _ = rq("GET", "/jobs/extract")
        t.check("after" not in job, f"a refused update changed extract: {job}")
        st, resp, _ = rq("DELETE", "/jobs/extract")
        t.check(st == 409 and "load" in resp.get("message", ""),
                f"deleting a followed job: {st} {resp}")
        st, _, _ = rq("GET", "/jobs/extract")
        t.check(st == 200, "the refused delete removed extract")

        # a manual run of extract runs the chain in order
        rq("POST", "/jobs/extract/run", {}, JSON)
        e = ended(rq, "extract")
        lo = ended(rq, "load")
        sy = ended(rq, "sync")
        ok = e and lo and sy
        t.check(ok and e[0]["status"] == lo[0]["status"] == sy[0]["status"] == "succeeded",
                f"chain statuses: {[r['status'] for r in e + lo + sy]}")
        if ok:
            t.check(lo[0]["reason"] == "pipeline"
                    and lo[0].get("upstream") == {"job": "extract", "run": e[0]["id"],
                                                  "status": "succeeded"},
                    f"load's record names its upstream: {lo[0]}")
            t.check(e[0]["finished"] <= lo[0]["launched"] and lo[0]["finished"] <= sy[0]["launched"],
                    f"in order: {e[0]['finished']} {lo[0]['launched']} {lo[0]['finished']} "
                    f"{sy[0]['launched']}")
            text = log_text(logs, lo[0])
            t.check(f"step load upstream=extract/{e[0]['id']}" in text,
                    f"ECSCHED_UPSTREAM_* reach the task: {text!r}")

        # a failing step stops the chain; failure and completion followers run
        rq("POST", "/jobs", {"id": "fetch", "taskDefinition": "broken", "schedule": "0 0 3",
                             "suspended": True}, JSON)
        rq("POST", "/jobs", {"id": "publish", "taskDefinition": "step",
                             "after": {"job": "fetch"}, "overrides": env("publish")}, JSON)
        rq("POST", "/jobs", {"id": "alert", "taskDefinition": "step",
                             "after": {"job": "fetch", "on": "failure"},
                             "overrides": env("alert")}, JSON)
        rq("POST", "/jobs", {"id": "cleanup", "taskDefinition": "step",
                             "after": {"job": "fetch", "on": "completion"},
                             "overrides": env("cleanup")}, JSON)
        rq("POST", "/jobs", {"id": "paused", "taskDefinition": "step", "suspended": True,
                             "after": {"job": "fetch", "on": "failure"}}, JSON)
        rq("POST", "/jobs/fetch/run", {}, JSON)
        f = ended(rq, "fetch")
        al = ended(rq, "alert")
        cl = ended(rq, "cleanup")
        time.sleep(0.8)
        t.check(f and f[0]["status"] == "failed", f"fetch failed: {f}")
        t.check(al and al[0]["status"] == "succeeded" and cl and cl[0]["status"] == "succeeded",
                f"failure and completion followers ran: {al} {cl}")
        t.check(runs_of(rq, "publish") == [], "a success follower ran after a failure")
        t.check(runs_of(rq, "paused") == [], "a suspended follower ran")

        # a restart starts no step twice
        t.check(srv.stop() == 0, "SIGTERM exit status")
        srv.start()
        time.sleep(1.5)
        counts = {j: len(runs_of(rq, j)) for j in ("extract", "load", "sync", "alert", "cleanup")}
        t.check(counts == {"extract": 1, "load": 1, "sync": 1, "alert": 1, "cleanup": 1},
                f"runs after a restart: {counts}")
        with open(log) as fh:
            events = [json.loads(x) for x in fh if x.startswith("{")]
        nexts = [e for e in events if e.get("event") == "pipeline.next"]
        t.check(len(nexts) == 4, f"pipeline.next events: {len(nexts)}")
        t.check(srv.stop() == 0, "SIGTERM exit status after restart")
    except Exception as exc:  # a broken fixture is a failure, with its reason
        t.check(False, f"fixture: {type(exc).__name__}: {exc}")
    finally:
        srv.stop()
        tidy(t, tmp)
    sys.exit(t.finish())


if __name__ == "__main__":
    main()
