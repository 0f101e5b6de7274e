"""abuse.py — what a public collector meets on the open internet (issue 11,
items 2 and 3): forged reading time, floods from one address, guessed
tokens, beacons without an Origin. Every test drives the real server and
reads back what it stored or answered."""
import json
import time

import harness
from harness import SITE, API, expect
from harness import (today as _today, view as _view, status as _status,
                     error_message as _error_message, token as _token,
                     get as _get)

HOUR_MS = 3600 * 1000


def _article_row(t, data, path):
    """The CLI report of today's row of PATH (fails if there is none)."""
    day = _today().isoformat()
    r = t.dwell("report", SITE, "--data", data, "--format", "json",
                "--from", day, "--to", day)
    expect(r.returncode == 0, "dwell report: exit %d: %s"
           % (r.returncode, r.stderr.strip()[-300:]))
    doc = json.loads(r.stdout)
    rows = doc.get("articles", doc if isinstance(doc, list) else [])
    for row in rows:
        if row.get("path") == path:
            return row
    raise harness.TestFailure("no row for %s in %s" % (path, r.stdout[:400]))


def _retry_after(r, what):
    """R's Retry-After as whole seconds, failing unless it is one ≥ 1."""
    v = r.header("Retry-After")
    expect(v is not None and v.isdigit() and int(v) >= 1,
           "%s: Retry-After %r, expected whole seconds >= 1" % (what, v))
    return int(v)


def forged_hours_of_reading_are_capped_by_the_views_age(t):
    """One request: a view and thirty one-hour engages (wire 1 deltas and
    wire 2 totals) on a view 0 s old. The view may hold at most its age
    plus the allowance (30 s by default), in the report and in the stored
    events alike."""
    data = t.datadir()
    with t.server(data=data) as srv:
        for vid, wire in (("forge_wire1_0001", {}),
                          ("forge_wire2_0001", {"wv": 2})):
            evs = [_view(vid, path="/kb/" + vid, **wire)]
            for i in range(30):
                # wire 2 totals grow by an hour, up to the 24 h a beacon
                # may carry
                ms = HOUR_MS if not wire else min(i + 1, 24) * HOUR_MS
                e = {"s": SITE, "t": "engage", "v": vid, "e": ms}
                e.update(wire)
                evs.append(e)
            r = srv.post_events(evs)
            _status(r, 204, "a view and 30 one-hour engages (%s)" % vid)
        stored = t.events(data)
    for vid in ("forge_wire1_0001", "forge_wire2_0001"):
        row = _article_row(t, data, "/kb/" + vid)
        got = row.get("engaged_mean_ms")
        expect(got is not None and got <= 31000,
               "%s: one view holds %r ms of engaged time, sent 30 h on a view "
               "0 s old; expected at most its age + 30 s" % (vid, got))
        engages = [e for e in stored if e.get("view") == vid and
                   e.get("type") == "engage"]
        expect(len(engages) == 30, "%s: %d engages stored, expected 30"
               % (vid, len(engages)))
        most = max(e.get("engaged_ms", 0) for e in engages)
        total = sum(e.get("engaged_ms", 0) for e in engages)
        counted = total if vid.startswith("forge_wire1") else most
        expect(counted <= 31000, "%s: the stored engages add up to %d ms"
               % (vid, counted))


def engaged_time_grows_with_the_views_age(t):
    """With the allowance at 1 s, a view 3 s old may hold about 4 s: the
    cap follows the wall time since the server first saw the view."""
    data = t.datadir()
    with t.server("--engage-allowance", "1", data=data) as srv:
        vid = "age_view_000001"
        _status(srv.post_events(_view(vid, path="/kb/age")), 204, "view")
        _status(srv.post_events({"s": SITE, "t": "engage", "v": vid,
                                 "e": 60000, "wv": 2}), 204, "engage")
        time.sleep(3)
        _status(srv.post_events({"s": SITE, "t": "engage", "v": vid,
                                 "e": 120000, "wv": 2}), 204, "engage")
    got = _article_row(t, data, "/kb/age").get("engaged_mean_ms")
    expect(got is not None and 3000 <= got <= 15000,
           "a view 3 s old with 1 s of allowance holds %r ms (sent 120 s); "
           "expected 3–15 s" % got)


