#!/usr/bin/python3
"""test_ecs_moto.py - `ecsched serve --launcher ecs` against moto_server with
signature checking on: every ECS call is SigV4-signed with an IAM user's key
(INITIAL_NO_AUTH_ACTION_COUNT). A */2 job fires on every even second (launch
lateness printed); runs list exactly the tasks `aws ecs list-tasks
--started-by` sees; taskCount 3 with one task running starts 2; maxCount
caps; a suspended job never fires; a manual run is recorded with its
overrides; StopTask from the aws CLI ends the run with the exit code and
reason; throttling and 503 answers (a fault-injecting proxy) are retried and
recorded, and a launch that keeps failing is a failed run with the AWS
message while the daemon keeps serving; credentials from a profile file
and from the container credentials endpoint (refreshed before they expire),
a wrong secret (SignatureDoesNotMatch); kill -9 while jobs are due loses no
firing beyond missedRuns and starts no task twice (moto's task list);
SIGTERM during a launch that keeps being throttled exits 0 within 10 s;
every task carries ecsched:job and its firing's ecsched:run tag
(describe-tasks --include TAGS); and
kill -9 while RunTask's answer is held (moto started the tasks) starts
nothing twice after the restart; and 10 kill -9 of a daemon with five jobs,
4 of them while a RunTask's answer is held: moto's tasks are the runs'
tasks, none in two runs, no second claimed twice, no run stuck.

Run: /usr/bin/python3 tests/integration/test_ecs_moto.py --bin build/ecsched
"""
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import awsmock
import refcron
from test_api import JSON, Server, tidy, wait_for

CLUSTER = "main"


def epoch(text):
    """Seconds (float) of an isoformat UTC time such as
    2026-11-24T10:00:02.004+00:00."""
    base = int(time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)
    frac = re.match(r"\.(\d+)", text[19:])
    return base + (float("0." + frac.group(1)) if frac else 0.0)


def runs_of(srv, job):
    st, body, _ = srv.request("GET", f"/jobs/{job}/runs?count=10000")
    return body["runs"] if st == 200 else []


def arns_of(runs):
    return {t["taskArn"] for r in runs for t in r.get("tasks", [])}


def events(path, name):
    out = []
    with open(path) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == name:
                out.append(e)
    return out


def run_tags(w, arns):
    """{task ARN: its ecsched:run tag ("" if none)}, by DescribeTasks with
    include TAGS, as find_run reads them."""
    out = {}
    arns = sorted(arns)
    for i in range(0, len(arns), 100):
        for d in w.moto.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--include", "TAGS",
                            "--tasks", *arns[i:i + 100])["tasks"]:
            out[d["taskArn"]] = {x["key"]: x["value"] for x in d.get("tags", [])}.get(
                "ecsched:run", "")
    return out


class World:
    """moto with a cluster, an awsvpc network and a Fargate task definition."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.moto = awsmock.Moto(tmp)
        self.servers = []  # every daemon started, stopped at the end whatever happens
        self.proxy = None
        try:
            self.setup()
        except BaseException:
            self.stop()
            raise

    def setup(self):
        self.moto.start()
        aws = self.moto.aws
        self.moto.hold("ecs::task")
        aws("ecs", "create-cluster", "--cluster-name", CLUSTER)
        vpc = aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]["VpcId"]
        # moto's awsvpc tasks need a VPC with DNS host names (as real ENIs have)
        aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", parse=False)
        self.subnet = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block",
                          "10.0.1.0/24")["Subnet"]["SubnetId"]
        self.group = aws("ec2", "create-security-group", "--group-name", "tasks",
                         "--description", "tasks", "--vpc-id", vpc)["GroupId"]
        aws("ecs", "register-task-definition", "--family", "sleeper",
            "--requires-compatibilities", "FARGATE", "--network-mode", "awsvpc",
            "--cpu", "256", "--memory", "512", "--container-definitions",
            json.dumps([{"name": "app", "image": "busybox", "memory": 128,
                         "command": ["sleep", "3600"]}]))
        self.proxy = awsmock.FaultProxy(self.moto.port)
        self.proxy.start()

    def stop(self):
        for srv in self.servers:
            srv.stop()
        if self.proxy is not None:
            self.proxy.stop()
        self.moto.stop()

    def daemon(self, name, env=None, endpoint=None, extra=()):
        """An ecs-launcher daemon whose ECS calls go through the proxy."""
        e = self.moto.env(AWS_ENDPOINT_URL_ECS=endpoint or self.proxy.url)
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        log = os.path.join(self.tmp, f"{name}.log")
        srv = Server(SELF.bin, f"sqlite:{self.tmp}/{name}/jobs.db", role="all", log=log,
                     extra=["--launcher", "ecs", "--cluster", CLUSTER, "--launch-type", "FARGATE",
                            "--subnets", self.subnet, "--security-groups", self.group,
                            "--poll-interval", "0.5"] + list(extra),
                     env=e, env_replace=True)
        self.servers.append(srv)
        return srv, log

    def tasks(self, started_by, status=None):
        args = ["ecs", "list-tasks", "--cluster", CLUSTER, "--started-by", started_by]
        if status:
            args += ["--desired-status", status]
        return set(self.moto.aws(*args)["taskArns"])

    def all_tasks(self, started_by):
        return self.tasks(started_by, "RUNNING") | self.tasks(started_by, "STOPPED")


STOP_TASKS = """
import sys, boto3
ecs = boto3.client("ecs")
cluster, reason = sys.argv[1], sys.argv[2]
for by in sys.argv[3:]:
    for arn in ecs.list_tasks(cluster=cluster, startedBy=by, desiredStatus="RUNNING")["taskArns"]:
        ecs.stop_task(cluster=cluster, task=arn, reason=reason)
        print(arn)
