#!/usr/bin/python3
"""test_apply.py - jobs as code against a real `ecsched serve`: `apply`
--dry-run prints the diff and changes nothing; apply creates, updates only
the fields that differ, and with --prune deletes; applying again is "no
changes", and a '?' schedule keeps the values the server drew; invalid
files are refused whole with every problem at its line; a write the server
refuses stops apply at the job's line; `export` writes YAML or JSON without
the read-only fields, and `export | apply` is "no changes", also for
strings that look like numbers, booleans or null, and for environment
keys and values that look like YAML syntax (<<, &, *, !, %, @, tabs,
control characters, very long lines); pipelines (`after`) are
created upstream first and pruned followers first.

Run: /usr/bin/python3 tests/integration/test_apply.py --bin build/ecsched
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

import refcron
from test_api import JSON, Server
from test_job_cli import Cli, write

JOBS = """\
# the team's schedules
jobs:
  - id: report
    taskDefinition: reporter
    schedule: "? 0 9"            # '?': the server picks a second, once
    timezone: Europe/London
    overrides: &env
      - containerName: main
        environment: {STAGE: prod, RETRIES: "3"}
  - id: cleanup
    taskDefinition: janitor
    schedule: 'cron(0 2 * * ? *)'
    maxCount: 2
    overrides: *env
  - taskDefinition: poller
    schedule: "0 */5"
    suspended: true
"""


def jobs_of(srv):
    st, body, _ = srv.request("GET", "/jobs?count=1000")
    return {j["id"]: j for j in body["jobs"]}


def exportable(srv):
    """The server's jobs as export writes them: without the read-only fields."""
    st, server, _ = srv.request("GET", "/jobs?count=1000")
    return [{k: v for k, v in j.items()
             if k not in ("link", "estimatedNextRun", "lastRun", "lastRunTasks")}
            for j in server["jobs"]]


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("apply")
    binary = os.path.abspath(args.bin)
    tmp = tempfile.mkdtemp(prefix="ecsched-apply-")
    srv = Server(binary, f"sqlite:{tmp}/jobs.db", role="all", extra=["--launcher", "fake"])
    try:
        srv.start()
        cli = Cli(binary, srv)
        path = write(os.path.join(tmp, "jobs.yaml"), JOBS)
        basics(t, cli, srv, path)
        invalid(t, cli, srv, tmp)
        export(t, cli, srv, tmp)
        several_files(t, cli, srv, tmp)
        defaults_reset(t, cli, srv, tmp)
        specials(t, cli, srv)
        t.check(srv.stop() == 0, "serve stopped cleanly on SIGTERM")
        refused(t, binary, tmp, path)
        pipeline(t, binary, tmp)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


