#!/usr/bin/python3
"""test_api.py - the jobs API of `ecsched serve`, driven over HTTP: every
request of seed 004's usage guide, the contract's pagination table, merge
updates, media-type and method errors, HEAD, ETag/304, and persistence
across a restart. The server runs on a free loopback port with its own
SQLite file and is stopped by PID.

Run: /usr/bin/python3 tests/integration/test_api.py --bin build/ecsched
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import refcron

JSON = {"Content-Type": "application/json"}


def wait_for(fn, timeout, step=0.1):
    """fn's first truthy value within timeout seconds (polled), else its last."""
    deadline = time.monotonic() + timeout
    value = fn()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = fn()
    return value


def shell_task_definitions(defs, scripts, env):
    """Write <defs>/<family>.json for the local launcher: one container
    "main" running `sh -c SCRIPT` with env ({name: value}) as its own
    environment, for each family: script in scripts."""
    os.makedirs(defs, exist_ok=True)
    for family, script in scripts.items():
        with open(os.path.join(defs, family + ".json"), "w") as f:
            json.dump({"family": family, "containerDefinitions": [{
                "name": "main", "command": ["sh", "-c", script],
                "environment": [{"name": k, "value": v} for k, v in env.items()]}]}, f)


def tidy(tally, tmp):
    """Remove a test's directory when it passed; keep it, and say where,
    when it did not, so the daemon's logs can be read."""
    if tally.failed == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"logs kept in {tmp}")


class Server:
    def __init__(self, binary, store, extra=(), env=None, role="api", log=None,
                 env_replace=False):
        self.env_replace = env_replace  # env is the whole environment, not additions
        self.role = role
        self.log = log  # a path: the daemon's stderr (JSON-lines events) goes there
        self.binary = binary
        self.store = store
        self.extra = list(extra)
        self.env = env
        self.proc = None
        self.port = None

    def start(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {} if self.env_replace else dict(os.environ)
        env.pop("ECSCHED_TOKEN", None)
        env.update(self.env or {})
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", f"127.0.0.1:{self.port}",
                                      "--store", self.store, "--role", self.role] + self.extra,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "ab") if self.log else subprocess.DEVNULL,
                                     env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not come up")

    def kill9(self):
        """Kill without warning, as a crash or an OOM kill would."""
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = -9
            self.proc = None
            return rc
        return 0

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        r = conn.getresponse()
        raw = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return r.status, parsed, hdrs


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("api")
    tmp = tempfile.mkdtemp(prefix="ecsched-api-")
    srv = Server(os.path.abspath(args.bin), f"sqlite:{tmp}/state/jobs.db",
                 extra=["--request-timeout", "1"])
    try:
        srv.start()
        run(srv, t)
        t.check(srv.stop() == 0, "server did not stop cleanly on SIGTERM")
        auth(args, tmp, t)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


def auth(args, tmp, t):
    """Bearer tokens: writes need one; with --auth-reads, reads too."""
    job = {"taskDefinition": "guarded", "schedule": "0"}
    srv = Server(os.path.abspath(args.bin), f"sqlite:{tmp}/auth.db", env={"ECSCHED_TOKEN": "s3cret"})
    srv.start()
    try:
        st, body, h = srv.request("POST", "/jobs", job, JSON)
        t.check(st == 401 and h.get("www-authenticate", "").startswith("Bearer")
                and "bearer token" in body.get("message", ""), f"no token: {st} {body} {h}")
        st, body, h = srv.request("POST", "/jobs", job, dict(JSON, Authorization="Bearer s3cre"))
        t.check(st == 401, f"wrong token: {st}")
        st, body, h = srv.request("POST", "/jobs", job, dict(JSON, Authorization="Bearer s3cret"))
        t.check(st == 201, f"right token: {st} {body}")
        st, body, h = srv.request("DELETE", "/jobs/guarded")
        t.check(st == 401, f"delete without token: {st}")
        st, body, h = srv.request("GET", "/jobs/guarded")
        t.check(st == 200, f"reads stay open: {st}")
    finally:
        t.check(srv.stop() == 0, "auth server stopped")
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as f:
        f.write("from-file\n")
    srv = Server(os.path.abspath(args.bin), f"sqlite:{tmp}/auth.db",
                 extra=["--token-file", token_file, "--auth-reads"])
    srv.start()
    try:
        st, body, h = srv.request("GET", "/jobs/guarded")
        t.check(st == 401, f"--auth-reads: {st}")
        st, body, h = srv.request("GET", "/jobs/guarded", headers={"Authorization": "Bearer from-file"})
        t.check(st == 200, f"--auth-reads with token: {st}")
        st, body, h = srv.request("GET", "/healthz")
        t.check(st == 200, f"/healthz stays open: {st}")
    finally:
        t.check(srv.stop() == 0, "auth-reads server stopped")


