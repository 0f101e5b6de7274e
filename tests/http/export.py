"""export.py — `dwell export` against its documented schema (docs/export.md's
field table is parsed here, so doc and output cannot drift), and the
bounded-memory, batched `dwell tickets import` (issue 12 items 8, 9, 10).
Every public function is one test (run by run.py)."""

import csv
import io
import json
import os
import re
import signal
import subprocess
import time

import harness
from harness import expect

DOC = os.path.join(harness.ROOT, "docs", "export.md")
SITE = "demo"


def _schema():
    """{field: (type, applies-to set or None for all)} in table order."""
    fields = {}
    with open(DOC) as f:
        for line in f:
            m = re.match(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|", line)
            if m:
                kinds = m.group(3).strip()
                fields[m.group(1)] = (m.group(2).strip(), None if kinds == "all"
                                      else set(k.strip() for k in
                                               kinds.split(",")))
    expect(len(fields) > 20, "docs/export.md: no field table found")
    return fields


def _applies(spec, typ):
    kinds = spec[1]
    return kinds is None or typ in kinds or \
        ("events" in kinds and typ != "ticket")


def _check(rec, schema, where):
    typ = rec.get("type")
    expect(rec.get("v") == 1, "%s: v = %r" % (where, rec.get("v")))
    for k, val in rec.items():
        expect(k in schema, "%s: field %r is not in docs/export.md" % (where, k))
        spec = schema[k]
        expect(_applies(spec, typ), "%s: %s is not a field of %s" % (where, k, typ))
        t = spec[0]
        ok = (isinstance(val, str) if t.startswith("string") else
              isinstance(val, bool) if t == "boolean" else
              (val is None or (isinstance(val, int) and not isinstance(val, bool)))
              if "null" in t else
              isinstance(val, int) and not isinstance(val, bool))
        expect(ok, "%s: %s = %r is not %s" % (where, k, val, t))
    for k, spec in schema.items():
        if _applies(spec, typ):
            expect(k in rec, "%s: %s record lacks %s" % (where, typ, k))


def _demo(t, days):
    d = t.datadir(sites=((SITE, ("http://demo.test",)),))
    r = t.dwell("demo", SITE, "--days", days, "--data", d, timeout=120)
    expect(r.returncode == 0, "demo: %s" % r.stderr[-300:])
    return d


def _export(t, d, *args):
    r = t.dwell("export", SITE, "--data", d, *args, timeout=120)
    expect(r.returncode == 0, "export %s: exit %d: %s"
           % (" ".join(args), r.returncode, r.stderr[-300:]))
    return r.stdout


def _ndjson(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def _from_csv(text, schema):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    expect(rows[0] == list(schema), "CSV header %r is not the documented "
           "fields %r" % (rows[0], list(schema)))
    out = []
    for row in rows[1:]:
        cells = dict(zip(rows[0], row))
        typ = cells["type"]
        rec = {}
        for k, spec in schema.items():
            if not _applies(spec, typ):
                expect(cells[k] == "", "CSV: %s set on a %s row" % (k, typ))
                continue
            v, ty = cells[k], spec[0]
            if ty.startswith("string"):
                rec[k] = v[1:] if v.startswith("'") else v
            elif ty == "boolean":
                rec[k] = v == "true"
            else:
                rec[k] = None if v == "" else int(v)
        out.append(rec)
    return out


def export_matches_its_documented_schema_and_the_reports(t):
    schema = _schema()
    d = _demo(t, 20)
    recs = _ndjson(_export(t, d))
    for i, rec in enumerate(recs):
        _check(rec, schema, "record %d" % (i + 1))
    count = lambda typ: sum(1 for r in recs if r["type"] == typ and not r.get("bot"))
    expect(count("ticket") > 0 and count("view") > 0, "no views or tickets")
    # the reports' numbers, over every day the demo wrote
    days = sorted({r["time"][:10] for r in recs})
    r = t.dwell("report", SITE, "--summary", "--format", "json", "--from",
                days[0], "--to", days[-1], "--data", d)
    expect(r.returncode == 0, "report: %s" % r.stderr[-300:])
    summ = json.loads(r.stdout)
    t.log(json.dumps(summ)[:2000])
    flat = json.dumps(summ)
    views = summ.get("views", summ.get("totals", {}).get("views"))
    expect(views == count("view"), "report says %r views, the export has %d"
           % (views, count("view")))
    # CSV: the same records
    got = _from_csv(_export(t, d, "--format", "csv"), schema)
    expect(got == recs, "CSV and NDJSON differ: %d vs %d records; first "
           "difference %r" % (len(got), len(recs), next(
               ((a, b) for a, b in zip(got, recs) if a != b), None)))
    # --type and --from/--to
    only = _ndjson(_export(t, d, "--type", "ticket,vote"))
    expect(len(only) == count("ticket") + sum(1 for x in recs if x["type"] == "vote"),
           "--type ticket,vote: %d records" % len(only))
    expect({x["type"] for x in only} == {"ticket", "vote"}, "--type let other types through")
    mid = days[len(days) // 2]
    part = _ndjson(_export(t, d, "--from", mid, "--to", mid))
    want = [x for x in recs if x["time"][:10] == mid]
    expect(part == want, "--from/--to %s: %d records, expected %d"
           % (mid, len(part), len(want)))
    r = t.dwell("export", SITE, "--type", "nonsense", "--data", d)
    expect(r.returncode == 2, "--type nonsense: exit %d" % r.returncode)


def _run_rss(argv, out_path, stdin=subprocess.DEVNULL):
    """Runs ARGV; returns (exit status, peak RSS in KiB). Measured by
    /usr/bin/time (a small parent): a child forked from this (large) Python
    process would count the parent's pages it started with."""
    rss_path = out_path + ".rss"
    with open(out_path, "wb") as out:
        rc = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rss_path] + argv,
                             stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                             cwd=harness.OUT)
    with open(rss_path) as f:
        return rc, int(f.read().split()[-1])


def export_memory_stays_flat_for_ten_times_the_data(t):
    rss = []
    for days in (30, 300):
        d = _demo(t, days)
        rc, kib = _run_rss([t.bin, "export", SITE, "--data", d, "--format", "csv"],
                           os.path.join(harness.OUT, "export-rss.out"))
        expect(rc == 0, "export of %d days: exit %d" % (days, rc))
        rss.append(kib / 1024.0)
    t.log("export peak RSS MiB: %r" % rss)
    expect(rss[1] < 2 * rss[0] + 8, "export peak RSS %.1f MiB for 10x the data "
           "of %.1f MiB" % (rss[1], rss[0]))


def _tickets_csv(path, n, start=0):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ID", "Created_At", "Subject", "Email", "Channel", "Tags"])
        for i in range(start, n):
            w.writerow([str(500000 + i), "2026-03-%02dT10:%02d:00Z" % (1 + i % 28, i % 60),
                        "Cannot log in %d" % i, "user%d@example.com" % (i % 977),
                        "email", "login billing"])


def _ticket_count(t, d):
    return len(_ndjson(_export(t, d, "--type", "ticket")))


def tickets_import_streams_in_batches_and_resumes_after_kill_9(t):
    d = t.datadir(sites=((SITE, ("http://demo.test",)),))
    path = os.path.join(harness.OUT, "export-tickets-50k.csv")
    _tickets_csv(path, 50000)
    # a generic CSV named like the fields needs no --map
    rc, kib = _run_rss([t.bin, "tickets", "import", path, "--site", SITE,
                        "--format", "csv", "--data", d],
                       os.path.join(harness.OUT, "export-import.out"))
    with open(os.path.join(harness.OUT, "export-import.out")) as f:
        said = f.read()
    expect(rc == 0 and "50000 tickets imported" in said, "import: exit %d: %s" % (rc, said[-300:]))
    expect(kib / 1024.0 < 64, "import peak RSS %.1f MiB" % (kib / 1024.0))
    expect(_ticket_count(t, d) == 50000, "tickets stored: %d" % _ticket_count(t, d))
    # interrupted: through a FIFO, 25,000 rows (the importer reads 1 MiB
    # chunks), then kill -9 while it waits for more
    d2 = t.datadir(sites=((SITE, ("http://demo.test",)),))
    fifo = os.path.join(harness.OUT, "export-fifo.csv")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    p = subprocess.Popen([t.bin, "tickets", "import", fifo, "--site", SITE,
                          "--format", "csv", "--data", d2], cwd=harness.OUT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with open(fifo, "w") as w:
            with open(path) as f:
                for i, line in enumerate(f):
                    if i > 25000:
                        break
                    w.write(line)
                w.flush()
                deadline = time.monotonic() + 30
                while _ticket_count(t, d2) < 5000 and time.monotonic() < deadline:
                    time.sleep(0.1)
                p.send_signal(signal.SIGKILL)
                p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
        os.unlink(fifo)
    n = _ticket_count(t, d2)
    expect(0 < n < 25000 and n % 5000 == 0, "after kill -9: %d tickets "
           "stored, expected whole batches of 5000" % n)
    r = t.dwell("tickets", "import", path, "--site", SITE, "--format", "csv",
                "--data", d2, timeout=120)
    expect(r.returncode == 0 and "%d tickets imported (%d already stored"
           % (50000 - n, n) in r.stdout, "re-run: exit %d: %s"
           % (r.returncode, r.stdout + r.stderr))
    # (requester pseudonyms are keyed by each data dir's own secret)
    strip = lambda recs: [dict(r, requester=bool(r["requester"])) for r in recs]
    a = strip(_ndjson(_export(t, d, "--type", "ticket")))
    b = strip(_ndjson(_export(t, d2, "--type", "ticket")))
    expect(a == b, "the resumed import differs from the whole one")


def generic_csv_without_its_columns_names_them_and_the_header(t):
    d = t.datadir(sites=((SITE, ("http://demo.test",)),))
    path = os.path.join(harness.OUT, "export-badheader.csv")
    with open(path, "w") as f:
        f.write("ticket,opened,subject\nA-1,2026-01-02T03:04:05Z,x\n")
    r = t.dwell("tickets", "import", path, "--site", SITE, "--format", "csv", "--data", d)
    expect(r.returncode == 1, "exit %d" % r.returncode)
    for word in ('"id"', '"created_at"', '"ticket"', '"opened"', "--map"):
        expect(word in r.stderr, "stderr %r does not say %s" % (r.stderr, word))
    r = t.dwell("tickets", "import", path, "--site", SITE, "--format", "csv",
                "--map", "ticket=id", "--map", "opened=created_at", "--data", d)
    expect(r.returncode == 0 and "1 tickets imported" in r.stdout, "with --map: %s" % r.stderr)
