"""reports.py — the reports against the real server and the real CLI: a
small dataset goes in through POST /e, and the reports API
(/api/v1/sites/SITE/...), its CSV, its checks and its tokens, the report
page, `dwell token`, `dwell report` and `dwell demo` must give back exactly
the numbers worked out by hand from DESIGN.md §7. Every public function is
one test (run by run.py after scenarios.py), named for the behaviour.
"""

import contextlib
import functools
import csv
import gzip
import datetime
import hashlib
import io
import json
import os
import re
import threading
import urllib.parse

import harness
from harness import SITE, API, expect
from harness import (view as _view, engage as _engage, today as _today,
                     token_and_id as _token, upto_today as _upto_today,
                     status as _status, error_message as _error,
                     names as _names)

# reports read the 30 days up to today unless the test says as_is=True
_get = functools.partial(harness.get, as_is=False)
_api_json = functools.partial(harness.api_json, as_is=False)


# --- the dataset ------------------------------------------------------------------

GB, US, SE, NO = "81.2.69.160", "216.160.83.56", "89.160.20.112", "2a02:cf40::1"
BOT_ADDR = "192.0.2.1"

ALPHA, BETA, GAMMA = "/kb/alpha", "/kb/beta", "/guides/gamma"
ALPHA_TITLE = 'Alpha, the "first" one'      # a comma and quotes: CSV quoting
GAMMA_TITLE = "=Gamma"                      # looks like a formula to a sheet


def _id(path):
    """The article id of PATH as the API shows it (FNV-1a 64, never 0)."""
    h = 0xcbf29ce484222325
    for b in path.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % (h or 1)


def _vote(vid, x):
    return {"s": SITE, "t": "vote", "v": vid, "x": x}


def _search(vid, q, n):
    return {"s": SITE, "t": "search", "v": vid, "q": q, "n": n}


# (X-Forwarded-For or None for the peer 127.0.0.1, events of one request),
# posted in this order. The server trusts 127.0.0.1, so the forwarded address
# is the reader's: it gives the country and, with the user agent, the visitor.
DATASET = [
    # /kb/alpha (46 words: 12 s expected): engaged 3, 6, 12 and 9 s
    (GB, [_view("alpha_v1", ALPHA, ALPHA_TITLE, "accounts", 46, 0),
          _engage("alpha_v1", 3000, 20), _vote("alpha_v1", "up")]),
    (GB, [_search("alpha_v1", "Reset  Password", 3)]),   # led to alpha_v3
    (US, [_view("alpha_v2", ALPHA, ALPHA_TITLE, "accounts", 46, 0),
          _engage("alpha_v2", 6000, 30), _vote("alpha_v2", "up")]),
    (GB, [_view("alpha_v3", ALPHA, ALPHA_TITLE, "accounts", 46, 0),
          _engage("alpha_v3", 12000, 95), _vote("alpha_v3", "down")]),
    (SE, [_view("alpha_v4", ALPHA, ALPHA_TITLE, "accounts", 46, 0),
          _engage("alpha_v4", 7000, 40), _engage("alpha_v4", 2000, 50),
          _vote("alpha_v4", "up")]),
    # /kb/beta (230 words: 60 s expected): 20 s without scrolling, 40 s
    (US, [_view("beta_v01", BETA, "Beta", "billing", 230),
          _engage("beta_v01", 20000)]),
    (US, [_search("beta_v01", "reset password", 0),
          _search("beta_v01", "dark mode", 0)]),
    (NO, [_view("beta_v02", BETA, "Beta", "billing", 230, 10),
          _engage("beta_v02", 40000, 50), _search("beta_v02", "dark mode", 0),
          _search("beta_v02", "Invoice", 5)]),
    # /guides/gamma (no word count): one second
    (None, [_view("gamma_v1", GAMMA, GAMMA_TITLE, "guides"),
            _engage("gamma_v1", 1000)]),
    # a bot ("b":1) on alpha: only with include_bots=1
    (BOT_ADDR, [_view("alpha_bot1", ALPHA, ALPHA_TITLE, "accounts", 46, 0,
                      bot=True),
                _engage("alpha_bot1", 30000, 100), _vote("alpha_bot1", "up")]),
]

# What the articles report must say for today (nulls: undefined ratios).
ALPHA_ROW = {
    "id": _id(ALPHA), "path": ALPHA, "title": ALPHA_TITLE,
    "category": "accounts", "words": 46, "views": 4, "visitors": 3,
    "reads": 1, "read_rate": 0.25, "read_through": 0.25,
    "read_ratio": 0.5833, "quick_exit_rate": 0.25, "engaged_p50_ms": 7000,
    "engaged_p75_ms": 10000, "engaged_p90_ms": 12600, "engaged_mean_ms": 7500,
    "votes_up": 3, "votes_down": 1, "helpful_rate": 0.75, "views_prev": 0,
    "views_change": None, "engaged_p50_prev_ms": None,
}
BETA_ROW = {
    "id": _id(BETA), "path": BETA, "title": "Beta", "category": "billing",
    "words": 230, "views": 2, "visitors": 2, "reads": 1, "read_rate": 0.5,
    "read_through": 0, "read_ratio": 0.35, "quick_exit_rate": 0,
    "engaged_p50_ms": 21000, "engaged_p75_ms": 40500,
    "engaged_p90_ms": 40800, "engaged_mean_ms": 30000, "votes_up": 0,
    "votes_down": 0, "helpful_rate": None, "views_prev": 0,
    "views_change": None, "engaged_p50_prev_ms": None,
}
GAMMA_ROW = {
    "id": _id(GAMMA), "path": GAMMA, "title": GAMMA_TITLE,
    "category": "guides", "words": 0, "views": 1, "visitors": 1, "reads": 0,
    "read_rate": 0, "read_through": 0, "read_ratio": None,
    "quick_exit_rate": 1, "engaged_p50_ms": 1500, "engaged_p75_ms": 1750,
    "engaged_p90_ms": 1900, "engaged_mean_ms": 1000, "votes_up": 0,
    "votes_down": 0, "helpful_rate": None, "views_prev": 0,
    "views_change": None, "engaged_p50_prev_ms": None,
}
# the engaged-time bucket each median must fall in: [lower, upper] ms
P50_BUCKET = {ALPHA: (6000, 7000), BETA: (20000, 21000), GAMMA: (1000, 2000)}

TOP_SEARCHES = [{"query": "dark mode", "count": 2, "zero_results": 2},
                {"query": "reset password", "count": 2, "zero_results": 1},
                {"query": "invoice", "count": 1, "zero_results": 0}]
ZERO_SEARCHES = [{"query": "dark mode", "count": 2},
                 {"query": "reset password", "count": 1}]

ARTICLE_CSV_HEADER = [
    "id", "path", "title", "category", "words", "views", "visitors", "reads",
    "read_rate", "read_through", "read_ratio", "quick_exit_rate",
    "engaged_p50_ms", "engaged_p75_ms", "engaged_p90_ms", "engaged_mean_ms",
    "votes_up", "votes_down", "helpful_rate", "views_prev", "views_change",
    "page"]



# --- helpers ------------------------------------------------------------------------

def _serve(t, data=None):
    """A server that takes countries from the test database and trusts
    X-Forwarded-For from 127.0.0.1; the dataset's views are sent at once
    with minutes of engaged time, so the engage allowance is a day."""
    return t.server("--geo", t.geo("maxmind"), "--trust-proxy", "127.0.0.1/32",
                    "--engage-allowance", "86400", data=data)


def _send_dataset(srv):
    for i, (xff, evs) in enumerate(DATASET):
        r = srv.post_events(evs, xff=xff)
        expect(r.status == 204, "dataset request %d (%s): status %d, body %r"
               % (i, evs[0]["v"], r.status, r.body[:200]))


def _same_number(got, want):
    if want is None or got is None:
        return got is None and want is None
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    return abs(got - want) < 1e-9


def _check_row(got, want, what):
    bad = []
    for k, v in want.items():
        if k not in got:
            bad.append("%s missing" % k)
        elif isinstance(v, str):
            if got[k] != v:
                bad.append("%s = %r, expected %r" % (k, got[k], v))
        elif not _same_number(got[k], v):
            bad.append("%s = %r, expected %r" % (k, got[k], v))
    expect(not bad, "%s: %s" % (what, "; ".join(bad)))
    p = got.get("path")
    if p in P50_BUCKET and "engaged_p50_ms" in want and \
            got.get("engaged_p50_ms") is not None:
        lo, hi = P50_BUCKET[p]
        expect(lo <= got["engaged_p50_ms"] <= hi,
               "%s: engaged_p50_ms %r outside its bucket [%d, %d]"
               % (what, got["engaged_p50_ms"], lo, hi))


def _paths(doc):
    return [a["path"] for a in doc["articles"]]


@contextlib.contextmanager
def _ready(t):
    """A server with the dataset sent and a full token for help.test:
    `with _ready(t) as (srv, tok):`."""
    with _serve(t) as srv:
        _send_dataset(srv)
        tok, _ = _token(t, srv.data)
        yield srv, tok


# --- the API: numbers -----------------------------------------------------------------

