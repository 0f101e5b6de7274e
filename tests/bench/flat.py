#!/usr/bin/env python3
"""flat.py BUILD_DIR [GEO_MMDB] — costs as the data grows (issue 14 item 5).

Ingest: the beacon rate (wrk -t1 -c64, BENCH_SECONDS, tests/bench/beacon.lua,
--durability FLAT_DURABILITY, default none, after a 2 s warm-up; the median
of FLAT_ROUNDS rounds, default 3, that alternate the sizes), the server's
CPU time per request over the same runs, and the
instructions per event under callgrind (tests/bench/profile.py's method:
one connection, --durability fsync, N1 = 200 then N2 = 1,200 beacons, the
difference / 1,000; the whole process and the writer thread) on a data dir
holding 0, 10 M and 50 M events. The filled dirs are made once by
BUILD_DIR/bench/ingest_fill (the store's real write path; 10,000 articles
over 365 days) and kept in tests/out/bench-data/ingest-{10M,50M}; the runs
add their beacons to them (under 1 % of their events).
Reports: the articles list over 365 days (p50/p95 of 40 sequential
requests on one keep-alive connection after 3 warm-up ones) for 1,000,
10,000 and 100,000 articles, filled once by BUILD_DIR/bench/report_fill
into tests/out/bench-data/reports-N (one view and one engage per article
and day: 365 days, except 100,000 articles: FLAT_DAYS_100K days, default
30, since 365 would take about 20 GB and most of an hour to fill).
A size whose data dir is missing is skipped, with the command that fills
it, unless BENCH_FILL=1 (each fill bounded by FLAT_FILL_SECONDS, default
600; an ingest fill that does not finish in time is resumed by the next).
FLAT_PARTS (default "ingest reports") picks the parts.
Prints tables and
    bench: ingest_rps_at_{0,10M,50M} N req/s
    bench: ingest_cpu_per_request_at_{..} N us
    bench: ingest_instr_per_event_at_{..} N instr   (and _writer_at_..)
    bench: ingest_ratio_50M_vs_0 R x
    bench: report_articles_p95_ms_{1k,10k,100k} N ms"""
import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import timed_gets                     # noqa: E402
spec = importlib.util.spec_from_file_location(
    "dwell_profile", os.path.join(HERE, "profile.py"))
prof = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prof)

B = sys.argv[1] if len(sys.argv) > 1 else "build/std"
GEO = sys.argv[2] if len(sys.argv) > 2 else ""
GEO = GEO if os.path.exists(GEO) else ""
BIN = os.path.join(B, "dwell")
DATA = "tests/out/bench-data"
OUT = "tests/out/bench/flat"
SECS = int(os.environ.get("BENCH_SECONDS", "10"))
FILL = os.environ.get("BENCH_FILL") == "1"
FILL_SECS = int(os.environ.get("FLAT_FILL_SECONDS", "600"))
DUR = os.environ.get("FLAT_DURABILITY", "none")
ROUNDS = int(os.environ.get("FLAT_ROUNDS", "3"))


