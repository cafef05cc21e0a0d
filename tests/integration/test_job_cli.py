#!/usr/bin/python3
"""test_job_cli.py - `ecsched job` against a real `ecsched serve` (local
launcher, task definitions run as processes): list/get/create/update/delete
as tables and --json, readable errors with the right exit statuses (a bad
schedule names the field, a missing job, a server that is down, a missing
token), `job run --wait` exiting with the task's exit code (3, 0, 124 on
--timeout, 125 for a missing job), --env reaching the task's environment
over the job's own overrides, and `job runs`.

Run: /usr/bin/python3 tests/integration/test_job_cli.py --bin build/ecsched
"""
import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import refcron
from test_api import Server, shell_task_definitions

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"


class Cli:
    """Runs the binary with ECSCHED_SERVER pointing at srv."""

    def __init__(self, binary, srv, env=None):
        self.binary = binary
        self.srv = srv
        self.env = env or {}

    def __call__(self, *args, stdin=None, env=None, timeout=30):
        e = {k: v for k, v in os.environ.items() if not k.startswith("ECSCHED_")}
        e["ECSCHED_SERVER"] = f"http://127.0.0.1:{self.srv.port}"
        e.update(self.env)
        e.update(env or {})
        p = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True,
                           timeout=timeout, env=e)
        return p.returncode, p.stdout, p.stderr


def wait_for(fn, timeout):
    deadline = time.monotonic() + timeout
    value = fn()
    while not value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = fn()
    return value


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def task_defs(defs):
    shell_task_definitions(defs, {
        "exit3": "echo started; sleep 1; exit 3",
        "ok": "echo mark=$MARK other=$OTHER",
        "slow": "sleep 4",
    }, {"MARK": "unset"})