"""


class Stopper:
    """Ends every task of one or more startedBy values soon after it
    starts, with StopTask, as a short batch job would end by itself. A
    round is one boto3 process: with the aws CLI's start-up paid on every
    call, a round over several jobs (one of 12 tasks) took seconds."""

    def __init__(self, world, *started_by):
        self.world = world
        self.started_by = list(started_by)
        self.halt = threading.Event()
        self.stopped = set()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.halt.wait(0.3):
            try:
                out = self.world.moto.boto(STOP_TASKS, CLUSTER, "finished its batch",
                                           *self.started_by)
                self.stopped.update(out.split())
            except (RuntimeError, subprocess.TimeoutExpired):
                pass

    def close(self):
        self.halt.set()
        self.thread.join()


def scheduling(w, srv, t):
    rq = srv.request
    # a suspended job never fires, all test long
    rq("POST", "/jobs", {"id": "sleepy", "taskDefinition": "sleeper", "schedule": "*/2",
                         "suspended": True}, JSON)
    # one task already running for "three" before it is resumed
    w.moto.aws("ecs", "run-task", "--cluster", CLUSTER, "--task-definition", "sleeper",
               "--launch-type", "FARGATE", "--started-by", "ecsched-three",
               "--network-configuration",
               json.dumps({"awsvpcConfiguration": {"subnets": [w.subnet],
                                                   "securityGroups": [w.group]}}))
    rq("POST", "/jobs", {"id": "three", "taskDefinition": "sleeper", "schedule": "*/2",
                         "taskCount": 3, "suspended": True}, JSON)
    rq("POST", "/jobs", {"id": "capped", "taskDefinition": "sleeper", "schedule": "*/2",
                         "taskCount": 5, "maxCount": 2, "suspended": True}, JSON)
    stopper = Stopper(w, "ecsched-tick")
    # start the tick on an odd second, so its first firing is a whole second away
    wait_for(lambda: int(time.time()) % 2 == 1 and time.time() % 1 < 0.5, 3, 0.02)
    st, body, _ = rq("POST", "/jobs", {"id": "tick", "taskDefinition": "sleeper",
                                       "schedule": "*/2"}, JSON)
    t.check(st == 201, f"create tick: {st} {body}")
    rq("PUT", "/jobs/three", {"suspended": False}, JSON)
    rq("PUT", "/jobs/capped", {"suspended": False}, JSON)
    time.sleep(9.2)
    rq("PUT", "/jobs/tick", {"suspended": True}, JSON)
    rq("PUT", "/jobs/three", {"suspended": True}, JSON)
    rq("PUT", "/jobs/capped", {"suspended": True}, JSON)
    # let the last firings and StopTasks be followed to their end
    time.sleep(1.5)
    stopper.close()

    runs = sorted(runs_of(srv, "tick"), key=lambda r: r["id"])
    secs = [int(epoch(r["scheduled"])) for r in runs]
    t.check(len(runs) >= 4, f"tick: {len(runs)} runs in 9 s of */2")
    t.check(all(s % 2 == 0 for s in secs), f"tick fired off the even seconds: {secs}")
    t.check(all(b - a == 2 for a, b in zip(secs, secs[1:])), f"tick skipped a firing: {secs}")
    late = [(epoch(r["launched"]) - epoch(r["scheduled"])) * 1000 for r in runs
            if "launched" in r]
    t.check(len(late) == len(runs), f"tick: runs without a launch time: {runs}")
    if late:
        print(f"tick: {len(late)} firings, RunTask lateness ms: "
              f"p50 {statistics.median(late):.1f}, max {max(late):.1f} "
              f"({', '.join(f'{x:.0f}' for x in late)})")
        t.check(max(late) < 1000, f"tick launched more than a second late: {late}")
    started = [r for r in runs if len(r["tasks"]) == 1]
    t.check(len(started) == len(runs),
            f"tick: every firing should start one task (the last one stopped): "
            f"{[(r['id'], r['status'], r.get('message')) for r in runs]}")
    ran = arns_of(runs)
    seen = w.all_tasks("ecsched-tick")
    t.check(ran == seen, f"tick: runs report {sorted(ran)}, list-tasks sees {sorted(seen)}")
    ended = [r for r in runs if r["status"] == "succeeded"]
    t.check(len(ended) >= len(runs) - 1,
            f"tick: StopTask should end runs: {[(r['id'], r['status']) for r in runs]}")
    for r in ended[:1]:
        task = r["tasks"][0]
        c = task.get("containers", [{}])[0]
        t.check(task.get("lastStatus") == "STOPPED" and c.get("exitCode") == 0
                and task.get("stopReason") == "finished its batch"
                and "durationSeconds" in r and "finished" in r,
                f"tick: a stopped task's run: {r}")

    runs = sorted(runs_of(srv, "three"), key=lambda r: r["id"])
    t.check(len(runs) >= 2 and len(runs[0]["tasks"]) == 2,
            f"three: with 1 running, taskCount 3 starts 2: {runs[:1]}")
    t.check(all(len(r["tasks"]) == 0 and r["status"] == "skipped" for r in runs[1:]),
            f"three: later firings start nothing: {[(r['status'], len(r['tasks'])) for r in runs]}")
    t.check(len(w.all_tasks("ecsched-three")) == 3, "three: 3 tasks in moto")
    runs = sorted(runs_of(srv, "capped"), key=lambda r: r["id"])
    t.check(len(runs) >= 2 and len(runs[0]["tasks"]) == 2,
            f"capped: maxCount 2 caps taskCount 5: {runs[:1]}")
    t.check(len(w.all_tasks("ecsched-capped")) == 2, "capped: 2 tasks in moto")
    t.check(runs_of(srv, "sleepy") == [] and w.all_tasks("ecsched-sleepy") == set(),
            "sleepy: a suspended job fired")


def manual(w, srv, log, t):
    rq = srv.request
    rq("POST", "/jobs", {"id": "byhand", "taskDefinition": "sleeper", "schedule": "0 0 0",
                         "suspended": True}, JSON)
    st, body, hdrs = rq("POST", "/jobs/byhand/run",
                        {"requestedBy": "ops@example.com",
                         "overrides": [{"containerName": "app",
                                        "environment": {"MODE": "backfill"}}]}, JSON)
    t.check(st == 202 and "location" in hdrs, f"manual run: {st} {body} {hdrs}")
    loc = hdrs.get("location", "/jobs/byhand/runs/0")

    def launched():
        s, r, _ = rq("GET", loc)
        return r if s == 200 and r.get("tasks") else None
    run = wait_for(launched, 10)
    t.check(run is not None and run["reason"] == "manual"
            and run.get("requestedBy") == "ops@example.com" and len(run["tasks"]) == 1
            and run["status"] == "running", f"manual run recorded: {run}")
    if not run:
        return
    arn = run["tasks"][0]["taskArn"]
    t.check(w.tasks("ecsched-byhand", "RUNNING") == {arn}, "manual: list-tasks sees the task")
    d = w.moto.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", arn)["tasks"][0]
    env = d.get("overrides", {}).get("containerOverrides", [{}])[0].get("environment", [])
    t.check({"name": "MODE", "value": "backfill"} in env, f"manual: overrides sent: {d.get('overrides')}")
    tags = {x["key"]: x["value"] for x in w.moto.aws(
        "ecs", "list-tags-for-resource", "--resource-arn", arn).get("tags", [])}
    t.check(tags.get("ecsched:job") == "byhand", f"manual: ecsched:job tag: {tags}")
    # what find_run reads after a crash: the run's tag, through DescribeTasks
    # with include TAGS (moto leaves tags out without it, as ECS does)
    d = w.moto.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", arn,
                   "--include", "TAGS")["tasks"][0]
    tags = {x["key"]: x["value"] for x in d.get("tags", [])}
    t.check(tags.get("ecsched:job") == "byhand"
            and tags.get("ecsched:run", "").startswith("ecsched-byhand"),
            f"manual: describe-tasks --include TAGS shows ecsched:job and ecsched:run: {tags}")
    w.moto.aws("ecs", "stop-task", "--cluster", CLUSTER, "--task", arn, "--reason",
               "stopped by an operator")

    def ended():
        s, r, _ = rq("GET", loc)
        return r if s == 200 and r.get("status") in ("succeeded", "failed") else None
    run = wait_for(ended, 5)
    task = (run or {}).get("tasks", [{}])[0]
    t.check(run is not None and run["status"] == "succeeded"
            and task.get("stopReason") == "stopped by an operator"
            and task.get("containers", [{}])[0].get("exitCode") == 0,
            f"StopTask from the CLI ends the run: {run}")
    fin = [e for e in events(log, "run.finished") if e.get("job") == "byhand"]
    t.check(len(fin) == 1, f"one run.finished event for byhand: {fin}")
    st, job, _ = rq("GET", "/jobs/byhand")
    t.check(job.get("lastRunTasks", [{}])[0].get("taskId") == arn.rsplit("/", 1)[-1]
            or job.get("lastRunTasks", [{}])[0].get("taskId") == arn,
            f"lastRunTasks names the task: {job.get('lastRunTasks')}")


def faults(w, srv, log, t):
    rq = srv.request
    rq("POST", "/jobs", {"id": "bumpy", "taskDefinition": "sleeper", "schedule": "0 0 0",
                         "suspended": True, "startingDeadlineSeconds": 4}, JSON)
    for mode in ("throttle", "503"):
        w.proxy.inject("RunTask", mode, 2)
        before = len(events(log, "aws.retry"))
        _, _, hdrs = rq("POST", "/jobs/bumpy/run", {}, JSON)
        loc = hdrs.get("location", "/jobs/bumpy/runs/0")
        run = wait_for(lambda: (lambda r: r if r[0] == 200 and r[1].get("status") != "pending"
                                else None)(rq("GET", loc)), 10)
        run = run[1] if run else {}
        retries = events(log, "aws.retry")[before:]
        t.check(run.get("status") == "running" and len(run.get("tasks", [])) == 1,
                f"{mode}: retried to success: {run}")
        t.check(w.proxy.faulted.get("RunTask") == 2 and len(retries) == 2
                and all(e.get("operation") == "RunTask" for e in retries),
                f"{mode}: 2 faults answered, 2 retries logged: {w.proxy.faulted} {retries}")
        want = "ThrottlingException" if mode == "throttle" else "HTTP 503"
        t.check(all(want in e.get("error", "") for e in retries),
                f"{mode}: the retry events carry the AWS error: {retries}")
        arns = arns_of([run])
        for arn in arns:
            w.moto.aws("ecs", "stop-task", "--cluster", CLUSTER, "--task", arn)
    # RunTask's failures are the run's
    w.proxy.inject("RunTask", "no-memory", 1)
    _, _, hdrs = rq("POST", "/jobs/bumpy/run", {}, JSON)
    loc = hdrs.get("location", "/jobs/bumpy/runs/0")
    run = wait_for(lambda: (lambda r: r[1] if r[0] == 200 and r[1].get("status") == "failed"
                            else None)(rq("GET", loc)), 10)
    t.check(run is not None and any("RESOURCE:MEMORY" in f.get("reason", "")
                                    for f in run.get("failures", [])),
            f"RunTask failures recorded on the run: {run}")
    # 12 tasks go as RunTask calls of 10 and 2
    rq("POST", "/jobs", {"id": "wide", "taskDefinition": "sleeper", "schedule": "0 0 0",
                         "suspended": True, "taskCount": 12, "maxCount": 12}, JSON)
    calls = w.proxy.calls.get("RunTask", 0)
    _, _, hdrs = rq("POST", "/jobs/wide/run", {}, JSON)
    loc = hdrs.get("location", "/jobs/wide/runs/0")
    run = wait_for(lambda: (lambda r: r[1] if r[0] == 200 and r[1].get("status") == "running"
                            else None)(rq("GET", loc)), 10)
    t.check(run is not None and len(run["tasks"]) == 12
            and w.proxy.calls.get("RunTask", 0) - calls == 2
            and w.all_tasks("ecsched-wide") == arns_of([run]),
            f"12 tasks in 2 RunTask calls: {w.proxy.calls.get('RunTask', 0) - calls} calls, "
            f"{len((run or {}).get('tasks', []))} tasks")
    runs_tags = run_tags(w, arns_of([run])) if run else {}
    t.check(len(runs_tags) == 12 and len(set(runs_tags.values())) == 1
            and "" not in runs_tags.values(),
            f"both batches' tasks carry the firing's one ecsched:run tag: {set(runs_tags.values())}")
    # a launch that keeps failing gives up at the firing's deadline (4 s)
    w.proxy.inject("RunTask", "503", 10 ** 6)
    t0 = time.monotonic()
    _, _, hdrs = rq("POST", "/jobs/bumpy/run", {}, JSON)
    loc = hdrs.get("location", "/jobs/bumpy/runs/0")
    run = wait_for(lambda: (lambda r: r[1] if r[0] == 200 and r[1].get("status") == "failed"
                            else None)(rq("GET", loc)), 15)
    took = time.monotonic() - t0
    t.check(run is not None and "HTTP 503" in run.get("message", "")
            and "gave up" in run.get("message", ""),
            f"a launch failing past its deadline is a failed run with the AWS message: {run}")
    t.check(took < 9, f"gave up after {took:.1f} s with startingDeadlineSeconds 4")
    w.proxy.inject("RunTask", "503", 0)
    st, _, _ = rq("GET", "/healthz")
    t.check(st == 200, "the daemon keeps serving after failed launches")
    # an error AWS will not change its mind about is not retried
    before = len(events(log, "aws.retry"))
    rq("POST", "/jobs", {"id": "nodef", "taskDefinition": "no-such-family", "schedule": "0 0 0",
                         "suspended": True}, JSON)
    _, _, hdrs = rq("POST", "/jobs/nodef/run", {}, JSON)
    loc = hdrs.get("location", "/jobs/nodef/runs/0")
    run = wait_for(lambda: (lambda r: r[1] if r[0] == 200 and r[1].get("status") == "failed"
                            else None)(rq("GET", loc)), 10)
    t.check(run is not None and "RunTask" in run.get("message", "")
            and len(events(log, "aws.retry")) == before,
            f"a client error fails the run at once: {run}")


FILL_QUEUE = """
import sys, boto3
sqs = boto3.client("sqs")
url = sqs.create_queue(QueueName=sys.argv[1])["QueueUrl"]
n = int(sys.argv[2])
for i in range(0, n, 10):
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(k), "MessageBody": f"order {i + k}"} for k in range(min(10, n - i))])
print(url)
"""


def sqs_trigger(w, srv, t):
    """Seed 004's sqs trigger: the queue's depth sets the count."""
    rq = srv.request
    url = w.moto.boto(FILL_QUEUE, "orders", "250").strip()
    w.moto.boto(FILL_QUEUE, "idle", "0")
    jobs = {
        "sqs250": {"trigger": {"type": "sqs", "queueName": "orders", "messagesPerTask": 100}},
        "sqsurl": {"trigger": {"type": "sqs", "queueUrl": url, "messagesPerTask": 30},
                   "maxCount": 4},
        "sqsidle": {"trigger": {"type": "sqs", "queueName": "idle"}, "taskCount": 2},
        "sqsnone": {"trigger": {"type": "sqs", "queueName": "no-such-queue"}},
    }
    for name, extra in jobs.items():
        st, body, _ = rq("POST", "/jobs", dict({"id": name, "taskDefinition": "sleeper",
                                                "schedule": "*/2"}, **extra), JSON)
        t.check(st == 201, f"{name}: {st} {body}")
    def first_done():
        out = {}
        for n in jobs:
            runs = sorted(runs_of(srv, n), key=lambda r: r["id"])
            if not runs or runs[0]["status"] == "pending":
                return None
            out[n] = runs[0]
        return out
    wait_for(first_done, 8)
    for name in jobs:
        rq("PUT", f"/jobs/{name}", {"suspended": True}, JSON)
    first = {n: sorted(runs_of(srv, n), key=lambda r: r["id"])[:1] for n in jobs}
    first = {n: (r[0] if r else {}) for n, r in first.items()}
    r = first["sqs250"]
    t.check(len(r.get("tasks", [])) == 3 and r.get("trigger", {}).get("messages") == 250,
            f"250 messages, 100 per task: 3 tasks: {r}")
    r = first["sqsurl"]
    t.check(len(r.get("tasks", [])) == 4, f"queueUrl, ceil(250/30) = 9 capped by maxCount 4: {r}")
    r = first["sqsidle"]
    t.check(r.get("status") == "skipped" and not r.get("tasks")
            and "no messages" in r.get("message", ""), f"an empty queue starts nothing: {r}")
    r = first["sqsnone"]
    t.check(r.get("status") == "failed" and "QueueDoesNotExist" in r.get("message", ""),
            f"a missing queue: the AWS error: {r}")
    t.check(len(w.all_tasks("ecsched-sqs250")) == 3 and w.all_tasks("ecsched-sqsidle") == set(),
            "moto's tasks match the trigger's counts")
    st, body, _ = rq("POST", "/jobs", {"id": "typo", "taskDefinition": "sleeper",
                                       "schedule": "*/2", "trigger": {"type": "sqs3"}}, JSON)
    t.check(st == 400 and "known types are" in json.dumps(body), f"unknown trigger type: {st} {body}")


def pipeline(w, srv, t):
    """A step after another gets ECSCHED_UPSTREAM_* in every container (the
    container names come from DescribeTaskDefinition)."""
    rq = srv.request
    rq("POST", "/jobs", {"id": "up", "taskDefinition": "sleeper", "schedule": "0 0 0",
                         "suspended": True}, JSON)
    rq("POST", "/jobs", {"id": "down", "taskDefinition": "sleeper",
                         "after": {"job": "up", "on": "completion"}}, JSON)
    run = one_manual_run(srv, "up")
    arn = (run or {}).get("tasks", [{}])[0].get("taskArn")
    if arn:
        w.moto.aws("ecs", "stop-task", "--cluster", CLUSTER, "--task", arn)
    down = wait_for(lambda: [r for r in runs_of(srv, "down") if r.get("tasks")], 10)
    t.check(bool(down) and down[0]["reason"] == "pipeline"
            and down[0].get("upstream", {}).get("run") == run["id"],
            f"down ran after up: {down}")
    if down:
        d = w.moto.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks",
                       down[0]["tasks"][0]["taskArn"])["tasks"][0]
        ov = d.get("overrides", {}).get("containerOverrides", [])
        env = {e["name"]: e["value"] for o in ov if o.get("name") == "app"
               for e in o.get("environment", [])}
        t.check(env.get("ECSCHED_UPSTREAM_JOB") == "up"
                and env.get("ECSCHED_UPSTREAM_RUN") == str(run["id"]),
                f"upstream in the task's environment: {ov}")


PUT_OBJECTS = """
import sys, boto3
s3 = boto3.client("s3")
for key in sys.argv[2:]:
    s3.put_object(Bucket=sys.argv[1], Key=key, Body=("data of " + key).encode())
