#!/usr/bin/python3
"""test_slow_clients.py - slow clients cannot take the API away (issue 13,
finding 4), on loopback only, bounded in count and time:

- 2,000 connections, 32 from each of 63 loopback addresses, each trickling
  a header line every second for 12 s: /healthz from 127.0.0.1 answers
  within 1 s every time, writes go through, and a job firing every second
  keeps firing on time (fake launcher);
- 1,020 connections from one address: the per-address cap (64) refuses the
  rest at once with a JSON 429, and /healthz still answers;
- a head trickled past --request-timeout gets a JSON 408 at the deadline,
  though bytes kept coming (the old timeout counted idle time only).

Run: /usr/bin/python3 tests/integration/test_slow_clients.py --bin build/ecsched
"""
import os
import resource
import select
import socket
import sys
import tempfile
import time

import refcron
from hostile import connect, exchange, json_problems, parse_one, read_all
from test_api import JSON, Server, tidy
from test_runs_local import all_runs, epoch

HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
ADDRESSES = [f"127.0.10.{i}" for i in range(1, 64)]
PER_ADDRESS = 32
SLOW = 2000
ATTACK_S = 12


def epoch_ms(text):
    """Seconds, with the fraction, of a time such as 2026-12-02T03:02:09.000+00:00."""
    frac = text[19:text.index("+", 19)] if "+" in text[19:] else ""
    return epoch(text) + (float(frac) if frac else 0.0)


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_slow(port, n, sources, per_source):
    """n connections that have sent the start of a head and no blank line."""
    socks = []
    for i in range(n):
        s = connect(port, src=sources[(i // per_source) % len(sources)], timeout=2)
        s.sendall(HEAD)
        socks.append(s)
    return socks


def probe(port):
    """Seconds /healthz took, or None when it did not answer 200 within 1 s."""
    start = time.monotonic()
    try:
        raw, took = exchange(port, HEAD + b"\r\n", timeout=1.0)
    except OSError:
        return None
    status, h, body, problems = parse_one(raw)
    if status != 200 or problems or json_problems(status, h, body):
        return None
    return time.monotonic() - start


def answered(socks):
    """How many of socks the server has answered or closed (without waiting)."""
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1, socket.MSG_PEEK) is not None:
                n += 1
        except BlockingIOError:
            pass
        except OSError:
            n += 1
        s.setblocking(True)
    return n


def write(srv, method, path, body):
    """The status of a write, or None when it got no answer in time."""
    try:
        return srv.request(method, path, body, JSON)[0]
    except OSError:
        return None


def many_slow(t, srv):
    port = srv.port
    st, _, _ = srv.request("POST", "/jobs", {"taskDefinition": "tick", "id": "tick",
                                             "schedule": "*"}, JSON)
    t.check(st == 201, f"create tick: {st}")
    socks = open_slow(port, SLOW, ADDRESSES, PER_ADDRESS)
    start = time.time()
    lat = []
    writes = []
    for second in range(ATTACK_S):
        tick = time.monotonic()
        for s in socks:
            s.sendall(b"X-Slow: %d\r\n" % second)
        lat.append(probe(port))
        job = {"taskDefinition": "w", "id": f"w{second}", "schedule": "0 0 0 * * * * 2099"}
        writes.append(write(srv, "POST", "/jobs", job))
        writes.append(write(srv, "PUT", f"/jobs/w{second}", {"taskCount": 2}))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    end = time.time()
    closed = answered(socks)
    for s in socks:
        s.close()
    ok = [x for x in lat if x is not None]
    print(f"  {SLOW} slow connections: /healthz answered {len(ok)} of {len(lat)} probes, "
          f"slowest {max(ok or [0]) * 1000:.0f} ms")
    t.check(len(ok) == len(lat), f"/healthz within 1 s: {lat}")
    t.check(writes == [201, 200] * ATTACK_S, f"writes under the attack: {writes}")
    t.check(closed == 0, f"{closed} slow connections were dropped before their deadline")
    runs = [r for r in all_runs(srv.request, "tick")
            if start + 1 <= epoch(r["scheduled"]) <= end - 2]
    seconds = sorted(epoch(r["scheduled"]) for r in runs)
    # the fake launcher's tasks stay active, so after the first firing each
    # second is decided 'already active': that decision's time is its mark
    late = [epoch_ms(r.get("launched") or r.get("finished")) - epoch(r["scheduled"]) for r in runs
            if r.get("launched") or r.get("finished")]
    t.check(len(seconds) >= ATTACK_S - 4 and seconds == list(range(seconds[0], seconds[-1] + 1)),
            f"tick fired each second under the attack: {seconds}")
    t.check(len(late) == len(runs) and late and max(late) < 1.0, f"tick's lateness: {late}")
    print(f"  tick: {len(runs)} firings under the attack, latest {max(late or [0]) * 1000:.0f} ms late")


def count_refused(socks, expect, deadline):
    """How many of socks got a 429, waiting (until deadline) for expect
    answers, since the door answers them as it accepts them."""
    poll = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poll.register(fd, select.POLLIN)
    refused = 0
    seen = 0
    while seen < expect and time.monotonic() < deadline:
        for fd, _ in poll.poll(100):
            poll.unregister(fd)
            seen += 1
            try:
                head = by_fd[fd].recv(4096, socket.MSG_PEEK)
            except OSError:
                head = b""
            refused += head.startswith(b"HTTP/1.1 429")
    return refused


def one_address(t, port):
    """Finding 4: 1,020 trickling connections from one address."""
    socks = []
    for _ in range(1020):
        s = connect(port, src="127.0.0.2", timeout=2)
        try:
            s.sendall(HEAD)
        except OSError:
            pass
        socks.append(s)
    refused = count_refused(socks, len(socks) - 64, time.monotonic() + 10)
    for _ in range(9):
        for s in socks:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass
    lat = [probe(port) for _ in range(9)]
    for s in socks:
        s.close()
    ok = [x for x in lat if x is not None]
    print(f"  1,020 from one address: {refused} refused with 429, /healthz {len(ok)} of 9")
    t.check(refused == 1020 - 64, f"per-address cap 64: {refused} of 1,020 refused")
    t.check(len(ok) == 9, f"/healthz with 1,020 from one address: {lat}")
    raw, _ = exchange(port, HEAD, src="127.0.0.3", timeout=0.2)
    t.check(raw == b"", "a fresh address is not refused")


def total_deadline(t, binary, tmp):
    """A trickled head meets --request-timeout 2 though bytes keep coming."""
    srv = Server(binary, "memory:", extra=["--request-timeout", "2"],
                 log=os.path.join(tmp, "deadline.log"))
    srv.start()
    try:
        s = connect(srv.port, timeout=6)
        s.sendall(HEAD)
        start = time.monotonic()
        raw = b""
        for _ in range(12):
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
            time.sleep(0.5)
            s.setblocking(False)
            try:
                raw = s.recv(4096, socket.MSG_PEEK)
            except BlockingIOError:
                raw = b""
            s.setblocking(True)
            if raw:
                break
        raw = read_all(s, time.monotonic() + 2)
        took = time.monotonic() - start
        s.close()
        status, h, body, problems = parse_one(raw)
        t.check(status == 408 and not problems and not json_problems(status, h, body),
                f"trickled head: {status} {problems} {raw[:100]!r}")
        t.check(took < 5, f"the 408 came {took:.1f} s after the head began (deadline 2 s)")
    finally:
        t.check(srv.stop() == 0, "deadline server stopped")


def attack_phase(t, binary, tmp):
    """The 2,000 and the 1,020 against one daemon that also fires a job."""
    srv = Server(binary, f"sqlite:{tmp}/jobs.db", role="all",
                 extra=["--launcher", "fake", "--request-timeout", "60"],
                 log=os.path.join(tmp, "serve.log"))
    try:
        srv.start()
        many_slow(t, srv)
        one_address(t, srv.port)
        t.check(srv.stop() == 0, "server stopped cleanly")
    finally:
        srv.stop()


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("slow_clients")
    limit = raise_fd_limit(SLOW + 1500)
    if limit < SLOW + 1200:
        print(f"descriptor limit {limit}: cannot open {SLOW} connections")
        return 1
    tmp = tempfile.mkdtemp(prefix="ecsched-slow-")
    try:
        attack_phase(t, os.path.abspath(args.bin), tmp)
        total_deadline(t, os.path.abspath(args.bin), tmp)
    finally:
        tidy(t, tmp)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
