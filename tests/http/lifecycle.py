"""lifecycle.py — data lifecycle and backup (issue 12 items 6, 7):
retention, site removal, forgetting a person, hot backups, and dwell check
finding a rollup that disagrees with the raw events. Each test reads back
what the store kept (dwell events, dwell check, reports, mdb_dump) and
fails if the operation left something behind or took too much."""

import datetime
import hashlib
import json
import os
import re
import subprocess
import threading
import time

import harness
from harness import SITE, TestFailure, expect
import crash
import tickets as tk

OTHER = "other.test"
OTHER_ORIGIN = "http://other.test"


def _status(r, want, what):
    expect(r.status == want, "%s: status %d, expected %d: %r"
           % (what, r.status, want, r.body[:200]))


def _view(vid, path, site=SITE):
    return {"s": site, "t": "view", "v": vid,
            "u": "http://%s%s" % (site, path), "ti": path}


def _dump(data, db):
    """{key hex: value hex} of database DB, read with mdb_dump."""
    r = subprocess.run(["mdb_dump", "-s", db, data], capture_output=True,
                       timeout=30)
    expect(r.returncode == 0, "mdb_dump -s %s: exit %d: %s"
           % (db, r.returncode, r.stderr.decode()[-300:]))
    lines = [ln.strip() for ln in r.stdout.decode().splitlines()]
    body = lines[lines.index("HEADER=END") + 1:]
    if body and body[-1] == "DATA=END":
        body = body[:-1]
    return dict(zip(body[0::2], body[1::2]))


DBS = ["meta", "sites", "events", "views", "articles", "daily", "daily_dim",
       "seen", "links", "searched", "tokens", "cum", "dirty", "visits",
       "idents", "tickets", "ticket_times", "recent", "heads"]


def _check(t, data, site=None):
    argv = ["check"] + ([site] if site else []) + ["--data", data]
    return t.dwell(*argv)


def _summary_views(t, data, site, frm, to):
    r = t.dwell("report", site, "--summary", "--from", frm, "--to", to,
                "--format", "json", "--data", data)
    expect(r.returncode == 0, "dwell report %s --summary: exit %d: %s"
           % (site, r.returncode, r.stderr[-300:]))
    doc = json.loads(r.stdout)
    return {p["date"]: p["views"] for p in doc["series"]}


# --- check ------------------------------------------------------------------

def check_names_a_rollup_that_differs_from_the_raw_events(t):
    with t.server() as srv:
        for i in range(3):
            _status(srv.post_events(_view("chk_view_%04d" % i, "/kb/chk")),
                    204, "view %d" % i)
        data = srv.data
    r = _check(t, data, SITE)
    expect(r.returncode == 0 and "sound" in r.stdout,
           "a clean store: dwell check exit %d: %s" % (r.returncode,
                                                       r.stdout[-400:]))
    # copy today's row of /kb/chk to a day with no raw events (the 2nd of
    # January 2000): its 3 stored views have no raw event behind them
    recent = _dump(data, "recent")
    aid = None
    for k, v in recent.items():
        if k[8:24] != "0" * 16:        # not the site row
            aid, day, val, key = k[8:24], int(k[24:32], 16), v, k
            break
    expect(aid is not None, "no article row in recent: %s" % list(recent))
    bad = key[:24] + "%08x" % 10958 + key[32:]
    load = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\n" \
           "DATA=END\n" % (bad, val)
    p = subprocess.run(["mdb_load", "-s", "recent", data], input=load.encode(),
                       capture_output=True, timeout=30)
    expect(p.returncode == 0, "mdb_load: %s" % p.stderr.decode()[-300:])
    r = _check(t, data, SITE)
    expect(r.returncode == 1, "a corrupted rollup: dwell check exit %d, "
           "expected 1: %s" % (r.returncode, r.stdout[-400:]))
    expect("2000-01-02" in r.stdout and "field views: stored 3, recomputed "
           "from the raw events 0" in r.stdout and aid in r.stdout,
           "dwell check does not name the article, day and field: %s"
           % r.stdout[-600:])