def reports_api_articles_give_the_exact_numbers_of_the_dataset(t):
    with _ready(t) as (srv, tok):
        doc = _api_json(srv, tok, API + SITE + "/articles")
        today = _today().isoformat()
        first = (_today() - datetime.timedelta(days=29)).isoformat()
        expect(doc.get("site") == SITE and doc.get("to") == today and
               doc.get("from") == first,
               "scope site=%r from=%r to=%r, expected %s, %s, %s (the last "
               "30 days)" % (doc.get("site"), doc.get("from"), doc.get("to"),
                             SITE, first, today))
        expect(doc.get("total") == 3 and doc.get("sort") == "views" and
               doc.get("order") == "desc" and doc.get("limit") == 50 and
               doc.get("offset") == 0,
               "total/sort/order/limit/offset: %r" % {
                   k: doc.get(k) for k in ("total", "sort", "order", "limit",
                                           "offset")})
        expect(_paths(doc) == [ALPHA, BETA, GAMMA],
               "articles %s, expected alpha, beta, gamma (views descending)"
               % _paths(doc))
        rows = {a["path"]: a for a in doc["articles"]}
        _check_row(rows[ALPHA], ALPHA_ROW, "alpha")
        _check_row(rows[BETA], BETA_ROW, "beta")
        _check_row(rows[GAMMA], GAMMA_ROW, "gamma")
        expect(srv.request("GET", API + SITE + "/articles",
                           [("Authorization", "Bearer " + tok)])
               .header("Cache-Control") == "no-store",
               "reports without Cache-Control: no-store")

        # include_bots=1: the bot's view (30 s, 100 %) and vote count
        doc = _api_json(srv, tok, API + SITE + "/articles?include_bots=1")
        a = {x["path"]: x for x in doc["articles"]}[ALPHA]
        _check_row(a, {"views": 5, "visitors": 4, "votes_up": 4,
                       "votes_down": 1, "helpful_rate": 0.8,
                       "read_through": 0.4}, "alpha with include_bots=1")
        doc = _api_json(srv, tok, API + SITE + "/articles?include_bots=0")
        a = {x["path"]: x for x in doc["articles"]}[ALPHA]
        _check_row(a, {"views": 4, "votes_up": 3}, "alpha with include_bots=0")

        # a range without today: nothing
        doc = _api_json(srv, tok, API + SITE +
                        "/articles?from=2020-01-01&to=2020-01-31")
        expect(doc.get("total") == 0 and doc.get("articles") == [],
               "January 2020: %r" % doc)
        # an explicit range holding today only
        doc = _api_json(srv, tok, API + SITE + "/articles?from=%s&to=%s"
                        % (today, today))
        _check_row({x["path"]: x for x in doc["articles"]}[ALPHA], ALPHA_ROW,
                   "alpha, from=to=today")


def reports_api_article_detail_summary_and_searches_are_exact(t):
    with _ready(t) as (srv, tok):
        today = _today().isoformat()
        # one article
        doc = _api_json(srv, tok, API + SITE + "/articles/" + _id(ALPHA))
        _check_row(doc.get("article", {}), ALPHA_ROW, "articles/ID alpha")
        expect(doc.get("countries") == [{"value": "GB", "count": 2},
                                        {"value": "SE", "count": 1},
                                        {"value": "US", "count": 1}],
               "alpha countries %r, expected GB 2, SE 1, US 1"
               % doc.get("countries"))
        expect(doc.get("referrers") == [{"value": "(direct)", "count": 4}],
               "alpha referrers %r" % doc.get("referrers"))
        # GB searched "reset password", then read alpha (alpha_v3)
        expect(doc.get("searches_led_here") ==
               [{"value": "reset password", "count": 1}],
               "alpha searches_led_here %r, expected reset password once"
               % doc.get("searches_led_here"))
        hist = doc.get("histogram") or []
        counts = {h["lower_ms"]: h["count"] for h in hist}
        expect(sum(counts.values()) == 4 and counts.get(3000) == 1 and
               counts.get(6000) == 1 and counts.get(9000) == 1 and
               counts.get(12000) == 1,
               "alpha histogram %r, expected one view at 3, 6, 9 and 12 s"
               % hist)
        for h in hist:
            expect(h["upper_ms"] > h["lower_ms"], "bucket %r" % h)
        scroll = {s["from"]: s["count"] for s in doc.get("scroll", [])}
        expect(len(doc.get("scroll", [])) == 11 and scroll.get(20) == 1 and
               scroll.get(30) == 1 and scroll.get(50) == 1 and
               scroll.get(90) == 1 and sum(scroll.values()) == 4,
               "alpha scroll %r" % doc.get("scroll"))
        series = doc.get("series") or []
        expect(len(series) == 30 and series[-1].get("date") == today and
               series[-1].get("views") == 4 and
               sum(d["views"] for d in series) == 4,
               "alpha series: %d days, last %r" % (len(series),
                                                   series[-1:] or None))
        doc = _api_json(srv, tok, API + SITE + "/articles/" + _id(BETA))
        _check_row(doc.get("article", {}), BETA_ROW, "articles/ID beta")
        expect(doc.get("countries") == [{"value": "NO", "count": 1},
                                        {"value": "US", "count": 1}],
               "beta countries %r" % doc.get("countries"))

        # the summary
        doc = _api_json(srv, tok, API + SITE + "/summary")
        tot = doc.get("totals", {})
        want = {"views": 7, "visitors": 5, "reads": 2, "votes_up": 3,
                "votes_down": 1, "helpful_rate": 0.75, "searches": 5,
                "read_rate": 0.2857, "quick_exit_rate": 0.2857,
                "engaged_p50_ms": 9500}
        bad = ["%s = %r, expected %r" % (k, tot.get(k), v)
               for k, v in want.items() if not _same_number(tot.get(k), v)]
        expect(not bad, "summary totals: %s" % "; ".join(bad))
        expect(9000 <= tot["engaged_p50_ms"] <= 10000,
               "summary median outside the bucket of 9 s")
        expect(doc.get("previous_totals", {}).get("views") == 0,
               "previous_totals %r" % doc.get("previous_totals"))
        expect(doc.get("change", {}).get("views", "absent") is None,
               "change.views %r, expected null (no previous views)"
               % doc.get("change"))
        expect(doc.get("top_searches") == TOP_SEARCHES,
               "top_searches %r, expected %r" % (doc.get("top_searches"),
                                                  TOP_SEARCHES))
        expect(doc.get("zero_result_searches") == ZERO_SEARCHES,
               "zero_result_searches %r" % doc.get("zero_result_searches"))
        expect([a["path"] for a in doc.get("top_articles", [])] ==
               [ALPHA, BETA, GAMMA],
               "top_articles %r" % [a.get("path") for a in
                                    doc.get("top_articles", [])])
        _check_row(doc["top_articles"][0], ALPHA_ROW, "summary top_articles[0]")
        expect(doc.get("no_views") == [], "no_views %r" % doc.get("no_views"))
        series = doc.get("series") or []
        expect(len(series) == 30 and series[-1].get("date") == today and
               series[-1].get("views") == 7 and
               series[-1].get("visitors") == 5 and
               sum(d["views"] for d in series) == 7,
               "summary series: %d days, last %r" % (len(series),
                                                     series[-1:] or None))

        # with a prefix: the article sums are filtered, visitors and the
        # series stay site-wide (docs/metrics.md, Site-wide numbers)
        doc = _api_json(srv, tok, API + SITE + "/summary?prefix=/kb/")
        tot = doc.get("totals", {})
        expect(tot.get("views") == 6 and tot.get("votes_up") == 3 and
               tot.get("visitors") == 5 and tot.get("searches") == 5 and
               doc["series"][-1].get("views") == 7,
               "summary?prefix=/kb/: totals %r, series today %r"
               % (tot, doc["series"][-1]))
        expect([a["path"] for a in doc.get("top_articles", [])] ==
               [ALPHA, BETA], "summary?prefix=/kb/ top_articles %r"
               % [a.get("path") for a in doc.get("top_articles", [])])

        # the searches report
        doc = _api_json(srv, tok, API + SITE + "/searches")
        expect(doc.get("searches") == TOP_SEARCHES,
               "searches %r, expected %r" % (doc.get("searches"), TOP_SEARCHES))
        expect(doc.get("zero_result_searches") == ZERO_SEARCHES,
               "zero_result_searches %r" % doc.get("zero_result_searches"))
        doc = _api_json(srv, tok, API + SITE + "/searches?limit=1")
        expect(doc.get("searches") == TOP_SEARCHES[:1] and
               doc.get("zero_result_searches") == ZERO_SEARCHES[:1],
               "searches?limit=1: %r" % doc)


def reports_api_sorts_pages_and_filters_articles(t):
    with _ready(t) as (srv, tok):
        base = API + SITE + "/articles?"

        def paths(q):
            return _paths(_api_json(srv, tok, base + q))
        cases = [
            ("sort=views", [ALPHA, BETA, GAMMA]),
            ("sort=views&order=asc", [GAMMA, BETA, ALPHA]),
            ("sort=views&order=desc", [ALPHA, BETA, GAMMA]),
            # text sorts ascend by default; "=" sorts before letters
            ("sort=title", [GAMMA, ALPHA, BETA]),
            ("sort=title&order=desc", [BETA, ALPHA, GAMMA]),
            ("sort=path", [GAMMA, ALPHA, BETA]),
            ("sort=engaged_p50", [BETA, ALPHA, GAMMA]),
            ("sort=engaged_p50&order=asc", [GAMMA, ALPHA, BETA]),
            # undefined values (beta, gamma: no votes) last either way
            ("sort=helpful", [ALPHA, GAMMA, BETA]),
            ("sort=helpful&order=asc", [ALPHA, GAMMA, BETA]),
            ("sort=read_ratio", [ALPHA, BETA, GAMMA]),
            ("sort=read_ratio&order=asc", [BETA, ALPHA, GAMMA]),
            ("sort=quick_exits", [GAMMA, ALPHA, BETA]),
            # paging
            ("limit=1", [ALPHA]),
            ("limit=1&offset=1", [BETA]),
            ("limit=2&offset=1", [BETA, GAMMA]),
            ("offset=2", [GAMMA]),
            ("offset=3", []),
            ("offset=100", []),
            ("limit=1000", [ALPHA, BETA, GAMMA]),
            # filters
            ("prefix=/kb/", [ALPHA, BETA]),
            ("prefix=%2Fkb%2F", [ALPHA, BETA]),
            ("prefix=/guides", [GAMMA]),
            ("prefix=/nothing", []),
            ("prefix=", [ALPHA, BETA, GAMMA]),
            ("category=billing", [BETA]),
            ("category=bill", []),
            ("prefix=/kb/&category=accounts", [ALPHA]),
            ("prefix=/guides/&category=accounts", []),
            ("prefix=/kb/&sort=views&order=asc&limit=1", [BETA]),
        ]
        bad = []
        for q, want in cases:
            got = paths(q)
            if got != want:
                bad.append("?%s gave %s, expected %s" % (q, got, want))
        expect(not bad, "; ".join(bad))
        doc = _api_json(srv, tok, base + "limit=1&offset=1")
        expect(doc.get("total") == 3 and doc.get("limit") == 1 and
               doc.get("offset") == 1,
               "limit=1&offset=1: total %r limit %r offset %r, expected 3, 1, 1"
               % (doc.get("total"), doc.get("limit"), doc.get("offset")))
        doc = _api_json(srv, tok, base + "prefix=/kb/")
        expect(doc.get("total") == 2, "prefix=/kb/: total %r" % doc.get("total"))
        doc = _api_json(srv, tok, base + "sort=title")
        expect(doc.get("sort") == "title" and doc.get("order") == "asc",
               "sort=title: sort %r order %r" % (doc.get("sort"),
                                                 doc.get("order")))


