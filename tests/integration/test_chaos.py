#!/usr/bin/python3
"""test_chaos.py - "never twice, never silently missed" under kill -9: 50 jobs
firing every 2 to 5 seconds on the local launcher, the daemon killed with
SIGKILL --kills times at random moments and restarted on the same SQLite
store, then every scheduled second of every job accounted for: launched
exactly once and recorded as a run of that second, or part of exactly one
missed record.

Run: /usr/bin/python3 tests/integration/test_chaos.py --bin build/ecsched [--kills 30] [--seed S]

Each job's task appends one line of evidence to one file (a single short
echo with >>, so lines never interleave):

    j=$ECSCHED_JOB_ID r=$ECSCHED_RUN_ID s=$ECSCHED_SCHEDULED a=$ECSCHED_TASK_ARN c=<job> t=<launch time>

c= is the job's id from its own overrides and t= the wall clock when the
task ran: they attribute a line when the scheduler's ECSCHED_JOB_ID,
ECSCHED_RUN_ID or ECSCHED_SCHEDULED are empty. A line is matched to its
(job, scheduled second) by ECSCHED_SCHEDULED, else by its task ARN among the
runs' tasks, else by ECSCHED_RUN_ID; a line none of these places (a launch
the store does not know) is given the latest second of its job, not after
its launch time, that has a run (else any fire second), and counted apart.

Figures, each a check expected to be 0: duplicates (a second launched twice
by the evidence, or claimed by two runs), lost (a second neither launched
nor in a missed record, nor fired and found the job's tasks still active,
seed 004's rule, which is recorded and shown as a figure of its own), double-missed (in two missed records, or missed
and launched), launched but unrecorded, launches unknown to the store,
false failures (a run ended failed whose task ran and exited 0, or left no
exit code), runs stuck pending/running at the end, missed records whose
count disagrees with their span, and PRAGMA integrity_check of the store.

Boundaries. A job is created between t0 (before its POST) and t1 (after the
201); it first fires at its first fire second at or after the instant the
server took it (README: "a job created or changed mid-second first fires at
the next whole second"), so seconds >= t1 must be accounted, seconds in
[t0, t1) may be, and seconds before t0 must not be. The end is the moment
the final listing of the runs began, less a margin (--margin, 3 s): later
seconds may not have been decided or listed yet, and only count towards
duplicates and double-missed.

On failure the temp dir is kept and printed: daemon.log (every start, with
a marker line), evidence.txt, timeline.txt (each kill and start),
runs.json (the final listing), figures.json (the counts) and details.json
(every case of every figure).
"""
import argparse
import json
import math
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timezone

from test_api import JSON, Server, shell_task_definitions, tidy
import refcron

JOBS = 50
EVERY = [2, 3, 4, 5]
DEADLINES = [None, None, 1, 3, 10]  # startingDeadlineSeconds; None: the default (60)
UP = (0.02, 3.0)
DOWN = (0.0, 6.0)
SHOW = 5  # examples printed per figure

MISSED_RE = re.compile(r"missed (\d+) firing\(s\) from (\S+) to (\S+?): ")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/ecsched", help="the ecsched binary")
    ap.add_argument("--seed", type=int, default=20261124, help="random.Random seed")
    ap.add_argument("--kills", type=int, default=30, help="how many times to kill -9")
    ap.add_argument("--margin", type=float, default=3.0,
                    help="seconds before the final listing that are not counted as lost")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir even on success")
    return ap.parse_args()


def epoch(text):
    """Unix seconds of an ISO-8601 time (whole seconds, fractions dropped)."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def second_of(value):
    """ECSCHED_SCHEDULED as unix seconds: an integer, or an ISO time."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return epoch(value)
    except ValueError:
        return None


def fires(every, s):
    """Does `*/every` (seconds field) fire at unix second s?"""
    return (s % 60) % every == 0


def fire_seconds(every, first, last):
    """The fire seconds of `*/every` in [first, last]."""
    return [s for s in range(first, last + 1) if fires(every, s)]


def iso(s):
    return datetime.fromtimestamp(s, timezone.utc).strftime("%H:%M:%S")


