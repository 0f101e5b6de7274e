"""benchlib.py — what the benchmark scripts of tests/bench/ share (they run
as scripts from the repository's root, so this directory is on sys.path)."""

import http.client
import socket
import sys
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def timed_gets(port, path, token, n, timeout=120):
    """Sends GET PATH with the bearer TOKEN N times, one after the other on
    one keep-alive connection to 127.0.0.1:PORT; exits on any answer but
    200. Returns the p50 and p95 in ms and the last body."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    times, body = [], b""
    for _ in range(n):
        t = time.perf_counter()
        c.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            sys.exit("%s: %d %r" % (path, r.status, body[:300]))
    c.close()
    times.sort()
    return times[len(times) // 2], times[max(0, int(len(times) * 0.95) - 1)], \
        body
