"""replay.py — wire 2: beacons that arrive twice, late or out of order.

A beacon can be retried by the browser, replayed by a proxy or sent again by
a script; since wire 2 every engage carries the view's cumulative engaged ms
and every search or custom event a per-view number, so none of that may
change a report. Old snippets (wire 1, deltas) keep working. Every public
function is one test, run by run.py, named for the behaviour it checks.
"""

import datetime
import json
import random

from harness import SITE, expect
from harness import day_iso as _today

ORIGIN_URL = "http://help.test"


# the sessions send minutes of engaged time on views a moment old: a day of
# allowance keeps the cap on forged time (abuse.py) out of these tests
_SERVE = ("--engage-allowance", "86400")


def _ev(t, vid, **kw):
    ev = {"s": SITE, "t": t, "v": vid, "wv": 2}
    ev.update(kw)
    return ev


def _session():
    """What two readers' browsers sent, one request per list, in order."""
    a, b = "replayViewA01", "replayViewB01"
    return [
        [_ev("view", a, u=ORIGIN_URL + "/kb/replay-a", ti="Replay A", w=600,
             c="accounts", sd=20)],
        [_ev("engage", a, e=15000, sd=40)],
        [_ev("search", a, q="reset password", n=3, i=1, sd=40)],
        [_ev("engage", a, e=30000, sd=70), _ev("vote", a, x="up", sd=70)],
        [_ev("event", a, n="copied-code", i=2, sd=70)],
        [_ev("engage", a, e=42000, sd=95)],
        [_ev("view", b, u=ORIGIN_URL + "/kb/replay-b", ti="Replay B", w=90,
             sd=100)],
        [_ev("engage", b, e=4000, sd=100)],
        [_ev("search", b, q="invoice", n=0, i=1, sd=100)],
        [_ev("engage", b, e=7000, sd=100), _ev("vote", b, x="down", sd=100)],
    ]


def _post_all(srv, requests):
    for i, evs in enumerate(requests):
        r = srv.post_events(evs)
        expect(r.status == 204, "request %d (%s): status %d, body %r"
               % (i, evs[0]["t"], r.status, r.body[:200]))


def _reports(t, data, articles=()):
    """Every report the CLI gives for today (and the detail of each of
    ARTICLES), as text, keyed by its flags."""
    day = _today()
    out = {}
    for extra in ([[], ["--summary"], ["--searches"]] +
                  [["--article", p] for p in articles]):
        args = ["report", SITE, "--data", data, "--format", "json",
                "--from", day, "--to", day] + extra
        r = t.dwell(*args)
        expect(r.returncode == 0, "dwell %s: exit %d: %s"
               % (" ".join(args), r.returncode, r.stderr.strip()[-300:]))
        out[" ".join(extra) or "articles"] = r.stdout
    return out


def _article(reports, path):
    doc = json.loads(reports["--article " + path])
    return doc.get("article", doc)


def replayed_and_shuffled_wire2_beacons_change_no_report(t):
    data = t.datadir()
    with t.server(*_SERVE, data=data) as srv:
        sent = _session()
        _post_all(srv, sent)
        paths = ("/kb/replay-a", "/kb/replay-b")
        before = _reports(t, data, paths)
        again = [evs for evs in sent] * 2
        random.Random(9).shuffle(again)
        _post_all(srv, again)
        # one request holding the whole session again, out of order
        flat = [ev for evs in sent for ev in evs]
        random.Random(10).shuffle(flat)
        _post_all(srv, [flat[:32]])
        after = _reports(t, data, paths)
    for key in before:
        expect(before[key] == after[key],
               "report %s changed after replaying every beacon twice:\n"
               "before %s\nafter  %s" % (key, before[key][:600],
                                         after[key][:600]))
    a = _article(before, "/kb/replay-a")
    text = json.dumps(a)
    expect("42" in text, "article detail of /kb/replay-a does not show "
           "its 42 s of engaged time: %s" % text[:600])


def wire2_engage_keeps_the_largest_total_wire1_adds_deltas(t):
    data = t.datadir()
    with t.server(*_SERVE, data=data) as srv:
        new, old = "wireTwoView01", "wireOneView01"
        _post_all(srv, [
            [_ev("view", new, u=ORIGIN_URL + "/kb/new", ti="New", w=300)],
            [_ev("engage", new, e=20000, sd=50)],
            [_ev("engage", new, e=12000, sd=30)],      # late: smaller total
            [_ev("engage", new, e=20000, sd=50)],      # a retry
            [{"s": SITE, "t": "view", "v": old, "u": ORIGIN_URL + "/kb/old",
              "ti": "Old", "w": 300}],
            [{"s": SITE, "t": "engage", "v": old, "e": 5000}],
            [{"s": SITE, "t": "engage", "v": old, "e": 7000}],
        ])
        reports = _reports(t, data)
        evs = t.events(data)
    stored = [e for e in evs if e["view"] == new and e["type"] == "engage"]
    expect(len(stored) == 3 and all(e.get("wire") == 2 for e in stored),
           "dwell events should keep all 3 engages of the wire-2 view, each "
           "with \"wire\":2: %r" % stored)
    old_ev = [e for e in evs if e["view"] == old and e["type"] == "engage"]
    expect(old_ev and all("wire" not in e for e in old_ev),
           "wire-1 engages are shown without a wire field: %r" % old_ev)
    rows = {r["path"]: r for r in json.loads(reports["articles"])["articles"]}
    want = {"/kb/new": 20000, "/kb/old": 12000}
    for path, ms in want.items():
        row = rows.get(path)
        expect(row is not None, "no row for %s in %r" % (path, list(rows)))
        got = row.get("engaged_p50_ms", row.get("median_engaged_ms"))
        expect(got is not None, "no median engaged field in %r" % row)
        # the median of one view is its histogram bucket: within 5 %
        expect(abs(got - ms) <= ms * 0.05 + 500,
               "%s: median engaged %r ms, expected %d (wire 2 keeps the "
               "largest total; wire 1 adds deltas)" % (path, got, ms))


def repeated_search_and_custom_event_of_a_view_count_once(t):
    data = t.datadir()
    with t.server(*_SERVE, data=data) as srv:
        v = "seqCountView1"
        _post_all(srv, [
            [_ev("view", v, u=ORIGIN_URL + "/kb/seq", ti="Seq", w=100)],
            [_ev("search", v, q="refund", n=2, i=1)],
            [_ev("search", v, q="refund", n=2, i=1)],
            [_ev("search", v, q="refund", n=2, i=2)],  # searched again
            [_ev("event", v, n="contact", i=3)],
            [_ev("event", v, n="contact", i=3)],
        ])
        reports = _reports(t, data, ["/kb/seq"])
    summary = json.loads(reports["--summary"])
    text = json.dumps(summary)
    searches = summary["totals"].get("searches")
    expect(searches == 2, "summary searches = %r, expected 2 (i=1 twice "
           "counts once, i=2 once): %s" % (searches, text[:400]))
    here = json.loads(reports["--article /kb/seq"]).get("searches_here")
    expect(here == [{"value": "refund", "count": 2}],
           "searches on /kb/seq: %r, expected refund counted 2 times" % here)
