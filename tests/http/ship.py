"""ship.py — shipping to ClickHouse (issue 13 items 2, 3, 5): `dwell serve
--ship clickhouse=URL --node NAME` against a real clickhouse-server
(chserver.py). A known dataset (views, repeated views, wire-1 and wire-2
engages, votes, searches and custom events with their per-view numbers,
links, a replayed batch, bots, an imported ticket CSV) must arrive whole:
ClickHouse's FINAL rows equal what `dwell export` prints, row for row, with
`counted` 0 exactly for the repeats the collector ignored. ClickHouse
killed with SIGKILL while beacons keep coming (every one answered), then
restarted: everything arrives once. The collector killed mid-shipping and
restarted: nothing lost, nothing twice. Two collectors with a cluster
secret: ClickHouse's counts over both equal one node's over the whole
dataset, and (the issue's test) the reports API answered from ClickHouse
over both equals a single node's over everything, with ClickHouse killed
mid-run and a view's follow-ups landing on the other collector. Every public function is one test (run by run.py); one ClickHouse
serves the module, a database per test. Prints "skip: REASON" and passes
only where ClickHouse cannot be had."""

import collections
import datetime
import json
import os
import re
import time

import chserver
import harness
from harness import SITE, expect
from harness import status as _status

_ch = None
SHIP_WAIT = 45.0        # seconds for a backlog to drain


def _clickhouse():
    """The module's ClickHouse (started once, restarted if a test killed
    it), or None after printing why there can be none."""
    global _ch
    why = chserver.unavailable()
    if why:
        print("skip: %s" % why)
        return None
    if _ch is None:
        _ch = chserver.ClickHouse(os.path.join(harness.OUT, "ship-clickhouse"))
    if not _ch.alive():
        _ch.start()
    return _ch


def _ev(t, vid, **kw):
    ev = {"s": SITE, "t": t, "v": vid, "wv": 2}
    ev.update(kw)
    return ev


def _dataset(p):
    """Beacon bodies (lists of events) of views P_a.. P_f: everything the
    wire can say, repeats included."""
    a, b, c, d, e, f = ("%s_view_%s" % (p, x) for x in "abcdef")
    view = harness.view
    replayed = [_ev("engage", a, e=4000, sd=50), _ev("vote", a, x="up")]
    return [
        [view(a, "/kb/reset", words=300, sd=10, wv=2),
         view(b, "/kb/refund", cat="billing", sd=5, wv=2)],
        [view(c, "/kb/reset", wv=2), view(d, "/kb/invoice", wv=2)],
        [view(a, "/kb/reset", words=300, wv=2)],            # repeated view
        replayed, replayed,                                   # a replay
        [_ev("engage", a, e=9000, sd=80)],
        [_ev("engage", a, e=9000, sd=80)],                   # same total
        [_ev("search", b, q="refund policy", n=3, i=1)],
        [_ev("search", b, q="refund policy", n=3, i=1)],     # replayed
        [_ev("search", b, q="no such thing", i=2)],          # no count
        [_ev("event", c, n="copied-code", i=1)],
        [_ev("vote", d, x="down")],
        [{"s": SITE, "t": "link", "v": d, "k": "%s_link_0001" % p}],
        [{"s": SITE, "t": "view", "v": e, "u": "http://help.test/kb/old",
          "ti": "Old"}],                                      # wire 1
        [{"s": SITE, "t": "engage", "v": e, "e": 2500}],
        [{"s": SITE, "t": "engage", "v": e, "e": 2500}],      # wire-1 delta
        [view(f, "/kb/reset", bot=True, wv=2)],
        [_ev("engage", f, e=1000)],
        [_ev("engage", "%s_view_none" % p, e=1000)],          # orphan
    ]


def _post_all(srv, bodies, what):
    for i, body in enumerate(bodies):
        _status(srv.post_events(body), 204, "%s: batch %d" % (what, i))