def _varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def _rollup_slots(hexval):
    """{slot: value} of a rollup record (src/model/rollup.c: version 1, then
    (slot, value) varints; 0-7 the counters, 8 engaged_ms, 9-227 the
    engaged histogram, 228-238 the scroll buckets)."""
    b, i, out = bytes.fromhex(hexval), 1, {}
    expect(b[0] == 1, "rollup record version %d" % b[0])
    while i < len(b):
        k, i = _varint(b, i)
        out[k], i = _varint(b, i)
    return out


def _rollup_hex(slots):
    def vi(v):
        o = bytearray()
        while v >= 0x80:
            o.append((v & 0x7f) | 0x80)
            v >>= 7
        o.append(v)
        return bytes(o)
    b = bytearray([1])
    for k in sorted(slots):
        if slots[k]:
            b += vi(k) + vi(slots[k])
    return b.hex()


def _load(data, db, key, val):
    """Writes KEY = VAL (hex) into database DB with mdb_load."""
    load = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\n" \
           "DATA=END\n" % (key, val)
    p = subprocess.run(["mdb_load", "-s", db, data], input=load.encode(),
                       capture_output=True, timeout=30)
    expect(p.returncode == 0, "mdb_load: %s" % p.stderr.decode()[-300:])


def _varint(b, i):
    """The varint at B[I:] and the offset after it."""
    v, shift = 0, 0
    while True:
        v |= (b[i] & 0x7f) << shift
        shift += 7
        i += 1
        if not b[i - 1] & 0x80:
            return v, i


def _dim_entries(row):
    """[(dim, value bytes, count)] of a daily_dim breakdown row."""
    out, i = [], 0
    while i < len(row):
        d = row[i]
        n, i = _varint(row, i + 1)
        v = row[i:i + n]
        c, i = _varint(row, i + n)
        out.append((d, v, c))
    return out


def _dim_row(entries):
    """The breakdown row of ENTRIES (see _dim_entries)."""
    def varint(v):
        b = bytearray()
        while v >= 0x80:
            b.append(v & 0x7f | 0x80)
            v >>= 7
        return bytes(b + bytes([v]))
    return b"".join(bytes([d]) + varint(len(v)) + v + varint(c)
                    for d, v, c in entries)


def _paths(data):
    """{article id hex: path} from the articles database."""
    out = {}
    for k, v in _dump(data, "articles").items():
        b = bytes.fromhex(v)
        n = int.from_bytes(b[12:14], "big")
        out[k[8:24]] = b[14:14 + n].decode()
    return out


BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _mixed_workload(srv):
    """Beacons of every type from three readers and a bot: wire-2 totals,
    wire-1 deltas, a replayed request, SPA views, a pixel view, repeats of
    numbered searches and of a link, votes changed, custom events."""
    uas = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.%d" % i
           for i in range(3)]
    sent = []

    def post(evs, ua):
        r = srv.post_events(evs, ua=ua)
        _status(r, 204, "beacon %s" % json.dumps(evs)[:120])
        sent.append((evs, ua))

    def ev(t, vid, **kw):
        e = {"s": SITE, "t": t, "v": vid}
        e.update(kw)
        return e
    u = "http://%s" % SITE
    for n, ua in enumerate(uas):
        a, b = "mixA%d_view01" % n, "mixB%d_view01" % n
        post([ev("view", a, u=u + "/kb/alpha", ti="Alpha", w=400, sd=10,
                 r="https://www.google.com/", wv=2)], ua)
        post([ev("engage", a, e=4000 + 1000 * n, sd=40, wv=2)], ua)
        post([ev("search", a, q="reset password", n=3, i=1, wv=2)], ua)
        post([ev("search", a, q="reset password", n=3, i=1, wv=2)], ua)
        post([ev("engage", a, e=12000 + n, sd=100, wv=2),
              ev("vote", a, x="up", wv=2)], ua)
        post([ev("vote", a, x="down" if n == 1 else "up", wv=2)], ua)
        post([ev("event", a, n="copied-code", i=2, wv=2)], ua)
        post([ev("search", a, q="no such thing", n=0, i=3, wv=2)], ua)
        # an SPA navigation: a second view, wire 1 (deltas)
        post([ev("view", b, u=u + "/kb/beta", ti="Beta", w=90, sd=0)], ua)
        post([ev("engage", b, e=3000, sd=60)], ua)
        post([ev("engage", b, e=9000, sd=100)], ua)
        post([ev("link", b, k="mixlink_%d_0001" % n)], ua)
        post([ev("link", b, k="mixlink_%d_0001" % n)], ua)
        post([ev("vote", b, x="down")], ua)
    # a replayed request (a retried beacon)
    evs, ua = sent[1]
    post(evs, ua)
    evs, ua = sent[4]
    post(evs, ua)
    # a bot, and an orphan follow-up
    post([ev("view", "mixbot_view01", u=u + "/kb/alpha", ti="Alpha")], BOT_UA)
    post([ev("engage", "mixnone_view1", e=5000)], uas[0])
    r = srv.request("GET", "/p.gif?s=%s&u=%s" % (SITE, u + "/kb/pixel"),
                    [("User-Agent", uas[2]), ("Referer", u + "/kb/pixel")])
    expect(r.status == 200, "pixel: status %d" % r.status)