"""


SETUP_S3 = """
import json, sys, boto3
s3 = boto3.client("s3")
sqs = boto3.client("sqs")
s3.create_bucket(Bucket=sys.argv[1])
sqs.create_queue(QueueName=sys.argv[2],
                 Attributes={"VisibilityTimeout": sys.argv[3] if len(sys.argv) > 3 else "2"})
# a notification of someone else's, which the setup must keep
other = sqs.create_queue(QueueName="audit")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
s3.put_bucket_notification_configuration(Bucket=sys.argv[1], NotificationConfiguration={
    "QueueConfigurations": [{"Id": "audit", "QueueArn": arn, "Events": ["s3:ObjectRemoved:*"]}]})
"""

NOTIFICATIONS = """
import json, sys, boto3
s3 = boto3.client("s3")
sqs = boto3.client("sqs")
n = s3.get_bucket_notification_configuration(Bucket=sys.argv[1])
url = sqs.get_queue_url(QueueName=sys.argv[2])["QueueUrl"]
p = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"].get("Policy")
print(json.dumps({"queues": n.get("QueueConfigurations", []), "policy": json.loads(p or "{}")}))
"""

# Uploads each key read from stdin and prints when it landed (unix
# seconds): one process, so the times are not a Python start-up late.
UPLOADER = """
import sys, time, boto3
s3 = boto3.client("s3")
for line in sys.stdin:
    key = line.strip()
    s3.put_object(Bucket=sys.argv[1], Key=key, Body=b"x")
    print(key, time.time(), flush=True)