def link(id_):
    return {"href": f"/jobs/{id_}", "rel": "item", "title": f"Job for {id_}"}


def run(srv, t):
    rq = srv.request

    # --- seed 004's usage guide, request by request ---
    st, body, h = rq("POST", "/jobs", {"taskDefinition": "sleeper-task", "schedule": "25 */5"}, JSON)
    t.check(st == 201 and body == {"id": "sleeper-task", "link": link("sleeper-task")},
            f"create: {st} {body}")
    t.check(h.get("location") == "/jobs/sleeper-task", f"Location: {h}")
    t.check(h.get("content-type") == "application/json", f"content type: {h}")
    st, body, h = rq("GET", "/jobs/sleeper-task")
    t.check(st == 200 and body.get("schedule") == "25 */5" and body.get("taskCount") == 1 and
            body.get("taskDefinition") == "sleeper-task" and body.get("link") == link("sleeper-task")
            and "estimatedNextRun" in body, f"get: {st} {body}")
    st, body, h = rq("PUT", "/jobs/sleeper-task", {"schedule": "? */5"}, JSON)
    t.check(st == 200 and body == {"id": "sleeper-task", "link": link("sleeper-task")},
            f"put: {st} {body}")
    st, body, h = rq("GET", "/jobs/sleeper-task")
    t.check(st == 200 and re.fullmatch(r"\d+ \*/5", body.get("schedule", "")) is not None,
            f"? resolved: {body}")
    resolved = body.get("schedule")
    st, body, h = rq("GET", "/jobs/sleeper-task")
    t.check(body.get("schedule") == resolved, "? stays resolved")
    st, body, h = rq("POST", "/jobs", {"taskDefinition": "sleeper-task", "schedule": "0"}, JSON)
    t.check(st == 409 and body == {"message": "Job sleeper-task already exists."}, f"409: {st} {body}")
    ov = [{"containerName": "sleeper-container", "environment": {"SLEEP_SECONDS": "10"}}]
    st, body, h = rq("POST", "/jobs", {"taskDefinition": "sleeper-task", "id": "long-sleep-task",
                                       "schedule": "? */7", "overrides": ov}, JSON)
    t.check(st == 201 and body == {"id": "long-sleep-task", "link": link("long-sleep-task")},
            f"create 2: {st} {body}")
    st, body, h = rq("GET", "/jobs/long-sleep-task")
    t.check(st == 200 and body.get("overrides") == ov and body.get("taskDefinition") == "sleeper-task"
            and re.fullmatch(r"\d+ \*/7", body.get("schedule", "")) is not None, f"get 2: {body}")
    st, body, h = rq("GET", "/jobs")
    t.check(st == 200 and [j["id"] for j in body.get("jobs", [])] == ["sleeper-task", "long-sleep-task"]
            and "prev" not in body and "next" not in body, f"list: {st} {body}")
    trig = {"type": "sqs", "queueName": "consumer-task-queue", "messagesPerTask": 100}
    st, body, h = rq("POST", "/jobs", {"taskDefinition": "consumer-task", "schedule": "? */3",
                                       "trigger": trig}, JSON)
    t.check(st == 201, f"create 3: {st} {body}")
    st, body, h = rq("GET", "/jobs/consumer-task")
    t.check(body.get("trigger") == trig and body.get("taskCount") == 1, f"get 3: {body}")
    st, body, h = rq("PUT", "/jobs/consumer-task", {"maxCount": 10}, JSON)
    t.check(st == 200, f"maxCount: {st} {body}")
    st, body, h = rq("GET", "/jobs/consumer-task")
    t.check(body.get("maxCount") == 10 and body.get("trigger") == trig, f"merge kept trigger: {body}")

    # --- index and the OpenAPI document ---
    st, body, h = rq("GET", "/")
    t.check(st == 200 and [r["link"]["href"] for r in body["resources"]] == ["/jobs", "/spec"],
            f"index: {body}")
    st, body, h = rq("GET", "/spec")
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.json")) as f:
        in_tree = json.load(f)
    t.check(st == 200 and body == in_tree and body["openapi"].startswith("3.")
            and {"/jobs", "/jobs/{id}", "/healthz", "/spec", "/", "/jobs/{id}/runs",
                 "/jobs/{id}/runs/{run}", "/jobs/{id}/run"} <= set(body["paths"]),
            f"/spec: {st}")

    # --- errors of contract section 1.10 ---
    st, body, h = rq("GET", "/jobs/foo%20bar")
    t.check(st == 404 and body == {"message": "Job foo bar does not exist."}, f"404 job: {body}")
    for path in ("/nope", "/jobs/", "/jobs/a/b"):
        st, body, h = rq("GET", path)
        t.check(st == 404 and body.get("message", "").startswith("The requested URL was not found"),
                f"404 route {path}: {st} {body}")
    st, body, h = rq("PATCH", "/jobs/sleeper-task")
    t.check(st == 405 and body == {"message": "The method is not allowed for the requested URL."}
            and set(h.get("allow", "").split(", ")) == {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"},
            f"405: {st} {body} {h.get('allow')}")
    st, body, h = rq("PUT", "/jobs/missing", {"schedule": "0"})
    t.check(st == 415 and body == {"message": "Header Content-Type: application/json required to "
                                               "send a request body."}, f"415 before 404: {st} {body}")
    st, body, h = rq("PUT", "/jobs/missing", {"schedule": "0"}, JSON)
    t.check(st == 404, f"404 after 415: {st}")
    st, body, h = rq("POST", "/jobs", b"{not json", JSON)
    t.check(st == 400 and body.get("message") == "The browser (or proxy) sent a request that this "
                                                 "server could not understand."
            and "line 1, column" in body.get("detail", ""), f"bad json: {body}")
    st, body, h = rq("POST", "/jobs", b'{"schedule": "\xff"}', JSON)
    t.check(st == 400 and "decode byte 0xff" in body.get("detail", ""), f"bad utf-8 named: {body}")
    st, body, h = rq("POST", "/jobs", b"[" * 5000, JSON)
    t.check(st == 400 and "depth" in body.get("detail", ""), f"deep nesting named: {body}")
    st, body, h = rq("POST", "/jobs", b'{"taskCount": 99999999999999999999999}', JSON)
    t.check(st == 400 and "too big" in body.get("detail", ""), f"huge number named: {body}")
    st, body, h = rq("POST", "/jobs", {"taskDefinition": "x y", "schedule": "0 61", "taskCount": 0},
                     JSON)
    t.check(st == 400 and set(body.get("messages", {})) == {"taskDefinition", "schedule", "taskCount"},
            f"400 all fields: {body}")
    st, body, h = rq("POST", "/jobs", [], JSON)
    t.check(st == 400 and "messages" in body, f"non-object body: {st} {body}")
    st, body, h = rq("POST", "/jobs", b"x" * (1024 * 1024 + 10), JSON)
    t.check(st == 413 and "message" in body, f"413: {st}")

    # --- every validation message of contract 1.10, through HTTP ---
    base = {"taskDefinition": "msg-test", "schedule": "0"}
    cases = [
        ({"schedule": "0"}, {"taskDefinition": ["Missing data for required field."]}),
        (dict(base, taskCount=None), {"taskCount": ["Field may not be null."]}),
        (dict(base, taskDefinition=5), {"taskDefinition": ["Not a valid string."]}),
        (dict(base, taskCount="x"), {"taskCount": ["Not a valid integer."]}),
        (dict(base, suspended="yes"), {"suspended": ["Not a valid boolean."]}),
        (dict(base, scheduleStart="2017-01-01"), {"scheduleStart": ["Not a valid datetime."]}),
        (dict(base, overrides={}), {"overrides": ["Not a valid list."]}),
        (dict(base, overrides=[{"containerName": "c", "environment": []}]),
         {"overrides": {"0": {"environment": ["Not a valid mapping type."]}}}),
        (dict(base, maxCount=51), {"maxCount": ["Must be between 1 and 50."]}),
        (dict(base, trigger={"type": "sqs", "queueName": "q", "messagesPerTask": 0}),
         {"trigger": {"messagesPerTask": ["Must be at least 1."]}}),
        (dict(base, taskDefinition="a b"),
         {"taskDefinition": ["task definition names must contain only alphanumeric, underscore, and hyphen"]}),
        (dict(base, trigger={"type": "sqs"}), {"trigger": {"_schema": ["sqs trigger type requires queueName field"]}}),
        (dict(base, timezone="FOO"), {"timezone": ["Invalid timezone format: FOO"]}),
        (dict(base, schedule="bad-schedule"),
         {"schedule": ['Invalid schedule syntax: Unrecognized expression "bad-schedule" for field "second"']}),
    ]
    for req, want in cases:
        st, body, h = rq("POST", "/jobs", req, JSON)
        t.check(st == 400 and body == {"messages": want}, f"1.10 {want}: {st} {body}")

    # --- atomic merge PUT ---
    st, body, h = rq("PUT", "/jobs/consumer-task", {"maxCount": 20, "taskCount": 99}, JSON)
    t.check(st == 400 and body == {"messages": {"taskCount": ["Must be between 1 and 50."]}},
            f"atomic put: {body}")
    st, body, h = rq("GET", "/jobs/consumer-task")
    t.check(body.get("maxCount") == 10, f"nothing changed: {body}")

    # `id` in an update is ignored; an update that changes nothing is a 200
    def stored(id_):
        job = rq("GET", f"/jobs/{id_}")[1]
        job.pop("estimatedNextRun", None)
        return job
    job0 = stored("consumer-task")
    st, body, h = rq("PUT", "/jobs/consumer-task", {"id": "ignored", "maxCount": 10}, JSON)
    t.check(st == 200 and stored("consumer-task") == job0, f"no-op put: {st} {body}")

    # --- HEAD, ETag, 304 ---
    st, body, h = rq("GET", "/jobs/sleeper-task")
    etag = h.get("etag", "")
    st2, body2, h2 = rq("HEAD", "/jobs/sleeper-task")
    t.check(st2 == 200 and body2 is None and h2.get("etag") == etag, f"HEAD: {st2} {h2}")
    st3, body3, h3 = rq("GET", "/jobs/sleeper-task", headers={"If-None-Match": etag})
    t.check(st3 == 304 and h3.get("etag") == etag, f"304: {st3}")
    st, body, h = rq("GET", "/jobs/sleeper-task", headers={"If-None-Match": '"other"'})
    t.check(st == 200, f"no 304 for another etag: {st}")

    # --- delete ---
    st, body, h = rq("DELETE", "/jobs/long-sleep-task")
    t.check(st == 200 and body == {"id": "long-sleep-task"}, f"delete: {st} {body}")
    st, body, h = rq("DELETE", "/jobs/long-sleep-task")
    t.check(st == 404, f"delete twice: {st}")

    # --- pagination: the contract's table with 27 jobs (ours links prev to page 1) ---
    for id_ in [j["id"] for j in rq("GET", "/jobs?count=1000")[1]["jobs"]]:
        rq("DELETE", f"/jobs/{id_}")
    for i in range(27):
        rq("POST", "/jobs", {"taskDefinition": f"job-{26 - i:02d}", "schedule": "0"}, JSON)
    table = [
        ("/jobs", None, "/jobs?skip=10"),
        ("/jobs?skip=10", "/jobs", "/jobs?skip=20"),
        ("/jobs?skip=20", "/jobs?skip=10", None),
        ("/jobs?skip=27", "/jobs?skip=17", None),
        ("/jobs?skip=100", None, None),
        ("/jobs?count=5", None, "/jobs?count=5&skip=5"),
        ("/jobs?skip=5&count=5", "/jobs?count=5", "/jobs?count=5&skip=10"),
        ("/jobs?skip=3&count=5", "/jobs?count=5", "/jobs?count=5&skip=8"),
        ("/jobs?skip=2&count=10", "/jobs", "/jobs?skip=12"),
        ("/jobs?skip=-5&count=5", None, "/jobs?count=5&skip=5"),
        ("/jobs?skip=5&count=0", "/jobs?count=0&skip=5", "/jobs?count=0&skip=5"),
        ("/jobs?count=27", None, None),
        ("/jobs?count=26", None, "/jobs?count=26&skip=26"),
    ]
    for path, prev, nxt in table:
        st, body, h = rq("GET", path)
        t.check(st == 200 and body.get("prev") == prev and body.get("next") == nxt,
                f"{path}: prev={body.get('prev')} next={body.get('next')}, want {prev} {nxt}")
    st, body, h = rq("GET", "/jobs?skip=3&count=2")
    t.check([j["id"] for j in body["jobs"]] == ["job-23", "job-22"], f"order: {body}")
    st, body, h = rq("GET", "/jobs?skip=abc&count=1.5")
    t.check(st == 400 and body == {"messages": {"skip": ["Not a valid integer."],
                                                "count": ["Not a valid integer."]}}, f"bad skip: {body}")

    # --- a half-sent request is cut off (server started with a 1 s timeout) ---
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"taskDefinition\"")
        t0 = time.monotonic()
        closed = False
        try:
            while time.monotonic() - t0 < 8:
                if s.recv(4096) == b"":
                    closed = True
                    break
        except OSError:
            closed = True
        t.check(closed and time.monotonic() - t0 < 6, "a half-sent request was not timed out")
    t.check(rq("GET", "/jobs/job-00")[0] == 200 and rq("GET", "/jobs/taskDefinition")[0] == 404,
            "the half-sent request changed nothing")

    # --- a write the store cannot take: 503, and nothing changes ---
    db = srv.store[len("sqlite:"):]
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    st, body, h = rq("POST", "/jobs", {"taskDefinition": "blocked", "schedule": "0"}, JSON)
    t.check(st == 503 and "locked" in body.get("message", ""), f"503: {st} {body}")
    st, body, h = rq("PUT", "/jobs/job-00", {"taskCount": 7}, JSON)
    t.check(st == 503, f"503 put: {st} {body}")
    other.execute("ROLLBACK")
    other.close()
    t.check(rq("GET", "/jobs/blocked")[0] == 404 and rq("GET", "/jobs/job-00")[1].get("taskCount") == 1,
            "a refused write changed the store")

    # --- restart: same jobs, same order, same resolved schedules ---
    before = rq("GET", "/jobs?count=1000")[1]["jobs"]
    t.check(srv.stop() == 0, "clean stop")
    srv.start()
    after = rq("GET", "/jobs?count=1000")[1]["jobs"]
    strip = lambda js: [{k: v for k, v in j.items() if k != "estimatedNextRun"} for j in js]
    t.check(strip(before) == strip(after) and len(after) == 27, "jobs survive a restart")


if __name__ == "__main__":
    sys.exit(main())