def reports_csv_matches_the_json(t):
    with _ready(t) as (srv, tok):
        js = _api_json(srv, tok, API + SITE + "/articles")
        by_path = {a["path"]: a for a in js["articles"]}
        r1 = _get(srv, API + SITE + "/articles.csv", tok)
        r2 = _get(srv, API + SITE + "/articles", tok,
                  [("Accept", "text/csv")])
        for r, what in ((r1, "articles.csv"), (r2, "Accept: text/csv")):
            _status(r, 200, what)
            ct = r.header("Content-Type") or ""
            expect(ct.startswith("text/csv"), "%s: Content-Type %r" % (what, ct))
        expect(r1.body == r2.body, "articles.csv and Accept: text/csv differ:"
               " %r / %r" % (r1.body[:200], r2.body[:200]))
        rows = list(csv.reader(io.StringIO(r1.body.decode("utf-8"),
                                           newline="")))
        expect(rows and rows[0] == ARTICLE_CSV_HEADER,
               "CSV header %r, expected %r" % (rows[:1], ARTICLE_CSV_HEADER))
        expect(len(rows) == 4, "CSV has %d rows, expected a header and 3"
               % len(rows))
        expect([row[1] for row in rows[1:]] == [ALPHA, BETA, GAMMA],
               "CSV order %r" % [row[1] for row in rows[1:]])
        bad = []
        for row in rows[1:]:
            rec = dict(zip(rows[0], row))
            j = by_path[rec["path"]]
            for k in ARTICLE_CSV_HEADER:
                cv, jv = rec[k], j.get(k)
                if k == "title" and jv.startswith("="):
                    if cv != "'" + jv:
                        bad.append("%s title %r, expected '%s (formula made "
                                   "inert)" % (rec["path"], cv, jv))
                elif isinstance(jv, str):
                    if cv != jv:
                        bad.append("%s %s: CSV %r, JSON %r"
                                   % (rec["path"], k, cv, jv))
                elif jv is None:
                    if cv != "":
                        bad.append("%s %s: CSV %r, JSON null"
                                   % (rec["path"], k, cv))
                else:
                    try:
                        ok = abs(float(cv) - jv) < 1e-9
                    except ValueError:
                        ok = False
                    if not ok:
                        bad.append("%s %s: CSV %r, JSON %r"
                                   % (rec["path"], k, cv, jv))
        expect(not bad, "; ".join(bad))
        expect(r1.body.endswith(b"\r\n"), "CSV rows do not end with CRLF")

        # the other reports in CSV
        r = _get(srv, API + SITE + "/searches.csv", tok)
        _status(r, 200, "searches.csv")
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
        want = [["query", "count", "zero_results"]] + [
            [s["query"], str(s["count"]), str(s["zero_results"])]
            for s in TOP_SEARCHES]
        expect(rows == want, "searches.csv %r, expected %r" % (rows, want))
        r = _get(srv, API + SITE + "/summary", tok, [("Accept", "text/csv")])
        _status(r, 200, "summary, Accept: text/csv")
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
        expect(rows[0] == ["date", "views", "visitors", "reads"] and
               len(rows) == 31 and
               rows[-1][:3] == [_today().isoformat(), "7", "5"] and
               all(row[1] == "0" for row in rows[1:-1]),
               "summary CSV: header %r, %d rows, last %r"
               % (rows[:1], len(rows), rows[-1:]))
        r = _get(srv, API + SITE + "/articles/" + _id(ALPHA) + ".csv", tok)
        _status(r, 200, "articles/ID.csv")
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
        expect(rows[0] == ["date", "views", "visitors", "reads",
                           "engaged_p50_ms"] and len(rows) == 31 and
               rows[-1] == [_today().isoformat(), "4", "3", "1", "7000"] and
               rows[1][1:] == ["0", "0", "0", ""],
               "article CSV: header %r, %d rows, first %r, last %r"
               % (rows[:1], len(rows), rows[1:2], rows[-1:]))


def reports_api_names_the_bad_parameter(t):
    with _ready(t) as (srv, tok):
        cases = [
            ("from=2026-02-30", "from"), ("from=2026-13-01", "from"),
            ("from=2026-1-01", "from"), ("from=yesterday", "from"),
            ("from=1969-12-31", "from"),
            ("to=2026-02-30", "to"), ("to=2026-13-01", "to"), ("to=", "to"),
            ("from=2026-01-10&to=2026-01-01", "from"),       # after to
            ("from=2000-01-01&to=2026-01-01", "from"),       # > 3660 days
            ("sort=bogus", "sort"), ("sort=VIEWS", "sort"), ("sort=", "sort"),
            ("order=up", "order"), ("order=", "order"),
            ("limit=0", "limit"), ("limit=1001", "limit"),
            ("limit=-1", "limit"), ("limit=ten", "limit"), ("limit=", "limit"),
            ("offset=-1", "offset"), ("offset=x", "offset"),
            ("offset=1e3", "offset"),
            ("include_bots=2", "include_bots"),
            ("include_bots=yes", "include_bots"),
            ("include_bots=", "include_bots"),
            ("prefix=kb", "prefix"), ("prefix=kb/", "prefix"),
            ("days=0", "days"), ("days=3661", "days"), ("days=7d", "days"),
            ("days=", "days"),
            ("from=2026-01-01&to=2026-01-10&days=10", "days"),
            ("from=%s" % (_today() + datetime.timedelta(days=1)), "from"),
        ]
        bad = []
        for view in ("articles", "summary", "searches",
                     "articles/" + _id(ALPHA)):
            for q, param in cases:
                target = API + SITE + "/" + view + "?" + q
                r = _get(srv, target, tok)
                if r.status != 400:
                    bad.append("%s: status %d" % (target, r.status))
                    continue
                msg = _error(r, target)
                if not _names(msg, param):
                    bad.append("%s: error %r does not name %s"
                               % (target, msg, param))
        expect(not bad, "%d bad answers: %s" % (len(bad), "; ".join(bad[:8])))
        # the edges that are fine
        for q in ("limit=1", "limit=1000", "offset=0", "include_bots=0",
                  "from=2016-01-01&to=2026-01-01", "order=asc",
                  "from=2024-02-29&to=2024-02-29",
                  "to=%s" % (_today() + datetime.timedelta(days=5)).isoformat(),
                  "from=%s" % _today().isoformat()):
            r = _get(srv, API + SITE + "/articles?" + q, tok)
            _status(r, 200, "articles?" + q)


