"""report_ch.py BIN DATA SITE TOKEN ARTICLES DAYS — the articles report from
ClickHouse next to the one from the local rollups, for the data report_fill
wrote into DATA (ARTICLES x DAYS: one view and one wire-1 engage per
article and day). The same events are generated inside ClickHouse (INSERT
... SELECT FROM numbers(): the rows the shipper would send for them, the
engaged time capped at 30 s as the collector stored it), then one `dwell
serve --data DATA` and one `dwell serve --reports clickhouse=URL` answer
/articles over the last DAYS days; prints p50/p95 of each and whether the
two documents are equal:

    bench: report_articles_lmdb_ms p50 P p95 P
    bench: report_articles_ch_ms p50 P p95 P (ClickHouse 18.16, N rows)
    bench: report_articles_ch_equal yes|no

Skips (exit 0, "skip: ...") where ClickHouse cannot be had."""

import datetime
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import chserver                                     # noqa: E402

from benchlib import free_port, timed_gets

DB = "bench_reports"
RUNS = int(os.environ.get("BENCH_CH_RUNS", "10"))


def fnv1a(path):
    """event_article_id: FNV-1a 64 of the path, never 0."""
    h = 0xcbf29ce484222325
    for b in path.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h or 1


def fill_day():
    """The UTC day (days since 1970) report_fill filled DATA on, its last
    day of events: DATA/.filled's time (run.sh touches it after the fill);
    today when there is none. The kept dir outlives the day it was filled
    on, and ClickHouse must hold the same days."""
    try:
        return int(os.stat(os.path.join(DATA, ".filled")).st_mtime) // 86400
    except OSError:
        return int(time.time()) // 86400


def fill(ch, site, articles, days):
    """report_fill's events as the shipper would store them."""
    schema = subprocess.run([BIN, "clickhouse", "schema", "--db", DB],
                            capture_output=True, text=True, check=True).stdout
    for stmt in schema.split(";"):
        body = "\n".join(l for l in stmt.splitlines()
                         if not l.startswith("--")).strip()
        if body:
            ch.query(body)
    ids = ",".join(str(fnv1a("/kb/article-%05d" % a)) for a in range(articles))
    first = fill_day() - days + 1
    n = articles * days
    # row r: article a = r % articles, day d = r / articles; two events each
    ch.query(f"""
INSERT INTO {DB}.events
SELECT '{site}' AS site, toDate('1970-01-01') + ({first} + d) AS day, 'bench' AS node,
  r * 2 + e AS seq, toUInt64(({first} + d) * 86400 + 3600) * 1000000 AS time_us,
  e = 0 ? 'view' : 'engage' AS type, 1 AS counted, 0 AS bot, 1 AS wire,
  concat('v', toString(r)) AS view_id, ids[a + 1] AS article,
  concat('/kb/article-', leftPad5(a)) AS path,
  e = 0 ? path : '' AS title, '' AS category, '' AS lang,
  e = 0 ? 'article' : '' AS page_kind, e = 0 ? 300 + a % 1500 : 0 AS words,
  e = 0 ? 0 : least(20000 + (a * 7919 + d * 104729) % 180000, 30000)
    AS engaged_ms,
  e = 0 ? 20 : 40 + (a + d) % 61 AS scroll, 0 AS vote, '' AS query,
  -1 AS results, 0 AS ev_seq, '' AS name,
  toFixedString(a % 3 ? 'US' : 'DE', 2) AS country, '' AS referrer,
  r + 1 AS visitor, 0 AS visitor_prev, 0 AS screen_w
FROM (SELECT number AS r, intDiv(number, {articles}) AS d,
             number % {articles} AS a, [{ids}] AS ids
      FROM numbers({n})) ARRAY JOIN [0, 1] AS e
""".replace("leftPad5(a)", "substring(toString(100000 + a), 2)"))
    return ch.scalar(f"SELECT count() FROM {DB}.events")



def serve(*args):
    port = free_port()
    log = open(os.path.join(OUT, "report-ch-%d.log" % port), "w")
    p = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:%d" % port,
                          "--data", DATA] + list(args), stdout=log,
                         stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return p, port
        except OSError:
            time.sleep(0.1)
    p.kill()
    sys.exit("dwell serve did not start")


def measure(port, target, n):
    return timed_gets(port, target, TOKEN, n, timeout=300)


def main():
    why = chserver.unavailable()
    if why:
        print("skip: report_articles_ch_ms: %s" % why)
        return 0
    ch = chserver.ClickHouse(os.path.join(OUT, "clickhouse")).start()
    try:
        t = time.monotonic()
        rows = fill(ch, SITE, ARTICLES, DAYS)
        print("  ClickHouse: %d rows generated in %.0f s" %
              (rows, time.monotonic() - t))
        to = datetime.date(1970, 1, 1) + datetime.timedelta(days=fill_day())
        frm = to - datetime.timedelta(days=DAYS - 1)
        target = "/api/v1/sites/%s/articles?from=%s&to=%s" % (SITE, frm, to)
        out = {}
        for name, args in (("lmdb", ()),
                           ("ch", ("--reports", "clickhouse=" + ch.url(DB)))):
            p, port = serve(*args)
            try:
                measure(port, target, 1)              # warm caches
                out[name] = measure(port, target, RUNS)
            finally:
                p.terminate()
                p.wait()
        for name in ("lmdb", "ch"):
            p50, p95, _ = out[name]
            print("bench: report_articles_%s_ms p50 %.1f p95 %.1f%s"
                  % (name, p50, p95, " (ClickHouse %s, %d rows, %d runs)"
                     % (ch.scalar("SELECT version()"), rows, RUNS)
                     if name == "ch" else " (%d runs)" % RUNS))
        same = out["lmdb"][2] == out["ch"][2]
        print("bench: report_articles_ch_equal %s" % ("yes" if same else "no"))
    finally:
        ch.stop()
    return 0


if __name__ == "__main__":
    BIN, DATA, SITE, TOKEN = sys.argv[1:5]
    ARTICLES, DAYS = int(sys.argv[5]), int(sys.argv[6])
    OUT = os.path.join("tests", "out", "bench")
    os.makedirs(OUT, exist_ok=True)
    sys.exit(main())