"""

QUEUE_DEPTH = """
import sys, boto3
sqs = boto3.client("sqs")
url = sqs.get_queue_url(QueueName=sys.argv[1])["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))
"""


def queue_depth(w, name):
    return int(w.moto.boto(QUEUE_DEPTH, name).strip())


def s3_trigger(w, t):
    """Seeds 001/003: a task per object that lands in S3, through the
    bucket's event notifications to SQS; at least once, never twice."""
    m = w.moto
    m.boto(SETUP_S3, "inbox", "inbox-events")
    srv, log = w.daemon("s3", env={"AWS_ENDPOINT_URL_SQS": w.proxy.url})
    start(srv)
    rq = srv.request
    st, body, _ = rq("POST", "/jobs", {"id": "files", "taskDefinition": "sleeper",
                                       "maxCount": 10, "trigger": {
                                           "type": "s3", "bucket": "inbox", "prefix": "new/",
                                           "suffix": ".csv", "queueName": "inbox-events"}}, JSON)
    t.check(st == 201, f"create an s3 job: {st} {body}")
    # the wiring, by ecsched itself; twice, as a second run must change nothing
    for _ in range(2):
        p = subprocess.run([SELF.bin, "trigger", "setup-s3", "files", "--server",
                            f"http://127.0.0.1:{srv.port}"], env=m.env(), capture_output=True,
                           text=True, timeout=60)
        t.check(p.returncode == 0 and "ecsched-files" in p.stdout,
                f"trigger setup-s3: {p.returncode} {p.stdout!r} {p.stderr!r}")
    wired = json.loads(m.boto(NOTIFICATIONS, "inbox", "inbox-events"))
    ours = [q for q in wired["queues"] if q.get("Id") == "ecsched-files"]
    rules = {r["Name"].lower(): r["Value"] for q in ours
             for r in q.get("Filter", {}).get("Key", {}).get("FilterRules", [])}
    t.check(len(ours) == 1 and rules == {"prefix": "new/", "suffix": ".csv"}
            and any(q.get("Id") == "audit" for q in wired["queues"]),
            f"one notification of ours with the job's filter, the other kept: {wired['queues']}")
    sids = [s.get("Sid") for s in wired["policy"].get("Statement", [])]
    t.check(sids == ["ecsched-s3-inbox"], f"the queue policy lets the bucket send: {wired['policy']}")
    rq("POST", "/jobs", {"id": "plain", "taskDefinition": "sleeper", "schedule": "0 0 0",
                         "suspended": True}, JSON)
    p = subprocess.run([SELF.bin, "trigger", "setup-s3", "plain", "--server",
                        f"http://127.0.0.1:{srv.port}"], env=m.env(), capture_output=True,
                       text=True, timeout=60)
    t.check(p.returncode == 2 and "job plain has no s3 trigger" in p.stderr,
            f"setup-s3 of a job without an s3 trigger: {p.returncode} {p.stderr!r}")
    # the first RunTask fails (no room): its message must come back
    w.proxy.inject("RunTask", "no-memory", 1)
    keys = [f"new/day {i}.csv" for i in range(5)]
    body = os.path.join(w.tmp, "object.csv")
    with open(body, "w") as f:
        f.write("id,amount\n1,100\n")
    # the proof's way: the aws CLI uploads the five objects
    for key in keys:
        m.aws("s3api", "put-object", "--bucket", "inbox", "--key", key, "--body", body)
    m.boto(PUT_OBJECTS, "inbox", "new/readme.txt", "old/x.csv")

    def started():
        runs = runs_of(srv, "files")
        keys_started = {r["object"]["key"] for r in runs if r.get("tasks")}
        return runs if keys_started == set(keys) else None
    runs = wait_for(started, 20, 0.3) or runs_of(srv, "files")
    ran = [r for r in runs if r.get("tasks")]
    t.check(len(runs) == 5 and len(ran) == 5 and all(r["reason"] == "trigger" for r in runs),
            f"5 objects, 5 runs with a task: {[(r.get('object', {}).get('key'), r['status'], r.get('attempts')) for r in runs]}")
    t.check(sorted(r["object"]["key"] for r in ran) == sorted(keys),
            f"the runs' objects: {[r['object'] for r in ran]}")
    retried = [r for r in runs if r.get("attempts", 1) > 1]
    t.check(len(retried) == 1 and retried[0].get("tasks"),
            f"the failed launch was retried on redelivery: {retried}")
    tasks = w.all_tasks("ecsched-files")
    t.check(tasks == arns_of(ran) and len(tasks) == 5, f"moto has {len(tasks)} tasks for 5 objects")
    seen_keys = set()
    for arn in tasks:
        d = m.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", arn)["tasks"][0]
        env = {e["name"]: e["value"] for o in d.get("overrides", {}).get("containerOverrides", [])
               for e in o.get("environment", [])}
        seen_keys.add(env.get("S3_KEY"))
        t.check(env.get("S3_BUCKET") == "inbox" and env.get("S3_SIZE", "").isdigit()
                and env.get("S3_ETAG"), f"S3_* in the task's environment: {env}")
    t.check(seen_keys == set(keys), f"each task carries its key: {seen_keys}")
    t.check(wait_for(lambda: queue_depth(w, "inbox-events") == 0, 8, 0.5),
            f"messages deleted: {queue_depth(w, 'inbox-events')} left")
    failed = [e for e in events(log, "s3.object") if e.get("status") == "failed"]
    t.check(len(failed) == 1, f"one failed attempt logged: {failed}")

    # kill -9 between RunTask and DeleteMessage: the redelivered message
    # finds its run already started, and nothing starts twice
    w.proxy.inject("DeleteMessage", "hold", 1)
    m.boto(PUT_OBJECTS, "inbox", "new/crash.csv")
    wait_for(lambda: "DeleteMessage" in w.proxy.held, 10, 0.1)
    t.check("DeleteMessage" in w.proxy.held, "the DeleteMessage was never sent")
    srv.kill9()
    start(srv)
    runs = wait_for(lambda: (lambda rs: rs if queue_depth(w, "inbox-events") == 0 else None)(
        [r for r in runs_of(srv, "files") if r["object"]["key"] == "new/crash.csv"]), 15, 0.5)
    runs = runs or [r for r in runs_of(srv, "files") if r["object"]["key"] == "new/crash.csv"]
    moto_tasks = w.all_tasks("ecsched-files") - tasks
    t.check(len(runs) == 1 and len(runs[0].get("tasks", [])) == 1 and len(moto_tasks) == 1,
            f"after kill -9 and redelivery: {len(runs)} runs, {len(moto_tasks)} new tasks in moto")
    t.check(queue_depth(w, "inbox-events") == 0, "the redelivered message was deleted")
    t.check(srv.stop() == 0, "s3 daemon: SIGTERM exit status (long poll cut short)")


def s3_idle_queue(w, t):
    """Objects that land in an idle queue with a long VisibilityTimeout
    start at once: a long poll the AWS client gave up on early would have
    taken a message into invisibility for the whole timeout."""
    m = w.moto
    m.boto(SETUP_S3, "quiet", "quiet-events", "300")
    srv, log = w.daemon("s3idle")
    start(srv)
    st, body, _ = srv.request("POST", "/jobs", {
        "id": "quiet-files", "taskDefinition": "sleeper", "maxCount": 10,
        "trigger": {"type": "s3", "bucket": "quiet", "queueName": "quiet-events"}}, JSON)
    t.check(st == 201, f"create the s3 job: {st} {body}")
    p = subprocess.run([SELF.bin, "trigger", "setup-s3", "quiet-files", "--server",
                        f"http://127.0.0.1:{srv.port}"], env=m.env(), capture_output=True,
                       text=True, timeout=60)
    t.check(p.returncode == 0, f"trigger setup-s3: {p.returncode} {p.stderr!r}")
    py = os.path.join(os.path.dirname(awsmock.find_tool("moto_server")), "python3")
    if not os.access(py, os.X_OK):
        py = awsmock.find_tool("python3")
    up = subprocess.Popen([py, "-c", UPLOADER, "quiet"], env=m.env(), stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    # four groups of five, each after 11-14 s of quiet: longer than the
    # AWS client's 10 s per attempt, shorter than the 20 s long poll
    rnd = random.Random(20261202)
    moments = sorted(15 * g + rnd.uniform(11, 14) + rnd.uniform(0, 1.5)
                     for g in range(4) for _ in range(5))
    landed = {}
    began = time.monotonic()
    for i, at in enumerate(moments):
        delay = at - (time.monotonic() - began)
        if delay > 0:
            time.sleep(delay)
        key = f"drop-{i:02d}.csv"
        up.stdin.write(key + "\n")
        up.stdin.flush()
        k, when = up.stdout.readline().split()
        landed[k] = float(when)
    up.stdin.close()
    up.wait(timeout=30)

    def all_started():
        runs = [r for r in runs_of(srv, "quiet-files") if r.get("tasks")]
        return runs if len(runs) >= len(landed) else None
    runs = wait_for(all_started, 10, 0.5) or []
    delays = {}
    for r in runs:
        key = r.get("object", {}).get("key")
        if key in landed and r.get("launched"):
            delays[key] = epoch(r["launched"]) - landed[key]
    worst = max(delays.values()) if delays else float("inf")
    late = sorted(k for k in landed if delays.get(k, float("inf")) > 3)
    print(f"  s3 on an idle queue (VisibilityTimeout 300): {len(delays)} of {len(landed)} "
          f"objects started, worst {worst:.2f} s after its upload")
    t.check(not late, f"objects not started within 3 s of their upload: {late}")
    noisy = events(log, "s3.receive_failed") + events(log, "aws.retry")
    t.check(not noisy, f"an idle queue logs no receive failure or retry: {noisy[:2]}")
    t.check(srv.stop() == 0, "s3idle daemon: SIGTERM exit status")


def graceful(w, t):
    """SIGTERM while a launch keeps being throttled: exit 0 within 10 s."""
    srv, log = w.daemon("graceful")
    start(srv)
    srv.request("POST", "/jobs", {"id": "slow", "taskDefinition": "sleeper", "schedule": "0 0 0",
                                  "suspended": True}, JSON)
    w.proxy.inject("RunTask", "throttle", 10 ** 6)
    srv.request("POST", "/jobs/slow/run", {}, JSON)
    wait_for(lambda: w.proxy.faulted.get("RunTask", 0) >= 2, 10)
    t0 = time.monotonic()
    rc = srv.stop()
    took = time.monotonic() - t0
    w.proxy.inject("RunTask", "throttle", 0)
    print(f"graceful: SIGTERM during a throttled launch: exit {rc} after {took:.1f} s")
    t.check(rc == 0 and took <= 10, f"SIGTERM: exit {rc} after {took:.1f} s")


def credentials(w, t):
    m = w.moto
    home = os.path.join(w.tmp, "home")
    os.makedirs(os.path.join(home, ".aws"))
    # the container endpoint comes after the profile files in the chain
    bare = os.path.join(w.tmp, "bare-home")
    os.makedirs(bare)
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        f.write(f"[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n"
                f"[sched]\naws_access_key_id = {m.key}\naws_secret_access_key = {m.secret}\n")
    with open(os.path.join(home, ".aws", "config"), "w") as f:
        f.write("[profile sched]\nregion = us-east-1\n")
    cases = [
        ("profile", {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                     "AWS_REGION": None, "HOME": home, "AWS_PROFILE": "sched"}),
    ]
    for name, env in cases:
        srv, log = w.daemon(name, env=env)
        start(srv)
        ok = one_manual_run(srv, name)
        t.check(ok is not None, f"{name} credentials: a manual run starts a task: {tail(log)}")
        srv.stop()

    # the container endpoint: temporary credentials, fetched again before
    # they expire
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/ecsched"},
         "Action": "sts:AssumeRole"}]})
    role = m.aws("iam", "create-role", "--role-name", "ecsched-task", "--assume-role-policy-document",
                 trust)["Role"]["Arn"]
    m.aws("iam", "attach-role-policy", "--role-name", "ecsched-task", "--policy-arn",
          m.policy_arn, parse=False)
    creds = awsmock.CredsServer(m, "Bearer s3cr3t-token", role, fresh_for=3)
    try:
        srv, log = w.daemon("container", env={
            "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "HOME": bare,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer s3cr3t-token"})
        start(srv)
        stopper = Stopper(w, "ecsched-viarole")
        srv.request("POST", "/jobs", {"id": "viarole", "taskDefinition": "sleeper",
                                      "schedule": "*/2"}, JSON)
        time.sleep(8.5)
        srv.request("PUT", "/jobs/viarole", {"suspended": True}, JSON)
        stopper.close()
        runs = runs_of(srv, "viarole")
        started = [r for r in runs if r.get("tasks")]
        t.check(len(started) >= 3, f"container credentials: {len(started)} of {len(runs)} firings "
                                   f"started a task: {[r.get('message') for r in runs]} {tail(log)}")
        t.check(creds.fetches >= 2 and len(set(creds.keys)) == creds.fetches,
                f"container credentials fetched again before expiry: {creds.fetches} fetches")
        t.check(creds.refused == 0, f"the authorization token was sent: {creds.refused} refused")
        srv.stop()
        secrets = [m.secret, "s3cr3t-token"]
        with open(log) as f:
            text = f.read()
        t.check(not any(s in text for s in secrets), "a secret appeared in the logs")
    finally:
        creds.stop()

    # a wrong secret: every call refused, recorded on the run, daemon lives
    srv, log = w.daemon("badkey", env={"AWS_SECRET_ACCESS_KEY": "wrong" + m.secret[5:]})
    start(srv)
    srv.request("POST", "/jobs", {"id": "denied", "taskDefinition": "sleeper",
                                  "schedule": "0 0 0", "suspended": True}, JSON)
    _, _, hdrs = srv.request("POST", "/jobs/denied/run", {}, JSON)
    loc = hdrs.get("location", "/jobs/denied/runs/0")
    run = wait_for(lambda: (lambda r: r[1] if r[0] == 200 and r[1].get("status") == "failed"
                            else None)(srv.request("GET", loc)), 10)
    t.check(run is not None and ("SignatureDoesNotMatch" in run.get("message", "")
                                 or "InvalidClientTokenId" in run.get("message", "")),
            f"a wrong secret: the run says why: {run}")
    t.check(srv.request("GET", "/healthz")[0] == 200, "the daemon lives on after a refused call")
    srv.stop()
    with open(log) as f:
        t.check(m.secret[5:] not in f.read(), "the secret appeared in the logs")