def a_view_keeps_one_vote_the_last(t):
    """up, up, down, up, down on one view: one vote, the last (down)."""
    data = t.datadir()
    with t.server(data=data) as srv:
        vid = "vote_view_00001"
        evs = [_view(vid, path="/kb/votes")]
        for x in ("up", "up", "down", "up", "down"):
            evs.append({"s": SITE, "t": "vote", "v": vid, "x": x})
        _status(srv.post_events(evs), 204, "a view and five votes")
        _status(srv.post_events({"s": SITE, "t": "vote", "v": vid,
                                 "x": "down"}), 204, "the same vote again")
    row = _article_row(t, data, "/kb/votes")
    expect(row.get("votes_up") == 0 and row.get("votes_down") == 1,
           "after up, up, down, up, down, down on one view: votes_up %r, "
           "votes_down %r; expected 0 and 1" % (row.get("votes_up"),
                                                row.get("votes_down")))


def a_beacon_without_origin_is_refused_when_the_site_has_origins(t):
    data = t.datadir(sites=((SITE, (harness.ORIGIN,)), ("open.test", ())))
    with t.server(data=data) as srv:
        r = srv.post_events(_view("no_origin_000001"), origin=None)
        _status(r, 403, "POST /e without Origin to a site with origins")
        msg = _error_message(r, "POST /e without Origin")
        expect("Origin" in msg, "the 403 does not name Origin: %r" % msg)
        r = srv.post_events(_view("no_origin_000002"), origin=None,
                            headers=[("Referer", harness.ORIGIN + "/kb/a")])
        _status(r, 403, "POST /e with a Referer of the site but no Origin")
        r = srv.post_events(_view("no_origin_000003"))
        _status(r, 204, "POST /e with the site's Origin")
        r = srv.post_events(_view("no_origin_000004", site="open.test"),
                            origin=None)
        _status(r, 204, "POST /e without Origin to a site without origins")
        r = srv.request("GET", "/p.gif?s=%s&u=%s" % (
            SITE, harness.ORIGIN + "/kb/pixel"), [])
        _status(r, 200, "the pixel without Origin or Referer")
    views = {e.get("view") for e in t.events(data) if e.get("type") == "view"}
    expect("no_origin_000001" not in views and
           "no_origin_000002" not in views,
           "a refused beacon's view was stored: %r" % sorted(views))
    expect("no_origin_000003" in views, "the accepted view is not stored")


def a_flood_from_one_address_gets_429_while_another_is_served(t):
    """--rate-limit 5/s,20 behind a trusted proxy: one client address sends
    200 beacons as fast as it can; past its burst it gets 429 with
    Retry-After and a JSON error, and no more than the burst plus 5 a second
    is stored; meanwhile another address is answered 204."""
    data = t.datadir()
    with t.server("--trust-proxy", "127.0.0.1/32", "--durability", "none",
                  "--rate-limit", "5/s,20", data=data) as srv:
        t0 = time.monotonic()
        codes, first429 = [], None
        for i in range(200):
            r = srv.post_events(_view("flood_%010d" % i, path="/kb/flood"),
                                xff="203.0.113.7")
            codes.append(r.status)
            if r.status == 429 and first429 is None:
                first429 = r
        elapsed = time.monotonic() - t0
        other = srv.post_events(_view("other_00000001", path="/kb/other"),
                                xff="198.51.100.9")
        _status(other, 204, "another address during the flood")
    ok = codes.count(204)
    expect(first429 is not None, "200 beacons from one address in %.1fs: "
           "no 429 (statuses %r)" % (elapsed, sorted(set(codes))))
    expect(set(codes) <= {204, 429}, "flood statuses %r" % sorted(set(codes)))
    _retry_after(first429, "the first 429")
    expect("Retry-After" in _error_message(first429, "the 429"),
           "the 429's error does not point at Retry-After")
    expect(ok <= 20 + 5 * elapsed + 2,
           "%d of 200 beacons accepted in %.1fs; the limit allows %d"
           % (ok, elapsed, 20 + 5 * elapsed))
    stored = [e for e in t.events(data) if e.get("type") == "view"
              and e.get("path") == "/kb/flood"]
    expect(len(stored) == ok, "%d flood views stored, %d were answered 204"
           % (len(stored), ok))


