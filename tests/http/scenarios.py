"""scenarios.py — dwell tests that need several requests, several servers,
restarts or signals. Every public function here is one test, run in the
order written, named for the behaviour it checks; it gets a harness.T.
"""

import calendar
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import threading
import time

import harness
from harness import view as _view, engage as _engage, status as _status
from harness import (SITE, CHROME_UA, TestFailure, expect, Conn, grep_tree,
                     beacon_headers, ISO_UTC_RE)


# --- small helpers ----------------------------------------------------------------

def _by_view(evs):
    out = {}
    for e in evs:
        out.setdefault(e.get("view"), []).append(e)
    return out


class _Burst:
    """THREADS senders, each on its own keep-alive connection, posting
    make(thread, i) (a list of events) until stop() or LIMIT requests each.
    results: (thread, i, events, status, retry_after) of every request."""

    def __init__(self, srv, threads, make, limit=None):
        self.srv = srv
        self.make = make
        self.limit = limit
        self._stop = threading.Event()
        self.results = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(k,),
                                          daemon=True)
                         for k in range(threads)]
        for th in self._threads:
            th.start()

    def _run(self, k):
        conn = Conn(self.srv.port, timeout=harness.HTTP_TIMEOUT)
        i = 0
        failures = 0
        try:
            while not self._stop.is_set():
                if self.limit is not None and i >= self.limit:
                    break
                evs = self.make(k, i)
                status, retry = conn.post(evs)
                with self._lock:
                    self.results.append((k, i, evs, status, retry))
                i += 1
                if status is None:
                    failures += 1
                    if not self.srv.alive() or failures > 200:
                        break
                    time.sleep(0.01)
        finally:
            conn.close()

    def acked(self):
        with self._lock:
            return [r for r in self.results if r[3] == 204]

    def stop(self):
        self._stop.set()

    def join(self, timeout=30):
        deadline = time.monotonic() + timeout
        for th in self._threads:
            th.join(max(0.1, deadline - time.monotonic()))
        expect(not any(th.is_alive() for th in self._threads),
               "burst threads still running after %gs" % timeout)

    def wait_acked(self, n, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.acked()) < n:
            time.sleep(0.01)
        return len(self.acked())


def _burst_events(k, i):
    """A burst request: a view alone, or a view with its engage (every
    third request), with a view id unique in the run."""
    vid = "burst_%d_%06d" % (k, i)
    evs = [_view(vid, "/kb/burst-%d" % (i % 7))]
    if i % 3 == 0:
        evs.append(_engage(vid, 1500, 40))
    return evs


def _check_acked_stored(t, data, burst, what):
    """Every event of every request of BURST answered 204 is in DATA."""
    acked = burst.acked()
    by_view = _by_view(t.events(data))
    missing = []
    for (_, _, evs, _, _) in acked:
        for ev in evs:
            got = [e for e in by_view.get(ev["v"], []) if e.get("type") == ev["t"]]
            if not got:
                missing.append("%s/%s" % (ev["v"], ev["t"]))
    t.log("%s: %d requests, %d answered 204, %d events missing"
          % (what, len(burst.results), len(acked), len(missing)))
    expect(not missing, "%s: %d of the events answered 204 are not stored, "
           "e.g. %s" % (what, len(missing), ", ".join(missing[:5])))
    return len(acked)


def _statuses(burst):
    counts = {}
    for r in burst.results:
        counts[r[3]] = counts.get(r[3], 0) + 1
    return ", ".join("%s: %d" % (k, v) for k, v in
                     sorted(counts.items(), key=lambda kv: str(kv[0])))


# --- beacons and views ------------------------------------------------------------

def beacon_view_then_engage_shows_engaged_time_and_scroll(t):
    with t.server("--geo", t.geo()) as srv:
        vid = "scen_engage_view01"
        _status(srv.post_events(_view(vid, "/kb/engaged-reading")), 204, "view")
        _status(srv.post_events(_engage(vid, 15000, 64)), 204, "engage 1")
        _status(srv.post_events(_engage(vid, 5000, 80)), 204, "engage 2")
        evs = _by_view(t.events(srv.data)).get(vid, [])
        types = [e.get("type") for e in evs]
        expect(types == ["view", "engage", "engage"],
               "stored types %s, expected view, engage, engage" % types)
        e1, e2 = evs[1], evs[2]
        expect(e1.get("engaged_ms") == 15000 and e1.get("scroll") == 64,
               "first engage stored engaged_ms=%r scroll=%r, expected 15000, 64"
               % (e1.get("engaged_ms"), e1.get("scroll")))
        expect(e2.get("engaged_ms") == 5000 and e2.get("scroll") == 80,
               "second engage stored engaged_ms=%r scroll=%r, expected 5000, 80"
               % (e2.get("engaged_ms"), e2.get("scroll")))
        for e in (e1, e2):
            expect(e.get("path") == "/kb/engaged-reading",
                   "engage path %r, expected the view's /kb/engaged-reading"
                   % e.get("path"))


# --- wire 3: every dwell(…) command's argument in "a" ----------------------------

