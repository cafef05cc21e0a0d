"""hostile.py - raw-socket helpers for the HTTP door's tests: send bytes
as a hostile client would (optionally from another loopback address),
read what comes back until the server closes, and judge it as exactly one
well-formed HTTP/1.1 response (an optional 100 Continue before it)."""
import json
import socket
import time


def connect(port, src=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src is not None:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_all(s, deadline):
    """Bytes until EOF, a reset, or the deadline (monotonic seconds)."""
    out = b""
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


def exchange(port, data, shut=False, timeout=5.0, src=None):
    """Send data (bytes, or a list of bytes sent one after another), read
    the answer until the server closes; (bytes, seconds taken)."""
    start = time.monotonic()
    s = connect(port, src=src, timeout=timeout)
    try:
        for part in data if isinstance(data, list) else [data]:
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        if shut:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        raw = read_all(s, start + timeout)
    finally:
        s.close()
    return raw, time.monotonic() - start


def parse_one(raw, is_head=False):
    """(status, headers {lower: value}, body, problems): problems lists
    what makes raw anything but one well-formed response."""
    problems = []
    if raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
        raw = raw[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None, {}, b"", [f"no complete header block in {raw[:80]!r}"]
    head = raw[:end].decode("latin-1").split("\r\n")
    rest = raw[end + 4:]
    parts = head[0].split(" ", 2)
    if len(parts) < 3 or parts[0] != "HTTP/1.1" or not parts[1].isdigit() or len(parts[1]) != 3:
        return None, {}, b"", [f"bad status line {head[0]!r}"]
    status = int(parts[1])
    headers = {}
    for line in head[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            problems.append(f"bad header line {line!r}")
            continue
        key = name.lower()
        if key in headers and key in ("content-length", "content-type", "connection"):
            problems.append(f"{name} twice")
        headers[key] = value.strip()
    cl = headers.get("content-length")
    if cl is None or not cl.isdigit():
        problems.append(f"Content-Length missing or bad: {cl!r}")
        return status, headers, rest, problems
    want = 0 if is_head or status in (204, 304) else int(cl)
    body = rest[:want]
    if len(rest) != want:
        problems.append(f"{len(rest)} bytes after the header block, Content-Length says {want}"
                        f": {rest[:120]!r}")
    if b"<html" in raw.lower():
        problems.append("an HTML page")
    return status, headers, body, problems


def json_problems(status, headers, body, is_head=False):
    """What is wrong with an answer that must be ecsched's JSON."""
    if status in (204, 304) or is_head:
        return []
    if headers.get("content-type") != "application/json":
        return [f"Content-Type {headers.get('content-type')!r}"]
    try:
        doc = json.loads(body)
    except ValueError:
        return [f"body is not JSON: {body[:80]!r}"]
    if status >= 400 and not (isinstance(doc, dict) and ("message" in doc or "messages" in doc)):
        return [f"error body without message: {doc!r:.80}"]
    return []