def site_add(data):
    subprocess.run([BIN, "site", "add", "bench", "--data", data], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serve(data, log, extra=(), wrap=()):
    """Starts dwell serve on DATA; returns (process, port)."""
    port = prof.free_port()
    args = list(wrap) + [BIN, "serve", "--listen", "127.0.0.1:%d" % port,
                         "--data", data, "--rate-limit", "0"] + list(extra)
    lf = open(log, "w")
    p = subprocess.Popen(args, stdout=lf, stderr=lf)
    if not prof.wait_log(log, " listening on ", 300):
        p.kill()
        sys.exit("flat.py: the server did not start (see %s)" % log)
    return p, port


def stop(p):
    p.terminate()
    p.wait(timeout=600)


def fill_state(data):
    """(target, stored) from an ingest dir's .fill, or None."""
    try:
        with open(os.path.join(data, ".fill")) as f:
            _, target, stored, _ = (int(x) for x in f.read().split())
        return target, stored
    except (OSError, ValueError):
        return None


def ingest_dir(tag, n):
    """The data dir holding N events (filled now if BENCH_FILL=1), and the
    events it holds; or (None, 0) if it is missing."""
    data = os.path.join(DATA, "ingest-" + tag)
    st = fill_state(data)
    if (st is None or st[1] < st[0]) and FILL:
        os.makedirs(data, exist_ok=True)
        print("filling %s events (10,000 articles, 365 days) into %s, at "
              "most %d s ..." % (tag, data, FILL_SECS), flush=True)
        t = time.time()
        r = subprocess.run([os.path.join(B, "bench", "ingest_fill"), data,
                            "bench", str(n), "365", "10000", str(FILL_SECS)],
                           capture_output=True, text=True)
        print("  " + r.stdout.strip() + " (%.0f s with the settling)"
              % (time.time() - t), flush=True)
        st = fill_state(data)
    if st is None:
        print("ingest at %s: skipped, %s missing; fill it with "
              "BENCH_FILL=1 BENCH_ONLY=flat make bench (about %d s)"
              % (tag, data, n // 80000))
        return None, 0
    if st[1] < st[0]:
        print("ingest at %s: %s holds %d of %d events (the fill stopped at "
              "its time bound; BENCH_FILL=1 resumes it); measured as it is"
              % (tag, data, st[1], st[0]))
    return data, st[1]


def wrk_run(port, secs, out):
    """Requests per second and requests answered of one wrk run."""
    r = subprocess.run(["wrk", "-t1", "-c64", "-d%ds" % secs, "-s",
                        os.path.join(HERE, "beacon.lua"),
                        "http://127.0.0.1:%d/e" % port],
                       capture_output=True, text=True, timeout=secs + 60)
    with open(out, "w") as f:
        f.write(r.stdout + r.stderr)
    rps = done = 0
    for line in r.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            rps = int(float(line.split()[1]))
        elif " requests in " in line:
            done = int(line.split()[0])
    return rps, done


def cpu_seconds(pid):
    """User + system time of process PID so far (every thread)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_rps(tag, data, rnd):
    """Requests per second under wrk on DATA, and the server's CPU time
    per request in microseconds (steadier when the cores are shared)."""
    if data is None:
        data = os.path.join(OUT, "data-0-wrk")
        shutil.rmtree(data, ignore_errors=True)
        site_add(data)
    p, port = serve(data, os.path.join(OUT, "serve-wrk-%s.log" % tag),
                    ["--durability", DUR])
    try:
        wrk_run(port, 2, os.path.join(OUT, "warm-%s.wrk" % tag))
        c0 = cpu_seconds(p.pid)
        rps, done = wrk_run(port, SECS, os.path.join(
            OUT, "beacon-%s-%d.wrk" % (tag, rnd)))
        cpu = (cpu_seconds(p.pid) - c0) * 1e6 / done if done else 0.0
        return rps, cpu
    finally:
        stop(p)


def callgrind_run(tag, data, n):
    """Costs of one callgrind run of the server on DATA (a fresh dir if
    None) taking N beacons on one connection."""
    if data is None:
        data = os.path.join(OUT, "data-0-cg-%d" % n)
        shutil.rmtree(data, ignore_errors=True)
        site_add(data)
    cg = os.path.join(OUT, "callgrind.%s-%d" % (tag, n))
    extra = ["--durability", "fsync", "--threads", "2"]
    if GEO:
        extra += ["--geo", GEO]
    p, port = serve(data, os.path.join(OUT, "serve-cg-%s-%d.log" % (tag, n)),
                    extra, ["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + cg])
    try:
        subprocess.run([sys.executable, os.path.join(HERE, "load.py"),
                        str(port), "beacon", str(n), "1"], check=True,
                       timeout=900)
    finally:
        stop(p)
    return prof.costs(cg)


def measure_instr(tag, data):
    n1, n2 = 200, 1200
    a = callgrind_run(tag, data, n1)
    b = callgrind_run(tag, data, n2)
    w = ("writer", "incl", [r"^writer_main$"])
    per = (b[0] - a[0]) / (n2 - n1)
    wr = (prof.part_cost(w, b[1], b[2]) - prof.part_cost(w, a[1], a[2])) \
        / (n2 - n1)
    return per, wr


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else 0


def ingest():
    os.makedirs(OUT, exist_ok=True)
    sizes = []
    for tag, n in (("0", 0), ("10M", 10000000), ("50M", 50000000)):
        if n:
            data, held = ingest_dir(tag, n)
            if data is None:
                continue
        else:
            data, held = None, 0
        sizes.append((tag, data, held))
    # wrk rounds alternate the sizes, so that the machine's other work
    # weighs on each alike; the median of ROUNDS is kept
    runs = {tag: [] for tag, _, _ in sizes}
    for rnd in range(ROUNDS):
        for tag, data, _ in sizes:
            runs[tag].append(measure_rps(tag, data, rnd))
    rows = []
    for tag, data, held in sizes:
        rps = median([r for r, _ in runs[tag]])
        cpu = median([c for _, c in runs[tag]])
        per, wr = measure_instr(tag, data)
        rows.append((tag, held, rps, cpu, per, wr))
        print("bench: ingest_rps_at_%s %d req/s" % (tag, rps))
        print("bench: ingest_cpu_per_request_at_%s %.2f us" % (tag, cpu))
        print("bench: ingest_instr_per_event_at_%s %.0f instr" % (tag, per))
        print("bench: ingest_instr_per_event_writer_at_%s %.0f instr"
              % (tag, wr), flush=True)
    print("ingest as data grows: beacons, wrk -t1 -c64 %d s --durability %s,"
          " median of %d alternated rounds (req/s, the server's CPU per"
          " request); instructions per beacon under callgrind (fsync, one"
          " connection)" % (SECS, DUR, ROUNDS))
    print("  %-6s %12s %10s %8s %10s %8s %14s %8s %14s %8s" % (
        "stored", "events", "req/s", "x at 0", "cpu us/req", "x at 0",
        "instr/event", "x at 0", "writer instr", "x at 0"))
    base = rows[0] if rows and rows[0][0] == "0" else None
    for tag, held, rps, cpu, per, wr in rows:
        r0 = lambda v, b: "%.3f" % (v / b) if base and b else "-"
        print("  %-6s %12d %10d %8s %10.2f %8s %14.0f %8s %14.0f %8s" % (
            tag, held, rps, r0(rps, base and base[2]), cpu,
            r0(cpu, base and base[3]), per, r0(per, base and base[4]), wr,
            r0(wr, base and base[5])))
    if base:
        for tag, held, rps, cpu, per, wr in rows[1:]:
            print("bench: ingest_ratio_%s_vs_0 %.3f x" % (tag, rps / base[2]))
            print("bench: ingest_cpu_ratio_%s_vs_0 %.3f x"
                  % (tag, cpu / base[3] if base[3] else 0))
            print("bench: ingest_instr_ratio_%s_vs_0 %.3f x"
                  % (tag, per / base[4]))


def report_dir(articles, days):
    data = os.path.join(DATA, "reports-%d" % articles)
    if os.path.exists(os.path.join(data, ".filled")):
        return data
    if not FILL:
        print("reports at %d articles: skipped, %s missing; fill it with "
              "BENCH_FILL=1 BENCH_ONLY=flat make bench" % (articles, data))
        return None
    need = articles * days * 1000          # about 700 B per article-day
    free = shutil.disk_usage(os.path.dirname(data) or ".").free
    if need > free * 0.8:
        print("reports at %d articles x %d days: skipped, needs about %d GB,"
              " %d GB free" % (articles, days, need >> 30, free >> 30))
        return None
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    print("filling %d articles x %d days of rollups into %s, at most %d s ..."
          % (articles, days, data, FILL_SECS), flush=True)
    t = time.time()
    try:
        subprocess.run([os.path.join(B, "bench", "report_fill"), data,
                        "bench", str(articles), str(days)], check=True,
                       stderr=subprocess.DEVNULL, timeout=FILL_SECS)
    except subprocess.TimeoutExpired:
        print("  not filled within %d s; skipped" % FILL_SECS)
        return None
    open(os.path.join(data, ".filled"), "w").close()
    print("  filled in %.0f s" % (time.time() - t), flush=True)
    return data


def articles_p95(port, token, n=40):
    to = datetime.datetime.now(datetime.timezone.utc).date()
    q = "from=%s&to=%s" % (to - datetime.timedelta(days=364), to)
    path = "/api/v1/sites/bench/articles?" + q
    timed_gets(port, path, token, 3)                   # warm-up
    p50, p95, body = timed_gets(port, path, token, n)
    return p50, p95, json.loads(body)["total"]


def reports():
    os.makedirs(OUT, exist_ok=True)
    d100 = int(os.environ.get("FLAT_DAYS_100K", "30"))
    rows = []
    for tag, articles, days, target in (("1k", 1000, 365, None),
                                        ("10k", 10000, 365, 20),
                                        ("100k", 100000, d100, 200)):
        data = report_dir(articles, days)
        if data is None:
            continue
        token = subprocess.run([BIN, "token", "create", "bench",
                                "--read-only", "--name", "flat", "--data",
                                data], capture_output=True, text=True,
                               check=True).stdout.strip()
        p, port = serve(data, os.path.join(OUT, "serve-reports-%s.log" % tag))
        try:
            p50, p95, total = articles_p95(port, token)
        finally:
            stop(p)
        size = os.path.getsize(os.path.join(data, "data.mdb"))
        rows.append((tag, articles, days, total, size, p50, p95, target))
        print("bench: report_articles_p95_ms_%s %.1f ms" % (tag, p95),
              flush=True)
    print("reports as data grows: articles list, 365-day range, 40 requests "
          "on one connection")
    print("  %-6s %9s %6s %9s %10s %9s %9s  %s" % (
        "size", "articles", "days", "total", "data.mdb", "p50 ms", "p95 ms",
        "target p95"))
    for tag, articles, days, total, size, p50, p95, target in rows:
        tgt = "-" if target is None else "<= %d ms: %s" % (
            target, "ok" if p95 <= target else "OVER")
        print("  %-6s %9d %6d %9d %9.1fG %9.1f %9.1f  %s" % (
            tag, articles, days, total, size / 2**30, p50, p95, tgt))


def main():
    parts = os.environ.get("FLAT_PARTS", "ingest reports").split()
    if "ingest" in parts:
        if shutil.which("valgrind") is None or shutil.which("wrk") is None:
            print("flat.py: wrk or valgrind missing; ingest part skipped")
        else:
            ingest()
    if "reports" in parts:
        reports()


if __name__ == "__main__":
    main()