OLD_SITE, NEW_SITE = "help.test", "help3.test"
_HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _reader_session(site, wire):
    """The beacons of one reader's session on SITE as the snippet of WIRE
    (2 or 3) sends them: a view with its commands, a second view. Wire 2
    sends a command's argument in x, q, n or h and a search's result count
    only when it is a number; wire 3 sends the argument in a and the
    page's third argument as it is, in n."""
    def ev(t, vid, **kw):
        e = {"s": site, "t": t, "v": vid, "wv": wire, "sd": 30}
        e.update(kw)
        return e

    def cmd(t, vid, old, arg, third=None, i=None):
        e = ev(t, vid)
        if wire >= 3:
            e["a"] = arg
            if third is not None:
                e["n"] = third
        else:
            e[old] = arg
            if t == "search" and isinstance(third, int):
                e["n"] = third
        if i is not None:
            e["i"] = i
        return [e]
    u = "http://" + site
    a, b = "wire3_view_a1", "wire3_view_b1"
    return [
        [ev("view", a, u=u + "/kb/alpha", ti="Alpha", w=400, l="en",
            r="https://www.google.com/", c="accounts")],
        [ev("engage", a, e=4000)],
        cmd("search", a, "q", " Reset  PASSWORD ", 3, i=1),
        cmd("search", a, "q", " Reset  PASSWORD ", 3, i=1),   # a repeat
        cmd("search", a, "q", "no such thing", 0, i=2),
        cmd("search", a, "q", "refund", "5", i=3),    # not a number: no count
        cmd("vote", a, "x", "up", i=4),
        cmd("event", a, "n", "copied-code", 7, i=5),  # n: no name in wire 3
        cmd("event", a, "n", "contact", i=6),
        [ev("link", a, k="wire3_link_0001")],
        cmd("identify", a, "h", _HEX, i=7),
        [ev("engage", a, e=21000, sd=100)] + cmd("vote", a, "x", "down", i=8),
        [ev("view", b, u=u + "/kb/beta", ti="Beta", w=90)],
        cmd("vote", b, "x", "up", i=1),
        [ev("engage", b, e=9000, sd=80)],
    ]


def _as_stored(evs):
    """Stored events without what differs between two sites: the site, the
    time the server added and the visitor hash (keyed by the site); one
    session has one visitor."""
    expect(len({e.get("visitor") for e in evs}) == 1,
           "one reader, visitors %r" % {e.get("visitor") for e in evs})
    return [{k: v for k, v in e.items() if k not in ("site", "time",
                                                     "visitor")}
            for e in evs]


def wire_3_commands_are_stored_and_reported_as_wire_2(t):
    """The same reader's session sent as wire 2 to one site and as wire 3
    to another stores the same events (dwell events) and gives the same
    reports: snippets cached before wire 3 keep working beside it."""
    from reports import _id
    data = t.datadir(sites=((OLD_SITE, ("http://help.test",)),
                            (NEW_SITE, ("http://help3.test",))))
    with t.server("--geo", t.geo(), data=data) as srv:
        for site, wire in ((OLD_SITE, 2), (NEW_SITE, 3)):
            for batch in _reader_session(site, wire):
                _status(srv.post_events(batch, origin="http://" + site), 204,
                        "wire %d %s" % (wire, json.dumps(batch)[:150]))
        old = t.events(data, OLD_SITE)
        new = t.events(data, NEW_SITE)
        expect(len(old) == 16, "wire 2: %d events stored, expected 16"
               % len(old))
        for i, (o, n) in enumerate(zip(_as_stored(old), _as_stored(new))):
            expect(o == n, "event %d stored as %r from wire 2 but %r from "
                   "wire 3" % (i, o, n))
        expect(len(new) == len(old), "wire 3: %d events stored, wire 2 %d"
               % (len(new), len(old)))
        searches = [(e.get("query"), e.get("results")) for e in new
                    if e.get("type") == "search"]
        expect(searches == [("reset password", 3), ("reset password", 3),
                            ("no such thing", 0), ("refund", None)],
               "wire 3 searches stored as %r" % (searches,))
        names = [e.get("name") for e in new if e.get("type") == "event"]
        expect(names == ["copied-code", "contact"],
               "wire 3 custom events stored as %r" % names)
        reports = ["/summary", "/articles", "/searches",
                   "/articles/" + _id("/kb/alpha"),
                   "/articles/" + _id("/kb/beta")]
        tok = {s: harness.token(t, data, s) for s in (OLD_SITE, NEW_SITE)}
        for r in reports:
            got = {}
            for s in (OLD_SITE, NEW_SITE):
                target = harness.upto_today(harness.API + s + r)
                doc = harness.api_json(srv, tok[s], target)
                got[s] = json.loads(json.dumps(doc).replace(s, "SITE"))
            expect(got[OLD_SITE] == got[NEW_SITE],
                   "%s: wire 2 %s\nwire 3 %s" % (r, json.dumps(got[OLD_SITE]),
                                                 json.dumps(got[NEW_SITE])))
        expect(got[NEW_SITE].get("article", {}).get("views") == 1,
               "articles/ID beta: %r" % got[NEW_SITE])


def dwell_js_answers_304_to_its_own_etag(t):
    with t.server() as srv:
        r = srv.request("GET", "/dwell.js")
        _status(r, 200, "GET /dwell.js")
        etag = r.header("ETag")
        expect(etag, "no ETag on /dwell.js")
        expect(len(r.body) > 0, "empty snippet")
        r2 = srv.request("GET", "/dwell.js", [("If-None-Match", etag)])
        _status(r2, 304, "GET /dwell.js with If-None-Match: %s" % etag)
        expect(r2.body == b"", "304 with a body of %d bytes" % len(r2.body))
        r3 = srv.request("GET", "/dwell.js", [("If-None-Match", '"not-it"')])
        _status(r3, 200, "GET /dwell.js with another If-None-Match")