def _check_out(t, data, site=None):
    r = _check(t, data, site)
    return r, r.stdout + r.stderr


def check_passes_a_healthy_store_after_a_mixed_workload(t):
    with t.server() as srv:
        _mixed_workload(srv)
        live = _check(t, srv.data, SITE)      # beside the running server
        data = srv.data
    expect(live.returncode == 0 and "sound" in live.stdout,
           "dwell check beside the server: exit %d: %s"
           % (live.returncode, live.stdout[-1500:]))
    demo = "demo.test"
    r = t.dwell("site", "add", demo, "--origin", "http://demo.test",
                "--data", data)
    expect(r.returncode == 0, "site add: %s" % r.stderr[-300:])
    r = t.dwell("demo", demo, "--days", "20", "--data", data)
    expect(r.returncode == 0, "dwell demo: %s" % r.stderr[-300:])
    for site in (SITE, demo, None):
        r = _check(t, data, site)
        expect(r.returncode == 0 and "sound" in r.stdout,
               "dwell check %s after the workload and the demo: exit %d: %s"
               % (site or "(all)", r.returncode, r.stdout[-1500:]))
    m = re.search(r"(\d+) rollup rows and breakdown values match", r.stdout)
    expect(m and int(m.group(1)) > 1000, "too few rows compared: %s"
           % r.stdout[-300:])


