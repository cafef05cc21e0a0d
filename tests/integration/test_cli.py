#!/usr/bin/python3
"""test_cli.py - the ecsched binary's command line: exit statuses, messages
on stderr, help and version, through real invocations.

Run: /usr/bin/python3 tests/integration/test_cli.py --bin build/ecsched
"""
import os
import re
import subprocess
import sys
from datetime import datetime

import refcron

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("cli")
    b = args.bin

    def run(*a):
        return refcron.run_cli(b, *a)

    # invalid expressions: exit 2, one line on stderr naming field and token
    bad = [
        ("cron(0 0 ? * 8 *)", ["day-of-week", "'8'", "1-7 (SUN-SAT)"]),
        ("0 61", ["Error validating expression '61': the last value (61) is higher than the "
                  "maximum value (59)", 'field "minute"']),
        ("bad-schedule", ['Unrecognized expression "bad-schedule" for field "second"']),
        ("crontab(0 0 32 * *)", ["day-of-month", "'32'"]),
        ("rate(1 minutes)", ["rate(1 minute)"]),
        ("at(2027-13-01T00:00:00)", ["not a real date"]),
        ("@reboot", ["unknown macro"]),
        ("", ["schedule is empty"]),
        ("1 2 3 mon 4 5 6 2030 extra", ["too many fields"]),
    ]
    for expr, parts in bad:
        rc, out, err = run("next", expr, "--from", "2026-01-01T00:00Z")
        ok = rc == 2 and out == "" and err.count("\n") == 1 and all(p in err for p in parts)
        t.check(ok, f"next {expr!r}: rc={rc} out={out!r} err={err!r}")

    rc, out, err = run("next", "0 0 0", "--tz", "Mars/Base")
    t.check(rc == 2 and "unknown time zone 'Mars/Base'" in err, f"bad zone: {rc} {err!r}")
    rc, out, err = run("next", "0 0 0", "--from", "yesterday")
    t.check(rc == 2 and "--from" in err and "yesterday" in err, f"bad --from: {rc} {err!r}")
    rc, out, err = run("next", "0 0 0", "--count", "0")
    t.check(rc == 2 and "--count" in err, f"bad --count: {rc} {err!r}")
    rc, out, err = run("next")
    t.check(rc == 2 and "exactly one schedule expression" in err, f"no expr: {rc} {err!r}")
    rc, out, err = run("next", "0 0 0", "--bogus")
    t.check(rc == 2 and "--bogus" in err, f"bad option: {rc} {err!r}")

    # never fires: exit 1 with a message; output ran short: exit 0 with a note
    rc, out, err = run("next", "cron(0 0 30 2 ? *)", "--from", "2026-01-01T00:00Z")
    t.check(rc == 1 and out == "" and "never fires" in err, f"never: {rc} {out!r} {err!r}")
    rc, out, err = run("next", "at(2027-01-01T00:00:00)", "--from", "2026-01-01T00:00Z")
    t.check(rc == 0 and out == "2027-01-01T00:00:00+00:00\n" and "no more" in err,
            f"at: {rc} {out!r} {err!r}")

    # defaults: 5 times, from now, UTC
    rc, out, err = run("next", "0 */5")
    lines = out.splitlines()
    now = datetime.now().astimezone().timestamp()
    t.check(rc == 0 and len(lines) == 5 and all(ISO.match(x) and x.endswith("+00:00") for x in lines)
            and datetime.fromisoformat(lines[0]).timestamp() > now - 5,
            f"defaults: {rc} {out!r}")

    # a naive --from is a wall time in --tz; zone names in any case
    rc, out, err = run("next", "crontab(0 9 * * *)", "--tz", "us/pacific", "--from",
                       "2026-07-01T08:00", "-n", "2")
    t.check(rc == 0 and out == "2026-07-01T09:00:00-07:00\n2026-07-02T09:00:00-07:00\n",
            f"us/pacific: {rc} {out!r} {err!r}")

    # '?' resolved, with a note saying to what
    rc, out, err = run("next", "? */5", "--from", "2026-01-01T00:00Z", "--count", "3")
    m = re.search(r"-> '(\d+) \*/5'", err)
    lines = out.splitlines()
    ok = rc == 0 and m is not None and len(lines) == 3
    if ok:
        sec = int(m.group(1))
        ok = 0 <= sec <= 59 and all(x.endswith(f":{sec:02d}+00:00") for x in lines)
    t.check(ok, f"'?': {rc} {out!r} {err!r}")

    # help and version
    rc, out, err = run("--help")
    t.check(rc == 0 and "next" in out and "usage: ecsched" in out, f"--help: {rc} {out!r}")
    rc, out, err = run("next", "--help")
    t.check(rc == 0 and "--tz" in out and "--count" in out and "Exit status" in out,
            f"next --help: {rc} {out!r}")
    rc, out, err = run("--version")
    t.check(rc == 0 and re.match(r"^ecsched \d+\.\d+\.\d+\n$", out), f"--version: {rc} {out!r}")
    rc, out, err = run("frobnicate")
    t.check(rc == 2 and "'frobnicate' is not a command" in err, f"unknown cmd: {rc} {err!r}")
    rc, out, err = run()
    t.check(rc == 2 and "usage" in err, f"no args: {rc} {err!r}")

    # batch mode: one answer line per question, errors in place
    lines = refcron.run_batch(b, [
        ("UTC", "2026-01-01T00:00:00Z", 2, "0 0 12"),
        ("Nowhere/Zone", "2026-01-01T00:00:00Z", 1, "0 0 12"),
        ("UTC", "2026-01-01T00:00:00Z", 1, "cron(0 0 30 2 ? *)"),
        ("UTC", "2026-01-01T00:00:00Z", 1, "0 61"),
        ("UTC", "not-a-date", 1, "0 0 12"),
    ])
    t.check(lines[0] == "2026-01-01T12:00:00+00:00 2026-01-02T12:00:00+00:00", f"batch 0: {lines[0]}")
    t.check(lines[1].startswith("ERROR unknown time zone"), f"batch 1: {lines[1]}")
    t.check(lines[2] == "NEVER", f"batch 2: {lines[2]}")
    t.check(lines[3].startswith("ERROR Error validating expression '61'"), f"batch 3: {lines[3]}")
    t.check(lines[4].startswith("ERROR 'not-a-date' is not a valid date-time"), f"batch 4: {lines[4]}")

    # serve's ECS defaults are checked before anything starts: exit 2, the
    # flag or variable and its value named
    bad_serve = [
        ((["--launch-type", "fargate"], {}), ["--launch-type", "'fargate'", "EC2, FARGATE or EXTERNAL"]),
        (([], {"ECSCHED_LAUNCH_TYPE": "ECS"}), ["ECSCHED_LAUNCH_TYPE", "'ECS'"]),
        ((["--subnets", "subnet-1,,subnet-2"], {}), ["--subnets", "comma-separated"]),
        (([], {"ECSCHED_SUBNETS": "subnet-1, subnet 2"}), ["ECSCHED_SUBNETS", "comma-separated"]),
        ((["--security-groups", "sg-1"], {}), ["--security-groups needs subnets"]),
        ((["--subnets", "s-1", "--assign-public-ip", "yes"], {}),
         ["--assign-public-ip", "'yes'", "ENABLED or DISABLED"]),
        ((["--platform-version", "1 4"], {}), ["--platform-version", "LATEST"]),
        ((["--poll-interval", "0"], {}), ["poll interval '0'", "0.1 to 3600"]),
        ((["--workers", "0"], {}), ["workers '0'", "1 to 256"]),
        (([], {"ECSCHED_WORKERS": "8x"}), ["workers '8x'", "1 to 256"]),
    ]
    for (flags, env), parts in bad_serve:
        e = {k: v for k, v in os.environ.items() if not k.startswith("ECSCHED_")}
        e.update(env)
        p = subprocess.run([b, "serve", "--store", "memory:", "--listen", "127.0.0.1:0", *flags],
                           capture_output=True, text=True, timeout=10, env=e)
        ok = p.returncode == 2 and p.stderr.count("\n") == 1 and all(x in p.stderr for x in parts)
        t.check(ok, f"serve {flags} {env}: rc={p.returncode} err={p.stderr!r}")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