def reports_default_range_is_full_days_and_a_future_to_is_clamped(t):
    # docs/metrics.md, Full days and today so far: without dates a report
    # covers the 30 days that end yesterday, so today's dataset is not in
    # it; a `to` after today ends the report today, and says so
    with _ready(t) as (srv, tok):
        today = _today()
        yday = today - datetime.timedelta(days=1)
        iso = datetime.date.isoformat

        def rng(frm, to, **extra):
            want = {"from": iso(frm), "to": iso(to),
                    "days": (to - frm).days + 1, "today": iso(today),
                    "includes_today": to == today, "clamped": False}
            want.update(extra)
            return want

        doc = _api_json(srv, tok, API + SITE + "/articles", as_is=True)
        want = rng(yday - datetime.timedelta(days=29), yday)
        expect(doc.get("range") == want and doc.get("from") == want["from"]
               and doc.get("to") == want["to"],
               "articles without dates: from %r to %r range %r, expected %r"
               % (doc.get("from"), doc.get("to"), doc.get("range"), want))
        expect(doc.get("total") == 0,
               "articles without dates list %r; the dataset is today's, "
               "and today is not a full day" % _paths(doc))
        doc = _api_json(srv, tok, API + SITE + "/summary", as_is=True)
        series = doc.get("series") or []
        expect(doc.get("totals", {}).get("views") == 0 and len(series) == 30
               and series[-1].get("date") == iso(yday),
               "summary without dates: views %r, %d days ending %r"
               % (doc.get("totals", {}).get("views"), len(series),
                  series[-1:]))
        expect(doc.get("previous") == {
                   "from": iso(yday - datetime.timedelta(days=59)),
                   "to": iso(yday - datetime.timedelta(days=30))},
               "previous period %r" % doc.get("previous"))

        # days=N: the N full days before today
        doc = _api_json(srv, tok, API + SITE + "/summary?days=7", as_is=True)
        want = rng(yday - datetime.timedelta(days=6), yday)
        expect(doc.get("range") == want, "days=7: range %r, expected %r"
               % (doc.get("range"), want))

        # today so far, asked for: the dataset, marked as including today
        doc = _api_json(srv, tok, API + SITE + "/summary?from=%s&to=%s"
                        % (today, today), as_is=True)
        expect(doc.get("range") == rng(today, today) and
               doc.get("totals", {}).get("views") == 7,
               "today only: range %r, views %r, expected 7"
               % (doc.get("range"), doc.get("totals", {}).get("views")))

        # a future `to` is clamped to today
        later = today + datetime.timedelta(days=5)
        doc = _api_json(srv, tok, API + SITE + "/articles?to=%s" % later,
                        as_is=True)
        want = rng(today - datetime.timedelta(days=29), today,
                   clamped=True, requested_to=iso(later))
        expect(doc.get("range") == want and doc.get("to") == iso(today),
               "to=%s: to %r range %r, expected %r"
               % (later, doc.get("to"), doc.get("range"), want))
        _check_row({x["path"]: x for x in doc["articles"]}[ALPHA], ALPHA_ROW,
                   "alpha, to in the future")
        frm = today - datetime.timedelta(days=2)
        doc = _api_json(srv, tok, API + SITE + "/summary?from=%s&to=%s"
                        % (frm, later), as_is=True)
        series = doc.get("series") or []
        expect(doc.get("range") == rng(frm, today, clamped=True,
                                       requested_to=iso(later)) and
               [d.get("date") for d in series] ==
               [iso(frm + datetime.timedelta(days=i)) for i in range(3)] and
               doc.get("totals", {}).get("views") == 7 and
               doc.get("previous", {}).get("to") ==
               iso(frm - datetime.timedelta(days=1)),
               "from=%s&to=%s: range %r, series %r, views %r; expected 3 "
               "days ending today with the 7 views, no empty future days"
               % (frm, later, doc.get("range"),
                  [d.get("date") for d in series],
                  doc.get("totals", {}).get("views")))
        # a range wholly in the future is refused, naming from
        r = _get(srv, API + SITE + "/summary?from=%s&to=%s"
                 % (later, later + datetime.timedelta(days=3)), tok,
                 as_is=True)
        _status(r, 400, "a range in the future")
        msg = _error(r, "a range in the future")
        expect(_names(msg, "from") and "today" in msg,
               "a range in the future: error %r" % msg)

        # the CLI decides the same way
        r = t.dwell("report", SITE, "--data", srv.data, "--format", "json")
        expect(r.returncode == 0 and json.loads(r.stdout) ==
               _api_json(srv, tok, API + SITE + "/articles", as_is=True),
               "dwell report without dates differs from GET /articles "
               "without dates: %r" % r.stdout[:300])
        r = t.dwell("report", SITE, "--data", srv.data, "--summary")
        head = r.stdout.splitlines()[0] if r.stdout else ""
        expect(r.returncode == 0 and head.startswith(
                   "%s to %s UTC (full days)" % (want_from := iso(
                       yday - datetime.timedelta(days=29)), iso(yday))),
               "dwell report --summary starts %r, expected %s to %s "
               "(full days)" % (head, want_from, iso(yday)))
        r = t.dwell("report", SITE, "--data", srv.data, "--format", "json",
                    "--to", iso(later))
        expect(r.returncode == 0 and json.loads(r.stdout).get("range") ==
               rng(today - datetime.timedelta(days=29), today, clamped=True,
                   requested_to=iso(later)) and
               iso(later) in r.stderr and "today" in r.stderr,
               "dwell report --to %s: exit %d, stderr %r, range %r"
               % (later, r.returncode, r.stderr[:200], r.stdout[:300]))
        r = t.dwell("report", SITE, "--data", srv.data, "--format", "json",
                    "--days", "7")
        expect(r.returncode == 0 and json.loads(r.stdout).get("range") ==
               rng(yday - datetime.timedelta(days=6), yday),
               "dwell report --days 7: %r" % r.stdout[:300])