def _metrics(srv):
    """The dwell_ship_* samples of /metrics as a dict."""
    r = srv.request("GET", "/metrics")
    _status(r, 200, "GET /metrics")
    out = {}
    for line in r.body.decode().splitlines():
        m = re.match(r'^(dwell_ship_[a-z_]+(?:\{[^}]*\})?) (\S+)$', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def _drained(srv, what, timeout=SHIP_WAIT):
    """Waits until the collector's backlog is empty; returns its metrics."""
    deadline = time.monotonic() + timeout
    m = {}
    while time.monotonic() < deadline:
        m = _metrics(srv)
        if m.get("dwell_ship_backlog_events") == 0 and \
                m.get('dwell_ship_batches_total{result="ok"}', 0) > 0:
            return m
        time.sleep(0.2)
    raise harness.TestFailure("%s: the backlog did not drain in %gs: %r"
                              % (what, timeout, m))


def _exported(t, data):
    """`dwell export` of help.test: (events as (type, view, time_us),
    tickets as ids)."""
    r = t.dwell("export", SITE, "--data", data)
    expect(r.returncode == 0, "dwell export: exit %d: %s"
           % (r.returncode, r.stderr[-300:]))
    evs, tks = [], []
    for line in r.stdout.splitlines():
        d = json.loads(line)
        if d["type"] == "ticket":
            tks.append(d["ticket"])
            continue
        ts = datetime.datetime.strptime(d["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        ts = ts.replace(tzinfo=datetime.timezone.utc)
        us = int(ts.timestamp()) * 1000000 + ts.microsecond
        evs.append((d["type"], d.get("view", ""), us))
    return evs, tks


def _shipped(ch, db, site=SITE):
    """ClickHouse's FINAL events of SITE as (type, view_id, time_us)."""
    rows = ch.rows("SELECT type, view_id, time_us FROM %s.events FINAL "
                   "WHERE site = '%s'" % (db, site))
    return [(r[0], r[1], int(r[2])) for r in rows]


def _same(local, remote, what):
    a, b = collections.Counter(local), collections.Counter(remote)
    expect(a == b, "%s: %d rows in the store, %d in ClickHouse; only in the "
           "store: %r; only in ClickHouse: %r"
           % (what, len(local), len(remote), list((a - b).items())[:5],
              list((b - a).items())[:5]))


def _once(ch, db):
    """Fails when a (node, seq) is in FINAL twice or a seq is missing."""
    n, uniq = ch.rows("SELECT count(), uniqExact(node, seq) FROM %s.events "
                      "FINAL" % db)[0]
    expect(n == uniq, "%s: %s rows but %s distinct (node, seq)" % (db, n,
                                                                  uniq))


def _ship_args(ch, db, node):
    return ("--ship", "clickhouse=" + ch.url(db), "--node", node)


def _import_tickets(t, data):
    r = t.dwell("tickets", "import",
                os.path.join(harness.ROOT, "tests", "unit", "data",
                             "helpdesk", "generic.csv"),
                "--site", SITE, "--format", "csv", "--map", "Ticket=id",
                "--map", "Opened=created_at", "--map", "Link=link",
                "--map", "Customer=email", "--map", "Labels=tags",
                "--data", data)
    expect(r.returncode in (0, 3), "tickets import: exit %d: %s"
           % (r.returncode, r.stderr[-300:]))


def shipped_rows_equal_the_stored_ones(t):
    ch = _clickhouse()
    if ch is None:
        return
    db = "ship_known"
    data = t.datadir()
    with t.server(*_ship_args(ch, db, "n1"), "--engage-allowance", "86400",
                  data=data) as srv:
        _post_all(srv, _dataset("k"), "dataset")
        _import_tickets(t, data)
        _drained(srv, "after the dataset")
        evs, tks = _exported(t, data)
        _same(evs, _shipped(ch, db), "events")
        _once(ch, db)
        shipped_tk = [r[0] for r in ch.rows(
            "SELECT ticket_id FROM %s.tickets FINAL" % db)]
        _same(tks, shipped_tk, "tickets")
        expect(len(tks) >= 3, "only %d tickets imported" % len(tks))
        # counted: 0 exactly for what the collector ignored
        rows = ch.rows("SELECT view_id, type, counted FROM %s.events FINAL "
                       "WHERE counted = 0 ORDER BY time_us" % db)
        got = sorted((r[0][2:], r[1]) for r in rows)
        # (a replayed engage or vote is counted: it changes nothing by
        # itself, its total or its value being the same)
        want = [("view_a", "view"), ("view_b", "search")]
        expect(got == want, "uncounted rows %r, expected %r" % (got, want))
        one = ch.rows("SELECT type, wire, engaged_ms, results, ev_seq, name, "
                      "query, vote, bot, page_kind FROM %s.events FINAL "
                      "WHERE type IN ('search', 'link', 'vote') OR "
                      "(type = 'engage' AND wire = 1) OR bot = 1 "
                      "ORDER BY time_us" % db)
        want = [["vote", "2", "0", "0", "0", "", "", "1", "0", ""],
                ["vote", "2", "0", "0", "0", "", "", "1", "0", ""],
                ["search", "2", "0", "3", "1", "", "refund policy", "0", "0",
                 ""],
                ["search", "2", "0", "3", "1", "", "refund policy", "0", "0",
                 ""],
                ["search", "2", "0", "-1", "2", "", "no such thing", "0",
                 "0", ""],
                ["vote", "2", "0", "0", "0", "", "", "-1", "0", ""],
                ["link", "1", "0", "0", "0", "k_link_0001", "", "0", "0", ""],
                ["engage", "1", "2500", "0", "0", "", "", "0", "0", ""],
                ["engage", "1", "2500", "0", "0", "", "", "0", "0", ""],
                ["view", "2", "0", "0", "0", "", "", "0", "1", "article"]]
        expect(one == want, "rows as shipped:\n%r\nexpected:\n%r"
               % (one, want))
        m = _metrics(srv)
        expect(m["dwell_ship_events_total"] >= len(evs) + len(tks) and
               m["dwell_ship_lag_seconds"] == 0 and
               m["dwell_ship_last_success_timestamp_seconds"] > 0,
               "metrics after draining: %r" % m)
        # a ticket imported again with other content replaces its row
        _import_tickets(t, data)
        n = ch.scalar("SELECT count() FROM %s.tickets FINAL" % db)
        expect(n == len(tks), "tickets after a re-import: %d, expected %d"
               % (n, len(tks)))
    # the shipping log and its meta records are part of a sound store
    r = t.dwell("check", "--data", data)
    expect(r.returncode == 0, "dwell check after shipping: exit %d: %s"
           % (r.returncode, (r.stdout + r.stderr)[-400:]))


def events_stored_in_the_past_ship_too(t):
    """dwell demo, beside the server, stores days of past events (keys
    before the newest): the log ships them all the same."""
    ch = _clickhouse()
    if ch is None:
        return
    db = "ship_past"
    data = t.datadir(((SITE, (harness.ORIGIN,)), ("past.test", ())))
    with t.server(*_ship_args(ch, db, "n1"), data=data) as srv:
        _post_all(srv, [[harness.view("past_view_0001")]], "a view now")
        _drained(srv, "before the demo")
        r = t.dwell("demo", "past.test", "--days", "5", "--data", data)
        expect(r.returncode == 0, "dwell demo: %s" % r.stderr[-300:])
        _post_all(srv, [[harness.view("past_view_0002")]], "a view after")
        _drained(srv, "after the demo")
        for site in (SITE, "past.test"):
            r = t.dwell("export", site, "--data", data)
            evs = []
            for line in r.stdout.splitlines():
                d = json.loads(line)
                if d["type"] != "ticket":
                    evs.append(d["type"])
            expect(len(evs) > (100 if site == "past.test" else 1),
                   "%s: only %d events stored" % (site, len(evs)))
            got = [row[0] for row in _shipped(ch, db, site)]
            _same(evs, got, site)
        _once(ch, db)


def clickhouse_killed_mid_run_loses_and_doubles_nothing(t):
    ch = _clickhouse()
    if ch is None:
        return
    db = "ship_kill"
    data = t.datadir()
    with t.server(*_ship_args(ch, db, "n1"), data=data) as srv:
        view = harness.view
        for i in range(20):
            _post_all(srv, [[view("kill_%04d" % i, "/kb/%d" % (i % 3))]],
                      "before")
        _drained(srv, "before the kill")
        ch.kill9()
        for i in range(20, 120):
            _post_all(srv, [[view("kill_%04d" % i, "/kb/%d" % (i % 3)),
                             _ev("engage", "kill_%04d" % i, e=1000 + i)]],
                      "while ClickHouse is down")
        time.sleep(1.5)
        m = _metrics(srv)
        expect(m["dwell_ship_backlog_events"] >= 200 and
               m["dwell_ship_lag_seconds"] > 0.5 and
               m['dwell_ship_batches_total{result="error"}'] > 0,
               "metrics while ClickHouse is down: %r" % m)
        ch.start()
        for i in range(120, 140):
            _post_all(srv, [[view("kill_%04d" % i, "/kb/1")]], "after")
        _drained(srv, "after the restart")
        evs, _ = _exported(t, data)
        expect(len(evs) == 20 + 200 + 20, "%d events stored" % len(evs))
        _same(evs, _shipped(ch, db), "events")
        _once(ch, db)


def a_collector_killed_mid_shipping_ships_everything_once(t):
    ch = _clickhouse()
    if ch is None:
        return
    db = "ship_restart"
    data = t.datadir()
    r = t.dwell("demo", SITE, "--days", "60", "--data", data, timeout=120)
    expect(r.returncode == 0, "dwell demo: %s" % r.stderr[-300:])
    evs, tks = _exported(t, data)
    expect(len(evs) > 25000, "the demo made only %d events" % len(evs))
    args = _ship_args(ch, db, "n1")
    srv = harness.Server(t.bin, data, args, t.log_path)
    t.servers.append(srv)
    srv.start()
    deadline = time.monotonic() + SHIP_WAIT
    while _metrics(srv).get("dwell_ship_events_total", 0) == 0:
        expect(time.monotonic() < deadline, "nothing shipped in %gs"
               % SHIP_WAIT)
        time.sleep(0.05)
    srv.kill9()                     # mid-shipping: batches still waiting
    part = ch.scalar("SELECT count() FROM %s.events" % db)
    expect(0 < part < len(evs), "%d of %d events shipped before the kill"
           % (part, len(evs)))
    with t.server(*args, data=data) as srv:
        _post_all(srv, [[harness.view("after_restart_01")]], "after")
        _drained(srv, "after the restart")
    evs, tks = _exported(t, data)
    _same(evs, _shipped(ch, db), "events")
    _once(ch, db)
    n = ch.scalar("SELECT count() FROM %s.tickets FINAL" % db)
    expect(n == len(tks), "%d tickets shipped of %d" % (n, len(tks)))


def two_collectors_ship_what_one_node_counts(t):
    """C3's reports compare whole documents (chreports.py); here: the
    counts by type and the distinct readers over two collectors with one
    cluster secret equal one node's over the whole dataset."""
    ch = _clickhouse()
    if ch is None:
        return
    db = "ship_two"
    secret = os.path.join(harness.OUT, "ship-cluster.secret")
    with open(secret, "w") as f:
        f.write("5e" * 32 + "\n")
    os.chmod(secret, 0o600)
    bodies = _dataset("two")
    uas = [harness.CHROME_UA, harness.CHROME_UA.replace("124", "125")]
    da, db_, dsingle = t.datadir(), t.datadir(), t.datadir()
    common = ("--cluster-secret", secret, "--engage-allowance", "86400")
    with t.server(*(_ship_args(ch, db, "a") + common), data=da) as sa, \
            t.server(*(_ship_args(ch, db, "b") + common), data=db_) as sb, \
            t.server(*common, data=dsingle) as one:
        for i, body in enumerate(bodies):
            for ua in uas:          # the same readers on both collectors
                _status((sa if i % 2 else sb).post_events(body, ua=ua), 204,
                        "split batch %d" % i)
                _status(one.post_events(body, ua=ua), 204, "batch %d" % i)
        _drained(sa, "collector a")
        _drained(sb, "collector b")
    evs, _ = _exported(t, dsingle)
    want = collections.Counter(e[0] for e in evs)
    got = {r[0]: int(r[1]) for r in ch.rows(
        "SELECT type, count() FROM %s.events FINAL GROUP BY type" % db)}
    expect(dict(want) == got, "by type: one node %r, ClickHouse %r"
           % (dict(want), got))
    readers = ch.scalar("SELECT uniqExact(visitor) FROM %s.events FINAL "
                        "WHERE type = 'view'" % db)
    expect(readers == 2, "%d distinct readers over both collectors, "
           "expected the 2 user agents" % readers)
    _once(ch, db)


def shipping_is_refused_with_a_reason(t):
    r = t.dwell("serve", "--data", t.datadir(), "--listen", "127.0.0.1:0",
                "--ship", "postgres=http://127.0.0.1:1/x")
    expect(r.returncode != 0 and "clickhouse=" in r.stderr,
           "--ship postgres=: exit %d: %s" % (r.returncode, r.stderr[-300:]))
    r = t.dwell("serve", "--data", t.datadir(), "--listen", "127.0.0.1:0",
                "--ship", "clickhouse=http://127.0.0.1:1/x", "--node", "a b")
    expect(r.returncode != 0 and "--node" in r.stderr,
           "--node 'a b': exit %d: %s" % (r.returncode, r.stderr[-300:]))
    r = t.dwell("clickhouse", "schema", "--db", "mine")
    expect(r.returncode == 0 and "CREATE TABLE IF NOT EXISTS mine.events"
           in r.stdout and "version 1" in r.stdout,
           "clickhouse schema: exit %d: %s" % (r.returncode, r.stdout[:300]))
    ch = _clickhouse()
    if ch is None:
        return
    # the printed DDL runs as it is, twice, and records version 1 once
    for _ in range(2):
        for stmt in r.stdout.split(";\n"):
            stmt = "\n".join(x for x in stmt.splitlines()
                             if not x.startswith("--")).strip()
            if stmt:
                ch.query(stmt)
    expect(ch.rows("SELECT version FROM mine.dwell_schema") == [["1"]],
           "dwell_schema: %r" % ch.rows("SELECT version FROM mine.dwell_schema"))
    # a database of another schema version: shipping waits, and says why
    ch.query("CREATE DATABASE IF NOT EXISTS ship_v9")
    ch.query("CREATE TABLE IF NOT EXISTS ship_v9.dwell_schema (version "
             "UInt32) ENGINE = TinyLog")
    ch.query("INSERT INTO ship_v9.dwell_schema VALUES (9)")
    with t.server(*_ship_args(ch, "ship_v9", "n1")) as srv:
        _post_all(srv, [[harness.view("v9_view_0001")]], "v9")
        deadline = time.monotonic() + 10
        while "dwell clickhouse schema" not in srv.log_tail():
            expect(time.monotonic() < deadline, "no log line naming the "
                   "command: %r" % srv.log_tail()[-500:])
            time.sleep(0.1)
        m = _metrics(srv)
        expect(m["dwell_ship_backlog_events"] == 1 and
               m["dwell_ship_events_total"] == 0, "metrics: %r" % m)


class _Fanout:
    """Sends each beacon to one of two collectors in turn, and to the
    single node; a replayed one to both collectors, and twice to the single
    node (a replay reaches the system twice either way)."""

    def __init__(self, a, b, one):
        self.pair, self.one, self.n = (a, b), one, 0

    def post(self, evs, both=False, **kw):
        targets = self.pair if both else (self.pair[self.n % 2],)
        self.n += 1
        for srv in targets + (self.one,) * len(targets):
            r = srv.post_events(evs, **kw)
            _status(r, 204, "beacon %s to :%d" % (evs[0].get("v"), srv.port))


def _cluster_send(fan, ch, a_tok, one_tok):
    """reports.py's dataset and 15 readers with linked tickets, split
    between the collectors; a reader whose view lands on one collector
    and whose engage on the other; a batch replayed to both; ClickHouse
    killed in the middle and restarted. Returns the tickets sent."""
    import reports
    import tickets
    for i, (xff, evs) in enumerate(reports.DATASET):
        fan.post(evs, xff=xff, both=(i == 3))
        if i == len(reports.DATASET) // 2:
            ch.kill9()                      # mid-run: beacons still answered
    plan = ([("/kb/big", "ClLinkBig%04d" % i if i < 3 else None)
             for i in range(10)] + [("/kb/small", "ClLinkSmall001")] +
            [("/kb/none", None)] * 2)
    for i, (path, link) in enumerate(plan):
        vid = "cl_view_%04d" % i
        ua = tickets._reader_ua(i)
        fan.post([{"s": SITE, "t": "view", "v": vid, "c": "billing",
                   "u": "http://help.test" + path, "ti": path[4:].title(),
                   "wv": 2}], ua=ua)
        fan.post([{"s": SITE, "t": "engage", "v": vid, "wv": 2,
                   "e": 4000 + 3000 * i, "sd": 100 if i % 2 else 20}], ua=ua)
        if link:
            fan.post([{"s": SITE, "t": "link", "v": vid, "k": link}], ua=ua)
    ch.start()
    created = tickets._iso(int(time.time()) + 120)
    links = [l for _, l in plan if l]
    for i, link in enumerate(links + [None] * 3):
        body = {"id": "CL-%d" % i, "created_at": created, "tags": ["billing"],
                "channel": "web" if link else "email"}
        if link:
            body["dwell_link"] = link
        for srv, tok in ((fan.pair[i % 2], a_tok[i % 2]), (fan.one, one_tok)):
            _status(tickets._hook(srv, body, tok), 200, "ticket CL-%d" % i)
    return len(links) + 3


def two_collectors_report_from_clickhouse_as_one_node(t):
    """The issue's test: two collectors with their own data dirs and one
    cluster secret ship a dataset split between them (one reader on both,
    a view on one and its engage on the other, a replayed batch,
    ClickHouse killed mid-run and restarted); then the reports API
    answered from ClickHouse equals, document for document, the one a
    single node that received everything answers from its rollups."""
    import chreports
    import reports
    ch = _clickhouse()
    if ch is None:
        return
    db = "ship_cluster"
    ch.query("DROP DATABASE IF EXISTS %s" % db)
    secret = os.path.join(harness.OUT, "ship-cluster2.secret")
    with open(secret, "w") as f:
        f.write("7c" * 32 + "\n")
    os.chmod(secret, 0o600)
    da, db_, done = t.datadir(), t.datadir(), t.datadir()
    common = ("--geo", t.geo("maxmind"), "--trust-proxy", "127.0.0.1/32",
              "--engage-allowance", "86400", "--cluster-secret", secret)
    toks = [harness.token(t, d) for d in (da, db_, done)]
    with t.server(*(_ship_args(ch, db, "a") + common), data=da) as sa, \
            t.server(*(_ship_args(ch, db, "b") + common), data=db_) as sb, \
            t.server(*common, data=done) as one:
        ntk = _cluster_send(_Fanout(sa, sb, one), ch, toks[:2], toks[2])
        _drained(sa, "collector a")
        _drained(sb, "collector b")
        q = "?" + chreports._range()
        targets = [reports.API + SITE + "/summary" + q,
                   reports.API + SITE + "/articles" + q,
                   reports.API + SITE + "/articles" + q + "&kind=all",
                   reports.API + SITE + "/searches" + q,
                   reports.API + SITE + "/contact-after-read" + q,
                   reports.API + SITE + "/articles.csv" + q]
        for path in (reports.ALPHA, reports.BETA, "/kb/big"):
            targets.append(reports.API + SITE + "/articles/" +
                           reports._id(path) + q)
        local = chreports._answers(one, toks[2], targets)
    n = ch.scalar("SELECT count() FROM %s.tickets FINAL" % db)
    expect(n == ntk, "%d tickets in ClickHouse, %d sent" % (n, ntk))
    _once(ch, db)
    expect(all(st == 200 for st, _ in local.values()),
           "precondition: the single node answers every target: %r"
           % {k: v[0] for k, v in local.items() if v[0] != 200})
    with t.server("--reports", "clickhouse=" + ch.url(db), *common,
                  data=da) as srv:
        remote = chreports._answers(srv, toks[0], targets)
    bad = chreports._differences(local, remote)
    expect(not bad, "reports over two collectors from ClickHouse differ "
           "from the single node's:\n  %s" % "\n  ".join(bad))
