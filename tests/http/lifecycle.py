"""lifecycle.py — data lifecycle and backup (issue 12 items 6, 7):
retention, site removal, forgetting a person, hot backups, and dwell check
finding a rollup that disagrees with the raw events. Each test reads back
what the store kept (dwell events, dwell check, reports, mdb_dump) and
fails if the operation left something behind or took too much."""

import datetime
import hashlib
import json
import os
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
    deadline = time.monotonic() + 20
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