def basics(t, cli, srv, path):
    rc, out, err = cli("apply", "-f", path, "--dry-run")
    t.check(rc == 0 and out == "+ create report\n+ create cleanup\n+ create poller\n"
            "dry run: 3 to create, 0 to update, 0 to delete; nothing was changed\n",
            f"dry run: {rc} {out!r} {err!r}")
    t.check(jobs_of(srv) == {}, "the dry run changed something")

    rc, out, err = cli("apply", "-f", path)
    t.check(rc == 0 and out.endswith("applied: 3 created, 0 updated, 0 deleted\n"),
            f"apply: {rc} {out!r} {err!r}")
    jobs = jobs_of(srv)
    t.check(list(jobs) == ["report", "cleanup", "poller"], f"created in file order: {list(jobs)}")
    report = jobs.get("report", {})
    t.check(re.fullmatch(r"\d+ 0 9", report.get("schedule", "")) is not None
            and report.get("overrides") == [{"containerName": "main", "environment":
                                             {"STAGE": "prod", "RETRIES": "3"}}],
            f"report as stored: {report}")
    t.check(jobs.get("cleanup", {}).get("overrides") == report.get("overrides"),
            "the alias gave cleanup the same overrides")
    t.check(jobs.get("poller", {}).get("suspended") is True, f"poller {jobs.get('poller')}")
    drawn = report.get("schedule")

    # again: nothing to do, and '?' not drawn again
    for _ in range(3):
        rc, out, err = cli("apply", "-f", path)
        t.check(rc == 0 and out == "no changes\n", f"second apply: {rc} {out!r} {err!r}")
    t.check(jobs_of(srv)["report"]["schedule"] == drawn, "the '?' was drawn again")

    # an update only sends what differs; '?' still kept
    changed = JOBS.replace("maxCount: 2", "maxCount: 3").replace(
        "timezone: Europe/London", "timezone: Europe/Paris")
    write(path, changed)
    rc, out, err = cli("apply", "-f", path, "--dry-run")
    t.check(rc == 0 and out == '~ update report timezone: "Europe/London" -> "Europe/Paris"\n'
            "~ update cleanup maxCount: 2 -> 3\n"
            "dry run: 0 to create, 2 to update, 0 to delete; nothing was changed\n",
            f"update dry run: {rc} {out!r} {err!r}")
    rc, out, err = cli("apply", "-f", path)
    jobs = jobs_of(srv)
    t.check(rc == 0 and out.endswith("applied: 0 created, 2 updated, 0 deleted\n")
            and jobs["report"]["timezone"] == "Europe/Paris" and jobs["cleanup"]["maxCount"] == 3
            and jobs["report"]["schedule"] == drawn, f"update: {rc} {out!r} {err!r} {jobs}")

    # a different '?' pattern is a change, and draws anew
    write(path, changed.replace('"? 0 9"', '"? 30 9"'))
    rc, out, err = cli("apply", "-f", path)
    new = jobs_of(srv)["report"]["schedule"]
    t.check(rc == 0 and f'~ update report schedule: "{drawn}" -> "? 30 9"\n' in out
            and re.fullmatch(r"\d+ 30 9", new) is not None, f"new pattern: {rc} {out!r} {new}")

    # a field the file does not set cannot be removed: said, and kept
    srv.request("PUT", "/jobs/poller", {"taskCount": 2}, JSON)
    srv.request("PUT", "/jobs/cleanup", {"scheduleEnd": "2040-01-01T00:00:00"}, JSON)
    rc, out, err = cli("apply", "-f", path)
    t.check(rc == 0 and out == "~ update poller taskCount: 2 -> 1\napplied: 0 created, 1 updated, "
            "0 deleted\n", f"default restored: {rc} {out!r} {err!r}")
    t.check(re.search(r"jobs\.yaml:10: job cleanup: note: .*scheduleEnd.*cannot remove", err)
            is not None, f"note on a field the API cannot remove: {err!r}")

    # prune: only with --prune
    srv.request("POST", "/jobs", {"taskDefinition": "stray", "schedule": "0 0 0"}, JSON)
    rc, out, err = cli("apply", "-f", path)
    t.check(rc == 0 and out == "no changes\n" and "1 job on the server is not in" in err
            and "stray" in jobs_of(srv), f"no prune: {rc} {out!r} {err!r}")
    rc, out, err = cli("apply", "-f", path, "--prune", "--dry-run")
    t.check(rc == 0 and out.startswith("- delete stray\n") and "stray" in jobs_of(srv),
            f"prune dry run: {rc} {out!r}")
    rc, out, err = cli("apply", "-f", path, "--prune")
    t.check(rc == 0 and out == "- delete stray\napplied: 0 created, 0 updated, 1 deleted\n"
            and sorted(jobs_of(srv)) == ["cleanup", "poller", "report"], f"prune: {rc} {out!r}")

    # x- keys hold anchors; merge keys (<<) share fields, a job's own win
    shared = """\
x-common: &common
  taskDefinition: worker
  timezone: America/New_York
  overrides: [{containerName: main, environment: {MODE: batch}}]
jobs:
  - {<<: *common, id: early, schedule: "0 0 6"}
  - <<: *common
    id: late
    schedule: "0 0 22"
    timezone: UTC
"""
    rc, out, err = cli("apply", "-f", "-", stdin=shared)
    jobs = jobs_of(srv)
    t.check(rc == 0 and jobs.get("early", {}).get("timezone") == "America/New_York"
            and jobs.get("late", {}).get("timezone") == "UTC"
            and jobs.get("late", {}).get("overrides") == [
                {"containerName": "main", "environment": {"MODE": "batch"}}]
            and jobs.get("early", {}).get("taskDefinition") == "worker",
            f"merge keys: {rc} {out!r} {err!r} {jobs.get('early')} {jobs.get('late')}")
    rc, out, err = cli("apply", "-f", "-", stdin=shared)
    t.check(rc == 0 and out == "no changes\n", f"merge keys again: {rc} {out!r} {err!r}")
    srv.request("DELETE", "/jobs/early")
    srv.request("DELETE", "/jobs/late")

    # the README's example file is valid, and applies to an empty server
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                           "jobs.yaml")
    rc, out, err = cli("apply", "-f", example, "--dry-run")
    t.check(rc == 0 and out.endswith("dry run: 5 to create, 0 to update, 0 to delete; nothing "
                                     "was changed\n") and "problem" not in err,
            f"examples/jobs.yaml: {rc} {out!r} {err!r}")

    # JSON files, top-level lists and stdin are read too
    as_json = json.dumps([{"taskDefinition": "from-json", "schedule": "0 0 1"}], indent="\t")
    rc, out, err = cli("apply", "-f", "-", stdin=as_json)
    t.check(rc == 0 and "+ create from-json\n" in out, f"json on stdin: {rc} {out!r} {err!r}")
    srv.request("DELETE", "/jobs/from-json")


