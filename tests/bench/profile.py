#!/usr/bin/env python3
"""profile.py BIN [GEO_MMDB] — instructions per event on the ingest path,
counted by valgrind's callgrind (instruction counts do not depend on the
machine's load, so a change's effect is visible run to run).

For each kind (pixel, beacon) the server runs twice under callgrind, on a
fresh data dir with --durability fsync, and load.py sends N1 then N2
requests over CONNS connections; the difference of the two runs divided by
N2 - N1 is the cost of one event, with start-up and shutdown cancelled
out. The same difference is taken for the inclusive cost of groups of
functions (the breakdown). One connection by default: each request waits
for its commit, so every batch holds one event and the counts repeat run
to run (with more connections the batch sizes, and so the writer's share,
follow the scheduling). Then the writer's cost per event in large batches:
`dwell demo --days 30` (26,957 events, seeded) under callgrind, the
inclusive cost of store_apply_batch per event stored. Prints
machine-readable lines:
    bench: instr_per_event_KIND N instr
    bench: instr_per_event_KIND_PART N instr
    bench: instr_per_event_writer_batched N instr
Environment: PROFILE_N1 (default 200), PROFILE_N2 (default 1200),
PROFILE_CONNS (default 1), PROFILE_KINDS (default "pixel beacon"),
PROFILE_DURABILITY (default fsync), PROFILE_OUT (default tests/out/profile;
the callgrind files are kept there for callgrind_annotate)."""
import os
import re
import shutil
import subprocess
import sys
import time

from benchlib import free_port

HERE = os.path.dirname(os.path.abspath(__file__))

# Groups of the breakdown: NAME -> (thread or kind, function-name patterns).
# "incl": the inclusive cost of the first matching functions (outermost
# wins; nested matches are not counted twice). "self": the sum of the
# self cost of every function whose name or object matches.
PARTS = [
    ("threads", "incl", [r"^start_thread$"]),
    ("writer", "incl", [r"^writer_main$"]),
    ("mhd", "self", [r"libmicrohttpd"]),
    ("libc", "self", [r"libc\.so"]),
    ("parse", "incl", [r"^event_parse_json$", r"^event_parse_pixel$"]),
    ("geo", "incl", [r"^geo_country_of$"]),
    ("bot", "incl", [r"^bot_user_agent$"]),
    ("site_lookup", "incl", [r"^store_site_get(_memo)?$"]),
    ("enqueue", "incl", [r"^store_enqueue_at$"]),
    ("view_id", "incl", [r"^visitor_new_salt$"]),
    ("metrics", "incl", [r"^metrics_accepted$", r"^access_end$"]),
    ("apply", "incl", [r"^store_apply_batch$"]),
    ("hashing", "incl", [r"^visitor_hash", r"^visitor_key", r"^sha256", r"^hmac"]),
    ("rollups", "incl", [r"^rollup[s]?_"]),
    ("lmdb_put", "incl", [r"^mdb_put$", r"^mdb_cursor_put$"]),
    ("lmdb_get", "incl", [r"^mdb_get$", r"^mdb_cursor_get$"]),
    ("lmdb_commit", "incl", [r"^mdb_txn_commit$"]),
    ("memset", "self", [r"memset"]),
    ("malloc", "self", [r"^(malloc|free|calloc|realloc|_int_malloc|_int_free|malloc_consolidate|unlink_chunk.*|cfree)$"]),
]



def wait_log(path, what, secs=120):
    end = time.time() + secs
    while time.time() < end:
        try:
            with open(path) as f:
                if what in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def run_once(binary, geo, kind, n, conns, out):
    """Runs the server under callgrind for N requests of KIND; returns the
    callgrind output file."""
    tag = "%s-%d" % (kind, n)
    data = os.path.join(out, "data-" + tag)
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([binary, "site", "add", "bench", "--data", data],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    port = free_port()
    cg = os.path.join(out, "callgrind.%s" % tag)
    log = os.path.join(out, "serve-%s.log" % tag)
    args = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg,
            binary, "serve", "--listen", "127.0.0.1:%d" % port,
            "--data", data, "--durability",
            os.environ.get("PROFILE_DURABILITY", "fsync"), "--threads", "2",
            "--rate-limit", "0"]
    if geo:
        args += ["--geo", geo]
    with open(log, "w") as lf:
        p = subprocess.Popen(args, stdout=lf, stderr=lf)
    try:
        if not wait_log(log, " listening on "):
            sys.exit("profile.py: the server did not start (see %s)" % log)
        subprocess.run([sys.executable, os.path.join(HERE, "load.py"),
                        str(port), kind, str(n), str(conns)], check=True,
                       timeout=900)
    finally:
        p.terminate()
        p.wait(timeout=300)
    return cg