def demo_dir_never_serves_a_file_outside_it(t):
    demo = os.path.join(harness.OUT, "data", "demo-outside")
    shutil.rmtree(demo, ignore_errors=True)
    os.makedirs(demo)
    with open(os.path.join(demo, "index.html"), "w") as f:
        f.write("<!doctype html><title>demo</title>inside")
    os.symlink("/etc/passwd", os.path.join(demo, "passwd.html"))
    os.symlink("../../../../../../../../etc/passwd",
               os.path.join(demo, "relative.txt"))
    os.symlink("/etc", os.path.join(demo, "etc"))
    os.symlink("index.html", os.path.join(demo, "alias.html"))
    os.mkfifo(os.path.join(demo, "fifo.html"))
    with t.server("--demo", demo) as srv:
        for target in ("/demo/", "/demo/alias.html"):
            r = srv.request("GET", target)
            _status(r, 200, "GET " + target)
            expect(b"inside" in r.body, "GET %s: %r" % (target, r.body[:80]))
        for target in ("/demo/passwd.html", "/demo/relative.txt",
                       "/demo/etc", "/demo/fifo.html",
                       "/demo/..%2F..%2Fetc%2Fpasswd"):
            r = srv.request("GET", target)
            _status(r, 404, "GET %s (outside the demo dir)" % target)
            expect(b"root:" not in r.body, "GET %s served %r"
                   % (target, r.body[:80]))


def dwell_js_is_gzipped_when_accepted(t):
    # DESIGN §2: "gzip when accepted"
    with t.server() as srv:
        plain = srv.request("GET", "/dwell.js")
        _status(plain, 200, "GET /dwell.js")
        expect((plain.header("Content-Encoding") or "identity") == "identity",
               "gzip sent to a client that did not accept it")
        gz = srv.request("GET", "/dwell.js", [("Accept-Encoding", "gzip, br")])
        _status(gz, 200, "GET /dwell.js with Accept-Encoding: gzip")
        expect((gz.header("Content-Encoding") or "") == "gzip",
               "Content-Encoding %r, expected gzip" % gz.header("Content-Encoding"))
        try:
            body = gzip.decompress(gz.body)
        except (OSError, EOFError) as e:
            raise TestFailure("gzip body does not decompress: %s" % e)
        expect(body == plain.body, "gzip body decompresses to %d bytes that "
               "differ from the %d plain bytes" % (len(body), len(plain.body)))
        for r in (plain, gz):
            expect("accept-encoding" in (r.header("Vary") or "").lower(),
                   "no Vary: Accept-Encoding on a cacheable response that "
                   "depends on it (got %r)" % r.header("Vary"))


def keep_alive_connection_serves_several_requests(t):
    # DESIGN §8: answering on the first handler call makes libmicrohttpd
    # close every connection (4x slower); the connection must stay open.
    with t.server() as srv:
        c = http.client.HTTPConnection("127.0.0.1", srv.port,
                                       timeout=harness.HTTP_TIMEOUT)
        try:
            steps = [("GET", "/healthz", None, {}),
                     ("POST", "/e", json.dumps(_view("keepalive_view_01")),
                      dict(beacon_headers())),
                     ("GET", "/p.gif?s=help.test&u=/kb/keep-alive", None,
                      {"Referer": "http://help.test/kb/keep-alive",
                       "User-Agent": CHROME_UA}),
                     ("GET", "/dwell.js", None, {}),
                     ("GET", "/healthz", None, {})]
            sock = None
            for i, (m, path, body, hdrs) in enumerate(steps):
                c.request(m, path, body=body, headers=hdrs)
                r = c.getresponse()
                r.read()
                expect(r.status < 400, "%s %s: status %d" % (m, path, r.status))
                if i == 0:
                    sock = c.sock
                expect(c.sock is not None and c.sock is sock,
                       "the server closed the connection after %s %s "
                       "(Connection: %r)" % (m, path, r.getheader("Connection")))
        finally:
            c.close()


# --- enrichment: client address and country ----------------------------------------

def _geo_table(t, srv, cases, what):
    """CASES: (view id, X-Forwarded-For or None, expected country)."""
    for vid, xff, _ in cases:
        _status(srv.post_events(_view(vid, "/kb/geo"), xff=xff), 204,
                "%s: view with X-Forwarded-For %r" % (what, xff))
    by_view = _by_view(t.events(srv.data))
    wrong = []
    for vid, xff, cc in cases:
        evs = by_view.get(vid, [])
        got = evs[0].get("country") if evs else "(not stored)"
        if got != cc:
            wrong.append("X-Forwarded-For %r gave %r, expected %r"
                         % (xff, got, cc))
    expect(not wrong, "%s: %s" % (what, "; ".join(wrong)))


