"""ship.py BIN — shipping to ClickHouse (issue 13 item 6), bounded in time:

1. `dwell demo` stores about a million events (BENCH_SHIP_DAYS days of its
   help center, default 1100) in a fresh data dir; `dwell serve --ship`
   then logs and ships them all to a fresh ClickHouse database; the time
   from the server's start to an empty backlog gives
       bench: ship_events_per_s N (M rows, S s)
2. A fresh collector ships while wrk sends new views to it for
   BENCH_SECONDS (default 10) with one connection per core; /metrics'
   dwell_ship_lag_seconds is read every 0.25 s:
       bench: ship_lag_s max M p50 P (at R events/s stored)
3. ClickHouse's storage of the first run's rows, after OPTIMIZE ... FINAL
   (system.parts, active parts):
       bench: ch_bytes_per_event N

Prints "skip: REASON" and exits 0 where ClickHouse cannot be had."""

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import chserver                                     # noqa: E402

from benchlib import free_port

OUT = os.path.join(ROOT, "tests", "out", "bench-ship")
DAYS = int(os.environ.get("BENCH_SHIP_DAYS", "1100"))
SECS = int(os.environ.get("BENCH_SECONDS", "10"))
DRAIN_LIMIT = 600.0        # seconds for the million to ship at most



def run(*argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        sys.exit("bench ship: %s: exit %d: %s" % (" ".join(argv[:3]),
                                                 r.returncode, r.stderr[-500:]))
    return r.stdout


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(dwell_[a-z_]+(?:\{[^}]*\})?) (\S+)$', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


class Serve:
    def __init__(self, bin_, data, *args):
        self.port = free_port()
        self.log = open(os.path.join(OUT, "serve-%d.log" % self.port), "w")
        self.proc = subprocess.Popen(
            [bin_, "serve", "--data", data, "--listen",
             "127.0.0.1:%d" % self.port, "--durability", "commit"] +
            list(args), stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz"
                                       % self.port, timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        sys.exit("bench ship: the server did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        self.log.close()


def throughput(bin_, ch):
    """Part 1; returns the rows shipped."""
    data = os.path.join(OUT, "million")
    run(bin_, "site", "add", "bench", "--data", data)
    t0 = time.monotonic()
    out = run(bin_, "demo", "bench", "--days", str(DAYS), "--data", data,
              "--quiet")
    m = re.search(r"(\d+) demo events and (\d+) tickets", out)
    events, tickets = int(m.group(1)), int(m.group(2))
    print("bench: ship_demo %d events and %d tickets stored in %.1f s"
          % (events, tickets, time.monotonic() - t0), flush=True)
    t0 = time.monotonic()
    srv = Serve(bin_, data, "--ship", "clickhouse=" + ch.url("bench_ship"),
                "--node", "bench")
    try:
        while True:
            m = metrics(srv.port)
            if m.get("dwell_ship_backlog_events") == 0 and \
                    m.get("dwell_ship_events_total", 0) >= events + tickets:
                break
            if time.monotonic() - t0 > DRAIN_LIMIT:
                sys.exit("bench ship: not drained in %gs: %r"
                         % (DRAIN_LIMIT, m))
            time.sleep(0.1)
        took = time.monotonic() - t0
    finally:
        srv.stop()
    rows = ch.scalar("SELECT count() FROM bench_ship.events")
    print("bench: ship_events_per_s %d (%d rows, %.1f s from the server's "
          "start, first-time logging included)"
          % ((events + tickets) / took, rows, took), flush=True)
    if rows != events:
        print("bench: ship WARNING: %d events rows in ClickHouse, %d stored"
              % (rows, events))
    return rows


def lag(bin_, ch):
    """Part 2."""
    data = os.path.join(OUT, "lag")
    run(bin_, "site", "add", "bench", "--data", data)
    srv = Serve(bin_, data, "--ship", "clickhouse=" + ch.url("bench_lag"),
                "--node", "lag", "--rate-limit", "0")
    try:
        wrk = subprocess.Popen(
            ["wrk", "-t1", "-c%d" % (os.cpu_count() or 2), "-d%ds" % SECS,
             "-s", os.path.join(HERE, "beacon.lua"),
             "http://127.0.0.1:%d/e" % srv.port],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        samples = []
        while wrk.poll() is None:
            samples.append(metrics(srv.port).get("dwell_ship_lag_seconds",
                                                 0.0))
            time.sleep(0.25)
        stored = metrics(srv.port).get("dwell_events_stored_total", 0)
    finally:
        srv.stop()
    if not samples:
        samples = [0.0]
    print("bench: ship_lag_s max %.2f p50 %.2f (at %d events/s stored, "
          "wrk %d s)" % (max(samples), statistics.median(samples),
                         stored / SECS, SECS), flush=True)


def storage(ch, rows):
    """Part 3."""
    ch.query("OPTIMIZE TABLE bench_ship.events FINAL", timeout=600)
    b, r = ch.rows("SELECT sum(bytes_on_disk), sum(rows) FROM system.parts "
                   "WHERE database = 'bench_ship' AND table = 'events' "
                   "AND active")[0]
    b, r = int(b), int(r)
    print("bench: ch_bytes_per_event %.1f (%d bytes for %d rows; ClickHouse "
          "%s, default compression)" % (b / max(r, 1), b, r,
                                        ch.scalar("SELECT version()")),
          flush=True)


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: ship.py BIN")
    why = chserver.unavailable()
    if why:
        print("skip: %s" % why)
        return 0
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    ch = chserver.ClickHouse(os.path.join(OUT, "clickhouse")).start()
    try:
        rows = throughput(os.path.abspath(argv[1]), ch)
        if shutil.which("wrk"):
            lag(os.path.abspath(argv[1]), ch)
        else:
            print("bench: ship_lag_s skipped: no wrk (make deps-bench)")
        storage(ch, rows)
    finally:
        ch.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
