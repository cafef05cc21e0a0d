#!/usr/bin/python3
"""test_daemon_local.py - `ecsched serve` as the product: jobs created
through the API fire on schedule and start tasks with the local launcher
(task definitions as processes), with the job's overrides in their
environment; taskCount/maxCount and active tasks decide how many start;
suspended and deleted jobs stop firing; SIGTERM stops it cleanly, and the
tasks it started run on after it.

Run: /usr/bin/python3 tests/integration/test_daemon_local.py --bin build/ecsched
"""
import glob
import json
import os
import shutil
import sys
import tempfile
import time

import refcron
from test_api import JSON, Server


def task_logs(logs, marker):
    """Log files of tasks whose output holds marker."""
    found = []
    for path in glob.glob(os.path.join(logs, "*", "*.log")):
        with open(path, errors="replace") as f:
            if marker in f.read():
                found.append(path)
    return found


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("daemon_local")
    tmp = tempfile.mkdtemp(prefix="ecsched-daemon-")
    defs = os.path.join(tmp, "defs")
    logs = os.path.join(tmp, "logs")
    os.makedirs(defs)
    with open(os.path.join(defs, "quick.json"), "w") as f:
        json.dump({"family": "quick", "containerDefinitions": [{
            "name": "main", "image": "busybox", "entryPoint": ["sh", "-c"],
            "command": ["echo ran $JOB_MARK at $(date +%s); exit 3"],
            "environment": [{"name": "JOB_MARK", "value": "unset"}]}]}, f)
    with open(os.path.join(defs, "slow.json"), "w") as f:
        json.dump({"family": "slow", "containerDefinitions": [{
            "name": "main", "command": ["sh", "-c", "echo slow $JOB_MARK; sleep 30"],
            "stopTimeout": 1}]}, f)
    srv = Server(os.path.abspath(args.bin), f"sqlite:{tmp}/jobs.db", role="all",
                 extra=["--launcher", "local", "--task-definitions", defs, "--log-dir", logs])
    try:
        srv.start()
        rq = srv.request
        # every 2 seconds, overriding the environment
        st, body, h = rq("POST", "/jobs", {
            "taskDefinition": "quick", "id": "every-two", "schedule": "*/2",
            "overrides": [{"containerName": "main", "environment": {"JOB_MARK": "mark-two"}}]}, JSON)
        t.check(st == 201, f"create: {st} {body}")
        st, body, h = rq("POST", "/jobs", {
            "taskDefinition": "quick", "id": "resting", "schedule": "*", "suspended": True,
            "overrides": [{"containerName": "main", "environment": {"JOB_MARK": "mark-rest"}}]}, JSON)
        t.check(st == 201, f"create suspended: {st} {body}")
        # long tasks: taskCount 3 capped by maxCount 2, firing every second
        st, body, h = rq("POST", "/jobs", {
            "taskDefinition": "slow", "id": "capped", "schedule": "*", "taskCount": 3,
            "maxCount": 2,
            "overrides": [{"containerName": "main", "environment": {"JOB_MARK": "mark-cap"}}]}, JSON)
        t.check(st == 201, f"create capped: {st} {body}")
        time.sleep(5.2)
        runs = task_logs(logs, "ran mark-two")
        t.check(2 <= len(runs) <= 4, f"every-two ran {len(runs)} times in 5 s")
        stamps = []
        for path in runs:
            with open(path) as f:
                stamps += [int(line.split(" at ")[1]) for line in f if " at " in line]
        t.check(all(s % 2 == 0 for s in stamps), f"fired on even seconds: {stamps}")
        t.check(task_logs(logs, "mark-rest") == [], "a suspended job fired")
        t.check(len(task_logs(logs, "slow mark-cap")) == 2,
                f"capped started {len(task_logs(logs, 'slow mark-cap'))}, want 2 (maxCount, active counted)")
        # delete: no more firings
        rq("DELETE", "/jobs/every-two")
        time.sleep(0.3)
        before = len(task_logs(logs, "ran mark-two"))
        time.sleep(2.5)
        t.check(len(task_logs(logs, "ran mark-two")) == before, "a deleted job kept firing")
    finally:
        t.check(srv.stop() == 0, "serve stopped cleanly on SIGTERM")
        # like ECS tasks, local tasks outlive the daemon: the two slow ones run on
        running = refcron.local_tasks_running(logs)
        t.check(len(running) == 2, f"tasks running after serve stopped: {running}, want 2")
        t.check(refcron.stop_local_tasks(logs), "the slow tasks stopped")
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