def the_default_rate_limit_stops_a_flood_and_0_turns_it_off(t):
    """By default (20/s, burst 400) one address sending as fast as it can is
    refused before 2,000 requests; with --rate-limit 0 nothing is refused."""
    for args, want in ((("--durability", "none"), True),
                       (("--durability", "none", "--rate-limit", "0"),
                        False)):
        with t.server(*args) as srv:
            conn = harness.Conn(srv.port)
            t0 = time.monotonic()
            sent, ok, limited = 0, 0, None
            while sent < 2000 and limited is None:
                st, ra = conn.post(_view("dflt_%010d" % sent,
                                         path="/kb/dflt"))
                sent += 1
                if st == 204:
                    ok += 1
                elif st == 429:
                    limited = ra
                else:
                    raise harness.TestFailure("request %d: status %r"
                                              % (sent, st))
            conn.close()
            elapsed = time.monotonic() - t0
        if want:
            expect(limited is not None and limited.isdigit(),
                   "default limit: %d requests in %.1fs, none refused"
                   % (sent, elapsed))
            expect(400 <= ok <= 400 + 20 * elapsed + 2,
                   "default limit: %d accepted in %.1fs before the first "
                   "429; expected the burst 400 plus 20/s" % (ok, elapsed))
        else:
            expect(limited is None and ok == 2000,
                   "--rate-limit 0: %d of %d accepted" % (ok, sent))


def failed_authentications_get_429_after_the_limit(t):
    """Ten bad tokens from one address a minute are answered 401; the
    eleventh attempt is 429 with Retry-After, even with a good token (an
    address guessing tokens learns nothing more); another address's good
    token still works. A token of another site tried ten times is refused
    with 429 from every address."""
    data = t.datadir(sites=((SITE, (harness.ORIGIN,)), ("other.test", ())))
    good = _token(t, data)
    other = _token(t, data, site="other.test")
    target = API + SITE + "/summary"
    with t.server("--trust-proxy", "127.0.0.1/32", data=data) as srv:
        def ask(tok, addr):
            return _get(srv, target, tok, [("X-Forwarded-For", addr)])
        for i in range(10):
            _status(ask("dw_" + "x" * 31 + str(i % 10), "203.0.113.5"), 401,
                    "bad token %d" % (i + 1))
        r = ask("dw_" + "y" * 32, "203.0.113.5")
        _status(r, 429, "the 11th bad token in a minute")
        _retry_after(r, "the 11th bad token")
        _error_message(r, "the 429")
        _status(ask(good, "203.0.113.5"), 429,
                "a good token from the address that guessed")
        _status(ask(good, "198.51.100.1"), 200,
                "a good token from another address")
        _status(ask(None, "198.51.100.2"), 401, "no token")
        for i in range(10):
            _status(ask(other, "192.0.2.%d" % (i + 1)), 403,
                    "another site's token, try %d" % (i + 1))
        r = ask(other, "192.0.2.200")
        _status(r, 429, "another site's token the 11th time, new address")
        _retry_after(r, "the wrong-site token's 429")
        # the webhook counts its failures the same way
        for i in range(10):
            r = srv.request("POST", "/api/v1/tickets?site=" + SITE,
                            [("X-Forwarded-For", "203.0.113.99"),
                             ("Authorization", "Bearer dw_bad%d" % i),
                             ("Content-Type", "application/json")], "{}")
            _status(r, 401, "webhook with a bad token %d" % (i + 1))
        r = srv.request("POST", "/api/v1/tickets?site=" + SITE,
                        [("X-Forwarded-For", "203.0.113.99"),
                         ("Content-Type", "application/json")], "{}")
        _status(r, 429, "the webhook's 11th failed authentication")