def forwarded_for_from_trusted_proxy_gives_forwarded_country(t):
    with t.server("--geo", t.geo("maxmind"), "--trust-proxy", "127.0.0.0/8",
                  "--trust-proxy", "10.0.0.0/8") as srv:
        _geo_table(t, srv, [
            ("xff_trusted_gb_001", "81.2.69.160", "GB"),
            ("xff_trusted_us_001", "216.160.83.56", "US"),
            ("xff_trusted_se_001", "89.160.20.112", "SE"),
            # a second trusted proxy in the chain is skipped
            ("xff_trusted_chain1", "89.160.20.112, 10.1.2.3", "SE"),
            # the rightmost untrusted address counts, not a spoofed leftmost
            ("xff_trusted_spoof1", "216.160.83.56, 81.2.69.160", "GB"),
            # without the header: the peer, 127.0.0.1
            ("xff_trusted_none01", None, "--"),
            # an address the database does not know
            ("xff_trusted_unknown", "192.0.2.7", "--"),
        ], "maxmind schema")
        # the pixel is enriched the same way
        r = srv.request("GET", "/p.gif?s=help.test&u=/kb/pixel-forwarded",
                        [("User-Agent", CHROME_UA),
                         ("Referer", "http://help.test/kb/pixel-forwarded"),
                         ("X-Forwarded-For", "89.160.20.112")])
        _status(r, 200, "pixel with X-Forwarded-For")
        px = [e for e in t.events(srv.data) if e.get("path") == "/kb/pixel-forwarded"]
        expect(len(px) == 1 and px[0].get("country") == "SE",
               "pixel with X-Forwarded-For 89.160.20.112: stored %s, expected "
               "one view with country SE" % json.dumps(px)[:300])


def forwarded_for_from_untrusted_peer_is_ignored(t):
    # the peer 127.0.0.1 is not inside the trusted network
    with t.server("--geo", t.geo("maxmind"), "--trust-proxy", "10.0.0.0/8") as srv:
        _geo_table(t, srv, [
            ("xff_untrusted_gb01", "81.2.69.160", "--"),
            ("xff_untrusted_v601", "2a02:cf40::1", "--"),
        ], "peer not trusted")


def forwarded_ipv6_address_gives_its_country(t):
    with t.server("--geo", t.geo("maxmind"), "--trust-proxy", "127.0.0.1/32") as srv:
        _geo_table(t, srv, [
            ("xff_ipv6_no_000001", "2a02:cf40::1", "NO"),
            ("xff_ipv6_jp_000001", "2001:218::5", "JP"),
            ("xff_ipv6_unknown01", "2001:db8::1", "--"),
        ], "IPv6")


def iplocation_schema_database_gives_countries(t):
    with t.server("--geo", t.geo("iplocation"), "--trust-proxy", "127.0.0.1/32") as srv:
        _geo_table(t, srv, [
            ("ipl_schema_gb_0001", "81.2.69.160", "GB"),
            ("ipl_schema_us_0001", "216.160.83.56", "US"),
            ("ipl_schema_se_0001", "89.160.20.112", "SE"),
            ("ipl_schema_no_0001", "2a02:cf40::1", "NO"),
            ("ipl_schema_jp_0001", "2001:218::5", "JP"),
            ("ipl_schema_unknown", "192.0.2.7", "--"),
        ], "ip-location-db schema")


def no_geo_database_gives_country_dashes(t):
    with t.server("--trust-proxy", "127.0.0.1/32") as srv:
        _geo_table(t, srv, [
            ("nogeo_gb_00000001", "81.2.69.160", "--"),
            ("nogeo_peer_000001", None, "--"),
        ], "no --geo")


def no_client_ip_or_user_agent_in_data_dir(t):
    ua = CHROME_UA + " PrivacyProbe/4242"
    data = t.datadir()
    with t.server("--geo", t.geo(), "--trust-proxy", "127.0.0.1/32",
                  data=data) as srv:
        for i, (ip, cc) in enumerate((("81.2.69.160", "GB"),
                                      ("2a02:cf40::1", "NO"))):
            vid = "privacy_probe_%04d" % i
            _status(srv.post_events([_view(vid, "/kb/privacy"),
                                     _engage(vid, 2000, 50)], ua=ua, xff=ip),
                    204, "beacon from %s" % ip)
            got = _country_of_first(t, srv, vid)
            expect(got == cc, "country %r for %s, expected %r (so the address "
                   "was not used at all)" % (got, ip, cc))
        r = srv.request("GET", "/p.gif?s=help.test&u=/kb/privacy-pixel",
                        [("User-Agent", ua), ("X-Forwarded-For", "81.2.69.160"),
                         ("Referer", "http://help.test/kb/privacy-pixel")])
        _status(r, 200, "pixel")
    # the server has stopped: everything it had is on disk
    needles = [b"81.2.69.160", b"2a02:cf40::1", b"2A02:CF40::1",
               b"PrivacyProbe/4242", ua.encode(),
               # the addresses in binary, as an IPv4-mapped and an IPv6 address
               bytes(10) + b"\xff\xff" + bytes([81, 2, 69, 160]),
               bytes.fromhex("2a02cf40000000000000000000000001")]
    hits = grep_tree(data, needles)
    expect(not hits, "found in the data dir: %s" % ", ".join(
        "%r in %s" % (n[:40], f) for f, n in hits[:5]))


def _country_of_first(t, srv, vid):
    evs = [e for e in t.events(srv.data) if e.get("view") == vid]
    expect(evs, "view %s not stored" % vid)
    return evs[0].get("country")