def check_names_each_damaged_field_with_both_values(t):
    with t.server() as srv:
        _mixed_workload(srv)
        data = srv.data
    paths = _paths(data)
    recent = _dump(data, "recent")
    rows = {k: _rollup_slots(v) for k, v in recent.items()}
    alpha = [k for k in rows if k[32:34] == "00" and
             paths.get(k[8:24]) == "/kb/alpha"]
    site_row = [k for k in rows if k[8:24] == "0" * 16 and k[32:34] == "00"]
    expect(len(alpha) == 1 and len(site_row) == 1,
           "rows of /kb/alpha %s, site rows %s" % (alpha, site_row))
    alpha, site_row = alpha[0], site_row[0]
    hist = [s for s in rows[alpha] if 9 <= s < 228]
    expect(rows[alpha].get(3) == 2 and rows[alpha].get(4) == 1 and hist,
           "/kb/alpha's votes: %s" % rows[alpha])

    def damaged(key, slot, delta):
        slots = dict(rows[key])
        slots[slot] = slots.get(slot, 0) + delta
        return _rollup_hex(slots), slots

    cases = [  # (row, slot, delta, the field as check names it)
        (alpha, 8, 1234, "engaged_ms"),
        (alpha, hist[0], 1, "engaged histogram bucket %d " % (hist[0] - 9)),
        (alpha, 3, -1, "votes_up"),
        (alpha, 4, 2, "votes_down"),
        (alpha, 5, 1, "searches"),
        (alpha, 1, 1, "visitors"),
        (alpha, 7, -1, "events"),
        (site_row, 2, 1, "reads"),
        (site_row, 5, -2, "searches"),
    ]
    for key, slot, delta, field in cases:
        val, slots = damaged(key, slot, delta)
        _load(data, "recent", key, val)
        r, out = _check_out(t, data, SITE)
        want = "field %s" % field
        have_v, want_v = slots.get(slot, 0), rows[key].get(slot, 0)
        path = "/kb/alpha" if key == alpha else "(all pages)"
        line = [ln for ln in out.splitlines() if want in ln]
        expect(r.returncode == 1 and len(line) == 1,
               "%s damaged: exit %d, lines naming it: %s" % (field, r.returncode,
                                                             out[-800:]))
        expect(("stored %d, recomputed from the raw events %d"
                % (have_v, want_v)) in line[0] and path in line[0] and
               "site %s" % SITE in line[0] and "readers" in line[0] and
               harness.day_iso() in line[0],
               "%s damaged: the line does not say where and both values: %s"
               % (field, line[0]))
        expect("1 of them rollup values that differ" in out,
               "%s damaged: no summary line: %s" % (field, out[-400:]))
        _load(data, "recent", key, recent[key])
    # a breakdown: five more visits from a country than the raw events hold
    # (in the breakdown row of /kb/alpha's day: dim, len, value, count)
    dims = _dump(data, "daily_dim")
    expect(alpha in dims, "no breakdown row of /kb/alpha: %s"
           % list(dims)[:5])
    key = alpha
    entries = _dim_entries(bytes.fromhex(dims[key]))
    country = [e for e in entries if e[0] == ord("c")]
    expect(country, "no country breakdown of /kb/alpha: %s" % entries)
    n = country[0][2]
    damaged = [(d, v, c + 5 if (d, v) == country[0][:2] else c)
               for d, v, c in entries]
    _load(data, "daily_dim", key, _dim_row(damaged).hex())
    r, out = _check_out(t, data, SITE)
    expect(r.returncode == 1 and "field country" in out and
           "stored %d, recomputed from the raw events %d" % (n + 5, n) in out,
           "a damaged country count: exit %d: %s" % (r.returncode, out[-600:]))
    _load(data, "daily_dim", key, dims[key])
    r = _check(t, data, SITE)
    expect(r.returncode == 0, "every value restored: exit %d: %s"
           % (r.returncode, r.stdout[-600:]))


# --- backup -------------------------------------------------------------------

def backup_under_load_copies_every_acknowledged_event(t):
    with t.server("--rate-limit", "0") as srv:     # one client: no 429s
        acked, stop = [], threading.Event()
        errors = []

        def load():
            i = 0
            while not stop.is_set():
                vid = "bk_view_%06d" % i
                try:
                    r = srv.post_events(_view(vid, "/kb/load-%d" % (i % 7)))
                    if r.status == 204:
                        acked.append((time.monotonic(), vid))
                except Exception as e:       # noqa: BLE001
                    errors.append(repr(e))
                i += 1

        th = threading.Thread(target=load, daemon=True)
        th.start()
        time.sleep(1.0)
        before = time.monotonic()
        sent_before = {v for (ts, v) in acked if ts < before}
        dest = os.path.join(harness.OUT, "data", t.name + ".backup")
        subprocess.run(["rm", "-rf", dest], timeout=30)
        r = t.dwell("backup", dest, "--data", srv.data)
        time.sleep(0.5)
        stop.set()
        th.join(timeout=10)
        expect(r.returncode == 0, "dwell backup: exit %d: %s"
               % (r.returncode, r.stderr[-300:]))
        expect(len(sent_before) > 20, "the load sent only %d events before "
               "the backup (errors %s)" % (len(sent_before), errors[:3]))
        again = t.dwell("backup", dest, "--data", srv.data)
        expect(again.returncode == 1 and "not empty" in again.stderr,
               "a backup into a non-empty directory: exit %d: %s"
               % (again.returncode, again.stderr[-300:]))
    expect(sorted(os.listdir(dest)) == ["data.mdb"],
           "the backup directory holds %s" % os.listdir(dest))
    c = _check(t, dest)
    expect(c.returncode == 0, "dwell check of the backup: exit %d: %s"
           % (c.returncode, c.stdout[-400:]))
    kept = {e.get("view") for e in t.events(dest)}
    missing = sent_before - kept
    expect(not missing, "%d events acknowledged before the backup started "
           "are not in it, e.g. %s" % (len(missing), sorted(missing)[:3]))
    print("     backup under load: %d events acknowledged before it, all "
          "in the copy (%d in all); check: %s"
          % (len(sent_before), len(kept), c.stdout.strip().splitlines()[0]),
          flush=True)