def invalid(t, cli, srv, tmp):
    before = jobs_of(srv)
    bad = write(os.path.join(tmp, "bad.yaml"), """\
jobs:
  - id: good
    taskDefinition: ok
    schedule: "0 0"
  - id: typo
    taskDefinition: ok
    schedule: "0 61"
    maxcount: 3
    taskCount: 0
  - id: good
    taskDefinition: ok
    schedule: "0 0"
    overrides:
      - environment: {N: 1}
  - just text
  - taskDefinition: "bad name"
    schedule: "0"
    lastRun: "2020-01-01T00:00:00+00:00"
""")
    rc, out, err = cli("apply", "-f", bad)
    want = [
        "bad.yaml:7: job typo: schedule: Invalid schedule syntax",
        "bad.yaml:8: job typo: maxcount: unknown field",
        "bad.yaml:9: job typo: taskCount: Must be between 1 and 50.",
        "bad.yaml:10: job good: id: a second job with this id (the first is at line 2)",
        "bad.yaml:14: job good: overrides.0.containerName: Missing data for required field.",
        "bad.yaml:14: job good: overrides.0.environment: Value of 'N' is not a string.",
        "bad.yaml:15: job #4: a job must be a mapping of fields",
        "bad.yaml:16: job bad name: taskDefinition: task definition names must contain only",
        "bad.yaml:18: job bad name: note: 'lastRun' is computed by the server; ignored",
    ]
    lines = err.splitlines()
    found = [next((i for i, ln in enumerate(lines) if w in ln), -1) for w in want]
    t.check(rc == 2 and -1 not in found, f"every problem at its line: {rc} {found} {err!r}")
    t.check(found == sorted(found), f"problems in the file's order: {err!r}")
    t.check(out == "" and "8 problems in" in err and "nothing was changed" in err,
            f"summary: {out!r} {err!r}")
    t.check(jobs_of(srv) == before, "an invalid file changed something")

    for text, part in (
            ("jobs:\n  - id: x\n    schedule: [1\n", ":4:1: did not find expected ',' or ']' "
                                                   "(while parsing a flow sequence that began at line 3)"),
            ("- id: a\n  id: b\n", ":2:7: duplicate key 'id' (first at line 1)"),
            ("", "holds no jobs"),
            ("jobs: {a: 1}\n", ":1: 'jobs' must be a list"),
            ("jobs: []\nextra: 1\n", ":2: unknown top-level key 'extra'"),
            ("- id: a\n---\n- id: b\n", ":2:1: a second YAML document"),
            ("- &a [*a]\n", "alias *a names no anchor"),
            ("- x: .inf\n", "not a number JSON can hold")):
        f = write(os.path.join(tmp, "broken.yaml"), text)
        rc, out, err = cli("apply", "-f", f)
        t.check(rc == 2 and part in err and "broken.yaml" in err, f"{text!r}: {rc} {err!r}")
    t.check(jobs_of(srv) == before, "a broken file changed something")
    rc, out, err = cli("apply", "--dry-run")
    t.check(rc == 2 and "-f FILE" in err, f"no -f: {rc} {err!r}")
    rc, out, err = cli("apply", "-f", bad, "--bogus")
    t.check(rc == 2 and "'--bogus'" in err and "ecsched apply --help" in err, f"bad option: {err!r}")
    rc, out, err = cli("apply", "--help")
    t.check(rc == 0 and "--prune" in out and "Exit status" in out, f"apply --help: {rc}")
    rc, out, err = cli("export", "--help")
    t.check(rc == 0 and "-o, --output" in out, f"export --help: {rc}")


