"""awsmock.py - helpers for the tests that drive ecsched against moto_server:
start moto with signature checking on (INITIAL_NO_AUTH_ACTION_COUNT), make
an IAM user whose access key signs every later request, call the aws CLI,
and put a small HTTP proxy in front of moto that can answer a chosen number
of calls with throttling or 5xx errors. Standard library only: the tests run
on Debian's /usr/bin/python3, while moto_server and aws come from the
image's own Python on PATH.
"""
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

# the IAM calls made unsigned, before checking starts: create-user,
# create-policy, attach-user-policy, create-access-key
BOOTSTRAP_CALLS = 4
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_tools():
    """Why the AWS tests cannot run here ("" when they can): moto is not a
    Debian package, so a fresh machine may lack it."""
    missing = []
    for name in ("moto_server", "aws"):
        try:
            find_tool(name)
        except RuntimeError:
            missing.append(name)
    if not missing:
        return ""
    return (f"{' and '.join(missing)} not found on PATH; these tests need moto's server "
            f"(pip install 'moto[server]', not in Debian) and an AWS CLI that reads "
            f"AWS_ENDPOINT_URL (pip install awscli; Debian 12's awscli is too old for it)")


def find_tool(name):
    """A tool of the image's Python (moto_server, aws), on PATH or pyenv's."""
    found = shutil.which(name)
    if found:
        return found
    for d in (os.path.expanduser("~/.pyenv/shims"), "/root/.pyenv/shims", "/usr/local/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    raise RuntimeError(f"{name} not found on PATH: these tests need the image's moto and awscli")


class Moto:
    """A moto_server on a free port with IAM signature checking on."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.key = None      # the signing user's access key id
        self.secret = None
        self.aws_bin = find_tool("aws")

    def start(self):
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(BOOTSTRAP_CALLS))
        self.proc = subprocess.Popen([find_tool("moto_server"), "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.workdir, "moto.log"), "ab"),
                                     env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not come up")
        boot = {"AWS_ACCESS_KEY_ID": "bootstrap", "AWS_SECRET_ACCESS_KEY": "bootstrap"}
        self.aws("iam", "create-user", "--user-name", "ecsched", env=boot)
        arn = self.aws("iam", "create-policy", "--policy-name", "all", "--policy-document",
                       ALLOW_ALL, env=boot)["Policy"]["Arn"]
        self.policy_arn = arn
        self.aws("iam", "attach-user-policy", "--user-name", "ecsched", "--policy-arn", arn,
                 env=boot, parse=False)
        k = self.aws("iam", "create-access-key", "--user-name", "ecsched", env=boot)["AccessKey"]
        self.key = k["AccessKeyId"]
        self.secret = k["SecretAccessKey"]

    def hold(self, model):
        """Keep moto's `model` (e.g. "ecs::task") in its first state until
        an API call changes it: by default moto walks a task from RUNNING to
        STOPPED a step on each DescribeTasks, which no real task does."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("POST", "/moto-api/state-manager/set-transition",
                     body=json.dumps({"model_name": model,
                                      "transition": {"progression": "manual",
                                                     "times": 10 ** 9}}))
        r = conn.getresponse()
        r.read()
        conn.close()
        if r.status != 201 and r.status != 200:
            raise RuntimeError(f"moto set-transition {model}: HTTP {r.status}")

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def env(self, **extra):
        """The environment of a process that signs with the user's key."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update({"AWS_ACCESS_KEY_ID": self.key or "", "AWS_SECRET_ACCESS_KEY": self.secret or "",
                  "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                  "AWS_ENDPOINT_URL": self.url,
                  "AWS_EC2_METADATA_DISABLED": "true"})
        e.update(extra)
        return {k: v for k, v in e.items() if v is not None}

    def boto(self, script, *args):
        """Run a Python script with boto3 (the image's Python, as moto's),
        signed as the user: for bulk work the CLI would take minutes on."""
        py = os.path.join(os.path.dirname(find_tool("moto_server")), "python3")
        if not os.access(py, os.X_OK):
            py = find_tool("python3")
        r = subprocess.run([py, "-c", script, *args], env=self.env(), capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"boto script: {r.stderr.strip()[-500:]}")
        return r.stdout

    def aws(self, *args, env=None, parse=True, check=True):
        e = self.env()
        e.update(env or {})
        r = subprocess.run([self.aws_bin, *args, "--output", "json"], env=e,
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"aws {' '.join(args[:2])}: {r.stderr.strip()}")
        if not parse:
            return r
        return json.loads(r.stdout) if r.stdout.strip() else {}


class FaultProxy:
    """Forwards requests to moto byte for byte (the Host header included,
    so SigV4 signatures stay valid), but answers the next `count` calls of
    `operation` with a fault: "throttle" (HTTP 400 ThrottlingException),
    "503" or "500", "hold" (never answered: the caller hangs, as on a
    network partition), "hold-reply" (forwarded, so moto acts on it, but
    its answer is never passed back: the call did its work and the caller
    cannot know, as when a process dies while the answer is on its way),
    or "no-memory" (RunTask's HTTP 200 with no task and a RESOURCE:MEMORY
    failure, as ECS answers when no instance has room). A fault may be
    kept for the calls whose body holds every string of `match` (the
    others pass untouched), e.g. one job's RunTask of 10 tasks."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.faults = {}   # operation -> [mode, remaining, match]
        self.calls = {}    # operation -> count seen (faulted or not)
        self.faulted = {}  # operation -> count answered with a fault
        self.held = []     # operations held ("hold": never answered)
        self.held_replies = []  # (operation, moto's answer) kept back by "hold-reply"
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                target = self.headers.get("X-Amz-Target", "")
                op = target.rsplit(".", 1)[-1]
                mode = proxy.take(op, body)
                if mode == "hold":
                    # never forwarded: the caller waits until it gives up
                    with proxy.lock:
                        proxy.held.append(op)
                    time.sleep(30)
                    return
                if mode is not None and mode != "hold-reply":
                    self.fault(mode)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=30)
                try:
                    conn.putrequest("POST", self.path, skip_host=True, skip_accept_encoding=True)
                    for k, v in self.headers.items():
                        conn.putheader(k, v)
                    conn.endheaders(body)
                    r = conn.getresponse()
                    data = r.read()
                except (OSError, http.client.HTTPException):
                    # moto went away mid-call (the test is ending): so do we
                    conn.close()
                    self.close_connection = True
                    return
                conn.close()
                if mode == "hold-reply":
                    # moto has done the work; the caller never hears of it
                    with proxy.lock:
                        proxy.held_replies.append((op, data))
                        proxy.held.append(op)
                    time.sleep(30)
                    self.close_connection = True
                    return
                try:
                    self.send_response(r.status)
                    for k, v in r.getheaders():
                        if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                             "server", "date"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    # the daemon hung up (killed, or a long poll cut short)
                    self.close_connection = True

            def fault(self, mode):
                if mode == "throttle":
                    status = 400
                    data = json.dumps({"__type": "ThrottlingException",
                                       "message": "Rate exceeded"}).encode()
                elif mode == "no-memory":
                    status = 200
                    data = json.dumps({"tasks": [], "failures": [
                        {"arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/main/c1",
                         "reason": "RESOURCE:MEMORY"}]}).encode()
                else:
                    status = int(mode)
                    data = b'{"message": "injected server error"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        report = self.server.handle_error

        def handle_error(request, client_address):
            # a daemon killed mid-call resets its connection: no traceback
            if not isinstance(sys.exc_info()[1], ConnectionError):
                report(request, client_address)
        self.server.handle_error = handle_error
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def inject(self, operation, mode, count, match=()):
        with self.lock:
            self.faults[operation] = [mode, count, [m.encode() for m in match]]
            self.faulted[operation] = 0

    def take(self, op, body=b""):
        with self.lock:
            self.calls[op] = self.calls.get(op, 0) + 1
            f = self.faults.get(op)
            if f is None or f[1] <= 0 or not all(m in body for m in f[2]):
                return None
            f[1] -= 1
            self.faulted[op] = self.faulted.get(op, 0) + 1
            return f[0]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class CredsServer:
    """The ECS container credentials endpoint: serves temporary credentials
    (from moto's STS) to requests carrying the expected Authorization
    token, with an Expiration close enough that a client must fetch again
    after `fresh_for` seconds (SDKs refresh 5 minutes ahead)."""

    MINT = """
import json, sys, boto3
sts = boto3.client("sts")
print(json.dumps([sts.assume_role(RoleArn=sys.argv[1], RoleSessionName=f"ecsched-{i}")["Credentials"]
                  for i in range(int(sys.argv[2]))], default=str))
"""

    def __init__(self, moto, token, role_arn, fresh_for=3, sets=8):
        # minted up front: a fetch must answer well within the client's
        # timeout, which a CLI call per fetch does not on a busy machine
        self.minted = json.loads(moto.boto(self.MINT, role_arn, str(sets)))
        self.moto = moto
        self.token = token
        self.role_arn = role_arn
        self.fresh_for = fresh_for
        self.port = free_port()
        self.fetches = 0
        self.refused = 0
        self.keys = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.headers.get("Authorization") != me.token:
                    me.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                c = me.minted[me.fetches % len(me.minted)]
                me.fetches += 1
                me.keys.append(c["AccessKeyId"])
                expires = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                        time.gmtime(time.time() + 300 + me.fresh_for))
                data = json.dumps({"AccessKeyId": c["AccessKeyId"],
                                   "SecretAccessKey": c["SecretAccessKey"],
                                   "Token": c["SessionToken"], "Expiration": expires,
                                   "RoleArn": me.role_arn}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/creds"