# --- site removal ----------------------------------------------------------------

def site_remove_purge_leaves_no_record_of_the_site(t):
    data = t.datadir(((SITE, (harness.ORIGIN,)), (OTHER, (OTHER_ORIGIN,))))
    with t.server(data=data) as srv:
        for site, origin in ((SITE, harness.ORIGIN), (OTHER, OTHER_ORIGIN)):
            for i in range(4):
                _status(srv.post_events(_view("rm_%s_%04d" % (site[:4], i),
                                              "/kb/rm-%d" % i, site),
                                        origin=origin), 204, "a view")
            tok = harness.token(t, data, site)
            _status(tk._hook(srv, {"id": "RM-%s" % site, "created_at":
                                   harness.iso_time(time.time()),
                                   "email": "a@example.com"}, tok, site=site),
                    200, "a ticket of %s" % site)
        other_before = t.events(data, OTHER)
        r = t.dwell("site", "remove", SITE, "--data", data)
        expect(r.returncode == 2 and "--purge" in r.stderr,
               "site remove without --purge: exit %d: %s"
               % (r.returncode, r.stderr[-200:]))
        r = t.dwell("site", "remove", SITE, "--purge", "--data", data)
        expect(r.returncode == 0, "site remove --purge: exit %d: %s"
               % (r.returncode, r.stderr[-300:]))
        _status(srv.post_events(_view("rm_after_0001", "/kb/rm-0")), 404,
                "a beacon for the removed site")
        lst = t.dwell("site", "list", "--data", data)
        expect(SITE not in lst.stdout and OTHER in lst.stdout,
               "site list after the removal: %r" % lst.stdout)
    # walk every database for the removed site's id (sites are numbered
    # from 1 in the order they were added: help.test is 1)
    sid = "00000001"
    left = []
    for db in DBS:
        for k, v in _dump(data, db).items():
            if db == "events":
                hit = False     # the site id is a varint in the record
                hit = v[14:16] == "01"
            elif db == "seen":
                hit = k[8:16] == sid
            elif db == "meta":
                hit = k.startswith("6e6f7465" + sid) or \
                      k.startswith("72656d6f76696e67")
            elif db == "sites":
                hit = bytes.fromhex(k).decode() == SITE
            elif db == "tokens":
                hit = SITE.encode().hex() in v
            else:
                hit = k.startswith(sid)
            if hit:
                left.append((db, k[:40]))
    expect(not left, "records of the removed site remain: %s" % left[:5])
    expect(t.events(data, OTHER) == other_before,
           "the other site's events changed")
    c = _check(t, data)
    expect(c.returncode == 0, "dwell check after the removal: %s"
           % c.stdout[-300:])
    again = t.dwell("site", "remove", SITE, "--purge", "--data", data)
    expect(again.returncode == 1 and "no such site" in again.stderr,
           "removing it again: exit %d: %s" % (again.returncode,
                                              again.stderr[-200:]))


# --- forget ---------------------------------------------------------------------

