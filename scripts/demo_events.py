"""demo_events.py - the demo's narrator: reads ecsched's JSON-lines events
on stdin and prints one plain line per firing, finished run or problem."""
import json
import sys


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
        return (f"{t}  {e['job']:16} run {e['run']:<4} {e['status']} "
                f"(exit codes {codes}, {e.get('durationSeconds', 0):.1f} s)")
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
