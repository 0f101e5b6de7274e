#!/usr/bin/env python3
"""import-rss.py BIN [TICKETS] — peak memory of `dwell tickets import` of a
generated helpdesk CSV of TICKETS rows (default 500,000; realistic columns
and lengths: subject, a description, requester, e-mail, channel, tags, the
dwell link id of one ticket in three), into a fresh data dir. The figure is
the importer's peak resident set (getrusage of that child alone: ru_maxrss).
Prints `bench: import_peak_rss MiB N` and `bench: import_tickets_per_s N`;
exits 1 when the import fails or stores another number of tickets.

The CSV is kept in tests/out/bench-data/ and made again only when missing.
"""
import csv
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "out", "bench-data")
WORDS = ("password reset login account billing invoice refund export api "
         "token webhook sso saml error sync mobile app android ios browser "
         "slow timeout upgrade plan seat admin permission report dashboard "
         "csv import email notification calendar integration zapier").split()
CHANNELS = ("email", "web", "chat", "api", "phone")
BASE = 1767225600          # 2026-01-01T00:00:00Z


def make_csv(path, n, seed=12):
    """Writes N tickets to PATH (as a helpdesk's CSV export would)."""
    rnd = random.Random(seed)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "created_at", "subject", "description", "status",
                    "priority", "requester", "email", "channel", "tags",
                    "assignee", "group", "dwell_link"])
        for i in range(n):
            t = BASE + i * 60 + rnd.randrange(60)
            subj = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 9)))
            desc = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 30)))
            req = rnd.randrange(1, n // 3 + 2)
            tags = " ".join(rnd.sample(WORDS, rnd.randint(0, 4)))
            link = ("L%011d" % rnd.randrange(10 ** 11)) if i % 3 == 0 else ""
            w.writerow([100000 + i,
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)),
                        subj.capitalize(), desc, rnd.choice(("open", "solved",
                        "closed", "pending")), rnd.choice(("low", "normal",
                        "high")), "u%d" % req, "user%d@example.com" % req,
                        rnd.choice(CHANNELS), tags, "agent%d" % rnd.randrange(40),
                        "tier %d" % rnd.randint(1, 3), link])
    os.replace(tmp, path)


def run_rss(argv, out_path):
    """Runs ARGV with stdout and stderr to OUT_PATH; returns (status, peak
    RSS in KiB) of that child alone."""
    with open(out_path, "wb") as out:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_maxrss


def main(argv):
    if len(argv) < 2:
        print("usage: import-rss.py BIN [TICKETS]", file=sys.stderr)
        return 2
    bin_, n = argv[1], int(argv[2]) if len(argv) > 2 else 500000
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, "tickets-%d.csv" % n)
    if not os.path.exists(path):
        make_csv(path, n)
    d = os.path.join(ROOT, "tests", "out", "bench", "import-data")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    subprocess.run([bin_, "site", "add", "bench", "--origin",
                    "https://help.example.com", "--data", d], check=True,
                   capture_output=True)
    log = os.path.join(ROOT, "tests", "out", "bench", "import.log")
    # --map for every field: binaries older than the generic CSV's own
    # column names need it (and it names the same columns)
    argv2 = [bin_, "tickets", "import", path, "--site", "bench", "--format",
             "csv", "--data", d]
    for f in ("id", "created_at", "requester", "email", "channel", "tags"):
        argv2 += ["--map", "%s=%s" % (f, f)]
    start = time.monotonic()
    rc, rss = run_rss(argv2, log)
    secs = time.monotonic() - start
    with open(log) as f:
        said = f.read()
    ok = rc == 0 and ("%d tickets imported" % n) in said
    print("import of %d tickets, %.1f MB CSV: %s" % (
        n, os.path.getsize(path) / 1e6, said.strip().splitlines()[-1]
        if said.strip() else "(nothing printed)"))
    print("bench: import_peak_rss MiB %.1f" % (rss / 1024.0))
    print("bench: import_tickets_per_s %d" % (n / secs if secs > 0 else 0))
    shutil.rmtree(d, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
