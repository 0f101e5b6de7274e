"""chreports.py — reports answered from ClickHouse (issue 13 item 4): a
collector ships a known dataset (reports.py's readers, votes, searches,
bots, wire-2 engagement, plus tickets.py's linked tickets) to a real
clickhouse-server (chserver.py); then `dwell serve --reports
clickhouse=URL` and `dwell report|correlate --source clickhouse=URL` must
give the very documents the collector's own rollups give: summary,
articles, every article's detail, searches, contact-after-read, topics,
gaps and one ticket's reads — also after every batch was inserted twice.
With ClickHouse down the API answers 503 with a JSON reason and the CLI
exits 1 with it; never a partial report. Every public function is one test
(run by run.py); one ClickHouse serves the module. Prints "skip: REASON"
and passes only where ClickHouse cannot be had."""

import json
import os
import time
import urllib.parse

import chserver
import harness
import reports
import tickets
from harness import SITE, API, expect

DB = "dwell_reports"
_ch = None


def _clickhouse(t):
    """The module's ClickHouse (started once), or None after printing why
    there can be none."""
    global _ch
    why = chserver.unavailable()
    if why:
        print("skip: %s" % why)
        return None
    if _ch is None:
        _ch = chserver.ClickHouse(os.path.join(harness.OUT,
                                               "chreports-clickhouse"))
    if not _ch.alive():
        _ch.start()
    return _ch


def _range():
    """Yesterday to tomorrow: the dataset is today's, tickets a little
    later."""
    return tickets._around_now()


def _send(t, srv, tok):
    """The dataset: reports.py's, then 15 readers of whom 4 write a linked
    ticket, one more ticket naming a link no reader sent, 4 unlinked."""
    reports._send_dataset(srv)
    plan = ([("/kb/big", "ChLinkBig%04d" % i if i < 3 else None)
             for i in range(10)] +
            [("/kb/small", "ChLinkSmall001"), ("/kb/small", None)] +
            [("/kb/none", None)] * 3)
    for i, (path, link) in enumerate(plan):
        vid = "chr_view_%04d" % i
        ev = [{"s": SITE, "t": "view", "v": vid, "c": "billing",
               "u": "http://help.test" + path, "ti": path[4:].title()},
              {"s": SITE, "t": "engage", "v": vid, "e": 4000 + 3000 * i,
               "sd": 100 if i % 2 else 20}]
        if link:
            ev.append({"s": SITE, "t": "link", "v": vid, "k": link})
        harness.status(srv.post_events(ev, ua=tickets._reader_ua(i)), 204,
                       "reader %d's view of %s" % (i, path))
    created = tickets._iso(int(time.time()) + 120)
    links = [l for _, l in plan if l] + ["ChNoReaderSent1"]
    for i, link in enumerate(links + [None] * 4):
        body = {"id": "CHR-%d" % i, "created_at": created, "tags": ["billing"],
                "channel": "web" if link else "email"}
        if link:
            body["dwell_link"] = link
        r = tickets._hook(srv, body, tok)
        harness.status(r, 200, "ticket CHR-%d" % i)
    return 1 + len(links) + 3


def _shipped(t, ch, data, ntickets, db=DB):
    """Waits until ClickHouse holds every stored event and ticket of the
    site (the shipper runs on its own); fails after 60 s."""
    want = len(t.events(data))
    site = "'%s'" % SITE
    deadline = time.monotonic() + 60
    got = (None, None)
    while time.monotonic() < deadline:
        try:
            got = (ch.scalar("SELECT count() FROM %s.events FINAL WHERE "
                             "site = %s" % (db, site)),
                   ch.scalar("SELECT count() FROM %s.tickets FINAL WHERE "
                             "site = %s" % (db, site)))
        except chserver.ClickHouseError:
            got = (None, None)
        if got == (want, ntickets):
            return
        time.sleep(0.3)
    expect(False, "ClickHouse holds %r events and tickets after 60 s, the "
           "collector stored (%d, %d)" % (got, want, ntickets))


def _targets(t, data):
    """The API targets compared: every report kind over the range."""
    q = "?" + _range()
    out = [API + SITE + "/summary" + q, API + SITE + "/articles" + q,
           API + SITE + "/articles" + q + "&kind=all&sort=engaged_p90",
           API + SITE + "/articles" + q + "&include_bots=1&sort=reads",
           API + SITE + "/searches" + q,
           API + SITE + "/contact-after-read" + q,
           API + SITE + "/topics" + q, API + SITE + "/gaps" + q,
           API + SITE + "/tickets/CHR-0/reads" + q,
           API + SITE + "/articles.csv" + q]
    for path in (reports.ALPHA, reports.BETA, reports.GAMMA, "/kb/big"):
        out.append(API + SITE + "/articles/" + reports._id(path) + q)
        out.append(API + SITE + "/articles/" + reports._id(path) + q +
                   "&include_bots=1")
    return out