def one_manual_run(srv, job):
    srv.request("POST", "/jobs", {"id": job, "taskDefinition": "sleeper", "schedule": "0 0 0",
                                  "suspended": True}, JSON)
    _, _, hdrs = srv.request("POST", f"/jobs/{job}/run", {}, JSON)
    loc = hdrs.get("location", f"/jobs/{job}/runs/0")
    return wait_for(lambda: (lambda r: r[1] if r[0] == 200 and r[1].get("tasks") else None)(
        srv.request("GET", loc)), 10)


def tail(path, n=5):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def start(srv):
    srv.start()


def settled(runs):
    """Whether no run is still being launched."""
    return all(r["status"] != "pending" for r in runs)


def restart(w, t):
    """kill -9 while */2 jobs are due, between two firings: no second fired
    twice, every second fired or recorded missed, and moto's tasks are
    exactly those of the runs that launched (a firing skipped because the
    previous task was still active launched nothing, and counts as a
    second fired, not as a launch)."""
    srv, log = w.daemon("crash")
    start(srv)
    stopper = Stopper(w, "ecsched-boom")
    wait_for(lambda: int(time.time()) % 2 == 1 and time.time() % 1 < 0.5, 3, 0.02)
    srv.request("POST", "/jobs", {"id": "boom", "taskDefinition": "sleeper", "schedule": "*/2",
                                  "missedRuns": "skip"}, JSON)
    time.sleep(3)

    # the kill falls between two firings, never inside a RunTask: the
    # latest firing is recorded (launched or skipped) and the next one is
    # 0.4 s away or more, however slow this machine is
    def between():
        runs = runs_of(srv, "boom")
        now = time.time()
        if not runs or not settled(runs):
            return False
        latest = max(int(epoch(r["scheduled"])) for r in runs)
        return latest <= now < latest + 1.6
    quiet = wait_for(between, 20, 0.05)
    srv.kill9()
    t.check(quiet, "restart: no moment between two firings to kill the daemon in")
    time.sleep(3)
    start(srv)
    time.sleep(4.5)
    srv.request("PUT", "/jobs/boom", {"suspended": True}, JSON)
    # the firing in progress when the job was suspended is recorded first
    runs = wait_for(lambda: (lambda rs: rs if settled(rs) else None)(runs_of(srv, "boom")), 15,
                    0.2) or runs_of(srv, "boom")
    stopper.close()
    srv.stop()
    fired = [int(epoch(r["scheduled"])) for r in runs if r["status"] != "skipped"
             or not r.get("message", "").startswith("missed")]
    missed = sum(int(m.group(1)) for r in runs
                 for m in [re.match(r"missed (\d+) firing", r.get("message", ""))] if m)
    t.check(len(fired) == len(set(fired)), f"restart: a second fired twice: {sorted(fired)}")
    span = (max(fired) - min(fired)) // 2 + 1 if fired else 0
    t.check(span == len(fired) + missed and missed >= 1,
            f"restart: {span} seconds = {len(fired)} fired + {missed} missed")
    launched = [r for r in runs if r.get("tasks")]
    idle = [r for r in runs if not r.get("tasks")
            and not r.get("message", "").startswith("missed")]
    t.check(launched and all(len(r["tasks"]) == 1 for r in launched),
            f"restart: each launch started one task: {[len(r['tasks']) for r in launched]}")
    t.check(all(r["status"] == "skipped" and "already active" in r.get("message", "")
                for r in idle),
            f"restart: a firing that launched nothing says why: "
            f"{[(r['status'], r.get('message')) for r in idle]}")
    ran = arns_of(runs)
    seen = w.all_tasks("ecsched-boom")
    t.check(ran == seen and len(ran) == len(launched),
            f"restart: runs report {len(ran)} tasks for {len(launched)} launches "
            f"({len(fired)} firings), moto has {len(seen)}")


