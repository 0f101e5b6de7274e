#!/usr/bin/env python3
"""bytes.py DWELL REPORT_FILL [WORKDIR] — bytes on disk per event and per
article-day (issue 14 item 4), from LMDB's own page counts (mdb_stat -a):

1. the demo mix: `dwell demo` (views, engages every 15 s, votes, searches,
   links; 30 days, backfilled: ordinary inserts, not appends);
2. the bench mix: a live server, 20,000 beacons of one new view each
   (tests/bench/load.py; appended in time order, as live traffic is);
3. rollups: report_fill ARTICLES x 365 days (one view and one engage per
   article-day), rollup databases (daily, recent, cum, heads, daily_dim)
   divided by article-days.

Bytes of a database: (branch + leaf + overflow pages) x page size; data.mdb
used: every database's pages (LMDB's free pages not counted). Transient
databases, emptied by the writer's purges, are reported apart: views (kept
VIEW_KEEP_DAYS = 2 days), seen (per day, purged after the day settles),
searched (an hour), visits and idents (90 days). Tickets are not events:
tickets and ticket_times are left out of the per-event figures.
Prints `bench: NAME VALUE UNIT` lines."""
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from benchlib import free_port

TRANSIENT = {"views", "seen", "searched", "visits", "idents"}
NOT_EVENTS = {"tickets", "ticket_times"}
ROLLUPS = {"daily", "recent", "cum", "heads", "daily_dim"}


def db_stats(data):
    """{db: (entries, bytes)} from mdb_stat -a."""
    out = subprocess.run(["mdb_stat", "-a", data], check=True,
                         capture_output=True, text=True).stdout
    env = subprocess.run(["mdb_stat", "-e", data], check=True,
                         capture_output=True, text=True).stdout
    psize = 4096
    for line in env.splitlines():
        if "Page size" in line:
            psize = int(line.split()[-1])
    dbs, name = {}, None
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("Status of"):
            name = s[len("Status of "):].replace("Main DB", "main")
            dbs[name] = [0, 0]
        elif name and s.startswith("Entries:"):
            dbs[name][0] = int(s.split()[-1])
        elif name and (s.startswith("Branch pages") or
                       s.startswith("Leaf pages") or
                       s.startswith("Overflow pages")):
            dbs[name][1] += int(s.split()[-1]) * psize
    return {k: tuple(v) for k, v in dbs.items()}


def report(mix, data):
    """Prints the per-database lines of DATA; returns bytes per event."""
    dbs = db_stats(data)
    events = dbs.get("events", (0, 0))[0]
    if events == 0:
        sys.exit("bytes.py: no events stored in " + data)
    kept = trans = 0
    for name, (n, b) in sorted(dbs.items()):
        if b == 0 or name in NOT_EVENTS:
            continue
        tag = "transient" if name in TRANSIENT else "kept"
        print("bench: bytes_%s_db_%s %.1f B/event (%d entries, %d B, %s)"
              % (mix, name, b / events, n, b, tag))
        if name in TRANSIENT:
            trans += b
        else:
            kept += b
    print("bench: bytes_%s_events %d events" % (mix, events))
    print("bench: bytes_per_event_datamdb_%s %.1f B" % (mix, kept / events))
    print("bench: bytes_per_event_datamdb_%s_with_transient %.1f B"
          % (mix, (kept + trans) / events))
    return kept / events



def bench_mix(dwell, data):
    subprocess.run([dwell, "site", "add", "bench", "--data", data],
                   check=True, capture_output=True)
    port = free_port()
    srv = subprocess.Popen([dwell, "serve", "--listen", "127.0.0.1:%d" % port,
                            "--data", data, "--durability", "none",
                            "--rate-limit", "0"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port)
                break
            except OSError:
                time.sleep(0.05)
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, os.path.join(here, "load.py"),
                        str(port), "beacon", "20000", "4"], check=True)
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=30)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    dwell, fill = sys.argv[1], sys.argv[2]
    work = sys.argv[3] if len(sys.argv) > 3 else "tests/out/bench-bytes"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    demo = os.path.join(work, "demo")
    subprocess.run([dwell, "site", "add", "demo", "--data", demo],
                   check=True, capture_output=True)
    subprocess.run([dwell, "demo", "demo", "--days", "30", "--data", demo,
                    "--quiet"], check=True)
    per = report("demo", demo)
    print("bench: bytes_per_event_datamdb %.0f B" % per)

    live = os.path.join(work, "bench")
    bench_mix(dwell, live)
    report("bench", live)

    arts = int(os.environ.get("BYTES_ARTICLES", "1000"))
    roll = os.path.join(work, "rollups")
    subprocess.run([fill, roll, "bench", str(arts), "365"], check=True,
                   capture_output=True)
    dbs = db_stats(roll)
    days = arts * 365
    total = 0
    for name in sorted(ROLLUPS):
        b = dbs.get(name, (0, 0))[1]
        total += b
        print("bench: rollup_bytes_db_%s %.1f B/article-day" % (name, b / days))
    print("bench: rollup_bytes_per_article_day %.0f B" % (total / days))
    for mix, data in (("demo", demo), ("bench", live), ("rollups", roll)):
        r = subprocess.run([dwell, "check", "--data", data],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("bytes.py: dwell check failed on %s:\n%s%s"
                     % (mix, r.stdout, r.stderr))


if __name__ == "__main__":
    main()