class Chaos:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.rng = random.Random(args.seed)
        self.evidence = os.path.join(tmp, "evidence.txt")
        self.log = os.path.join(tmp, "daemon.log")
        self.timeline = open(os.path.join(tmp, "timeline.txt"), "a")
        defs = os.path.join(tmp, "defs")
        script = ('echo "j=$ECSCHED_JOB_ID r=$ECSCHED_RUN_ID s=$ECSCHED_SCHEDULED '
                  'a=$ECSCHED_TASK_ARN c=$CHAOS_JOB t=$(date +%s.%N)" >> "$EVIDENCE"')
        shell_task_definitions(defs, {"chaos": script}, {"EVIDENCE": self.evidence,
                                                         "CHAOS_JOB": "unset"})
        self.store_file = os.path.join(tmp, "jobs.db")
        self.srv = Server(os.path.abspath(args.bin), f"sqlite:{self.store_file}", role="all",
                          log=self.log,
                          extra=["--launcher", "local", "--task-definitions", defs,
                                 "--log-dir", os.path.join(tmp, "logs"), "--poll-interval", "0.3"])
        self.jobs = {}  # id -> {"every", "once", "deadline", "t0", "t1"}
        self.crashes = []  # (kill number, exit status): the daemon died by itself
        self.failed_starts = []  # kill numbers after which it would not start

    def note(self, text):
        line = f"{time.time():.3f} {text}"
        self.timeline.write(line + "\n")
        self.timeline.flush()
        with open(self.log, "a") as f:
            f.write(f"=== chaos {line}\n")

    def start(self, k):
        for attempt in range(3):
            self.note(f"start after kill {k} (attempt {attempt + 1})")
            try:
                self.srv.start()
                self.note(f"up on port {self.srv.port}")
                return True
            except (RuntimeError, OSError) as e:
                self.note(f"did not come up: {e}")
                if self.srv.proc is not None:
                    self.srv.kill9()
        self.failed_starts.append(k)
        return False

    def create_jobs(self, t):
        for i in range(JOBS):
            jid = f"chaos-{i:02d}"
            every = EVERY[i % len(EVERY)]
            once = (i // len(EVERY)) % 2 == 0
            deadline = DEADLINES[i % len(DEADLINES)]
            body = {"id": jid, "taskDefinition": "chaos", "schedule": f"*/{every}",
                    "missedRuns": "once" if once else "skip", "runHistoryLimit": 10000,
                    "overrides": [{"containerName": "main", "environment": {"CHAOS_JOB": jid}}]}
            if deadline is not None:
                body["startingDeadlineSeconds"] = deadline
            t0 = time.time()
            st, resp, _ = self.srv.request("POST", "/jobs", body, JSON)
            t1 = time.time()
            t.check(st == 201, f"create {jid}: {st} {resp}")
            self.jobs[jid] = {"every": every, "once": once, "deadline": deadline, "t0": t0, "t1": t1}

    def kill_loop(self):
        for k in range(1, self.args.kills + 1):
            time.sleep(self.rng.uniform(*UP))
            rc = self.srv.proc.poll()
            if rc is not None:
                self.crashes.append((k, rc))
                self.note(f"daemon had exited by itself with status {rc}")
            self.srv.kill9()
            self.note(f"kill {k}")
            time.sleep(self.rng.uniform(*DOWN))
            if not self.start(k):
                return False
        return True

    def list_runs(self):
        """Every job's runs, {job: [run]}; None for a job that could not be listed."""
        out = {}
        for jid in self.jobs:
            try:
                st, body, _ = self.srv.request("GET", f"/jobs/{jid}/runs?count=100000")
            except OSError:
                st, body = 0, None
            # a listing cut short (fewer runs than its total) is no listing
            out[jid] = (body["runs"] if st == 200 and isinstance(body, dict)
                        and len(body["runs"]) == body.get("total", len(body["runs"])) else None)
        return out

    def settle(self, margin):
        """After the last restart: the end of the counting, then every job
        suspended, and a wait (bounded) until no run is pending or running;
        the last listing and the end. The daemon runs a few seconds past the
        margin first, so the last restart's catch-ups and some on-time
        seconds are counted. Suspending first makes the last listing hold
        every launch: a firing in flight as the listing began would show its
        task in the evidence before its run recorded it."""
        time.sleep(margin + 3)
        end = time.time()
        for jid in self.jobs:
            try:
                self.srv.request("PUT", f"/jobs/{jid}", {"suspended": True}, JSON)
            except OSError:
                pass
        deadline = time.monotonic() + 30
        while True:
            runs = self.list_runs()
            busy = [r for rs in runs.values() for r in (rs or [])
                    if r.get("status") in ("pending", "running")]
            if not busy or time.monotonic() > deadline:
                return runs, end
            time.sleep(0.5)


def read_evidence(path):
    lines, bad = [], []
    try:
        text = open(path).read()
    except FileNotFoundError:
        return lines, bad
    for raw in text.splitlines():
        fields = {}
        for tok in raw.split(" "):
            k, sep, v = tok.partition("=")
            if sep:
                fields[k] = v
        if not {"j", "r", "s", "a", "c", "t"} <= fields.keys():
            bad.append(raw)
            continue
        lines.append(fields)
    return lines, bad


def missed_span(run):
    """(first, last, count) of a missed record, or None."""
    m = run.get("missed")
    if isinstance(m, dict) and {"first", "last", "count"} <= m.keys():
        first, last = m["first"], m["last"]
        first = first if isinstance(first, int) else epoch(str(first))
        last = last if isinstance(last, int) else epoch(str(last))
        return first, last, int(m["count"])
    if run.get("status") != "skipped":
        return None
    mm = MISSED_RE.match(run.get("message", ""))
    if mm is None:
        return None
    return epoch(mm.group(2)), epoch(mm.group(3)), int(mm.group(1))


def exit_codes(run):
    return [c.get("exitCode") for task in run.get("tasks", []) for c in task.get("containers", [])]


def analyse(chaos, runs_by_job, listed, cutoff, t):
    """Account for every (job, second); print and check each figure."""
    jobs = chaos.jobs
    fired = {}   # (job, s) -> [run]: runs that are firings (not missed records)
    missed = {}  # (job, s) -> [run id]
    inconsistent = []
    arn_run = {}  # task ARN -> (job, run)
    run_by_id = {}  # (job, run id) -> run
    unlisted = [j for j, rs in runs_by_job.items() if rs is None]
    for jid, rs in runs_by_job.items():
        every = jobs[jid]["every"]
        for r in rs or []:
            run_by_id[(jid, r.get("id"))] = r
            span = missed_span(r)
            if span is not None:
                first, last, count = span
                secs = fire_seconds(every, first, last)
                if len(secs) != count or not secs or secs[-1] != last or secs[0] != first:
                    inconsistent.append(f"{jid} run {r.get('id')}: count {count}, "
                                        f"{len(secs)} fire seconds in {iso(first)}..{iso(last)}")
                for s in secs:
                    missed.setdefault((jid, s), []).append(r.get("id"))
                continue
            s = epoch(r["scheduled"])
            fired.setdefault((jid, s), []).append(r)
            for task in r.get("tasks", []):
                if task.get("taskArn"):
                    arn_run[task["taskArn"]] = (jid, r)

    lines, bad = read_evidence(chaos.evidence)
    evidence = {}  # (job, s) -> [line]
    unknown = []  # lines whose ARN no run records
    late = []  # unattributed lines of tasks started after the listing began
    env_given = {"ECSCHED_JOB_ID": 0, "ECSCHED_RUN_ID": 0, "ECSCHED_SCHEDULED": 0}
    for ln in lines:
        env_given["ECSCHED_JOB_ID"] += bool(ln["j"])
        env_given["ECSCHED_RUN_ID"] += bool(ln["r"])
        env_given["ECSCHED_SCHEDULED"] += bool(ln["s"])
        jid = ln["j"] or ln["c"]
        if jid not in jobs:
            bad.append(" ".join(f"{k}={v}" for k, v in ln.items()))
            continue
        every = jobs[jid]["every"]
        s = second_of(ln["s"])
        known = ln["a"] in arn_run
        if s is None and known:
            s = epoch(arn_run[ln["a"]][1]["scheduled"])
        if s is None and ln["r"].isdigit() and (jid, int(ln["r"])) in run_by_id:
            s = epoch(run_by_id[(jid, int(ln["r"]))]["scheduled"])
        if not known and s is None and float(ln["t"] or 0) > listed:
            late.append(ln)  # its run may have come after the listing
            continue
        if not known:
            unknown.append(ln)
        if s is None:
            # a launch the store does not know: the latest second not after
            # its launch time that has a run, else the latest fire second
            at = int(float(ln["t"] or 0))
            s = next((x for x in range(at, at - 120, -1) if fires(every, x) and (jid, x) in fired),
                     None)
            if s is None:
                s = next(x for x in range(at, at - 60, -1) if fires(every, x))
            ln["estimated"] = True
        evidence.setdefault((jid, s), []).append(ln)

    dup_ev, dup_runs, lost_silent, lost_recorded, double_missed = [], [], [], [], []
    nothing_needed = []
    unrecorded, early, ok_fired, ok_missed = [], [], 0, 0
    dup_keys = set()
    catchups = 0
    accounted = 0
    for jid, job in sorted(jobs.items()):
        every = job["every"]
        keys = {k for k in set(fired) | set(missed) | set(evidence) if k[0] == jid}
        # s >= t1: must be accounted; t0 <= s < t1: may be; s < t0: must not
        must = math.ceil(job["t1"])
        seconds = sorted({s for _, s in keys} | set(fire_seconds(every, must, cutoff)))
        for s in seconds:
            e = evidence.get((jid, s), [])
            r = fired.get((jid, s), [])
            m = missed.get((jid, s), [])
            where = f"{jid} (*/{every}, {'once' if job['once'] else 'skip'}) at {iso(s)}"
            if s < job["t0"] and (e or r or m):
                early.append(f"{where}: {len(e)} launch(es), {len(r)} run(s), {len(m)} missed, "
                             f"before the job was created at {job['t0']:.3f}")
                continue
            if len(e) > 1 or len(r) > 1:
                dup_keys.add((jid, s))
            if len(e) > 1:
                dup_ev.append(f"{where}: launched {len(e)} times: "
                              + ", ".join(f"{x['a'].rsplit('/', 1)[-1]}@{x['t']}"
                                          + (" (run unknown)" if x["a"] not in arn_run else "")
                                          for x in e))
            if len(r) > 1:
                dup_runs.append(f"{where}: {len(r)} runs claim it: "
                                + ", ".join(f"#{x.get('id')} {x.get('status')}" for x in r))
            if len(m) > 1 or (m and (e or r)):
                double_missed.append(f"{where}: in missed record(s) {m}, launched {len(e)}, "
                                     f"runs {[x.get('id') for x in r]}")
            if s > cutoff:
                continue
            accounted += 1
            if not e and not m:
                if r and all(x.get("status") == "skipped"
                             and "already active" in x.get("message", "") for x in r):
                    # fired, and found the job's tasks still active (seed 004's
                    # rule): a recorded decision, accounted once
                    nothing_needed.append(f"{where}: run #{r[0].get('id')} "
                                          f"{r[0].get('message', '')[:80]!r}")
                elif r:
                    lost_recorded.append(f"{where}: run(s) "
                                         + ", ".join(f"#{x.get('id')} {x.get('status')}"
                                                     f" {x.get('message', '')[:80]!r}" for x in r)
                                         + " but the task never ran")
                else:
                    lost_silent.append(f"{where}: no launch, no run, no missed record")
            elif e and not r and not m:
                unrecorded.append(f"{where}: launched ({e[0]['a'].rsplit('/', 1)[-1]}) "
                                  "but no run records it")
            if len(e) == 1 and len(r) == 1 and not m:
                ok_fired += 1
                if "launched" in r[0] and epoch(r[0]["launched"]) - s >= 1:
                    catchups += 1
            elif not e and not r and len(m) == 1:
                ok_missed += 1

    false_failures, stuck = [], []
    for jid, rs in runs_by_job.items():
        for r in rs or []:
            if missed_span(r) is not None:
                continue
            s = epoch(r["scheduled"])
            status = r.get("status")
            if status in ("pending", "running") and s <= cutoff:
                stuck.append(f"{jid} run #{r.get('id')} {status} since {iso(s)}")
            if status == "failed":
                arns = {task.get("taskArn") for task in r.get("tasks", [])}
                ran = [ln for ln in evidence.get((jid, s), []) if ln["a"] in arns or not arns
                       or ln["r"] == str(r.get("id"))]
                codes = exit_codes(r)
                if ran and all(c in (0, None) for c in codes):
                    false_failures.append(f"{jid} run #{r.get('id')} at {iso(s)}: failed, "
                                          f"exit codes {codes}, message "
                                          f"{r.get('message', '')[:120]!r}")

    try:
        db = sqlite3.connect(chaos.store_file)
        integrity = [row[0] for row in db.execute("PRAGMA integrity_check")]
        db.close()
    except sqlite3.Error as e:
        integrity = [f"sqlite3 error: {e}"]

    n_missed_records = sum(1 for rs in runs_by_job.values() for r in rs or []
                           if missed_span(r) is not None)
    figures = {
        "job_seconds_accounted": accounted,
        "fired_once": ok_fired, "catchups": catchups, "missed_once": ok_missed,
        "missed_records": n_missed_records,
        "evidence_lines": len(lines), "evidence_after_listing": len(late),
        "evidence_with_env": env_given,
        "duplicates": len(dup_keys),
        "duplicates_by_evidence": len(dup_ev), "duplicates_by_runs": len(dup_runs),
        "lost": len(lost_silent) + len(lost_recorded),
        "lost_silently": len(lost_silent), "lost_recorded_never_ran": len(lost_recorded),
        "double_missed": len(double_missed),
        "launched_unrecorded": len(unrecorded),
        "launches_unknown_to_store": len(unknown),
        "false_failures": len(false_failures),
        "stuck": len(stuck),
        "inconsistent_missed_records": len(inconsistent),
        "malformed_evidence": len(bad),
        "jobs_not_listed": len(unlisted),
        "before_creation": len(early),
        "integrity_check": integrity,
        "daemon_crashes": chaos.crashes,
        "failed_starts": chaos.failed_starts,
    }
    print(f"  accounted {accounted} (job, second) pairs up to {iso(cutoff)}: "
          f"{ok_fired} launched once ({catchups} of them 1 s or more late: catch-ups), "
          f"{ok_missed} in one missed record ({n_missed_records} records); "
          f"{len(lines)} evidence lines ({len(late)} of tasks started after the listing, "
          "not judged)")
    print("  scheduler env present on evidence lines: "
          + ", ".join(f"{k} {v}/{len(lines)}" for k, v in env_given.items()))

    details = {}

    def figure(name, items, ok=None):
        ok = not items if ok is None else ok
        details[name] = items
        print(f"  {name}: {len(items) if isinstance(items, list) else items}")
        for x in (items if isinstance(items, list) else [])[:SHOW]:
            print(f"      {x}")
        t.check(ok, f"{name}: {len(items) if isinstance(items, list) else items}")

    figure("duplicates (a second launched twice, by evidence)", dup_ev)
    figure("duplicates (a second claimed by two runs)", dup_runs)
    figure("lost (no launch, no run, no missed record)", lost_silent)
    figure("lost (a run, but its task never ran)", lost_recorded)
    figure("fired, nothing to start (the job's tasks still active; accounted)", nothing_needed,
           ok=True)
    figure("double-missed (two missed records, or missed and launched)", double_missed)
    figure("launched but no run of that second", unrecorded)
    figure("launches unknown to the store (task ARN in no run)",
           [f"{ln['c']} {ln['a'].rsplit('/', 1)[-1]} at {ln['t']}" for ln in unknown])
    figure("false failures (failed, the task exited 0 or left no code)", false_failures)
    figure("runs stuck pending/running at the end", stuck)
    figure("missed records whose count disagrees with their span", inconsistent)
    figure("accounted before the job was created", early)
    figure("malformed evidence lines", bad)
    figure("jobs whose runs could not be listed", unlisted)
    figure("daemon exits by itself (kill number, status)", chaos.crashes)
    figure("daemon would not start (after kill number)", chaos.failed_starts)
    print(f"  PRAGMA integrity_check: {'; '.join(integrity)[:300]}")
    t.check(integrity == ["ok"], f"integrity_check: {integrity[:5]}")
    t.check(accounted > 0, "nothing was accounted")
    with open(os.path.join(chaos.tmp, "details.json"), "w") as f:
        json.dump(details, f, indent=1, default=str)
    return figures


def main():
    args = parse_args()
    t = refcron.Tally("chaos")
    tmp = tempfile.mkdtemp(prefix="ecsched-chaos-")
    began = time.monotonic()
    chaos = Chaos(args, tmp)
    print(f"chaos: {JOBS} jobs, {args.kills} kills (up {UP[0]}-{UP[1]} s, down {DOWN[0]}-{DOWN[1]} s),"
          f" seed {args.seed}, in {tmp}")
    runs, cutoff = None, 0
    try:
        chaos.note("start")
        chaos.srv.start()
        chaos.create_jobs(t)
        survived = chaos.kill_loop()
        t.check(survived, f"the daemon would not start again after kill {chaos.failed_starts}")
        if survived:
            runs, listed = chaos.settle(args.margin)
            cutoff = int(listed - args.margin)
            chaos.note(f"listed the runs at {listed:.3f}; counting up to {cutoff}")
    except Exception as e:  # noqa: BLE001 - any failure is reported, the evidence kept
        runs = None
        t.check(False, f"the chaos run stopped early: {e!r}")
    finally:
        rc = chaos.srv.stop()
        chaos.note(f"stopped with status {rc}")
        chaos.timeline.close()
    t.check(rc == 0, f"serve did not stop cleanly on SIGTERM: status {rc}")
    if runs is not None:
        with open(os.path.join(tmp, "runs.json"), "w") as f:
            json.dump(runs, f, indent=1)
        figures = analyse(chaos, runs, listed, cutoff, t)
        figures["seconds"] = round(time.monotonic() - began, 1)
        with open(os.path.join(tmp, "figures.json"), "w") as f:
            json.dump(figures, f, indent=1)
    print(f"  took {time.monotonic() - began:.1f} s")
    if args.keep and t.failed == 0:
        print(f"logs kept in {tmp}")
    else:
        tidy(t, tmp)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