def _answers(srv, tok, targets):
    """The answer to each target: (status, body)."""
    got = {}
    for target in targets:
        r = harness.get(srv, target, tok)
        got[target] = (r.status, r.body)
    return got


def _differences(local, remote):
    """The targets whose answers differ, each with a short diff."""
    bad = []
    for target, (st, body) in local.items():
        st2, body2 = remote[target]
        if (st, body) == (st2, body2):
            continue
        try:
            a, b = json.loads(body), json.loads(body2)
            diff = _json_diff(a, b, "")[:3]
        except ValueError:
            diff = [body[:120], body2[:120]]
        bad.append("%s: local %d, ClickHouse %d: %s"
                   % (target.split("?")[0], st, st2, diff))
    return bad


def _json_diff(a, b, at):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _json_diff(a.get(k), b.get(k), at + "." + k)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += _json_diff(x, y, "%s[%d]" % (at, i))
        return out
    return [] if a == b else ["%s: %.120r != %.120r" % (at, a, b)]


def _cli(t, data, ch, *args):
    """`dwell ARGS --data DATA --source clickhouse=URL` and the same without
    --source: (local, ClickHouse) CompletedProcesses."""
    base = list(args) + ["--data", data]
    return (t.dwell(*base),
            t.dwell(*(base + ["--source", "clickhouse=" + ch.url(DB)])))


def reports_from_clickhouse_equal_the_collectors_reports(t):
    """The API from ClickHouse (serve --reports) answers every report kind
    byte for byte as the collector's rollups do, JSON and CSV, bots in and
    out; so does the CLI (--source); inserting every row a second time (a
    resent batch) changes no answer."""
    ch = _clickhouse(t)
    if ch is None:
        return
    ch.query("DROP DATABASE IF EXISTS %s" % DB)
    data = t.datadir()
    with t.server("--geo", t.geo("maxmind"), "--trust-proxy", "127.0.0.1/32",
                  "--engage-allowance", "86400", "--ship",
                  "clickhouse=" + ch.url(DB), "--node", "c3a",
                  data=data) as srv:
        tok = harness.token(t, data)
        ntickets = _send(t, srv, tok)
        _shipped(t, ch, data, ntickets)
        targets = _targets(t, data)
        local = _answers(srv, tok, targets)
    expect(all(st == 200 for st, _ in local.values()),
           "precondition: the collector answers every target: %r"
           % {k: v[0] for k, v in local.items() if v[0] != 200})
    views = json.loads(local[targets[1]][1])["articles"]
    expect(len(views) >= 5 and sum(a["views"] for a in views) >= 20,
           "precondition: the dataset's articles are listed: %r"
           % [(a["path"], a["views"]) for a in views])
    for resent in (False, True):
        if resent:
            ch.query("INSERT INTO %s.events SELECT * FROM %s.events"
                     % (DB, DB))
            ch.query("INSERT INTO %s.tickets SELECT * FROM %s.tickets"
                     % (DB, DB))
        with t.server("--reports", "clickhouse=" + ch.url(DB),
                      data=data) as srv:
            remote = _answers(srv, tok, targets)
        bad = _differences(local, remote)
        expect(not bad, "%sthe reports from ClickHouse differ:\n  %s"
               % ("after every row was inserted twice, " if resent else "",
                  "\n  ".join(bad)))
    rng = urllib.parse.parse_qs(_range())
    span = ["--from", rng["from"][0], "--to", rng["to"][0]]
    for args in (["report", SITE, "--format", "json"] + span,
                 ["report", SITE, "--summary"] + span,
                 ["report", SITE, "--article", reports.ALPHA] + span,
                 ["correlate", SITE, "--format", "json"] + span):
        a, b = _cli(t, data, ch, *args)
        expect(a.returncode == 0 and b.returncode == 0 and
               a.stdout == b.stdout and a.stdout.strip(),
               "dwell %s: local exit %d, --source exit %d (%s); outputs "
               "differ: %r vs %r" % (" ".join(args), a.returncode,
                                     b.returncode, b.stderr.strip()[-200:],
                                     a.stdout[:300], b.stdout[:300]))


