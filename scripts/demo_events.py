"""demo_events.py - the demo's narrator: reads ecsched's JSON-lines events
on stdin and prints one plain line per firing, finished run or problem,
and under a finished run its tasks' own output (from the local
launcher's log directory, the first argument)."""
import glob
import json
import os
import sys

LOGS = sys.argv[1] if len(sys.argv) > 1 else None


def output(e):
    """The finished run's tasks' output, indented, a few lines each."""
    lines = []
    for task in e.get("tasks", []):
        tid = task.get("taskArn", "").rsplit("/", 1)[-1]
        for path in sorted(glob.glob(os.path.join(LOGS or "", tid, "*.log"))):
            with open(path, errors="replace") as f:
                text = f.read().splitlines()
            name = os.path.basename(path)[:-4]
            lines += [f"          {name}> {ln}" for ln in text[-5:]]
    return lines


def say(e):
    t = e.get("time", "")[11:19]
    ev = e.get("event")
    if ev == "job.fired":
        return (f"{t}  {e['job']:16} run {e['run']:<4} fired {e['lateMs']} ms after "
                f"{e['scheduled'][11:19]}: {e['started']} task(s) started, "
                f"{e['active']} already running -> {e['status']}")
    if ev == "run.finished":
        codes = [c.get("exitCode") for task in e.get("tasks", [])
                 for c in task.get("containers", [])]
        head = (f"{t}  {e['job']:16} run {e['run']:<4} {e['status']} "
                f"(exit codes {codes}, {e.get('durationSeconds', 0):.1f} s)")
        return "\n".join([head] + (output(e) if LOGS else []))
    if e.get("level") in ("warn", "error"):
        return f"{t}  {ev}: {e.get('error') or e.get('job') or ''}"
    return None


for line in sys.stdin:
    try:
        text = say(json.loads(line))
    except (ValueError, KeyError, TypeError):
        continue
    if text:
        print(text, flush=True)