def export(t, cli, srv, tmp):
    # values a careless writer would turn into numbers, booleans or null
    tricky = {"taskDefinition": "tricky", "schedule": "0", "timezone": "",
              "overrides": [{"containerName": "main", "environment": {
                  "A": "1", "B": "true", "C": "null", "D": "", "E": "0x1F", "F": "1.5e3",
                  "G": "~", "H": "yes", "I": "line one\nline two", "J": "it's \"quoted\"",
                  "K": "#not a comment", "L": "*star", "M": "- dash", "N": "é ünïcode",
                  "O": "0755", "P": "1_000", "Q": "2030-01-01", "R": "a: b", "S": "Off"}}],
              "launch": {"tags": [{"key": "team", "value": "data"}], "enableECSManagedTags": True}}
    st, body, _ = srv.request("POST", "/jobs", tricky, JSON)
    t.check(st == 201, f"tricky job: {st} {body}")
    st, body, _ = srv.request("POST", "/jobs/tricky/run")
    t.check(st == 202, f"a run, so lastRun is set: {st}")

    rc, out, err = cli("export", "-o", "json")
    data = json.loads(out) if rc == 0 else {}
    expected = exportable(srv)
    t.check(rc == 0 and data == {"jobs": expected}, f"export json: {rc} {out[:300]!r} {err!r}")
    t.check(list(data["jobs"][0])[:3] == ["id", "taskDefinition", "schedule"],
            f"readable field order: {list(data['jobs'][0])}")

    rc, out, err = cli("export")
    t.check(rc == 0 and out.startswith("jobs:\n- id: report\n  taskDefinition: reporter\n")
            and "schedule: '0'\n" in out and "timezone: ''\n" in out and "H: 'yes'\n" in out
            and "Q: '2030-01-01'\n" in out and "lastRun" not in out
            and "link" not in out, f"export yaml: {rc} {out!r}")
    rc2, out2, err2 = cli("apply", "-f", "-", stdin=out)
    t.check(rc2 == 0 and out2 == "no changes\n", f"export | apply: {rc2} {out2!r} {err2!r}")
    rc2, out2, err2 = cli("apply", "-f", "-", "--prune", stdin=out)
    t.check(rc2 == 0 and out2 == "no changes\n", f"export | apply --prune: {rc2} {out2!r}")
    rc, out, err = cli("export", "-o", "json")
    rc2, out2, err2 = cli("apply", "-f", "-", stdin=out)
    t.check(rc2 == 0 and out2 == "no changes\n", f"export -o json | apply: {rc2} {out2!r}")
    rc, out, err = cli("export", "-o", "xml")
    t.check(rc == 2 and "yaml or json" in err, f"bad -o: {rc} {err!r}")

    # a second server gets the same jobs from the export
    other = Server(cli.binary, f"sqlite:{tmp}/other.db")
    other.start()
    try:
        rc, out, err = cli("export")
        ocli = Cli(cli.binary, other)
        rc2, out2, err2 = ocli("apply", "-f", "-", stdin=out)
        rc3, out3, err3 = ocli("export")
        t.check(rc2 == 0 and out3 == out, f"copied to another server: {rc2} {err2!r}\n{out3}")
    finally:
        other.stop()


def defaults_reset(t, cli, srv, tmp):
    """A field with a default, removed from the file, goes back to its
    default (before, apply said "no changes" and the job kept it)."""
    path = os.path.join(tmp, "reset.yaml")
    write(path, """\
- id: resettable
  taskDefinition: ok
  schedule: "0 3"
  suspended: true
  startingDeadlineSeconds: 900
  missedRuns: skip
  runHistoryLimit: 7
  timezone: Europe/Paris
  maxCount: 4
""")
    rc, out, err = cli("apply", "-f", path)
    t.check(rc == 0 and "+ create resettable" in out, f"create: {rc} {out!r} {err!r}")
    write(path, """\
- id: resettable
  taskDefinition: ok
  schedule: "0 3"
""")
    rc, out, err = cli("apply", "-f", path)
    job = jobs_of(srv).get("resettable", {})
    t.check(rc == 0 and "suspended: true -> false" in out
            and "startingDeadlineSeconds: 900 -> 60" in out and "missedRuns" in out
            and "runHistoryLimit: 7 -> 100" in out and "timezone" in out,
            f"the removed fields go back to their defaults: {rc} {out!r}")
    t.check(job.get("suspended") is False and job.get("startingDeadlineSeconds") == 60
            and job.get("missedRuns") == "once" and job.get("runHistoryLimit") == 100
            and job.get("timezone") == "", f"the job after: {job}")
    t.check("maxCount: 4" in err and "cannot remove" in err,
            f"a field without a default is kept, with a note: {err!r}")
    rc, out, err = cli("apply", "-f", path)
    t.check(rc == 0 and out == "no changes\n", f"applied again: {rc} {out!r}")
    srv.request("DELETE", "/jobs/resettable")


