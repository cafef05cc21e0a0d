#!/usr/bin/python3
"""test_hostile_http.py - the HTTP door against hostile clients, over raw
sockets: request-line and header garbage, chunked bodies, Content-Length
forms, huge targets, headers and bodies, HTTP/0.9 and HTTP/2 prefaces,
pipelining, absolute-form targets, NUL and invalid UTF-8 in ids and
bodies, deep JSON, bearer schemes in any case. Every answer must be one
well-formed HTTP/1.1 response, ecsched's JSON, with the status named; the
SQLite store must hold afterwards byte for byte what it held, but for the
valid writes; the daemon's stderr must hold no sanitizer report. Run it
on the sanitizer build.

Regressions (issue 13): 2 (a NUL aliased ids; invalid UTF-8 got an empty
404), 5 (MHD's HTML pages, a doubled header block for Content-Length -1
and 99999999999999999999, a 100 MB body read before the 413), 6 (the
bearer scheme's case).

Run: /usr/bin/python3 tests/integration/test_hostile_http.py --bin build-san/ecsched
"""
import json
import os
import random
import sys
import tempfile

import refcron
from hostile import exchange, json_problems, parse_one
from test_api import JSON, Server, tidy
from test_api_badinput import snapshot

H = b"Host: 127.0.0.1\r\n"
VALID_JOB = {"taskDefinition": "chunky", "schedule": "0 0 0 * * * * 2099"}


def req(line, headers=b"", body=b""):
    return line + b"\r\n" + H + headers + b"\r\n" + body


def body_req(method, path, body, extra=b""):
    return req(method + b" " + path + b" HTTP/1.1",
               b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body) + extra,
               body)


BAD_IDS = [b"chunky%00zzz", b"%FF", b"%C0%AF", b"%ED%A0%80", b"%F4%90%80%80", b"a%0Ab",
           b"a%0D%0Ab", b"%7F", b"chunky%00", b"%E2%82", b"%80abc", b"%FE%FF", b"a%1Bb", b"%00"]


def id_cases():
    """Finding 2: a NUL or invalid UTF-8 in an id, on every route that has one."""
    out = []
    for bad in BAD_IDS:
        p = b"/jobs/" + bad
        out.append((b"GET " + p, req(b"GET " + p + b" HTTP/1.1"), 400))
        out.append((b"DELETE " + p, req(b"DELETE " + p + b" HTTP/1.1"), 400))
        out.append((b"PUT " + p, body_req(b"PUT", p, b'{"taskCount": 2}'), 400))
        out.append((b"runs " + p, req(b"GET " + p + b"/runs HTTP/1.1"), 400))
        out.append((b"run " + p, body_req(b"POST", p + b"/run", b"{}"), 400))
        out.append((b"run get " + p, req(b"GET /jobs/chunky/runs/" + bad + b" HTTP/1.1"), 400))
        out.append((b"query " + p, req(b"GET /jobs?skip=" + bad + b" HTTP/1.1"), 400))
    return out