# --- sites, restarts ----------------------------------------------------------------

def site_added_while_running_is_accepted(t):
    with t.server() as srv:
        late = "late.test"
        ev = _view("late_site_view_01", "/kb/late", site=late)
        r = srv.post_events(ev, origin="http://late.test")
        _status(r, 404, "before `dwell site add`")
        t.site_add(srv.data, late, ["http://late.test"])
        deadline = time.monotonic() + 2.0
        while True:
            r = srv.post_events(ev, origin="http://late.test")
            if r.status == 204 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        _status(r, 204, "after `dwell site add` (retried for 2 s)")
        evs = t.events(srv.data, site=late)
        expect([e.get("view") for e in evs] == ["late_site_view_01"],
               "late.test events: %s" % json.dumps(evs)[:300])
        # the site registered at start still works
        _status(srv.post_events(_view("late_site_other_01")), 204,
                "help.test after adding late.test")


def restart_keeps_stored_events(t):
    data = t.datadir()
    first = ["restart_first_%03d" % i for i in range(5)]
    with t.server("--geo", t.geo(), data=data) as srv:
        for vid in first:
            _status(srv.post_events(_view(vid, "/kb/restart")), 204, vid)
        rc = srv.stop()
        expect(rc == 0, "first server: exit status %s on SIGTERM" % rc)
    got = [e.get("view") for e in t.events(data)]
    expect(got == first, "after the first run, stored %s, expected %s"
           % (got, first))
    second = ["restart_second_%03d" % i for i in range(2)]
    with t.server("--geo", t.geo(), data=data) as srv:
        for vid in second:
            _status(srv.post_events(_view(vid, "/kb/restart")), 204,
                    "after restart: " + vid)
        got = [e.get("view") for e in t.events(data)]
        expect(got == first + second, "while the second server runs, stored "
               "%s, expected %s" % (got, first + second))
    got = [e.get("view") for e in t.events(data)]
    expect(got == first + second, "after the second run, stored %s" % got)


def sigterm_during_burst_drains_and_exits_0(t):
    with t.server() as srv:
        b = _Burst(srv, 4, _burst_events)
        n = b.wait_acked(150, 5)
        expect(n > 0, "no request answered 204 before SIGTERM (%s)" % _statuses(b))
        srv.send_signal(signal.SIGTERM)
        rc = srv.wait()
        b.stop()
        b.join()
        t.log("SIGTERM burst: %s" % _statuses(b))
        expect(rc == 0, "exit status %s after SIGTERM, expected 0" % rc)
        _check_acked_stored(t, srv.data, b, "SIGTERM during a burst")


def the_map_grows_under_load_while_sites_and_health_are_read(t):
    # A map too small for the data doubles while beacons arrive on both
    # HTTP threads and /healthz reads the map's size: LMDB unmaps the map
    # to grow it, so whatever reads it without the resize lock (the site
    # lookup's transaction id, the health figures) crashed the server now
    # and then (about one run in four of one round). Six rounds, each a
    # fresh server: every request answered, every event stored.
    for rnd in range(6):
        with t.server("--map-size", "64K", "--durability", "none",
                      "--rate-limit", "0") as srv:
            b = _Burst(srv, 6, _burst_events, limit=500)
            health = []

            def poll():
                while any(th.is_alive() for th in b._threads):
                    health.append(srv.request("GET", "/healthz").status)

            pollers = [threading.Thread(target=poll, daemon=True)
                       for _ in range(2)]
            for th in pollers:
                th.start()
            b.join()
            for th in pollers:
                th.join()
            grown = srv.log_tail(1 << 20).count("map grown")
            t.log("round %d: map grown %d times under %s; health %d answers"
                  % (rnd, grown, _statuses(b), len(health)))
            expect(srv.alive(), "round %d: the server died while its map "
                   "grew: %s" % (rnd, srv.log_tail(600)))
            expect(grown >= 3, "the map grew %d times, not enough to test"
                   % grown)
            expect(len(b.acked()) == 6 * 500, "answered 204: %d of %d (%s)"
                   % (len(b.acked()), 6 * 500, _statuses(b)))
            expect(health and set(health) == {200}, "healthz answered %s"
                   % sorted(set(health)))
        _check_acked_stored(t, srv.data, b, "the map grown under load")


def _send_and_leave(port, body, rst):
    """Sends a beacon with BODY on a keep-alive connection, to be closed
    at once without reading the answer; returns the socket, which closes
    with a reset when RST."""
    head = ("POST /e HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port +
            "".join("%s: %s\r\n" % kv for kv in beacon_headers()) +
            "Content-Length: %d\r\n\r\n" % len(body)).encode("latin-1")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if rst:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    s.sendall(head + body)
    return s