def reports_from_clickhouse_count_wire1_deltas_and_unnumbered_events_once(t):
    """Old snippets (wire 1) send engaged time as deltas and searches and
    custom events without a per-view number: ClickHouse sums and counts
    them without FINAL, so a second copy of every row (a resent batch)
    must still give the collector's articles, article details and
    searches byte for byte — a plain sum would double the engaged time,
    the reads and the searches."""
    ch = _clickhouse(t)
    if ch is None:
        return
    db = DB + "_wire1"
    ch.query("DROP DATABASE IF EXISTS %s" % db)
    data = t.datadir()
    paths = ("/kb/wire-one", "/kb/wire-two")
    with t.server("--engage-allowance", "86400", "--ship",
                  "clickhouse=" + ch.url(db), "--node", "c4w1",
                  data=data) as srv:
        tok = harness.token(t, data)
        for i in range(8):
            vid = "w1_view_%04d" % i
            path = paths[i % 2]
            ev = [{"s": SITE, "t": "view", "v": vid,
                   "u": "http://help.test" + path, "ti": path[4:]},
                  {"s": SITE, "t": "engage", "v": vid, "e": 3000 + 1000 * i,
                   "sd": 40},
                  {"s": SITE, "t": "engage", "v": vid, "e": 6000,
                   "sd": 100 if i % 3 else 60}]
            if i % 2 == 0:
                ev.append({"s": SITE, "t": "search", "v": vid,
                           "q": "wire one %d" % (i % 4), "n": 2})
            if i % 4 == 1:
                ev.append({"s": SITE, "t": "event", "v": vid,
                           "n": "copied-code"})
            harness.status(srv.post_events(ev, ua=tickets._reader_ua(i)),
                           204, "wire-1 reader %d" % i)
        _shipped(t, ch, data, 0, db)
        q = "?" + _range()
        targets = [API + SITE + "/articles" + q, API + SITE + "/summary" + q,
                   API + SITE + "/searches" + q]
        targets += [API + SITE + "/articles/" + reports._id(p) + q
                    for p in paths]
        local = _answers(srv, tok, targets)
    arts = json.loads(local[targets[0]][1])["articles"]
    expect(sorted(a["path"] for a in arts) == sorted(paths) and
           all(a["views"] == 4 and a["engaged_p50_ms"] > 0 and a["reads"] > 0 for a in arts),
           "precondition: the collector lists the wire-1 articles: %r" % arts)
    rows = ch.scalar("SELECT count() FROM %s.events WHERE wire = 1 AND "
                     "type = 'engage'" % db)
    expect(rows == 16, "precondition: 16 wire-1 engages shipped, %r" % rows)
    ch.query("INSERT INTO %s.events SELECT * FROM %s.events" % (db, db))
    with t.server("--reports", "clickhouse=" + ch.url(db),
                  data=data) as srv:
        remote = _answers(srv, tok, targets)
    bad = _differences(local, remote)
    expect(not bad, "with every wire-1 row stored twice the reports from "
           "ClickHouse differ:\n  %s" % "\n  ".join(bad))


def reports_from_clickhouse_fail_whole_when_it_is_down(t):
    """ClickHouse killed: every report kind answers 503 with a JSON error
    naming ClickHouse (no partial document), the CLI exits 1 with the
    reason on stderr and nothing on stdout; restarted, the same server
    answers 200 again."""
    ch = _clickhouse(t)
    if ch is None:
        return
    ch.query("CREATE DATABASE IF NOT EXISTS %s" % DB)
    data = t.datadir()
    tok = harness.token(t, data)
    with t.server("--reports", "clickhouse=" + ch.url(DB) + "_none",
                  data=data) as srv:
        r = harness.get(srv, API + SITE + "/summary?" + _range(), tok)
        harness.status(r, 503, "summary from a database that does not exist")
        msg = harness.error_message(r, "summary from a missing database")
        expect("ClickHouse" in msg, "503 without ClickHouse's reason: %r"
               % msg)
    port = ch.port
    ch.kill9()
    try:
        url = "clickhouse=http://127.0.0.1:%d/%s" % (port, DB)
        with t.server("--reports", url, data=data) as srv:
            for kind in ("summary", "articles", "articles/" +
                         reports._id(reports.ALPHA), "searches",
                         "contact-after-read", "articles.csv"):
                r = harness.get(srv, API + SITE + "/" + kind + "?" + _range(),
                                tok)
                harness.status(r, 503, kind + " with ClickHouse down")
                msg = harness.error_message(r, kind + " with ClickHouse down")
                expect("ClickHouse" in msg, "%s: 503 says %r" % (kind, msg))
        r = t.dwell("report", SITE, "--summary", "--data", data, "--source",
                    url)
        expect(r.returncode == 1 and not r.stdout and
               "ClickHouse" in r.stderr,
               "dwell report --source with ClickHouse down: exit %d, "
               "stdout %r, stderr %r" % (r.returncode, r.stdout[:200],
                                         r.stderr[-300:]))
    finally:
        ch.start()
    with t.server("--reports", "clickhouse=" + ch.url(DB), data=data) as srv:
        r = harness.get(srv, API + SITE + "/summary?" + _range(), tok)
        harness.status(r, 200, "summary once ClickHouse is back")