def crud(t, cli, srv, tmp):
    rc, out, err = cli("job", "list")
    t.check(rc == 0 and out.startswith("no jobs"), f"empty list: {rc} {out!r} {err!r}")

    # create from flags: '?' resolved and said so
    rc, out, err = cli("job", "create", "--id", "nightly", "--task-definition", "ok",
                       "--schedule", "? 0 3", "--suspend")
    m = re.fullmatch(r"created job nightly: schedule '(\d+) 0 3', suspended\n", out)
    t.check(rc == 0 and m is not None, f"create flags: {rc} {out!r} {err!r}")
    # create from a YAML file and from JSON on stdin
    yml = write(os.path.join(tmp, "job.yaml"),
                "id: tick\ntaskDefinition: ok\nschedule: '0 0 12'\ntimezone: Europe/London\n"
                "taskCount: 2\noverrides:\n  - containerName: main\n"
                "    environment: {OTHER: from-job}\n")
    rc, out, err = cli("job", "create", "-f", yml)
    t.check(rc == 0 and re.fullmatch(rf"created job tick: schedule '0 0 12', next run {ISO}\n",
                                     out) is not None, f"create -f yaml: {rc} {out!r} {err!r}")
    rc, out, err = cli("job", "create", "-f", "-", "--json",
                       stdin=json.dumps({"taskDefinition": "exit3", "schedule": "0 0 0",
                                         "suspended": True}))
    t.check(rc == 0 and json.loads(out).get("id") == "exit3"
            and json.loads(out)["link"]["href"] == "/jobs/exit3", f"create json: {rc} {out!r}")
    rc, out, err = cli("job", "create", "--task-definition", "slow", "--schedule", "0 0 0",
                       "--set", "suspended=true", "--set", "maxCount=2")
    t.check(rc == 0, f"create --set: {rc} {err!r}")
    st, job, _ = srv.request("GET", "/jobs/slow")
    t.check(job.get("suspended") is True and job.get("maxCount") == 2, f"--set typed: {job}")

    # list: a table with a row per job
    rc, out, err = cli("job", "list")
    lines = out.splitlines()
    t.check(rc == 0 and lines and lines[0].split() == ["ID", "SCHEDULE", "NEXT", "RUN", "LAST",
                                                       "RUN", "SUSPENDED"], f"header {lines[:1]}")
    rows = {ln.split()[0]: ln for ln in lines[1:]}
    t.check(sorted(rows) == ["exit3", "nightly", "slow", "tick"], f"rows {sorted(rows)}")
    t.check(re.search(rf"^tick\s+0 0 12 \(Europe/London\)\s+{ISO}\s+-\s+no$", rows.get("tick", ""))
            is not None, f"tick row {rows.get('tick')!r}")
    t.check(re.search(r"^nightly\s+\d+ 0 3\s+-\s+-\s+yes$", rows.get("nightly", "")) is not None,
            f"nightly row {rows.get('nightly')!r}")
    rc, out, err = cli("job", "list", "--json")
    st, body, _ = srv.request("GET", "/jobs?count=100")
    t.check(rc == 0 and json.loads(out) == {"jobs": body["jobs"]}, f"list --json: {out[:200]!r}")

    # get: readable (YAML-ish) and --json as the server has it
    rc, out, err = cli("job", "get", "tick")
    t.check(rc == 0 and out.startswith("id: tick\ntaskDefinition: ok\nschedule: 0 0 12\n"
                                       "timezone: Europe/London\ntaskCount: 2\n")
            and "\n- containerName: main\n  environment:\n    OTHER: from-job\n" in out
            and "estimatedNextRun: " in out and "link" not in out, f"get: {rc} {out!r}")
    rc, out, err = cli("job", "get", "tick", "--json")
    st, body, _ = srv.request("GET", "/jobs/tick")
    got = json.loads(out) if rc == 0 else {}
    got.pop("estimatedNextRun", None)
    body.pop("estimatedNextRun", None)
    t.check(got == body, f"get --json: {got} vs {body}")

    # update: --set and field flags merge; -f merges a file's fields
    rc, out, err = cli("job", "update", "tick", "--set", "taskCount=3", "--schedule", "30 0 12",
                       "--resume")
    st, job, _ = srv.request("GET", "/jobs/tick")
    t.check(rc == 0 and out.startswith("updated job tick: schedule '30 0 12', next run ")
            and job.get("taskCount") == 3 and job.get("overrides") is not None
            and job.get("suspended") is False, f"update: {rc} {out!r} {err!r} {job}")
    upd = write(os.path.join(tmp, "upd.yaml"), "maxCount: 4\ntimezone: UTC\n")
    rc, out, err = cli("job", "update", "tick", "-f", upd, "--json")
    st, job, _ = srv.request("GET", "/jobs/tick")
    t.check(rc == 0 and json.loads(out)["id"] == "tick" and job.get("maxCount") == 4
            and job.get("timezone") == "UTC" and job.get("taskCount") == 3,
            f"update -f: {rc} {out!r} {job}")
    rc, out, err = cli("job", "update", "tick", "--id", "renamed")
    t.check(rc == 2 and "cannot be renamed" in err, f"update --id: {rc} {err!r}")
    rc, out, err = cli("job", "update", "tick")
    t.check(rc == 2 and "nothing to update" in err, f"update nothing: {rc} {err!r}")

    # errors: the field named, exit 2 for invalid input, 1 for a refusal
    rc, out, err = cli("job", "create", "--task-definition", "ok", "--id", "bad",
                       "--schedule", "0 61")
    t.check(rc == 2 and "rejected" in err and re.search(
        r"^  schedule: Invalid schedule syntax: .*'61'", err, re.M) is not None,
        f"bad schedule: {rc} {err!r}")
    bad = write(os.path.join(tmp, "bad.yaml"),
                "id: bad\ntaskDefinition: ok\nschedule: '0 0'\ntaskCount: 99\n"
                "overrides:\n  - environment: {A: '1'}\n")
    rc, out, err = cli("job", "create", "-f", bad)
    t.check(rc == 2 and f"{bad}:4: taskCount: Must be between 1 and 50." in err
            and f"{bad}:6: overrides.0.containerName: Missing data" in err,
            f"bad file: {rc} {err!r}")
    rc, out, err = cli("job", "update", "tick", "--set", "timezone=Mars/Base")
    t.check(rc == 2 and "timezone: Invalid timezone format: Mars/Base" in err,
            f"bad update: {rc} {err!r}")
    for null in ("~", "null"):
        rc, out, err = cli("job", "update", "tick", "--set", f"maxCount={null}")
        t.check(rc == 2 and "maxCount: Field may not be null." in err,
                f"--set maxCount={null} says what the API says: {rc} {err!r}")
    rc, out, err = cli("job", "create", "--task-definition", "ok", "--schedule", "0")
    t.check(rc == 0, f"schedule '0' stays text: {rc} {err!r}")
    rc, out, err = cli("job", "create", "--task-definition", "ok", "--schedule", "0")
    t.check(rc == 1 and "Job ok already exists." in err, f"duplicate: {rc} {err!r}")
    for args in (("get", "nope"), ("update", "nope", "--set", "taskCount=2"),
                 ("delete", "nope"), ("runs", "nope")):
        rc, out, err = cli("job", *args)
        t.check(rc == 1 and "Job nope does not exist." in err and out == "",
                f"missing job {args}: {rc} {out!r} {err!r}")
    down = f"http://127.0.0.1:{free_port()}"
    rc, out, err = cli("job", "list", "--server", down)
    t.check(rc == 1 and down in err and "--server" in err, f"server down: {rc} {err!r}")
    rc, out, err = cli("job", "list", env={"ECSCHED_SERVER": down})
    t.check(rc == 1 and down in err, f"ECSCHED_SERVER down: {rc} {err!r}")

    # usage errors
    for args, part in ((("job",), "usage"), (("job", "frob"), "'frob' is not a job command"),
                       (("job", "get"), "exactly one job ID"),
                       (("job", "list", "--env", "A=1"), "does not apply"),
                       (("job", "run", "tick", "--timeout", "3"), "--timeout goes with --wait"),
                       (("job", "create", "--set", "novalue"), "not FIELD=VALUE"),
                       (("job", "list", "--bogus"), "--bogus")):
        rc, out, err = cli(*args)
        t.check(rc == 2 and part in err, f"usage {args}: {rc} {err!r}")
    rc, out, err = cli("job", "--help")
    t.check(rc == 0 and "ecsched job run" in out and "124" in out, f"--help: {rc}")

    # delete
    rc, out, err = cli("job", "delete", "ok")
    t.check(rc == 0 and out == "deleted job ok\n", f"delete: {rc} {out!r} {err!r}")
    st, _, _ = srv.request("GET", "/jobs/ok")
    t.check(st == 404, f"deleted job still there: {st}")