def clients_gone_while_waiting_for_the_commit_leave_the_server_sound(t):
    # With --durability fsync (the default) a request waits for the commit
    # of its event, its connection suspended. Here 80 clients send a beacon
    # each and leave before the answer, like a page closed right after its
    # last beacon (half of them with a reset, which may drop the request
    # in the kernel before the server reads it): the server must not crash
    # or hang on the connections it resumes for them, must go on answering,
    # stop with exit 0, store every event of the clients that closed
    # normally, and none twice.
    with t.server() as srv:
        socks = []
        for i in range(80):
            body = json.dumps(_view("gone_%03d" % i, "/kb/gone")).encode()
            socks.append(_send_and_leave(srv.port, body, rst=i % 2 == 1))
        for s in socks:
            s.close()
        _status(srv.post_events(_view("gone_after_001", "/kb/gone")), 204,
                "a beacon after 80 clients left")
        rc = srv.stop()
        expect(rc == 0, "exit status %s on SIGTERM after clients left "
               "while waiting" % rc)
    by_view = _by_view(t.events(srv.data))
    twice = [v for v, evs in by_view.items() if len(evs) > 1]
    gone = sorted(v for v in by_view if v and v.startswith("gone_0"))
    t.log("clients gone while waiting: %d of 80 events stored: %s"
          % (len(gone), " ".join(gone)))
    expect(not twice, "stored more than once: %s" % twice[:5])
    lost = ["gone_%03d" % i for i in range(0, 80, 2)
            if "gone_%03d" % i not in by_view]
    expect(not lost, "%d events of clients that closed normally after "
           "sending are not stored, e.g. %s" % (len(lost), lost[:5]))
    expect(len(by_view.get("gone_after_001", [])) == 1,
           "the beacon sent after the others left is not stored")


def _hammer_healthz(port, stop, seen):
    """Asks GET /healthz on fresh connections until STOP is set; adds each
    answer's status (and for a 503 its error text) to SEEN."""
    while not stop.is_set():
        try:
            r = harness.raw_request(port, "GET", "/healthz", timeout=2)
        except (OSError, TestFailure):
            continue                    # refused, or closed while stopping
        if r.status == 503:
            try:
                seen.append((503, r.json().get("error")))
            except ValueError:
                seen.append((503, r.body[:80]))
        else:
            seen.append((r.status, None))


def sigterm_under_new_connections_exits_0_every_time(t):
    # Each round stops a server while three clients keep connecting: every
    # stop exits 0, every answer is 200 or the shutdown 503. (dwell does not
    # call MHD_quiesce_daemon, which aborts when a libmicrohttpd 0.9.75
    # worker takes the listening socket out of its epoll set first; that
    # race is too narrow for 30 rounds to catch reliably, so this guards
    # the shutdown path as a whole rather than that one race.)
    seen = []
    for rnd in range(30):
        with t.server() as srv:
            stop = threading.Event()
            ts = [threading.Thread(target=_hammer_healthz,
                                   args=(srv.port, stop, seen))
                  for _ in range(3)]
            for th in ts:
                th.start()
            time.sleep(0.05 + 0.01 * (rnd % 6))
            srv.send_signal(signal.SIGTERM)
            rc = srv.wait()
            stop.set()
            for th in ts:
                th.join()
            expect(rc == 0, "round %d: exit status %s after SIGTERM, expected"
                   " 0; log ends %r" % (rnd, rc,
                                        srv.log_tail(3000).splitlines()[-12:]))
    odd = [s for s in seen
           if s != (200, None) and s != (503, "server is shutting down")]
    expect(not odd, "answers other than 200 and 503 shutting down: %r"
           % odd[:5])
    expect(any(s[0] == 200 for s in seen), "no request answered 200")
    t.log("SIGTERM under new connections: %d answers, %d of them 503"
          % (len(seen), sum(1 for s in seen if s[0] == 503)))


def sigint_stops_the_server_with_status_0(t):
    with t.server() as srv:
        _status(srv.post_events(_view("sigint_view_00001")), 204, "view")
        rc = srv.stop(signal.SIGINT)
        expect(rc == 0, "exit status %s after SIGINT, expected 0" % rc)
        expect([e.get("view") for e in t.events(srv.data)] == ["sigint_view_00001"],
               "the event answered 204 is not stored")


def kill_9_during_burst_loses_no_acknowledged_event(t):
    data = t.datadir()
    with t.server(data=data) as srv:            # default durability: fsync
        b = _Burst(srv, 4, _burst_events)
        n = b.wait_acked(300, 5)
        expect(n > 0, "no request answered 204 before the kill (%s)" % _statuses(b))
        srv.kill9()                              # while the senders still send
        b.stop()
        b.join()
        t.log("kill -9 burst: %s" % _statuses(b))
        _check_acked_stored(t, data, b, "kill -9 during a burst (fsync)")
    # the environment is intact: a new server opens it and goes on
    with t.server(data=data) as srv:
        _status(srv.post_events(_view("after_kill9_view01")), 204,
                "a beacon after restarting on the killed server's data")
        expect(any(e.get("view") == "after_kill9_view01" for e in t.events(data)),
               "the beacon after the restart is not stored")


def durability_commit_stores_and_survives_kill_9(t):
    data = t.datadir()
    with t.server("--durability", "commit", data=data) as srv:
        vids = ["dur_commit_%04d" % i for i in range(10)]
        for vid in vids:
            _status(srv.post_events(_view(vid)), 204, vid)
        got = [e.get("view") for e in t.events(data)]
        expect(got == vids, "stored %s right after the 204s, expected %s"
               % (got, vids))
        # DESIGN §5: commit without sync survives a process crash
        b = _Burst(srv, 4, _burst_events)
        n = b.wait_acked(300, 5)
        expect(n > 0, "no request answered 204 (%s)" % _statuses(b))
        srv.kill9()
        b.stop()
        b.join()
        _check_acked_stored(t, data, b, "kill -9 during a burst (commit)")