def crash_in_runtask(w, t):
    """kill -9 while RunTask's answer is on its way (moto has started the
    tasks, the daemon never hears of it): the restarted daemon must find
    the tasks the firing started (find_run, by the ecsched:run tag) instead
    of launching again, whatever moto does with clientToken (it ignores
    it). Every task moto has for the job is in the job's runs, once."""
    srv, log = w.daemon("crashrun")
    start(srv)
    srv.request("POST", "/jobs", {"id": "halfway", "taskDefinition": "sleeper",
                                  "schedule": "0 0 0", "suspended": True, "taskCount": 3}, JSON)
    held = len(w.proxy.held_replies)
    w.proxy.inject("RunTask", "hold-reply", 1)
    st, _, hdrs = srv.request("POST", "/jobs/halfway/run", {}, JSON)
    t.check(st == 202, f"crash in RunTask: manual run: {st}")
    got = wait_for(lambda: len(w.proxy.held_replies) > held, 15, 0.05)
    t.check(got, "crash in RunTask: RunTask never reached moto")
    before = w.all_tasks("ecsched-halfway")
    t.check(len(before) == 3, f"crash in RunTask: moto started {len(before)} of 3 tasks")
    srv.kill9()
    w.proxy.inject("RunTask", "hold-reply", 0)
    start(srv)

    def done():
        rs = runs_of(srv, "halfway")
        return rs if rs and settled(rs) else None
    runs = wait_for(done, 20, 0.2) or runs_of(srv, "halfway")
    # a relaunch would show up in moto a moment after the run says running
    time.sleep(1)
    seen = w.all_tasks("ecsched-halfway")
    recorded = [tk["taskArn"] for r in runs for tk in r.get("tasks", [])]
    t.check(len(recorded) == len(set(recorded)),
            f"crash in RunTask: a task recorded twice: {sorted(recorded)}")
    t.check(set(recorded) == seen and seen == before,
            f"crash in RunTask: moto has {len(seen)} tasks ({len(seen - before)} launched again), "
            f"the runs record {len(set(recorded))}: "
            f"{[(r['id'], r['status'], len(r.get('tasks', [])), r.get('message')) for r in runs]}")
    tagged = run_tags(w, seen) if seen else {}
    t.check(len(set(tagged.values())) == 1 and "" not in tagged.values(),
            f"crash in RunTask: the tasks carry one ecsched:run tag: {tagged}")
    srv.stop()