def several_files(t, cli, srv, tmp):
    """apply -f a -f b reads both as one list (before, only the last was
    read and --prune deleted a's jobs); problems name their own file;
    job create takes one -f and says so when given two."""
    a = write(os.path.join(tmp, "team-a.yaml"), """\
jobs:
  - id: multi-a
    taskDefinition: ok
    schedule: "0 3"
""")
    b = write(os.path.join(tmp, "team-b.yaml"), """\
- id: multi-b
  taskDefinition: ok
  schedule: "0 4"
""")
    rc, out, err = cli("apply", "-f", a, "-f", b)
    jobs = jobs_of(srv)
    t.check(rc == 0 and "multi-a" in jobs and "multi-b" in jobs,
            f"apply -f a -f b creates both files' jobs: {rc} {out!r} {err!r}")
    rc, out, err = cli("apply", "-f", a, "-f", b, "--prune", "--dry-run")
    t.check(rc == 0 and "multi-a" not in out and "multi-b" not in out,
            f"neither file's jobs are pruned: {rc} {out!r}")
    rc, out, err = cli("apply", "-f", a, "-f", b)
    t.check(rc == 0 and out == "no changes\n", f"applied again: {rc} {out!r} {err!r}")
    bad = write(os.path.join(tmp, "team-c.yaml"), """\
- id: multi-a
  taskDefinition: ok
  schedule: "0 5"
- id: multi-c
  taskDefinition: ok
  schedule: "0 61"
""")
    rc, out, err = cli("apply", "-f", a, "-f", bad)
    t.check(rc == 2 and f"{bad}:1: job multi-a: id: a second job with this id (the first is "
            f"at {a}:2)" in err and f"{bad}:6: job multi-c: schedule:" in err,
            f"problems name their file and line: {rc} {err!r}")
    rc, out, err = cli("apply", "-f", "-", "-f", "-", stdin="jobs: []\n")
    t.check(rc == 2 and "stdin" in err, f"stdin twice: {rc} {err!r}")
    rc, out, err = cli("job", "create", "-f", a, "-f", b)
    t.check(rc == 2 and "-f given twice" in err, f"job create -f a -f b: {rc} {err!r}")
    for job in ("multi-a", "multi-b"):
        srv.request("DELETE", f"/jobs/{job}")


# Keys and values that YAML reads as syntax unless quoted: '<<' (the merge
# key) first, as issue 13 reported; each is also used as a value.
SPECIALS = ["<<", "~", "null", "Null", "NULL", "", " ", "yes", "no", "on", "off", "y", "n",
            "0x1F", "1e3", "010", ".inf", "-.5", "- dash", "-", "? q", ":", ",", "[a]", "{b}",
            "# c", "&anchor", "*alias", "!tag", "|", "> folded", "'", '"', "%YAML", "@at",
            "`tick", "a: b", "a #b", " lead", "trail ", "---", "...", "tab\tkey", "\t",
            "two\nlines", "cr\rlf", "ctrl\x01\x1f", "del\x7f", "nel\u0085", "ls\u2028",
            "bom\ufeff", "emoji \U0001f600", "=", "x" * 5000]