def durability_none_stores_events(t):
    data = t.datadir()
    with t.server("--durability", "none", data=data) as srv:
        vids = ["dur_none_%04d" % i for i in range(10)]
        for vid in vids:
            _status(srv.post_events(_view(vid)), 204, vid)
        # 204 on enqueue: the events reach the store soon after
        deadline = time.monotonic() + 5
        while True:
            got = [e.get("view") for e in t.events(data)]
            if got == vids or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        expect(got == vids, "5 s after the 204s, stored %s, expected %s"
               % (got, vids))
        b = _Burst(srv, 4, _burst_events, limit=30)
        b.join()
        expect(b.acked(), "no request of the burst answered 204 (%s)"
               % _statuses(b))
        rc = srv.stop()
        expect(rc == 0, "exit status %s on SIGTERM" % rc)
        _check_acked_stored(t, data, b, "SIGTERM after a burst (none)")


def queue_full_answers_503_with_retry_after(t):
    with t.server("--queue", "1") as srv:
        def make(k, i):
            return [_view("queue_%02d_%05d" % (k, i), "/kb/queue")]
        b = _Burst(srv, 16, make, limit=40)
        b.join(60)
        t.log("--queue 1: %s" % _statuses(b))
        full = [r for r in b.results if r[3] == 503]
        expect(full, "no 503 among %d concurrent requests with --queue 1 (%s)"
               % (len(b.results), _statuses(b)))
        no_retry = [r for r in full if not r[4]]
        expect(not no_retry, "%d of %d answers 503 without Retry-After"
               % (len(no_retry), len(full)))
        expect(b.acked(), "no request answered 204 (%s)" % _statuses(b))
        # one 503 in detail: a JSON error
        for _ in range(30):
            r = _one_503(srv)
            if r is not None:
                break
        if r is not None:
            ct = r.header("Content-Type") or ""
            expect(ct.startswith("application/json"),
                   "503 with Content-Type %r" % ct)
            expect(isinstance(r.json(), dict) and r.json().get("error"),
                   "503 without an error message: %r" % r.body[:200])
        # the queue drains: a lone request goes through again
        time.sleep(0.2)
        _status(srv.post_events(_view("queue_after_burst1")), 204,
                "a lone beacon after the burst")
        _check_acked_stored(t, srv.data, b, "--queue 1")