def runs(t, cli, srv, logs):
    # --wait exits with the task's exit code
    started = time.monotonic()
    rc, out, err = cli("job", "run", "exit3", "--wait", "--requested-by", "tester")
    t.check(rc == 3 and re.search(r"^run (\d+) of job exit3 failed \(main=3\); exit status 3$",
                                  out, re.M) is not None, f"exit 3: {rc} {out!r} {err!r}")
    t.check("started run" in err and "/jobs/exit3/runs/" in err, f"run link: {err!r}")
    t.check(time.monotonic() - started < 10, "the run took too long to be followed")
    st, body, _ = srv.request("GET", "/jobs/exit3/runs")
    t.check(body["runs"][0].get("requestedBy") == "tester", f"requestedBy {body['runs'][0]}")

    # --env over the job's own overrides; exit 0
    rc, out, err = cli("job", "run", "tick", "--env", "MARK=hello world", "--wait")
    t.check(rc == 0 and "succeeded" in out, f"exit 0: {rc} {out!r} {err!r}")
    st, body, _ = srv.request("GET", "/jobs/tick/runs?count=1")
    run = body["runs"][0]
    texts = []
    for task in run["tasks"]:
        tid = task["taskArn"].rsplit("/", 1)[-1]
        for path in glob.glob(os.path.join(logs, tid, "main.log")):
            texts.append(open(path).read())
    t.check(len(texts) == 3 and all("mark=hello world other=from-job" in x for x in texts),
            f"--env in the task's environment: {texts}")
    st, job, _ = srv.request("GET", "/jobs/tick")
    t.check(job["overrides"] == [{"containerName": "main", "environment": {"OTHER": "from-job"}}],
            f"the job's overrides unchanged: {job['overrides']}")
    # a job without overrides needs --container for --env
    rc, out, err = cli("job", "run", "exit3", "--env", "A=1")
    t.check(rc == 2 and "--container" in err, f"--env without container: {rc} {err!r}")
    # no $USER nor $LOGNAME (cron, systemd): the account's own name
    rc, out, err = cli("job", "run", "exit3", "--env", "MARK=x", "--container", "main",
                       "--json", env={"USER": "", "LOGNAME": ""})
    me = pwd.getpwuid(os.geteuid()).pw_name
    t.check(rc == 0 and json.loads(out).get("requestedBy") == me,
            f"requestedBy without $USER: {rc} {out!r} (want {me})")
    body = json.loads(out) if rc == 0 else {}
    t.check(rc == 0 and body.get("status") == "pending" and body.get("overrides") == [
        {"containerName": "main", "environment": {"MARK": "x"}}], f"run --json: {rc} {out!r}")
    # without --wait: the run's link; follow it through the API
    rc, out, err = cli("job", "run", "nightly")
    m = re.fullmatch(r"started run (\d+) of job nightly: (http://\S+/jobs/nightly/runs/\d+)\n", out)
    t.check(rc == 0 and m is not None, f"run: {rc} {out!r} {err!r}")
    if m:
        path = "/" + m.group(2).split("/", 3)[3]
        t.check(wait_for(lambda: srv.request("GET", path)[1].get("status") == "succeeded", 10),
                "the started run did not succeed")

    # --timeout: 124, the run goes on; a missing job under --wait: 125
    started = time.monotonic()
    rc, out, err = cli("job", "run", "slow", "--wait", "--timeout", "0.5")
    t.check(rc == 124 and "still" in err and time.monotonic() - started < 3,
            f"timeout: {rc} {err!r}")
    rc, out, err = cli("job", "run", "nope", "--wait")
    t.check(rc == 125 and "Job nope does not exist." in err, f"missing --wait: {rc} {err!r}")
    rc, out, err = cli("job", "run", "nope")
    t.check(rc == 1, f"missing run: {rc} {err!r}")

    # runs: newest first, a table or the server's JSON
    wait_for(lambda: all(r["status"] in ("succeeded", "failed")
                         for r in srv.request("GET", "/jobs/exit3/runs")[1]["runs"]), 10)
    rc, out, err = cli("job", "runs", "exit3")
    lines = out.splitlines()
    t.check(rc == 0 and lines[0].split()[:5] == ["ID", "REASON", "BY", "STATUS", "SCHEDULED"]
            and len(lines) == 3, f"runs table: {rc} {out!r}")
    t.check(re.match(rf"^\d+\s+manual\s+tester\s+failed\s+{ISO}\s+1\s+main=3$",
                     lines[-1] if lines else "") is not None, f"runs row: {lines[-1:]}")
    ids = [int(ln.split()[0]) for ln in lines[1:]]
    t.check(ids == sorted(ids, reverse=True), f"newest first: {ids}")
    rc, out, err = cli("job", "runs", "exit3", "--count", "1", "--json")
    body = json.loads(out) if rc == 0 else {}
    t.check(len(body.get("runs", [])) == 1 and body.get("total") == 2, f"runs --json: {out!r}")
    rc, out, err = cli("job", "runs", "nightly", "-n", "0")
    t.check(rc == 2 and "--count" in err, f"bad --count: {rc} {err!r}")