def specials(t, cli, srv):
    """export | apply -f - is "no changes" for a job whose environment
    holds every YAML-special string as a key and as a value."""
    env = {}
    for i, s in enumerate(SPECIALS):
        env[s] = SPECIALS[-1 - i]
    job = {"id": "yaml-specials", "taskDefinition": "specials", "schedule": "0 0 3",
           "overrides": [{"containerName": "main", "environment": env,
                          "command": SPECIALS}]}
    st, body, _ = srv.request("POST", "/jobs", job, JSON)
    t.check(st == 201, f"specials job: {st} {body}")
    st, stored, _ = srv.request("GET", "/jobs/yaml-specials")
    t.check(st == 200 and stored.get("overrides") == job["overrides"],
            f"specials stored as sent: {st}")
    rc, out, err = cli("export")
    t.check(rc == 0 and "\n      '<<': " in out, f"export quotes the << key: {rc} {err!r}")
    rc2, out2, err2 = cli("apply", "-f", "-", stdin=out)
    t.check(rc2 == 0 and out2 == "no changes\n",
            f"export | apply with YAML-special keys: {rc2} {out2!r} {err2!r}")
    # a YAML 1.1 reader (PyYAML, as other tools use) reads the same jobs
    expected = exportable(srv)
    try:
        read = yaml.safe_load(out)
    except yaml.YAMLError as e:
        read = str(e)
    t.check(read == {"jobs": expected}, f"PyYAML reads the export the same: {str(read)[:300]}")
    rc2, out2, err2 = cli("apply", "-f", "-", "--dry-run", stdin=out)
    t.check(rc2 == 0 and out2 == "no changes\n", f"the same, --dry-run: {rc2} {out2!r} {err2!r}")
    st, after, _ = srv.request("GET", "/jobs/yaml-specials")
    t.check(after.get("overrides") == job["overrides"], "apply changed the specials job")


def refused(t, binary, tmp, path):
    """A write the server refuses stops apply at that job's line."""
    srv = Server(binary, f"sqlite:{tmp}/auth.db", env={"ECSCHED_TOKEN": "s3cret"})
    srv.start()
    try:
        cli = Cli(binary, srv)
        rc, out, err = cli("apply", "-f", path)
        t.check(rc == 1 and "jobs.yaml:3: job report: A valid bearer token is required" in err
                and "0 of 3 changes were made" in err, f"refused: {rc} {out!r} {err!r}")
        rc, out, err = cli("apply", "-f", path, env={"ECSCHED_TOKEN": "s3cret"})
        t.check(rc == 0 and "3 created" in out, f"with the token: {rc} {out!r} {err!r}")
        p = subprocess.run([binary, "apply", "-f", path], capture_output=True, text=True,
                           env={"ECSCHED_SERVER": "http://127.0.0.1:9"}, timeout=30)
        t.check(p.returncode == 1 and "http://127.0.0.1:9" in p.stderr,
                f"server down: {p.returncode} {p.stderr!r}")
    finally:
        srv.stop()


def pipeline(t, binary, tmp):
    """Jobs that run after others: upstreams are created first whatever the
    file's order, and --prune deletes followers before the jobs they follow
    (the server refuses the other orders)."""
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                           "etl-pipeline.json")
    with open(example) as f:
        jobs = json.load(f)
    reverse = write(os.path.join(tmp, "pipeline.json"), json.dumps(jobs[::-1], indent=2))
    srv = Server(binary, f"sqlite:{tmp}/pipeline.db")
    srv.start()
    try:
        cli = Cli(binary, srv)
        rc, out, err = cli("apply", "-f", reverse, "--dry-run")
        created = re.findall(r"^\+ create (\S+)$", out, re.M)
        t.check(rc == 0 and created.index("dor-import") < created.index("dor-load")
                < created.index("fineos-sync") and len(created) == 4,
                f"upstreams first: {rc} {out!r} {err!r}")
        rc, out, err = cli("apply", "-f", reverse)
        t.check(rc == 0 and sorted(jobs_of(srv)) == sorted(j["id"] for j in jobs),
                f"pipeline applied: {rc} {out!r} {err!r}")
        rc, out, err = cli("apply", "-f", example)
        t.check(rc == 0 and out == "no changes\n", f"pipeline again: {rc} {out!r} {err!r}")
        rc, out, err = cli("job", "list")
        t.check(rc == 0 and re.search(r"^dor-load\s+after dor-import \(success\)\s", out, re.M)
                is not None, f"list shows after: {out!r}")
        rc, out, err = cli("apply", "-f", "-", "--prune", stdin="jobs: []\n")
        deleted = re.findall(r"^- delete (\S+)$", out, re.M)
        t.check(rc == 0 and jobs_of(srv) == {} and len(deleted) == 4
                and deleted.index("fineos-sync") < deleted.index("dor-load")
                < deleted.index("dor-import"), f"followers deleted first: {rc} {out!r} {err!r}")
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main())