def _one_503(srv):
    """Fires 8 concurrent requests; returns one 503 Response, or None."""
    got = []

    def send(k):
        try:
            r = srv.post_events(_view("queue_detail_%02d_%d"
                                      % (k, int(time.monotonic() * 1e6) % 10**6)))
            if r.status == 503:
                got.append(r)
        except (OSError, TestFailure):
            pass
    ths = [threading.Thread(target=send, args=(k,), daemon=True) for k in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(harness.HTTP_TIMEOUT + 1)
    return got[0] if got else None


# --- the CLI ------------------------------------------------------------------------

def events_cli_reads_while_server_runs(t):
    before = time.time()
    with t.server("--geo", t.geo()) as srv:
        sent = [
            _view("cli_events_view01", "/kb/cli", r="https://www.bing.com/x",
                  w=300, c="billing", l="de-DE"),
            _engage("cli_events_view01", 12000, 55),
            {"s": SITE, "t": "vote", "v": "cli_events_view01", "x": "up"},
            {"s": SITE, "t": "search", "v": "cli_events_view01",
             "q": "Invoice", "n": 2},
            {"s": SITE, "t": "link", "v": "cli_events_view01", "k": "LinkId_0001"},
            {"s": SITE, "t": "event", "v": "cli_events_view01", "n": "contact"},
        ]
        for ev in sent:
            _status(srv.post_events(ev), 204, ev["t"])
        evs = t.events(srv.data, since=None, limit=None)      # the defaults
        types = [e.get("type") for e in evs]
        expect(types == [ev["t"] for ev in sent],
               "with default --since/--limit: types %s, expected %s (oldest "
               "first)" % (types, [ev["t"] for ev in sent]))
        for e in evs:
            for k in ("time", "type", "view", "path", "engaged_ms", "scroll",
                      "country", "bot"):
                expect(k in e, "%s event without %r: %s" % (e.get("type"), k,
                                                           json.dumps(e)))
            expect(isinstance(e["time"], str) and ISO_UTC_RE.match(e["time"]),
                   "time %r is not ISO 8601 UTC" % e.get("time"))
            expect(isinstance(e["bot"], bool), "bot %r is not true/false"
                   % e.get("bot"))
        ts = time.strptime(evs[0]["time"][:19], "%Y-%m-%dT%H:%M:%S")
        when = calendar.timegm(ts)
        expect(before - 120 <= when <= time.time() + 120,
               "time %s is not now" % evs[0]["time"])
        v, en, vo, se, li, ev_ = evs
        expect(v.get("title") == "Article cli_events_view01" and
               v.get("referrer") == "www.bing.com" and v.get("category") ==
               "billing" and v.get("lang") == "de-DE" and v.get("words") == 300,
               "view fields: %s" % json.dumps(v))
        expect(en.get("engaged_ms") == 12000 and en.get("scroll") == 55 and
               en.get("path") == "/kb/cli", "engage fields: %s" % json.dumps(en))
        expect(vo.get("vote") == "up", "vote fields: %s" % json.dumps(vo))
        expect(se.get("query") == "invoice" and se.get("results") == 2,
               "search fields: %s" % json.dumps(se))
        expect(li.get("link") == "LinkId_0001", "link fields: %s" % json.dumps(li))
        expect(ev_.get("name") == "contact", "event fields: %s" % json.dumps(ev_))
        two = t.events(srv.data, since="1h", limit="2")
        expect(len(two) == 2, "--limit 2 printed %d events" % len(two))
        expect(len(t.events(srv.data, since="all", limit="0")) == 6,
               "--since all --limit 0 did not print all 6 events")
        r = t.dwell("events", "nosuch.test", "--data", srv.data)
        expect(r.returncode != 0 and r.stderr.strip(),
               "events for an unknown site: exit %d, stderr %r"
               % (r.returncode, r.stderr[:200]))


def cli_help_and_version_exit_0(t):
    for flag in ("--help", "--version"):
        r = t.dwell(flag)
        expect(r.returncode == 0, "dwell %s: exit %d" % (flag, r.returncode))
        expect((r.stdout + r.stderr).strip(), "dwell %s printed nothing" % flag)


def cli_unknown_command_or_flag_fails_with_a_message(t):
    data = t.datadir()
    port = harness.free_port()
    for argv in (["frobnicate"],
                 ["--frobnicate"],
                 ["events", SITE, "--data", data, "--frobnicate"],
                 ["site", "add", "x.test", "--origin", "http://x.test",
                  "--data", data, "--frobnicate"],
                 ["site", "frobnicate", "--data", data],
                 ["serve", "--listen", "127.0.0.1:%d" % port, "--data", data,
                  "--frobnicate"]):
        r = t.dwell(*argv, timeout=10)
        expect(r.returncode != 0, "dwell %s: exit 0" % " ".join(argv))
        expect(r.stderr.strip(), "dwell %s: nothing on stderr" % " ".join(argv))


def serve_refuses_bad_flag_values(t):
    data = t.datadir()
    port = harness.free_port()
    base = ["serve", "--listen", "127.0.0.1:%d" % port, "--data", data]
    for extra in (["--durability", "sometimes"],
                  ["--trust-proxy", "not-a-network"],
                  ["--queue", "many"]):
        r = t.dwell(*(base + extra), timeout=10)
        expect(r.returncode != 0, "dwell serve %s: exit 0" % " ".join(extra))
        expect(r.stderr.strip(), "dwell serve %s: nothing on stderr"
               % " ".join(extra))


def site_add_and_list(t):
    data = t.datadir(sites=())
    r = t.dwell("site", "add", "a.test", "--origin", "http://a.test",
                "--origin", "https://a.test", "--data", data)
    expect(r.returncode == 0, "site add: exit %d: %s" % (r.returncode, r.stderr))
    t.site_add(data, "b.test", ["http://b.test"])
    r = t.dwell("site", "list", "--data", data)
    expect(r.returncode == 0, "site list: exit %d" % r.returncode)
    lines = sorted(r.stdout.splitlines())
    expect(lines == ["a.test\thttp://a.test,https://a.test", "b.test\thttp://b.test"],
           "site list printed %r" % r.stdout)
    # re-adding updates the origins
    r = t.dwell("site", "add", "a.test", "--origin", "http://new-a.test",
                "--data", data)
    expect(r.returncode == 0, "re-adding a.test: exit %d: %s"
           % (r.returncode, r.stderr))
    r = t.dwell("site", "list", "--data", data)
    a = [l for l in r.stdout.splitlines() if l.split("\t")[0] == "a.test"]
    expect(len(a) == 1 and "http://new-a.test" in a[0].split("\t")[1].split(","),
           "after re-adding, a.test is listed as %r" % a)
    # bad flags
    for argv in (["site", "add", "--data", data],
                 ["site", "add", "c.test", "--origin", "--data", data],
                 ["site", "add", "c.test", "--origin", "http://c.test", "--data"]):
        r = t.dwell(*argv)
        expect(r.returncode != 0 and r.stderr.strip(),
               "dwell %s: exit %d, stderr %r"
               % (" ".join(argv), r.returncode, r.stderr[:200]))


def beacon_with_a_7k_cookie_header_is_stored_and_a_12k_one_refused(t):
    """A help center served on dwell's own domain sends its cookies with
    every beacon: 7 KiB of Cookie header is stored like any beacon; past
    the documented header limit (about 8 KiB, docs/operations.md) the
    answer is 431, and the server goes on answering."""
    with t.server() as srv:
        ok = _view("scen_cookie_7k_view", "/kb/cookies")
        r = srv.post_events(ok, headers=[("Cookie", "s=" + "a" * 7000)])
        _status(r, 204, "beacon with a 7,000-byte cookie")
        big = _view("scen_cookie_12k_view", "/kb/cookies")
        r = srv.post_events(big, headers=[("Cookie", "s=" + "b" * 12000)])
        expect(r.status == 431, "beacon with a 12,000-byte cookie: status %d,"
               " expected 431" % r.status)
        _status(srv.request("GET", "/healthz"), 200, "healthz afterwards")
        views = set(_by_view(t.events(srv.data)))
        expect(views == {"scen_cookie_7k_view"}, "views stored: %s"
               % sorted(views))
