#!/usr/bin/python3
"""test_demo.py - `make demo` without a terminal (piped, as in CI): it
prints the fire-time examples, then runs the daemon with seed 004's jobs
for DEMO_SECONDS, narrating each firing and finished run with the tasks'
own output, and stops by itself with status 0.

Run: /usr/bin/python3 tests/integration/test_demo.py --bin build/ecsched
"""
import os
import re
import socket
import subprocess
import tempfile
import time

import refcron
from test_api import tidy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("demo")
    tmp = tempfile.mkdtemp(prefix="ecsched-demo-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"DEMO_SECONDS": "22", "ECSCHED_DEMO_PORT": str(port),
                "ECSCHED_DEMO_STATE": os.path.join(tmp, "state")})
    began = time.monotonic()
    try:
        p = subprocess.run(["sh", "scripts/demo.sh", os.path.abspath(args.bin)], cwd=ROOT,
                           env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=90)
        took = time.monotonic() - began
        out = p.stdout
        t.check(p.returncode == 0, f"demo exit status {p.returncode}: {p.stderr[-500:]!r}")
        t.check(took < 22 + 20, f"the demo stopped by itself after {took:.0f} s")
        t.check("$ ecsched next '? */5' --tz UTC" in out, "the fire-time examples are shown")
        fired = re.findall(r"^\S+\s+(\S+)\s+run \d+\s+fired \d+ ms after", out, re.M)
        t.check("sleeper-task" in fired and "long-sleep-task" in fired,
                f"the daemon fired seed 004's jobs: {sorted(set(fired))}")
        t.check(re.search(r"^\S+\s+sleeper-task\s+run \d+\s+succeeded", out, re.M) is not None,
                "a finished run is narrated")
        t.check(re.search(r"^\s+sleeper-container> slept \d+ seconds", out, re.M) is not None,
                f"the tasks' own output is shown: {out[-800:]!r}")
        t.check("without seed 004's sqs trigger" in out,
                "the consumer's missing trigger is said, not hidden")
        t.check(out.rstrip().endswith("ecsched stopped."), f"the demo's end: {out[-200:]!r}")
    except subprocess.TimeoutExpired:
        t.check(False, "the demo did not stop by itself within 90 s")
    finally:
        tidy(t, tmp)
    return t.finish()


if __name__ == "__main__":
    raise SystemExit(main())