def _doc_anchors(page="docs/metrics.md"):
    """The GitHub anchors of PAGE's headings."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", page)
    with open(path, encoding="utf-8") as f:
        heads = [l.lstrip("#").strip() for l in f if l.startswith("#")]
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
            for h in heads}


def reports_legend_is_served_and_printed_from_one_declaration(t):
    # every metric the report shows has a definition and a docs anchor;
    # the API (for the report page) and `dwell report --legend` give the
    # same ones
    with _ready(t) as (srv, tok):
        doc = _api_json(srv, tok, API + SITE + "/legend")
        ms = doc.get("metrics") or []
        keys = [m.get("key") for m in ms]
        need = {"views", "views_change", "visitors", "reads", "read_rate",
                "read_through", "quick_exits", "engaged_p50", "engaged_p75",
                "engaged_p90", "engaged_mean", "read_ratio", "helpful",
                "votes", "words", "searches", "today", "title", "path",
                "category"}
        expect(need <= set(keys) and len(keys) == len(set(keys)),
               "legend keys %r: missing %r or repeated"
               % (keys, sorted(need - set(keys))))
        bad = [m for m in ms if not (m.get("label") and
               len(m.get("definition") or "") > 20 and
               re.match(r"^docs/(metrics|tickets)\.md#", m.get("doc") or "")
               and m["doc"].split("#", 1)[1] in
               _doc_anchors(m["doc"].split("#")[0]))]
        expect(not bad, "legend entries without a label, a definition or "
               "an anchor of docs/metrics.md or docs/tickets.md: %r"
               % bad[:3])
        # the report page links each definition to /docs/…: the server
        # answers it, as HTML, with an element of that id
        for m in ms:
            page, anchor = m["doc"].split("#", 1)
            r = _get(srv, "/" + page)
            _status(r, 200, "GET /" + page)
            expect((r.header("Content-Type") or "").startswith("text/html")
                   and ('id="%s"' % anchor).encode() in r.body,
                   "GET /%s: no element with id %r for %s"
                   % (page, anchor, m["key"]))
        r = _get(srv, API + SITE + "/legend")
        _status(r, 401, "legend without a token")

        r = t.dwell("report", "--legend", "--format", "json")
        expect(r.returncode == 0 and json.loads(r.stdout) == doc,
               "dwell report --legend --format json differs from GET "
               "legend: exit %d %r" % (r.returncode, r.stdout[:300]))
        r = t.dwell("report", "--legend")
        expect(r.returncode == 0, "dwell report --legend: exit %d: %s"
               % (r.returncode, r.stderr[:200]))
        _check_table(r.stdout, "dwell report --legend")
        flat = " ".join(r.stdout.split())
        missing = [m["key"] for m in ms
                   if "%s (%s)" % (m["label"], m["key"]) not in flat or
                   m["definition"] not in flat or m["doc"] not in flat]
        expect(not missing, "dwell report --legend lacks the label, "
               "definition or link of %r" % missing)
        r = _get(srv, API + SITE + "/legend.csv", tok)
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"),
                                           newline="")))
        expect(rows[0] == ["key", "label", "definition", "doc"] and
               [row[0] for row in rows[1:]] == keys and
               [row[2] for row in rows[1:]] ==
               [m["definition"] for m in ms],
               "legend.csv %r" % rows[:3])


def reports_summary_series_counts_the_reads_of_each_day(t):
    # DESIGN §7: reads per day in the daily series. Today's totals say 2
    # reads (alpha_v3, beta_v2); the site-wide series must say so too.
    with _ready(t) as (srv, tok):
        doc = _api_json(srv, tok, API + SITE + "/summary")
        totals = doc["totals"]["reads"]
        last = doc["series"][-1]
        r = _get(srv, API + SITE + "/summary.csv", tok)
        _status(r, 200, "summary.csv")
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
        expect(totals == 2, "totals.reads %r, expected 2" % totals)
        expect(last.get("reads") == 2 and rows[-1][3:] == ["2"],
               "today in the summary series: reads %r (JSON), %r (CSV); "
               "totals.reads is %r and the article series count them"
               % (last.get("reads"), rows[-1][3:], totals))


def reports_pixel_view_keeps_the_articles_title_category_and_words(t):
    # the noscript pixel sends no word count (and here no title or
    # category): the article keeps what its beacon views said
    with _ready(t) as (srv, tok):
        try:
            r = srv.request("GET", "/p.gif?s=help.test&u=%2Fkb%2Falpha",
                            [("User-Agent", harness.CHROME_UA),
                             ("Referer", "http://help.test/kb/alpha")])
            _status(r, 200, "pixel view of alpha")
            doc = _api_json(srv, tok, API + SITE + "/articles/" + _id(ALPHA))
        except (harness.TestFailure, OSError) as e:
            if srv.alive():
                raise
            srv.wait(5)
            raise harness.TestFailure(
                "%s; the server died (status %s): %s"
                % (e, srv.proc.returncode,
                   harness.sanitizer_report(srv.log_tail(1 << 20)) or
                   srv.log_tail(300)))
        _check_row(doc.get("article", {}),
                   {"views": 5, "title": ALPHA_TITLE, "category": "accounts",
                    "words": 46}, "alpha after a pixel view")


# --- pages that are not articles ------------------------------------------------------

def _kind_pages():
    """/search marked "search" (12 views of 0 s from 12 readers: all quick
    exits, which would top "needs attention" as an article), the site root
    without a kind (home) and /kb marked "list", one view each."""
    evs = []
    for i in range(12):
        evs.append((None if i == 0 else "192.0.2.%d" % (100 + i),
                    [{"s": SITE, "t": "view", "v": "kind_srch_%02d" % i,
                      "u": "http://help.test/search",  # as the snippet
                      # sends it: the query (q) stays in the browser
                      "ti": "Search results", "pk": "search", "wv": 2}]))
    evs.append(("192.0.2.150", [{"s": SITE, "t": "view", "v": "kind_home_01",
                                 "u": "http://help.test/", "ti": "Help"}]))
    evs.append(("192.0.2.151", [{"s": SITE, "t": "view", "v": "kind_list_01",
                                 "u": "http://help.test/kb", "pk": "list",
                                 "ti": "All articles"}]))
    return evs


def reports_pages_that_are_not_articles_count_in_totals_only(t):
    with _ready(t) as (srv, tok):
        base = _api_json(srv, tok, API + SITE + "/summary")
        for xff, evs in _kind_pages():
            r = srv.post_events(evs, xff=xff)
            expect(r.status == 204, "%s: status %d, body %r"
                   % (evs[0]["v"], r.status, r.body[:200]))
        doc = _api_json(srv, tok, API + SITE + "/summary")
        tot, tot0 = doc.get("totals", {}), base.get("totals", {})
        expect(tot.get("views") == tot0.get("views") + 14,
               "summary totals.views %r, expected %r + 14 (search, home and "
               "list pages count in site totals)"
               % (tot.get("views"), tot0.get("views")))
        expect(tot.get("visitors") == tot0.get("visitors") + 13,
               "summary totals.visitors %r, expected %r + 13"
               % (tot.get("visitors"), tot0.get("visitors")))
        shown = [a["path"] for key in ("top_articles", "needs_attention",
                                       "no_views")
                 for a in doc.get(key, [])]
        expect(not {"/search", "/", "/kb"} & set(shown),
               "pages that are not articles in the summary's article tables: "
               "%r" % shown)
        expect([a["path"] for a in doc.get("needs_attention", [])] ==
               [a["path"] for a in base.get("needs_attention", [])],
               "needs_attention changed: %r" % doc.get("needs_attention"))

        arts = _api_json(srv, tok, API + SITE + "/articles")
        expect(_paths(arts) == [ALPHA, BETA, GAMMA] and arts["total"] == 3,
               "articles %r (total %r), expected alpha, beta, gamma only"
               % (_paths(arts), arts.get("total")))
        expect(all(a.get("page") == "article" for a in arts["articles"]),
               "article rows without \"page\": \"article\": %r"
               % [a.get("page") for a in arts["articles"]])

        # kind=search: the search page, ranked like an article
        srch = _api_json(srv, tok, API + SITE + "/articles?kind=search")
        expect(_paths(srch) == ["/search"], "kind=search: %r" % _paths(srch))
        row = srch["articles"][0]
        _check_row(row, {"page": "search", "views": 12, "visitors": 12,
                         "quick_exit_rate": 1, "title": "Search results"},
                   "kind=search /search")
        att = _api_json(srv, tok, API + SITE + "/articles?kind=search"
                        "&sort=attention")
        expect(att["articles"][0].get("attention_reason") ==
               "most readers leave within 5 s",
               "kind=search sorted by attention: %r" % att["articles"][0])
        both = _api_json(srv, tok, API + SITE + "/articles?kind=home,list"
                         "&sort=path&order=asc")
        expect([(a["path"], a["page"]) for a in both["articles"]] ==
               [("/", "home"), ("/kb", "list")],
               "kind=home,list: %r" % [(a["path"], a.get("page"))
                                        for a in both["articles"]])
        every = _api_json(srv, tok, API + SITE + "/articles?kind=all")
        expect(every["total"] == 6, "kind=all: total %r, expected 6"
               % every.get("total"))

        # CSV: the same rows, with their page kind last
        r = _get(srv, API + SITE + "/articles.csv?kind=search", tok)
        _status(r, 200, "articles.csv?kind=search")
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"),
                                           newline="")))
        expect(rows[0][-1] == "page" and len(rows) == 2 and
               rows[1][1] == "/search" and rows[1][-1] == "search",
               "articles.csv?kind=search: %r" % rows)

        # the CLI takes the same names, and gives the same answer
        out = t.dwell("report", SITE, "--data", srv.data, "--kind", "search",
                      "--format", "json", "--to", _today().isoformat())
        expect(out.returncode == 0, "dwell report --kind search: exit %d: %s"
               % (out.returncode, out.stderr[-300:]))
        expect(json.loads(out.stdout) == srch,
               "dwell report --kind search differs from ?kind=search:\n%s\n%s"
               % (out.stdout[:400], json.dumps(srch)[:400]))

        # an unknown kind: 400 naming the parameter; the CLI: exit 2
        for bad in ("faq", "", "search,"):
            r = _get(srv, API + SITE + "/articles?kind=" + bad, tok)
            _status(r, 400, "kind=%s" % bad)
            msg = _error(r, "kind=%s" % bad)
            expect(_names(msg, "kind") and "search" in msg,
                   "kind=%s: message %r does not name kind and the kinds"
                   % (bad, msg))
        out = t.dwell("report", SITE, "--data", srv.data, "--kind", "faq")
        expect(out.returncode == 2 and "--kind" in out.stderr,
               "dwell report --kind faq: exit %d, stderr %r"
               % (out.returncode, out.stderr[-200:]))


# --- the API: access ------------------------------------------------------------------

def reports_api_needs_a_valid_token_for_the_site(t):
    with _serve(t) as srv:
        t.site_add(srv.data, "other.test", ["http://other.test"])
        _send_dataset(srv)
        full, _ = _token(t, srv.data)
        ro, ro_id = _token(t, srv.data, read_only=True, name="share link")
        other, _ = _token(t, srv.data, site="other.test")
        target = API + SITE + "/summary"

        r = _get(srv, target)
        _status(r, 401, "no token")
        _error(r, "no token")
        expect("bearer" in (r.header("WWW-Authenticate") or "").lower(),
               "401 without WWW-Authenticate: Bearer (got %r)"
               % r.header("WWW-Authenticate"))
        r = _get(srv, target, "dw_" + "A" * 32)
        _status(r, 401, "an unknown token")
        _error(r, "an unknown token")
        r = _get(srv, target, full[:-1])
        _status(r, 401, "a token without its last character")
        r = _get(srv, target, headers=[("Authorization", "Basic " + full)])
        _status(r, 401, "the token as Basic credentials")
        r = srv.request("GET", target, [("Authorization", "bearer " + full)])
        _status(r, 200, "Authorization: bearer (schemes ignore case)")
        r = _get(srv, target, other)
        _status(r, 403, "a token of another site")
        _error(r, "a token of another site")

        for tok, what in ((full, "full token"), (ro, "read-only token")):
            doc = _api_json(srv, tok, target, what)
            expect(doc.get("totals", {}).get("views") == 7,
                   "%s: totals.views %r" % (what, doc.get("totals")))
        # ?token= instead of the header (share links)
        doc = _api_json(srv, None, target + "?token=" +
                        urllib.parse.quote(ro, safe=""), "?token=")
        expect(doc.get("totals", {}).get("views") == 7, "?token=: %r" % doc)
        doc = _api_json(srv, None, API + SITE + "/articles?sort=views&token=" +
                        full, "?token= with other parameters")
        expect(doc.get("total") == 3, "?token= with sort: %r" % doc)

        # a site that does not exist, with a valid token of help.test
        r = _get(srv, API + "nope.test/summary", full)
        expect(r.status in (403, 404), "unknown site: status %d, expected 403 "
               "or 404" % r.status)
        _error(r, "unknown site")
        # an unknown article, a malformed id, an unknown report
        for target2, what in (
                (API + SITE + "/articles/0000000000000001", "unknown article"),
                (API + SITE + "/articles/" + _id(ALPHA)[:-1], "15-digit id"),
                (API + SITE + "/articles/zzzzzzzzzzzzzzzz", "non-hex id"),
                (API + SITE + "/bogus", "unknown report"),
                (API + SITE, "no report")):
            r = _get(srv, target2, full)
            _status(r, 404, what)
            _error(r, what)
        r = _get(srv, API + "other.test/articles/" + _id(ALPHA), other)
        _status(r, 404, "alpha's id on other.test")

        # the path is checked before the token
        r = _get(srv, API + SITE + "/bogus")
        _status(r, 404, "an unknown report without a token")
        _error(r, "an unknown report without a token")
        # GET and HEAD only
        r = srv.request("POST", target, [("Authorization", "Bearer " + full)],
                        "{}")
        _status(r, 405, "POST to a report")
        _error(r, "POST to a report")
        allow = (r.header("Allow") or "").replace(" ", "").upper().split(",")
        expect(sorted(allow) == ["GET", "HEAD"], "405 with Allow %r"
               % r.header("Allow"))
        r = srv.request("HEAD", target, [("Authorization", "Bearer " + full)])
        _status(r, 200, "HEAD of a report")
        expect(r.body == b"", "HEAD answered with %d bytes" % len(r.body))
        r = _get(srv, target, full)
        expect(r.body.endswith(b"\n") and r.body.count(b"\n") == 1,
               "JSON is not one line ending with a newline: %r"
               % r.body[-80:])

        # revoking: the next request is refused
        r = t.dwell("token", "revoke", ro_id, "--data", srv.data)
        expect(r.returncode == 0, "dwell token revoke %s: exit %d: %s"
               % (ro_id, r.returncode, r.stderr))
        r = _get(srv, target, ro)
        _status(r, 401, "a revoked token")
        _error(r, "a revoked token")
        r = _get(srv, target + "?token=" + ro)
        _status(r, 401, "a revoked token in ?token=")
        _api_json(srv, full, target, "the full token after revoking another")

        # the report page
        r = srv.request("GET", "/report/" + SITE)
        _status(r, 200, "GET /report/SITE")
        ct = r.header("Content-Type") or ""
        expect(ct.startswith("text/html"), "/report/SITE: Content-Type %r" % ct)
        expect(b"<" in r.body[:200] and len(r.body) > 20,
               "/report/SITE: body %r" % r.body[:100])
        r = srv.request("GET", "/report/")
        _status(r, 404, "GET /report/")


def _locked_down(r, what, csp_has=()):
    """Checks the headers every report page, its files and API answer
    carry: nothing may run inline, be framed, sniffed or named in a
    Referer."""
    csp = r.header("Content-Security-Policy") or ""
    expect("frame-ancestors 'none'" in csp, "%s: CSP %r lets the page be "
           "framed" % (what, csp))
    expect("unsafe-inline" not in csp and "unsafe-eval" not in csp,
           "%s: CSP %r allows inline code" % (what, csp))
    for d in csp_has:
        expect(d in csp, "%s: CSP %r lacks %r" % (what, csp, d))
    expect((r.header("Referrer-Policy") or "") == "no-referrer",
           "%s: Referrer-Policy %r" % (what, r.header("Referrer-Policy")))
    expect((r.header("X-Content-Type-Options") or "") == "nosniff",
           "%s: X-Content-Type-Options %r"
           % (what, r.header("X-Content-Type-Options")))


def report_page_and_api_allow_no_inline_script_framing_or_referer(t):
    with t.server() as srv:
        tok, _ = _token(t, srv.data)
        r = srv.request("GET", "/report/" + SITE)
        _status(r, 200, "GET /report/SITE")
        _locked_down(r, "/report/SITE", ("script-src 'self'",
                                         "style-src 'self'"))
        html = r.body.decode()
        # the page holds no script or style of its own: both come from files
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|"
                            r"\son[a-z]+=", html)
        expect(not inline, "/report/SITE has inline code: %r" % inline)
        for name, ctype in (("report.js", "application/javascript"),
                            ("report.css", "text/css")):
            expect(('"../%s"' % name) in html,
                   "/report/SITE does not load ../%s" % name)
            r = srv.request("GET", "/" + name)
            _status(r, 200, "GET /" + name)
            _locked_down(r, "/" + name)
            expect((r.header("Content-Type") or "").startswith(ctype),
                   "/%s: Content-Type %r" % (name, r.header("Content-Type")))
            expect(len(r.body) > 1000, "/%s: %d bytes" % (name, len(r.body)))
        r = srv.request("GET", "/report.js", [("Accept-Encoding", "gzip")])
        expect(gzip.decompress(r.body).startswith(b"// report.js"),
               "/report.js gzipped: %r" % r.body[:40])
        # the API: an answer, a refusal and a 404
        for target, token, code in ((_upto_today(API + SITE + "/summary"),
                                     tok, 200),
                                    (API + SITE + "/summary", None, 401),
                                    (API + SITE + "/nope", tok, 404)):
            r = _get(srv, target, token)
            _status(r, code, "GET " + target)
            _locked_down(r, "GET %s (%d)" % (target, code))
        r = srv.request("POST", "/api/v1/tickets?site=" + SITE,
                        [("Content-Type", "application/json")], b"{}")
        _status(r, 401, "the ticket webhook without a token")
        _locked_down(r, "the ticket webhook")


# --- the CLI ---------------------------------------------------------------------------

def token_cli_creates_lists_and_revokes(t):
    data = t.datadir()
    t.site_add(data, "other.test", ["http://other.test"])
    r = t.dwell("token", "list", "--data", data)
    expect(r.returncode == 0 and r.stdout.strip() == "",
           "token list with no tokens: exit %d, %r" % (r.returncode, r.stdout))
    full, full_id = _token(t, data, name="ci job")
    ro, ro_id = _token(t, data, read_only=True, name="share link")
    other, other_id = _token(t, data, site="other.test", name="other")
    for tok, tid in ((full, full_id), (ro, ro_id), (other, other_id)):
        expect(hashlib.sha256(tok.encode()).hexdigest()[:12] == tid,
               "token id %s is not the start of its SHA-256" % tid)
    expect(len({full, ro, other}) == 3, "two tokens are the same")

    r = t.dwell("token", "list", "--data", data)
    expect(r.returncode == 0, "token list: exit %d" % r.returncode)
    lines = r.stdout.splitlines()
    expect(len(lines) == 3, "token list printed %d lines: %r"
           % (len(lines), r.stdout))
    by_id = {}
    for line in lines:
        f = line.split("\t")
        expect(len(f) == 5, "token list line %r: expected id, site, scope, "
               "created, name" % line)
        by_id[f[0]] = f
    want = {full_id: (SITE, "full", "ci job"),
            ro_id: (SITE, "read-only", "share link"),
            other_id: ("other.test", "full", "other")}
    for tid, (site, scope, name) in want.items():
        f = by_id.get(tid)
        expect(f is not None, "token %s not listed: %r" % (tid, r.stdout))
        expect(f[1] == site and f[2] == scope and f[4] == name and
               harness.ISO_UTC_RE.match(f[3]),
               "token %s listed as %r, expected site %s, scope %s, name %s"
               % (tid, f, site, scope, name))
    for tok in (full, ro, other):
        expect(tok not in r.stdout + r.stderr and tok[3:] not in r.stdout,
               "token list shows a token")
    # never stored in the clear
    hits = harness.grep_tree(data, [full.encode(), ro.encode(),
                                    other.encode()])
    expect(not hits, "a token is stored in the clear: %s" % hits[:3])

    # revoking
    r = t.dwell("token", "revoke", ro_id, "--data", data)
    expect(r.returncode == 0 and ro_id in r.stdout,
           "token revoke %s: exit %d, %r" % (ro_id, r.returncode, r.stdout))
    r = t.dwell("token", "list", "--data", data)
    ids = [line.split("\t")[0] for line in r.stdout.splitlines()]
    expect(sorted(ids) == sorted([full_id, other_id]),
           "after revoking %s, listed %s" % (ro_id, ids))
    r = t.dwell("token", "revoke", other_id[:6], "--data", data)  # a prefix
    expect(r.returncode == 0, "token revoke by a 6-digit prefix: exit %d: %s"
           % (r.returncode, r.stderr))
    for argv, what in (
            (["token", "revoke", ro_id], "an already revoked id"),
            (["token", "revoke", "abc"], "3 hex digits"),
            (["token", "revoke", "zzzzzzzzzzzz"], "a non-hex id"),
            (["token", "revoke"], "no id"),
            (["token", "create", "nope.test"], "an unknown site"),
            (["token", "create"], "no site"),
            (["token", "create", SITE, "--name", "n" * 65], "a 65-byte name"),
            (["token", "frobnicate"], "an unknown verb")):
        r = t.dwell(*(argv + ["--data", data]))
        expect(r.returncode != 0 and r.stderr.strip(),
               "dwell %s (%s): exit %d, stderr %r"
               % (" ".join(argv), what, r.returncode, r.stderr[:200]))
    r = t.dwell("token", "list", "--data", data)
    expect([line.split("\t")[0] for line in r.stdout.splitlines()] ==
           [full_id], "finally listed %r" % r.stdout)


def _columns(line):
    return len(line.rstrip("\n"))


def _check_table(text, what):
    lines = text.splitlines()
    expect(lines, "%s: empty table" % what)
    wide = [(i + 1, _columns(l)) for i, l in enumerate(lines)
            if _columns(l) > 80]
    expect(not wide, "%s: lines wider than 80 columns (line, width): %s"
           % (what, wide[:5]))


def report_cli_matches_the_api_and_fits_80_columns(t):
    with _ready(t) as (srv, tok):
        data = srv.data

        def cli(*args):
            if "--from" not in args and "--to" not in args:
                args += ("--to", _today().isoformat())     # as _upto_today
            r = t.dwell("report", SITE, "--data", data, *args)
            expect(r.returncode == 0, "dwell report %s: exit %d: %s"
                   % (" ".join(args), r.returncode, r.stderr.strip()[-300:]))
            return r.stdout

        pairs = [
            (["--format", "json"], "/articles"),
            (["--format", "json", "--sort", "title", "--order", "asc"],
             "/articles?sort=title&order=asc"),
            (["--format", "json", "--sort", "title"], "/articles?sort=title"),
            (["--format", "json", "--sort", "helpful", "--order", "asc"],
             "/articles?sort=helpful&order=asc"),
            (["--format", "json", "--include-bots"],
             "/articles?include_bots=1"),
            (["--format", "json", "--summary"], "/summary"),
            (["--format", "json", "--searches"], "/searches"),
            (["--format", "json", "--article", ALPHA], "/articles/" + _id(ALPHA)),
            (["--format", "json", "--from", "2020-01-01", "--to", "2020-01-31"],
             "/articles?from=2020-01-01&to=2020-01-31"),
        ]
        for args, target in pairs:
            got = json.loads(cli(*args))
            want = _api_json(srv, tok, API + SITE + target)
            expect(got == want, "dwell report %s differs from GET %s:\n%s\n%s"
                   % (" ".join(args), target, json.dumps(got)[:600],
                      json.dumps(want)[:600]))
        doc = json.loads(cli("--format", "json"))
        rows = {a["path"]: a for a in doc["articles"]}
        _check_row(rows[ALPHA], ALPHA_ROW, "dwell report json alpha")
        _check_row(rows[BETA], BETA_ROW, "dwell report json beta")
        _check_row(rows[GAMMA], GAMMA_ROW, "dwell report json gamma")

        for args, target in ((["--format", "csv"], "/articles.csv"),
                             (["--format", "csv", "--summary"], "/summary.csv"),
                             (["--format", "csv", "--searches"],
                              "/searches.csv")):
            got = cli(*args)
            r = _get(srv, API + SITE + target, tok)
            _status(r, 200, target)
            expect(got.encode() == r.body, "dwell report %s differs from "
                   "GET %s: %r / %r" % (" ".join(args), target, got[:300],
                                        r.body[:300]))

        table = cli()                          # the default: a table
        _check_table(table, "dwell report")
        lines = {l.split()[0]: l.split() for l in table.splitlines()
                 if l.startswith("/")}
        expect(set(lines) == {ALPHA, BETA, GAMMA},
               "table rows %s" % sorted(lines))
        # views and visitors columns
        expect(lines[ALPHA][1:3] == ["4", "3"] and
               lines[BETA][1:3] == ["2", "2"] and
               lines[GAMMA][1:3] == ["1", "1"],
               "table views/visitors: %r" % lines)
        expect(lines[ALPHA][3] == "7s" and lines[BETA][3] == "21s",
               "table medians: alpha %r, beta %r" % (lines[ALPHA][3],
                                                     lines[BETA][3]))
        for args in (["--summary"], ["--searches"], ["--article", ALPHA],
                     ["--include-bots"], ["--format", "table"]):
            _check_table(cli(*args), "dwell report " + " ".join(args))


def report_cli_tables_fit_80_columns_with_long_names(t):
    # render.h: "plain tables that fit an 80-column terminal"; names are as
    # long as the wire format allows (site 100, path 512, title 200)
    long_path = "/kb/" + "-".join(["a-very-long-article-path"] * 6)
    long_title = ("A title that goes on " * 8).strip()
    long_site = "a-help-center-with-a-rather-long-name.example.com"
    bad = []
    for site in (SITE, long_site):
        data = t.datadir(sites=((site, ("http://help.test",)),))
        with _serve(t, data=data) as srv:
            ev = {"s": site, "t": "view", "v": "long_view_01",
                  "u": "http://help.test" + long_path, "ti": long_title,
                  "c": "c" * 60, "w": 10}
            r = srv.post_events([ev, {"s": site, "t": "engage",
                                      "v": "long_view_01", "e": 2000000}],
                                origin="http://help.test")
            _status(r, 204, "the long view")
            r = srv.post_events([{"s": site, "t": "view", "v": "long_search1",
                                  "u": "http://help.test/s", "ti": "S"},
                                 {"s": site, "t": "search",
                                  "v": "long_search1", "q": "q" * 100,
                                  "n": 0}], origin="http://help.test")
            _status(r, 204, "the long search")
        label = "SITE(%d chars)" % len(site)
        for args, shown in (([], ""), (["--summary"], " --summary"),
                            (["--searches"], " --searches"),
                            (["--article", long_path],
                             " --article PATH(%d chars, title %d)"
                             % (len(long_path), len(long_title)))):
            r = t.dwell("report", site, "--data", data, "--to",
                        _today().isoformat(), *args)
            what = "dwell report %s%s" % (label, shown)
            if r.returncode != 0:
                bad.append("%s: exit %d: %s" % (what, r.returncode,
                                                r.stderr.strip()[-200:]))
                continue
            for i, line in enumerate(r.stdout.splitlines()):
                if _columns(line) > 80:
                    bad.append("%s: line %d is %d columns (%r...)"
                               % (what, i + 1, _columns(line), line[:24]))
    expect(not bad, "%d lines too wide: %s" % (len(bad), "; ".join(bad)))


def report_cli_refuses_bad_flags_with_a_message(t):
    data = t.datadir()
    for argv, flag in (
            (["--format", "xml"], "--format"),
            (["--format", "JSON"], "--format"),
            (["--sort", "bogus"], "--sort"),
            (["--order", "sideways"], "--order"),
            (["--from", "2026-02-30"], "--from"),
            (["--from", "2026-1-01"], "--from"),
            (["--to", "2026-13-01"], "--to"),
            (["--from", "2026-01-10", "--to", "2026-01-01"], "--from"),
            (["--days", "0"], "--days"),
            (["--days", "week"], "--days"),
            (["--from", "2999-01-01"], "--from"),
            (["--limit", "0"], "--limit"),
            (["--limit", "many"], "--limit"),
            (["--frobnicate"], "--frobnicate"),
            (["--format"], "--format")):
        r = t.dwell("report", SITE, "--data", data, *argv)
        expect(r.returncode != 0, "dwell report %s: exit 0" % " ".join(argv))
        expect(flag in r.stderr, "dwell report %s: stderr %r does not name %s"
               % (" ".join(argv), r.stderr[:300], flag))
    r = t.dwell("report", "nope.test", "--data", data)
    expect(r.returncode != 0 and "nope.test" in r.stderr,
           "dwell report of an unknown site: exit %d, stderr %r"
           % (r.returncode, r.stderr[:200]))
    r = t.dwell("report", "--data", data)
    expect(r.returncode != 0 and r.stderr.strip(),
           "dwell report without a site: exit %d" % r.returncode)
    r = t.dwell("report", SITE, "--data", data, "--article", "/kb/none")
    expect(r.returncode != 0 and "/kb/none" in r.stderr,
           "dwell report --article of an unknown path: exit %d, stderr %r"
           % (r.returncode, r.stderr[:200]))


def demo_with_the_same_seed_gives_the_same_report(t):
    site = "demo.test"
    dirs = [t.datadir(sites=((site, ("http://demo.test",)),)) for _ in range(2)]
    results = [None, None]

    def run(k):
        results[k] = t.dwell("demo", site, "--days", "7", "--seed", "3",
                             "--data", dirs[k], timeout=120)
    # both at once: the generator looks at the clock once, at its start
    ths = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(150)
    for k, r in enumerate(results):
        expect(r is not None, "dwell demo %d did not finish" % k)
        expect(r.returncode == 0, "dwell demo %d: exit %d: %s"
               % (k, r.returncode, r.stderr.strip()[-300:]))
    expect(results[0].stdout == results[1].stdout,
           "dwell demo printed %r and %r" % (results[0].stdout,
                                             results[1].stdout))

    def report(k, *args):
        r = t.dwell("report", site, "--data", dirs[k], *args)
        expect(r.returncode == 0, "dwell report %s: exit %d: %s"
               % (" ".join(args), r.returncode, r.stderr.strip()[-300:]))
        return r.stdout

    for args in (["--format", "csv"], ["--format", "csv", "--summary"],
                 ["--format", "csv", "--searches"],
                 ["--format", "csv", "--include-bots"]):
        a, b = report(0, *args), report(1, *args)
        expect(a == b, "seed 3 twice, `dwell report %s` differs:\n%s\n---\n%s"
               % (" ".join(args), a[:800], b[:800]))
    rows = list(csv.DictReader(io.StringIO(report(0, "--format", "csv"),
                                           newline="")))
    expect(len(rows) >= 10, "the demo has %d articles with views" % len(rows))
    views = sum(int(r["views"]) for r in rows)
    expect(views >= 7 * 50, "the demo has %d views over 7 days" % views)

    # the demo's 7 days end today: a range of 30 days up to today holds them
    today = _today()
    doc = json.loads(report(0, "--format", "json", "--summary", "--from",
                            (today - datetime.timedelta(days=29)).isoformat(),
                            "--to", today.isoformat()))
    tot = doc["totals"]
    expect(tot["votes_up"] + tot["votes_down"] > 0, "no votes: %r" % tot)
    expect(tot["searches"] > 0, "no searches: %r" % tot)
    top = doc["top_searches"]
    expect(any(s["zero_results"] == 0 for s in top) and
           any(s["zero_results"] > 0 for s in top),
           "searches with and without results expected: %r" % top)
    expect(doc["zero_result_searches"], "no zero-result searches")
    series = doc["series"]
    expect(sum(1 for d in series if d["views"] > 0) == 7,
           "views on %d of the last 30 days, expected the 7 demo days"
           % sum(1 for d in series if d["views"] > 0))
    first = doc["top_articles"][0]
    detail = json.loads(report(0, "--format", "json", "--article",
                               first["path"]))
    countries = [c["value"] for c in detail["countries"]]
    expect(len(countries) >= 3, "%s has readers from %s only"
           % (first["path"], countries))


def demo_engaged_times_follow_each_articles_reading_profile(t):
    """The demo's readers read for as long as each article's profile says
    (a median of 2 min for two-factor, 10 s for the mobile app): its
    engage events are dated as a browser would send them, so the server's
    engaged-time cap (the view's age plus --engage-allowance) keeps them.
    Dated all at the view's time, every median came out at 30 s."""
    site = "demo.test"
    data = t.datadir(sites=((site, ("http://demo.test",)),))
    r = t.dwell("demo", site, "--days", "14", "--seed", "2", "--data", data,
                timeout=120)
    expect(r.returncode == 0, "dwell demo: exit %d: %s"
           % (r.returncode, r.stderr.strip()[-300:]))
    today = _today()
    r = t.dwell("report", site, "--data", data, "--format", "json",
                "--from", (today - datetime.timedelta(days=20)).isoformat(),
                "--to", today.isoformat(), "--limit", "100")
    expect(r.returncode == 0, "dwell report: exit %d: %s"
           % (r.returncode, r.stderr.strip()[-300:]))
    by_path = {a["path"]: a for a in json.loads(r.stdout)["articles"]}
    for path, lo, hi in (("/kb/two-factor", 60, 240),
                         ("/kb/import-contacts", 75, 300),
                         ("/kb/mobile-app", 0, 20)):
        a = by_path.get(path)
        expect(a is not None and a["views"] >= 30,
               "%s: too few demo views: %r" % (path, a))
        p50 = a["engaged_p50_ms"] / 1000
        expect(lo <= p50 <= hi, "%s: median engaged %.0f s, its profile "
               "gives %d–%d s" % (path, p50, lo, hi))
    long = by_path["/kb/sso-saml"]["engaged_p90_ms"] / 1000
    expect(long > 300, "/kb/sso-saml: p90 engaged %.0f s, its readers take "
           "7 min at the median" % long)


def demo_on_two_sites_keeps_each_sites_events_its_own(t):
    """Two sites of one data dir get the same demo (same seed: events at
    the very same microseconds). Each keeps every one of its events: the
    second site's events, inserted beside the first's at equal times, are
    its own and not copies of the first site's (LMDB's MDB_KEYEXIST points
    the value at the record already there: retried with it, the second
    site lost 3 of 26,957 events to duplicates of the first's), and
    `dwell check` finds the rollups equal to the raw events."""
    data = t.datadir(sites=(("a.test", ("http://a.test",)),
                            ("b.test", ("http://b.test",))))
    counts = {}
    for site in ("a.test", "b.test"):
        r = t.dwell("demo", site, "--days", "30", "--data", data,
                    timeout=120)
        expect(r.returncode == 0, "dwell demo %s: exit %d: %s"
               % (site, r.returncode, r.stderr.strip()[-300:]))
        m = re.match(r"(\d+) demo events", r.stdout)
        expect(m, "dwell demo printed %r" % r.stdout[:200])
        counts[site] = int(m.group(1))
    done = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    for site, want in counts.items():
        r = t.dwell("events", site, "--since", "all", "--limit", "0",
                    "--data", data)
        lines = r.stdout.splitlines()
        expect(len(lines) == want, "%s: %d events stored, the demo wrote %d"
               % (site, len(lines), want))
        # today's visits end by the time the demo ran: none in the future
        last = max(json.loads(line)["time"] for line in lines)
        expect(last <= done, "%s: an event at %s, after the demo ended (%s)"
               % (site, last, done))
        expect(len(set(lines)) == len(lines), "%s: %d events stored twice"
               % (site, len(lines) - len(set(lines))))
    r = t.dwell("check", "--data", data, timeout=120)
    expect(r.returncode == 0, "dwell check: exit %d: %s"
           % (r.returncode, (r.stdout + r.stderr).strip()[-600:]))


# --- dwell demo: never mixed with other data, once per seed ----------------------

def _demo_state(t, data, site):
    """What a writer sees of SITE: the reports (JSON, every view of them,
    bots too), the correlation (tickets) and the raw events."""
    out = {}
    today = datetime.datetime.now(datetime.timezone.utc).date()
    span = ["--from", (today - datetime.timedelta(days=40)).isoformat(),
            "--to", today.isoformat()]      # today too: the real beacons
    for args in (["report", "--format", "json"],
                 ["report", "--format", "json", "--summary"],
                 ["report", "--format", "json", "--searches"],
                 ["report", "--format", "json", "--include-bots"],
                 ["correlate", "--format", "json"],
                 ["events", "--since", "all", "--limit", "0"]):
        extra = span if args[0] == "report" else []
        r = t.dwell(args[0], site, "--data", data, *(args[1:] + extra))
        expect(r.returncode == 0, "dwell %s: exit %d: %s"
               % (" ".join(args), r.returncode, r.stderr.strip()[-300:]))
        out[" ".join(args)] = r.stdout
    return out


def _same_state(a, b, what):
    for k in a:
        if a[k] != b[k]:
            ours, theirs = a[k].splitlines(), b[k].splitlines()
            expect(False, "%s: `dwell %s` changed (%d lines, then %d):\n"
                   "%s\n---\n%s" % (what, k, len(ours), len(theirs),
                                    a[k][:600], b[k][:600]))


def _demo_run(t, data, site, *args):
    return t.dwell("demo", site, "--data", data, *args, timeout=120)


def demo_twice_with_the_same_seed_changes_nothing(t):
    site = "demo.test"
    data = t.datadir(sites=((site, ("http://demo.test",)),))
    r = _demo_run(t, data, site, "--days", "7", "--seed", "3")
    expect(r.returncode == 0 and "stored for demo.test" in r.stdout,
           "dwell demo: exit %d: %r %r" % (r.returncode, r.stdout,
                                           r.stderr[-300:]))
    first = _demo_state(t, data, site)
    summary = json.loads(first["report --format json --summary"])["totals"]
    expect(summary["views"] > 300 and summary["searches"] > 0 and
           summary["votes_up"] + summary["votes_down"] > 0,
           "precondition: the demo week has views, searches and votes: %r"
           % summary)
    for args in (["--days", "7", "--seed", "3"],
                 ["--days", "7", "--seed", "3", "--force"],
                 ["--days", "30", "--seed", "3"]):
        r = _demo_run(t, data, site, *args)
        expect(r.returncode == 0 and "nothing written" in r.stdout and
               "seed 3" in r.stdout,
               "dwell demo %s again: exit %d, stdout %r, stderr %r"
               % (" ".join(args), r.returncode, r.stdout, r.stderr[-300:]))
        _same_state(first, _demo_state(t, data, site),
                    "dwell demo %s a second time" % " ".join(args))

    # another seed on the demo site: refused, naming the seed it holds
    r = _demo_run(t, data, site, "--days", "7", "--seed", "4")
    expect(r.returncode == 1 and "--force" in r.stderr and
           "--seed 3" in r.stderr,
           "dwell demo --seed 4 on seed 3's site: exit %d, stderr %r (want "
           "1, naming --seed 3 and --force)" % (r.returncode, r.stderr))
    _same_state(first, _demo_state(t, data, site), "a refused dwell demo")
    # …unless forced: seed 4 adds its traffic, then is the one noted
    r = _demo_run(t, data, site, "--days", "7", "--seed", "4", "--force")
    expect(r.returncode == 0, "dwell demo --seed 4 --force: exit %d: %s"
           % (r.returncode, r.stderr[-300:]))
    both = _demo_state(t, data, site)
    views = json.loads(both["report --format json --summary"])["totals"]
    expect(views["views"] > summary["views"] * 3 // 2,
           "after seed 4 --force: %d views, before %d"
           % (views["views"], summary["views"]))
    r = _demo_run(t, data, site, "--days", "7", "--seed", "4")
    expect(r.returncode == 0 and "nothing written" in r.stdout,
           "dwell demo --seed 4 after --force: exit %d, %r %r"
           % (r.returncode, r.stdout, r.stderr[-300:]))
    _same_state(both, _demo_state(t, data, site), "seed 4 a second time")


def demo_refuses_a_site_with_real_traffic_unless_forced(t):
    data = t.datadir()
    with _serve(t, data=data) as srv:
        r = srv.post_events([{"s": SITE, "t": "view", "v": "real_view_001",
                              "u": "http://help.test/kb/real", "ti": "Real"},
                             {"s": SITE, "t": "engage", "v": "real_view_001",
                              "e": 12000, "sd": 40}])
        _status(r, 204, "a real beacon")
    before = _demo_state(t, data, SITE)
    expect(len(before["events --since all --limit 0"].splitlines()) == 2,
           "precondition: the two real events are stored")
    r = _demo_run(t, data, SITE, "--days", "3", "--seed", "5")
    expect(r.returncode == 1 and "--force" in r.stderr and SITE in r.stderr
           and "nothing written" in r.stderr,
           "dwell demo on a site with a real view: exit %d, stderr %r (want "
           "1 and a message naming the site and --force)"
           % (r.returncode, r.stderr))
    _same_state(before, _demo_state(t, data, SITE), "a refused dwell demo")

    r = _demo_run(t, data, SITE, "--days", "3", "--seed", "5", "--force")
    expect(r.returncode == 0 and "stored for help.test" in r.stdout,
           "dwell demo --force: exit %d: %r %r"
           % (r.returncode, r.stdout, r.stderr[-300:]))
    forced = _demo_state(t, data, SITE)
    paths = [a["path"] for a in json.loads(
        forced["report --format json"]).get("articles", [])]
    expect("/kb/real" in paths and "/kb/reset-password" in paths,
           "after --force the report lists %r; want the real article and "
           "the demo's" % paths[:20])
    # the same seed again: nothing more, even with the real view in there
    r = _demo_run(t, data, SITE, "--days", "3", "--seed", "5")
    expect(r.returncode == 0 and "nothing written" in r.stdout,
           "dwell demo again after --force: exit %d, %r %r"
           % (r.returncode, r.stdout, r.stderr[-300:]))
    _same_state(forced, _demo_state(t, data, SITE), "the same seed again")

    # real traffic after the demo: another seed is refused again
    with _serve(t, data=data) as srv:
        _status(srv.post_events({"s": SITE, "t": "view", "v": "real_view_002",
                                 "u": "http://help.test/kb/real",
                                 "ti": "Real"}), 204, "a second beacon")
    later = _demo_state(t, data, SITE)
    r = _demo_run(t, data, SITE, "--days", "3", "--seed", "6")
    expect(r.returncode == 1 and "--force" in r.stderr and
           "besides" in r.stderr,
           "dwell demo --seed 6 after a real view on a demo site: exit %d, "
           "stderr %r" % (r.returncode, r.stderr))
    _same_state(later, _demo_state(t, data, SITE), "a refused dwell demo")


def demo_refuses_a_site_with_only_imported_tickets(t):
    data = t.datadir()
    tickets = os.path.join(data, "tickets.json")
    with open(tickets, "w") as f:
        json.dump([{"id": 1, "created_at": "2026-11-20T10:00:00Z",
                    "tags": ["billing"]}], f)
    r = t.dwell("tickets", "import", tickets, "--site", SITE, "--format",
                "zendesk-json", "--data", data)
    expect(r.returncode == 0, "precondition: tickets import: exit %d: %s"
           % (r.returncode, r.stderr[-300:]))
    before = _demo_state(t, data, SITE)
    r = _demo_run(t, data, SITE, "--days", "2")
    expect(r.returncode == 1 and "--force" in r.stderr and
           "1 tickets" in r.stderr,
           "dwell demo on a site holding one imported ticket: exit %d, "
           "stderr %r (want 1, naming the ticket and --force)"
           % (r.returncode, r.stderr))
    _same_state(before, _demo_state(t, data, SITE), "a refused dwell demo")


def docs_pages_are_served_as_html_and_nothing_else(t):
    # /docs/NAME.md answers the page NAME of docs/ rendered at build time,
    # with the anchors GitHub gives its headings; any other name is a 404
    with _serve(t) as srv:
        r = _get(srv, "/docs/metrics.md", headers=[("Accept-Encoding", "gzip")])
        _status(r, 200, "GET /docs/metrics.md")
        body = gzip.decompress(r.body) if r.header("Content-Encoding") == \
            "gzip" else r.body
        for anchor in _doc_anchors():
            expect(('id="%s"' % anchor).encode() in body,
                   "GET /docs/metrics.md has no heading with id %r" % anchor)
        expect(b"<script" not in body, "a docs page carries a script")
        expect("default-src 'none'" in (r.header(
            "Content-Security-Policy") or ""), "docs page without a CSP")
        r = _get(srv, "/docs/tickets.md")
        _status(r, 200, "GET /docs/tickets.md")
        expect(b'href="metrics.md#' in r.body,
               "tickets.md's links to metrics.md are not kept relative")
        for bad in ("/docs/report.md", "/docs/nope.md", "/docs/metrics",
                    "/docs/..%2fREADME.md", "/docs/"):
            r = _get(srv, bad)
            _status(r, 404, "GET " + bad)
            _error(r, "GET " + bad)