def auth(t, binary, tmp):
    srv = Server(binary, f"sqlite:{tmp}/auth.db", env={"ECSCHED_TOKEN": "s3cret"})
    srv.start()
    try:
        cli = Cli(binary, srv)
        rc, out, err = cli("job", "create", "--task-definition", "ok", "--schedule", "0")
        t.check(rc == 1 and "bearer token" in err and "ECSCHED_TOKEN" in err,
                f"no token: {rc} {err!r}")
        rc, out, err = cli("job", "create", "--task-definition", "ok", "--schedule", "0",
                           env={"ECSCHED_TOKEN": "s3cret"})
        t.check(rc == 0, f"with token: {rc} {err!r}")
    finally:
        t.check(srv.stop() == 0, "auth server stopped")


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("job_cli")
    binary = os.path.abspath(args.bin)
    tmp = tempfile.mkdtemp(prefix="ecsched-jobcli-")
    defs = os.path.join(tmp, "defs")
    logs = os.path.join(tmp, "logs")
    task_defs(defs)
    log = os.path.join(tmp, "daemon.log")
    srv = Server(binary, f"sqlite:{tmp}/jobs.db", role="all", log=log,
                 extra=["--launcher", "local", "--task-definitions", defs, "--log-dir", logs,
                        "--poll-interval", "0.2"])
    try:
        srv.start()
        cli = Cli(binary, srv)
        crud(t, cli, srv, tmp)
        runs(t, cli, srv, logs)
        t.check(srv.stop() == 0, "serve stopped cleanly on SIGTERM")
        auth(t, binary, tmp)
    finally:
        srv.stop()
        if t.failed:
            sys.stderr.write(open(log).read()[-3000:])
        # local tasks outlive the daemon; these must not outlive the test
        refcron.stop_local_tasks(logs)
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