def costs(cg):
    """Total, and per function: (inclusive, self) costs of the file CG."""
    def annotate(inclusive):
        r = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no",
                            "--inclusive=" + ("yes" if inclusive else "no"),
                            cg], capture_output=True, text=True, check=True)
        return r.stdout
    line_re = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$")
    total = 0
    tables = []
    for inclusive in (True, False):
        t = {}
        for line in annotate(inclusive).splitlines():
            if "PROGRAM TOTALS" in line:
                total = int(line.split()[0].replace(",", ""))
                continue
            m = line_re.match(line)
            if not m:
                continue
            v = int(m.group(1).replace(",", ""))
            name = m.group(2)
            t[name] = t.get(name, 0) + v
        tables.append(t)
    return total, tables[0], tables[1]


def func_of(name):
    """The function name of a callgrind_annotate entry 'file:fn [obj]'."""
    name = re.sub(r"\s+\[[^\]]*\]$", "", name)
    return name.rsplit(":", 1)[-1].strip()


def part_cost(part, incl, selfc):
    _, how, pats = part
    res = [re.compile(p) for p in pats]
    if how == "self":
        return sum(v for k, v in selfc.items()
                   if any(r.search(k) or r.search(func_of(k)) for r in res))
    best = {}       # one entry a function (paths may be spelt two ways)
    for k, v in incl.items():
        f = func_of(k)
        if any(r.search(f) for r in res):
            best[f] = max(best.get(f, 0), v)
    return sum(best.values())


def main():
    binary = sys.argv[1]
    geo = sys.argv[2] if len(sys.argv) > 2 else ""
    if shutil.which("valgrind") is None:
        print("profile.py: valgrind not installed; skipped")
        return
    n1 = int(os.environ.get("PROFILE_N1", "200"))
    n2 = int(os.environ.get("PROFILE_N2", "1200"))
    conns = int(os.environ.get("PROFILE_CONNS", "1"))
    out = os.environ.get("PROFILE_OUT", "tests/out/profile")
    os.makedirs(out, exist_ok=True)
    for kind in os.environ.get("PROFILE_KINDS", "pixel beacon").split():
        a = costs(run_once(binary, geo, kind, n1, conns, out))
        b = costs(run_once(binary, geo, kind, n2, conns, out))
        per = (b[0] - a[0]) / (n2 - n1)
        print("bench: instr_per_event_%s %.0f instr" % (kind, per))
        d = {}
        for part in PARTS:
            d[part[0]] = (part_cost(part, b[1], b[2])
                          - part_cost(part, a[1], a[2])) / (n2 - n1)
        # the HTTP threads: every thread but the writer (the sweeper's and
        # syncer's share is nil with fsync)
        d["http_threads"] = d.pop("threads") - d["writer"]
        for name in ["http_threads"] + [p[0] for p in PARTS[1:]]:
            print("bench: instr_per_event_%s_%s %.0f instr"
                  % (kind, name, d[name]))
        sys.stdout.flush()
    print("bench: instr_per_event_writer_batched %.0f instr"
          % demo_writer(binary, out))


def demo_writer(binary, out):
    """Instructions of store_apply_batch per event of `dwell demo`."""
    data = os.path.join(out, "data-demo")
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([binary, "site", "add", "bench", "--data", data],
                   check=True, capture_output=True)
    cg = os.path.join(out, "callgrind.demo")
    subprocess.run(["valgrind", "--tool=callgrind",
                    "--callgrind-out-file=" + cg, binary, "demo", "bench",
                    "--days", "30", "--data", data, "--quiet"],
                   check=True, capture_output=True, timeout=600)
    r = subprocess.run([binary, "events", "bench", "--data", data,
                        "--since", "all", "--limit", "0"],
                       check=True, capture_output=True, text=True)
    n = len(r.stdout.splitlines())
    _, incl, selfc = costs(cg)
    part = ("apply", "incl", [r"^store_apply_batch$"])
    return part_cost(part, incl, selfc) / max(n, 1)


if __name__ == "__main__":
    main()