def forget_removes_one_person_and_leaves_the_other(t):
    people = {"gone": "Gone.Person@Example.com", "kept": "kept@example.com"}
    ua = {"gone": harness.CHROME_UA + " gone", "kept": harness.CHROME_UA
          + " kept"}
    with t.server() as srv:
        tok = harness.token(t, srv.data)
        for who, email in people.items():
            h = hashlib.sha256(email.lower().encode()).hexdigest()
            vid = "fg_%s_view_01" % who
            _status(srv.post_events(_view(vid, "/kb/%s" % who), ua=ua[who]),
                    204, "view")
            _status(srv.post_events({"s": SITE, "t": "identify", "v": vid,
                                     "h": h}, ua=ua[who]), 204, "identify")
            _status(srv.post_events({"s": SITE, "t": "link", "v": vid,
                                     "k": "fg_link_%s" % who}, ua=ua[who]),
                    204, "link")
            _status(tk._hook(srv, {"id": "FG-%s" % who, "created_at":
                                   harness.iso_time(time.time() + 60),
                                   "email": email,
                                   "dwell_link": "fg_link_%s" % who}, tok),
                    200, "ticket of %s" % who)
        data = srv.data
    before = _summary_views(t, data, SITE, harness.day_iso(0),
                            harness.day_iso(0))
    dump_before = {db: _dump(data, db) for db in DBS}
    r = t.dwell("forget", SITE, "--email", people["gone"], "--data", data)
    expect(r.returncode == 0, "forget: exit %d: %s" % (r.returncode,
                                                       r.stderr[-300:]))
    expect("1 tickets, 1 links, 1 identities" in r.stdout,
           "forget printed %r" % r.stdout)
    after = {db: _dump(data, db) for db in DBS}
    # the keyed identity of the forgotten person: from the idents that went
    gone_keys = set(dump_before["idents"]) - set(after["idents"])
    expect(len(gone_keys) == 1 and len(after["idents"]) == 1,
           "idents before %d, after %d" % (len(dump_before["idents"]),
                                           len(after["idents"])))
    ident = next(iter(gone_keys))[8:72]
    blob = json.dumps(after)
    for needle, what in ((ident, "the keyed identity"),
                         ("FG-gone".encode().hex(), "the ticket id"),
                         ("fg_link_gone".encode().hex(), "the link id")):
        expect(needle not in blob, "%s of the forgotten person remains" % what)
    for needle, what in (("FG-kept".encode().hex(), "the other's ticket"),
                         ("fg_link_kept".encode().hex(), "the other's link")):
        expect(needle in blob, "%s is gone" % what)
    expect(_summary_views(t, data, SITE, harness.day_iso(0),
                          harness.day_iso(0)) == before,
           "the report changed after forget")
    c = _check(t, data, SITE)
    expect(c.returncode == 0, "dwell check after forget: %s" % c.stdout[-300:])
    u = t.dwell("forget", SITE, "--data", data)
    expect(u.returncode == 2, "forget without a person: exit %d"
           % u.returncode)


# --- retention ----------------------------------------------------------------------

def retention_deletes_old_raw_events_and_keeps_rollups(t):
    clock = crash._Clock(t)
    data = t.datadir()
    srv = harness.Server(clock.wrapper(t.bin), data, ("--retention-days",
                                                      "3"), t.log_path)
    t.servers.append(srv)
    old = harness.today() - datetime.timedelta(days=10)
    noon = crash._calendar_utc(old) + 43200
    clock.set(noon)
    srv.start()
    for i in range(3):
        _status(srv.post_events(_view("rt_old_%04d" % i, "/kb/old")), 204,
                "an old view")
    clock.set(time.time())          # ten days later: a purge is due
    for i in range(2):
        _status(srv.post_events(_view("rt_new_%04d" % i, "/kb/new")), 204,
                "a new view")
    deadline = time.monotonic() + 90   # generous: the machine is shared
    evs = []
    while time.monotonic() < deadline:
        evs = [e["view"] for e in t.events(data)]
        if not any(v.startswith("rt_old") for v in evs):
            break
        time.sleep(0.3)
    rc = srv.stop()
    expect(rc == 0, "server exit %s" % rc)
    expect(sorted(evs) == ["rt_new_0000", "rt_new_0001"],
           "raw events after retention: %s" % evs)
    views = _summary_views(t, data, SITE, old.isoformat(), old.isoformat())
    expect(views.get(old.isoformat()) == 3,
           "the report over the old day: %s, expected 3 views" % views)
    c = _check(t, data)
    expect(c.returncode == 0 and "not recounted" in c.stdout,
           "dwell check after retention: exit %d: %s"
           % (c.returncode, c.stdout[-400:]))