# chaos_kills: id -> (every N seconds, taskCount, missedRuns); cx-wide's
# 12 tasks go as two RunTask batches (10 and 2)
CHAOS_JOBS = {
    "cx-two": (2, 1, "once"),
    "cx-pair": (2, 1, "skip"),
    "cx-three": (3, 1, "skip"),
    "cx-tri": (3, 1, "once"),
    "cx-wide": (3, 12, "once"),
}
CHAOS_SEED = 12
CHAOS_KILLS = 10
# the RunTask whose answer each held kill waits for (in turn): the next
# one, cx-wide's first batch (recovery tops up the other 2), its second
# batch (recovery finds all 12), the next one
CHAOS_HELD = [(), ('"startedBy":"ecsched-cx-wide"', '"count":10'),
              ('"startedBy":"ecsched-cx-wide"', '"count":2'), ()]
CHAOS_UP = (0.3, 2.0)
CHAOS_DOWN = (0.0, 3.0)


def chaos_kills(w, t):
    """kill -9 CHAOS_KILLS times (random.Random(CHAOS_SEED): up 0.3-2 s,
    down 0-3 s), 4 of them while the fault proxy holds a RunTask's
    answer (moto started the tasks, the daemon never heard of it), the
    daemon restarted on the same SQLite file each time; then every job is
    suspended and its runs left to end. moto's tasks for each job are
    exactly the tasks its runs record, no task is in two runs, no (job,
    second) is claimed by two runs nor fired inside a missed range, every
    second of the schedule between a job's first and last accounted is
    accounted, and no run is left pending or running."""
    rng = random.Random(CHAOS_SEED)
    began = time.monotonic()
    srv, log = w.daemon("chaos")

    def note(text):
        with open(log, "a") as f:
            f.write(f"=== chaos {time.time():.3f} {text}\n")

    def up(k):
        for attempt in range(3):
            try:
                start(srv)
                note(f"up after kill {k} on port {srv.port}")
                return True
            except (RuntimeError, OSError) as e:
                note(f"did not come up after kill {k}: {e}")
                if srv.proc is not None:
                    srv.kill9()
        return False

    start(srv)
    stopper = Stopper(w, *[f"ecsched-{j}" for j in CHAOS_JOBS])
    created = {}
    for jid, (every, count, missed) in CHAOS_JOBS.items():
        st, body, _ = srv.request("POST", "/jobs", {
            "id": jid, "taskDefinition": "sleeper", "schedule": f"*/{every}",
            "taskCount": count, "missedRuns": missed, "runHistoryLimit": 10000}, JSON)
        t.check(st == 201, f"chaos: create {jid}: {st} {body}")
        created[jid] = time.time()
    held_at = dict(zip(sorted(rng.sample(range(1, CHAOS_KILLS + 1), len(CHAOS_HELD))),
                       CHAOS_HELD))
    held = []       # (kill, startedBy, tasks moto started) of each answer held
    exited = []     # (kill, status): the daemon had died by itself
    not_up = []
    for k in range(1, CHAOS_KILLS + 1):
        time.sleep(rng.uniform(*CHAOS_UP))
        base = len(w.proxy.held_replies)
        if k in held_at:
            w.proxy.inject("RunTask", "hold-reply", 1, match=held_at[k])
            wait_for(lambda: len(w.proxy.held_replies) > base, 10, 0.02)
        rc = srv.proc.poll()
        if rc is not None:
            exited.append((k, rc))
        srv.kill9()
        if k in held_at:
            w.proxy.inject("RunTask", "hold-reply", 0)
        for _, data in w.proxy.held_replies[base:]:
            try:
                tasks = json.loads(data).get("tasks", [])
            except ValueError:
                tasks = []
            by = {x.get("startedBy", "?") for x in tasks}
            held.append((k, ",".join(sorted(by)) or "?", len(tasks)))
        note(f"kill {k}" + (" (RunTask's answer held)" if k in held_at else ""))
        time.sleep(rng.uniform(*CHAOS_DOWN))
        if not up(k):
            not_up.append(k)
            break
    kills_held = sorted({k for k, _, _ in held})
    print(f"chaos: {k} kills, {len(kills_held)} while RunTask's answer was held: "
          + ", ".join(f"kill {k2}: {by} ({n} tasks)" for k2, by, n in held))
    t.check(not not_up and k == CHAOS_KILLS,
            f"chaos: the daemon did not come up after kill(s) {not_up}: {tail(log)}")
    t.check(not exited, f"chaos: the daemon had exited by itself before kill(s) {exited}")
    t.check(len(kills_held) >= 3 and all(n > 0 for _, _, n in held),
            f"chaos: expected >= 3 kills with a held RunTask answer (moto started its tasks), "
            f"saw {len(kills_held)}: {held}")

    # the last restart's recoveries and a few firings on time, then every
    # job suspended and its runs followed to their end (the stopper goes on)
    time.sleep(3)
    for jid in CHAOS_JOBS:
        try:
            srv.request("PUT", f"/jobs/{jid}", {"suspended": True}, JSON)
        except OSError:
            pass

    def all_runs():
        try:
            return {jid: runs_of(srv, jid) for jid in CHAOS_JOBS}
        except OSError:
            return {}

    def quiet():
        runs = all_runs()
        busy = [r for rs in runs.values() for r in rs if r["status"] in ("pending", "running")]
        return runs if runs and not busy else None
    wait_for(quiet, 30, 0.5)
    # a launch in flight as the jobs were suspended is recorded by now
    time.sleep(1.5)
    runs = all_runs()
    stopper.close()

    owners = {}     # task ARN -> [(job, run id)]
    claims = {}     # (job, second) -> [run id]
    stuck = []
    total_moto = total_runs = 0
    for jid, (every, count, missed) in CHAOS_JOBS.items():
        rs = runs.get(jid, [])
        seen = w.all_tasks(f"ecsched-{jid}")
        ran = arns_of(rs)
        total_moto += len(seen)
        total_runs += len(ran)
        fired, ranges = [], []
        for r in rs:
            for tk in r.get("tasks", []):
                owners.setdefault(tk["taskArn"], []).append((jid, r["id"]))
            if "scheduled" in r:
                claims.setdefault((jid, int(epoch(r["scheduled"]))), []).append(r["id"])
            if r["status"] in ("pending", "running"):
                stuck.append((jid, r["id"], r["status"], len(r.get("tasks", []))))
            m = r.get("missed")
            if m:
                ranges.append((int(m["first"]), int(m["last"]), r["id"]))
            elif "scheduled" in r:
                fired.append(int(epoch(r["scheduled"])))
        statuses = {}
        for r in rs:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        launched = [r for r in rs if r.get("tasks")]
        recovered = len([e for e in events(log, "run.recovered") if e.get("job") == jid])
        print(f"chaos {jid} (*/{every}, taskCount {count}, {missed}): moto has {len(seen)} "
              f"tasks, the runs record {len(ran)}; {len(rs)} runs {statuses}, "
              f"{len(launched)} launched, {len(ranges)} missed records, "
              f"{recovered} run.recovered")
        t.check(seen == ran,
                f"chaos {jid}: moto's tasks == the runs' tasks: moto {len(seen)}, runs {len(ran)}; "
                f"only in moto {sorted(seen - ran)[:5]}, "
                f"only in the runs {sorted(ran - seen)[:5]}")
        inside = sorted(s for s in fired for a, b, _ in ranges if a <= s <= b)
        t.check(not inside, f"chaos {jid}: expected no fired second inside a missed range, "
                            f"saw {inside} in {ranges}")
        spans = sorted(ranges)
        overlaps = [(x, y) for x, y in zip(spans, spans[1:]) if y[0] <= x[1]]
        t.check(not overlaps, f"chaos {jid}: expected no overlapping missed ranges, saw {overlaps}")
        accounted = set(fired) | {s for a, b, _ in ranges for s in range(a, b + 1)
                                  if (s % 60) % every == 0}
        lost = ([s for s in range(min(accounted), max(accounted) + 1)
                 if (s % 60) % every == 0 and s not in accounted] if accounted else [])
        t.check(accounted and not lost,
                f"chaos {jid}: expected every */{every} second between its first and last "
                f"accounted to be fired or missed, {len(lost)} are neither: {lost[:20]}")
    twice = {a: o for a, o in owners.items() if len(o) > 1}
    doubled = {c: ids for c, ids in claims.items() if len(ids) > 1}
    print(f"chaos: moto has {total_moto} tasks for the {len(CHAOS_JOBS)} jobs, the runs record "
          f"{total_runs}; tasks in two runs: {len(twice)}; seconds claimed twice: {len(doubled)}; "
          f"runs stuck: {len(stuck)}; {time.monotonic() - began:.1f} s")
    t.check(not twice, f"chaos: expected no task in two runs, saw {len(twice)}: {twice}")
    t.check(not doubled, f"chaos: expected no (job, second) claimed twice, saw {doubled}")
    t.check(not stuck, f"chaos: expected no run pending/running after 30 s, saw {stuck}")
    t.check(srv.stop() == 0, "chaos daemon: SIGTERM exit status")


class Args:
    bin = None


SELF = Args()


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    SELF.bin = os.path.abspath(args.bin)
    t = refcron.Tally("ecs-moto")
    missing = awsmock.missing_tools()
    if missing:
        t.skip(f"every ECS, SQS and S3 test against moto: {missing}")
        sys.exit(t.finish())
    tmp = tempfile.mkdtemp(prefix="ecsched-moto-")
    w = None
    try:
        w = World(tmp)
        srv, log = w.daemon("main")
        start(srv)
        scheduling(w, srv, t)
        manual(w, srv, log, t)
        faults(w, srv, log, t)
        sqs_trigger(w, srv, t)
        pipeline(w, srv, t)
        t.check(srv.stop() == 0, "main daemon: SIGTERM exit status")
        graceful(w, t)
        credentials(w, t)
        s3_trigger(w, t)
        s3_idle_queue(w, t)
        restart(w, t)
        crash_in_runtask(w, t)
        chaos_kills(w, t)
    except Exception as e:  # a broken fixture is a failure, with its reason
        t.check(False, f"fixture: {type(e).__name__}: {e}")
    finally:
        if w is not None:
            w.stop()
        tidy(t, tmp)
    sys.exit(t.finish())


if __name__ == "__main__":
    main()