def line_cases():
    """Request lines that are not 'METHOD /path HTTP/1.x'."""
    bad = [b"", b"GET", b"GET  / HTTP/1.1", b"GET / HTTP/1.10", b"GET / HTTP/1.1 x", b"G@T / HTTP/1.1",
           b" GET / HTTP/1.1", b"GET\t/ HTTP/1.1", b"GET / http/1.1",
           b"GET / FOO/1.1", b"GET / HTTP/1.1\x00", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
           b"GET /a b HTTP/1.1", b"GET /a\x00b HTTP/1.1", b"GET /\xff HTTP/1.1", b"GET /a#b HTTP/1.1",
           b"GET /%zz HTTP/1.1", b"GET /%4 HTTP/1.1", b"GET /% HTTP/1.1", b"GET /jobs?x=%g0 HTTP/1.1",
           b"M" * 40 + b" / HTTP/1.1", b"GET http://127.0.0.1/jobs HTTP/1.1",
           b"GET https://x/ HTTP/1.1", b"OPTIONS * HTTP/1.1", b"CONNECT 127.0.0.1:443 HTTP/1.1",
           b"GET jobs HTTP/1.1", b"GET //%00 HTTP/1.1", b"\x00\x00\x00\x00", b"GET /\x7f HTTP/1.1"]
    out = [(b"line " + b[:30], req(b), 400) for b in bad]
    for v in [b"HTTP/1.2", b"HTTP/2.0", b"HTTP/3", b"HTTP/0.9", b"HTTP/1", b"HTTP/9.9"]:
        out.append((b"version " + v, req(b"GET / " + v), 505))
    out.append((b"HTTP/0.9", b"GET /\r\n", 505))
    out.append((b"HTTP/0.9 with a header", req(b"GET /"), 505))
    out.append((b"HTTP/0.9 healthz", b"GET /healthz\r\n\r\n", 505))
    out.append((b"HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505))
    out.append((b"empty line first", b"\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", 400))
    out.append((b"bare LF request", b"GET / HTTP/1.1\nHost: x\n\n", 400))
    out.append((b"bare CR", b"GET / HTTP/1.1\rHost: x\r\n\r\n", 400))
    return out


def header_cases():
    """Header blocks that are not 'Name: value' lines."""
    bad = [b"NoColon\r\n", b"Host : x\r\n", b": empty\r\n", b"Na me: x\r\n", b"N\x00: x\r\n",
           b"X: a\x00b\r\n", b"X: a\x01b\r\n", b"X: a\x7fb\r\n", b"X: a\rb\r\n",
           b"X: a\r\n folded\r\n", b"X: a\r\n\tfolded\r\n", b"X: a\nY: b\r\n", b"\xff: x\r\n",
           b"X\xc3\xa9: x\r\n", b"Host: again\r\n", b"(x): y\r\n"]
    out = [(b"header " + b[:24], req(b"GET /jobs HTTP/1.1", b), 400) for b in bad]
    out.append((b"no Host", b"GET /jobs HTTP/1.1\r\n\r\n", 400))
    out.append((b"101 headers", req(b"GET /jobs HTTP/1.1", b"X-A: b\r\n" * 101), 431))
    out.append((b"one 20 KB header", req(b"GET /jobs HTTP/1.1", b"X: " + b"a" * 20000 + b"\r\n"),
                431))
    out.append((b"head past 16 KB", req(b"GET /jobs HTTP/1.1", (b"X: " + b"a" * 900 + b"\r\n") * 20),
                431))
    for exp in [b"Expect: 200-ok\r\n", b"Expect: \r\n", b"Expect: 100-continue-x\r\n"]:
        out.append((b"expect " + exp[:20], body_req(b"POST", b"/jobs", b"{}", exp), 417))
    return out


def length_cases():
    """Content-Length forms and Transfer-Encoding (finding 5)."""
    out = []
    for cl in [b"-1", b"+5", b"0x10", b"1e3", b"5, 5", b"5 5", b"", b"five", b"1.0", b"\xef\xbc\x95",
               b"5 ", b"5\t"]:
        for m, p in [(b"POST", b"/jobs"), (b"PUT", b"/jobs/chunky"), (b"GET", b"/healthz")]:
            out.append((b"CL " + cl + b" " + m, req(m + b" " + p + b" HTTP/1.1",
                                                     b"Content-Length: " + cl + b"\r\n", b"{}"), 400))
    for cl in [b"99999999999999999999", b"1048577", b"104857600", b"9" * 100,
               b"18446744073709551616", b"9223372036854775808"]:
        for m, p in [(b"POST", b"/jobs"), (b"PUT", b"/jobs/chunky")]:
            out.append((b"CL " + cl[:24] + b" " + m,
                        req(m + b" " + p + b" HTTP/1.1", b"Content-Length: " + cl + b"\r\n"), 413))
    out.append((b"CL twice same", req(b"POST /jobs HTTP/1.1",
                                      b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}"), 400))
    out.append((b"CL twice differ", req(b"POST /jobs HTTP/1.1",
                                        b"Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"), 400))
    chunked = [b"2\r\n{}\r\n0\r\n\r\n", b"zz\r\n{}\r\n0\r\n\r\n", b"-1\r\n", b"ffffffffffffffffff\r\n",
               b"2;ext=1\r\n{}\r\n0\r\n\r\n", b"0\r\n\r\n", b"2\r\n{}", b"2\n{}\n0\n\n",
               b"1\r\n{\r\n1\r\n}\r\n0\r\nTrailer: x\r\n\r\n"]
    for te in [b"chunked", b"Chunked", b"gzip, chunked", b"identity", b" chunked", b"chunked, chunked"]:
        for body in chunked:
            out.append((b"TE " + te + b" " + body[:10], req(
                b"POST /jobs HTTP/1.1",
                b"Content-Type: application/json\r\nTransfer-Encoding: " + te + b"\r\n", body), 411))
    out.append((b"TE and CL", req(b"POST /jobs HTTP/1.1",
                                  b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", b"{}"), 411))
    return out


def body_cases():
    """Bodies: invalid UTF-8, NULs, deep JSON, junk; all 400, nothing written."""
    bodies = [b'{"taskDefinition": "\xff", "schedule": "0"}', b'{"id": "a\x00b"}',
              b'{"id": "a\\u0000b", "taskDefinition": "x", "schedule": "0"}',
              b'{"taskDefinition": "\xc0\xaf", "schedule": "0"}', b"\x00" * 64,
              b'{"taskDefinition": "\xed\xa0\x80", "schedule": "0"}', b"[" * 100000,
              b'{"a":' * 50000, b"{" * 1000 + b"}" * 1000, b'"\xff"', b"\xfe\xff{}",
              b'{"schedule": "0", "taskDefinition": "x", "id": "\xf4\x90\x80\x80"}',
              # found by fuzz_routes: the parse error quoted a lone UTF-8 byte
              b'{"taskDefinition": "x", "s\\\xc2\x92\x00@": 1}', b'{"a": "\\\xff"}',
              b'{"\\\xe2\x82": 0}']
    out = []
    for b in bodies:
        out.append((b"POST body " + b[:20], body_req(b"POST", b"/jobs", b), 400))
        out.append((b"PUT body " + b[:20], body_req(b"PUT", b"/jobs/chunky", b), 400))
        out.append((b"run body " + b[:20], body_req(b"POST", b"/jobs/chunky/run", b), 400))
    return out


def mutants(count):
    """Seeded byte mutations of a GET (never a write, whatever they become)."""
    rnd = random.Random(13)
    base = req(b"GET /jobs/chunky?skip=0&count=5 HTTP/1.1", b"Accept: */*\r\n")
    out = []
    for i in range(count):
        b = bytearray(base)
        for _ in range(rnd.randint(1, 4)):
            pos = rnd.randrange(len(b) - 4)  # the blank line stays, so each answers at once
            op = rnd.randrange(3)
            if op == 0:
                b[pos] = rnd.randrange(256)
            elif op == 1:
                b[pos:pos] = bytes([rnd.randrange(256)])
            else:
                del b[pos]
        if not bytes(b).startswith(b"GET ") and b[:3] != b"GET":
            b[0:3] = b"GET"
        out.append((b"mutant %d" % i, bytes(b), None))
    return out


def rows(db):
    """The store's job rows by id, each as test_api_badinput's snapshot has it."""
    return {r[1]: r for r in json.loads(snapshot(db))}


def judge(t, port, label, data, want, shut=False):
    raw, _ = exchange(port, data, shut=shut)
    is_head = data.startswith(b"HEAD ")
    status, headers, body, problems = parse_one(raw, is_head)
    if status is not None and not problems:
        problems = json_problems(status, headers, body, is_head)
    if want is None:
        ok = status is not None and 200 <= status < 600
    else:
        ok = status == want
    t.check(ok and not problems, f"{label!r}: status {status} (want {want}) {problems} {raw[:160]!r}")
    return status, headers, body


def hostile_phase(t, port):
    cases = id_cases() + line_cases() + header_cases() + length_cases() + body_cases()
    cases += mutants(120)
    for label, data, want in cases:
        judge(t, port, label, data, want)
    print(f"sent {len(cases)} hostile requests")
    return len(cases)


def early_413(t, port):
    """Finding 5: a 100 MB Content-Length is refused before any body is
    sent, and Expect: 100-continue gets 413, never 100 Continue."""
    head = req(b"POST /jobs HTTP/1.1", b"Content-Type: application/json\r\n"
                                       b"Content-Length: 104857600\r\n")
    raw, took = exchange(port, head, timeout=3)
    status, _, _, problems = parse_one(raw)
    t.check(status == 413 and not problems, f"100 MB body announced: {status} {problems}")
    exp = req(b"POST /jobs HTTP/1.1", b"Content-Type: application/json\r\n"
                                      b"Content-Length: 104857600\r\nExpect: 100-continue\r\n")
    raw, took = exchange(port, exp, timeout=3)
    status, _, _, problems = parse_one(raw)
    t.check(status == 413 and b"100 Continue" not in raw and not problems,
            f"Expect with 100 MB: {status} {raw[:60]!r}")
    small = b'{"taskCount": 3}'
    raw, _ = exchange(port, [req(b"PUT /jobs/keep HTTP/1.1",
                                 b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                                 b"Content-Length: %d\r\n" % len(small)), small], timeout=5)
    status, _, _, problems = parse_one(raw)
    t.check(status == 200 and not problems, f"Expect with a small body: {status} {raw[:200]!r}")


def pipelining(t, port, rq):
    """Every answer says Connection: close, so a second request on the same
    connection is never read (the door judged only the first)."""
    two = req(b"GET /healthz HTTP/1.1") + req(b"GET /jobs HTTP/1.1")
    raw, _ = exchange(port, two)
    status, h, _, problems = parse_one(raw)
    t.check(status == 200 and h.get("connection") == "close" and not problems,
            f"pipelined GETs: one answer: {status} {problems}")
    smuggle = req(b"GET /healthz HTTP/1.1") + req(b"DELETE /jobs/keep HTTP/1.1")
    raw, _ = exchange(port, smuggle)
    status, _, _, problems = parse_one(raw)
    st, _, _ = rq("GET", "/jobs/keep")
    t.check(status == 200 and not problems and st == 200,
            f"a pipelined DELETE is not read: {status} {problems}, keep: {st}")
    bad_first = req(b"GET /jobs/%00 HTTP/1.1") + req(b"GET /healthz HTTP/1.1")
    raw, _ = exchange(port, bad_first)
    status, _, _, problems = parse_one(raw)
    t.check(status == 400 and not problems, f"bad then good: {status} {problems}")
    # a short body, then the client's end: no answer can be owed, nothing is written
    raw, _ = exchange(port, req(b"POST /jobs HTTP/1.1", b"Content-Type: application/json\r\n"
                                                        b"Content-Length: 50\r\n", b"{}"), shut=True)
    t.check(raw == b"" or not parse_one(raw)[3], f"short body: {raw[:120]!r}")
    # an incomplete head, then the client's end
    raw, _ = exchange(port, b"GET /jobs HTTP/1.1\r\nHost: x\r\n", shut=True)
    status, _, _, problems = parse_one(raw)
    t.check(status == 400 and not problems, f"head cut short: {status} {problems}")


def alias_check(t, rq):
    """Finding 2 in the store's terms: DELETE /jobs/chunky%00zzz left chunky."""
    st, body, _ = rq("GET", "/jobs/chunky")
    t.check(st == 200 and body.get("id") == "chunky", f"chunky survived the NUL ids: {st}")


def auth_phase(t, binary, tmp):
    """Finding 6: the bearer scheme's name in any case, one or more spaces."""
    tok = os.path.join(tmp, "token")
    with open(tok, "w") as f:
        f.write("s3cret\n")
    srv = Server(binary, "memory:", extra=["--token-file", tok], log=os.path.join(tmp, "auth.log"))
    srv.start()
    try:
        for i, scheme in enumerate(["Bearer", "bearer", "BEARER", "BeArEr", "bEARER"]):
            job = dict(VALID_JOB, id=f"auth-{i}")
            st, body, _ = srv.request("POST", "/jobs", job,
                                      dict(JSON, Authorization=f"{scheme} s3cret"))
            t.check(st == 201, f"'{scheme} s3cret': {st} {body}")
        st, _, _ = srv.request("POST", "/jobs", dict(VALID_JOB, id="auth-sp"),
                               dict(JSON, Authorization="bearer   s3cret"))
        t.check(st == 201, f"spaces after the scheme: {st}")
        for bad in ["bearer s3cre", "Basic s3cret", "Bearers3cret", "bearer", "Bearer S3CRET",
                    "Token s3cret", "bearer s3cret x"]:
            st, body, h = srv.request("POST", "/jobs", dict(VALID_JOB, id="auth-no"),
                                      dict(JSON, Authorization=bad))
            t.check(st == 401 and "message" in body, f"'{bad}': {st}")
    finally:
        t.check(srv.stop() == 0, "auth server stopped cleanly")
    return os.path.join(tmp, "auth.log")


def sanitizer_clean(t, logs):
    for path in logs:
        with open(path, errors="replace") as f:
            text = f.read()
        for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehavior"):
            t.check(mark not in text, f"{os.path.basename(path)}: a sanitizer report ({mark})")


def serve_phase(t, binary, tmp):
    """The hostile requests against one SQLite-backed server; its log."""
    db = os.path.join(tmp, "jobs.db")
    log = os.path.join(tmp, "serve.log")
    srv = Server(binary, f"sqlite:{db}", log=log)
    try:
        srv.start()
        for job in (VALID_JOB, dict(VALID_JOB, id="keep", taskDefinition="keep")):
            st, _, _ = srv.request("POST", "/jobs", job, JSON)
            t.check(st == 201, f"create {job.get('id', 'chunky')}: {st}")
        before = snapshot(db)
        n = hostile_phase(t, srv.port)
        t.check(n >= 300, f"only {n} hostile requests")
        alias_check(t, srv.request)
        t.check(snapshot(db) == before, "the store changed under invalid requests")
        pipelining(t, srv.port, srv.request)
        t.check(snapshot(db) == before, "the store changed under pipelined requests")
        early_413(t, srv.port)
        old = {r[1]: r for r in json.loads(before)}  # id: row
        new = rows(db)
        t.check(new.keys() == old.keys() and new["keep"] != old["keep"] and
                all(new[k] == old[k] for k in old if k != "keep"),
                "the store: only the valid write to keep changed it")
        t.check(srv.stop() == 0, "server stopped cleanly on SIGTERM")
    finally:
        srv.stop()
    return log


def main():
    args = refcron.parse_args(__doc__.splitlines()[0])
    t = refcron.Tally("hostile_http")
    tmp = tempfile.mkdtemp(prefix="ecsched-hostile-")
    try:
        logs = [serve_phase(t, os.path.abspath(args.bin), tmp),
                auth_phase(t, os.path.abspath(args.bin), tmp)]
        sanitizer_clean(t, logs)
    finally:
        tidy(t, tmp)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
