"""crash.py — dwell on a failing machine: `dwell serve` killed with -9 again
and again under concurrent beacons, a disk that fills while the map grows,
and the clock stepped forward and back across midnight (Debian's
libfaketime). Every public function here is one test, run in the order
written; it gets a harness.T. What each must keep: every event answered 204
is stored, once, and the data dir stays whole.
"""

import datetime
import json
import os
import random
import shutil
import subprocess
import time

import harness
from harness import view as _view, engage as _engage, status as _status
from harness import TestFailure, expect
from scenarios import _Burst, _by_view, _statuses

CRASH_ROUNDS = 20          # kill -9 rounds per durability mode
ROUND_ACKS = 24            # requests answered 204 before a round's kill


# --- what every test checks at the end ----------------------------------------------

def _has_command(t, name):
    """Whether `dwell help` lists the command NAME."""
    r = t.dwell("help")
    return any(line.split()[:1] == [name]
               for line in (r.stdout + r.stderr).splitlines())


def _check_store(t, data, what):
    """The data dir passes `dwell check` when the binary has it; otherwise
    mdb_stat reads every database and `dwell report` reads the rollups.
    Returns the (view, type) of every stored event."""
    if _has_command(t, "check"):
        r = t.dwell("check", "--data", data, timeout=60)
        expect(r.returncode == 0, "%s: dwell check: exit %d: %s"
               % (what, r.returncode, (r.stdout + r.stderr).strip()[-400:]))
    else:
        mdb_stat = shutil.which("mdb_stat")
        expect(mdb_stat is not None, "%s: no `dwell check` and no mdb_stat "
               "(Debian's lmdb-utils, make deps-test)" % what)
        r = subprocess.run([mdb_stat, "-a", data], capture_output=True,
                           timeout=60)
        expect(r.returncode == 0, "%s: mdb_stat -a: exit %d: %s"
               % (what, r.returncode, r.stderr.decode()[-300:]))
    evs = t.events(data)
    pairs = [(e.get("view"), e.get("type")) for e in evs]
    twice = sorted({p for p in pairs if pairs.count(p) > 1}) \
        if len(pairs) < 20000 else []
    expect(not twice, "%s: events stored twice: %s" % (what, twice[:5]))
    return evs


def _check_summary_counts_views(t, data, evs, what):
    """The rollups agree with the raw events: the summary of yesterday and
    today counts as many views as there are stored view events."""
    views = len({e.get("view") for e in evs if e.get("type") == "view"})
    r = t.dwell("report", harness.SITE, "--summary", "--from",
                harness.day_iso(1), "--to", harness.day_iso(0),
                "--format", "json", "--data", data)
    expect(r.returncode == 0, "%s: dwell report --summary: exit %d: %s"
           % (what, r.returncode, r.stderr.strip()[-300:]))
    got = json.loads(r.stdout)["totals"]["views"]
    expect(got == views, "%s: the summary counts %s views, the raw events "
           "hold %d" % (what, got, views))


def _missing(acked, evs):
    """The events of ACKED (a list of event lists) that EVS lacks."""
    by_view = _by_view(evs)
    out = []
    for batch in acked:
        for ev in batch:
            if not any(e.get("type") == ev["t"]
                       for e in by_view.get(ev["v"], [])):
                out.append("%s/%s" % (ev["v"], ev["t"]))
    return out


# --- kill -9 again and again ---------------------------------------------------------

def _crash_loop(t, mode):
    """CRASH_ROUNDS rounds: a server in durability MODE on one data dir, four
    senders, kill -9 after ROUND_ACKS answers plus a random moment, a new
    server on the same data next round. Then nothing answered 204 is lost."""
    data = t.datadir()
    rng = random.Random(11)
    acked = []                          # event lists answered 204
    sent = 0
    for rnd in range(CRASH_ROUNDS):
        def make(k, i, rnd=rnd):
            vid = "crash_%s_%02d_%d_%05d" % (mode[0], rnd, k, i)
            evs = [_view(vid, "/kb/crash-%d" % (i % 5))]
            if i % 2 == 0:
                evs.append(_engage(vid, 2000 + i, 50))
            return evs
        with t.server("--durability", mode, data=data) as srv:
            b = _Burst(srv, 4, make)
            n = b.wait_acked(ROUND_ACKS, 10)
            expect(n > 0, "round %d: no request answered 204 (%s)"
                   % (rnd, _statuses(b)))
            time.sleep(rng.uniform(0, 0.05))
            srv.kill9()                     # while the senders still send
            b.stop()
            b.join()
            t.log("%s round %d: %s" % (mode, rnd, _statuses(b)))
            acked += [r[2] for r in b.acked()]
            sent += len(b.results)
    with t.server("--durability", mode, data=data) as srv:  # opens, serves
        _status(srv.post_events(_view("crash_after_%s_01" % mode)), 204,
                "a beacon after %d kill -9 rounds" % CRASH_ROUNDS)
    evs = _check_store(t, data, "after %d kill -9 rounds (%s)"
                       % (CRASH_ROUNDS, mode))
    lost = _missing(acked, evs)
    nacked = sum(len(a) for a in acked)
    t.log("crash loop %s: %d rounds, %d requests, %d answered 204 (%d events),"
          " %d events lost, %d stored" % (mode, CRASH_ROUNDS, sent, len(acked),
                                          nacked, len(lost), len(evs)))
    print("     crash loop %s: %d kill -9 rounds, %d events acknowledged, "
          "%d lost" % (mode, CRASH_ROUNDS, nacked, len(lost)), flush=True)
    expect(not lost, "%s: %d of the %d events answered 204 are not stored "
           "after %d kill -9 rounds, e.g. %s"
           % (mode, len(lost), nacked, CRASH_ROUNDS, ", ".join(lost[:5])))
    _check_summary_counts_views(t, data, evs, "after the kill -9 rounds (%s)"
                                % mode)


def crash_loop_fsync_loses_no_acknowledged_event(t):
    _crash_loop(t, "fsync")


def crash_loop_commit_loses_no_acknowledged_event(t):
    _crash_loop(t, "commit")


# --- a disk that fills while the map grows ----------------------------------------

DISK_SIZE = 2 << 20        # the tmpfs the data dir lives on
DISK_LEFT = 320 << 10      # bytes left free beside the filler file


def _free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _fill(path, leave):
    """Writes PATH until the file system it is on has about LEAVE bytes free
    (or none: ENOSPC ends the writing)."""
    chunk = b"\0" * (64 << 10)
    with open(path, "wb") as f:
        try:
            while _free_bytes(os.path.dirname(path)) > leave + len(chunk):
                f.write(chunk)
                f.flush()
        except OSError:
            pass


def _mount_small_disk(t):
    """A fresh DISK_SIZE tmpfs under tests/out/http/mnt/; fails the test
    when it cannot be mounted (root is needed)."""
    mnt = os.path.join(harness.OUT, "mnt", t.name)
    subprocess.run(["umount", "-l", mnt], capture_output=True)
    os.makedirs(mnt, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=%d,mode=0700" % DISK_SIZE, "tmpfs", mnt],
                       capture_output=True)
    expect(r.returncode == 0, "cannot mount a %d-byte tmpfs at %s (the test "
           "needs root): %s" % (DISK_SIZE, mnt, r.stderr.decode().strip()))
    return mnt


def _bulky(tag, n):
    """N views with long titles in one request, their ids starting TAG."""
    return [_view("%s_%02d" % (tag, j), "/kb/full-%s-%d" % (tag, j),
                  title=("Disk full %s %d " % (tag, j)) * 12)
            for j in range(n)]


def disk_full_answers_503_loses_nothing_and_resumes(t):
    mnt = _mount_small_disk(t)
    try:
        data = os.path.join(mnt, "data")
        os.makedirs(data)
        t.site_add(data, harness.SITE, (harness.ORIGIN,))
        filler = os.path.join(mnt, "filler")
        _fill(filler, DISK_LEFT)
        t.log("disk: %d bytes free beside the filler" % _free_bytes(mnt))
        with t.server("--map-size", "64K", data=data) as srv:
            conn = harness.Conn(srv.port)
            acked, statuses, full = [], {}, None
            deadline = time.monotonic() + 40
            i = 0
            while full is None and time.monotonic() < deadline:
                evs = _bulky("full_%05d" % i, 10)
                st, _ = conn.post(evs)
                statuses[st] = statuses.get(st, 0) + 1
                if st == 204:
                    acked.append(evs)
                elif st == 503:
                    full = evs
                i += 1
            t.log("filling: %s" % statuses)
            expect(full is not None, "no 503 within 40 s of beacons on a "
                   "full disk (%s)" % statuses)
            expect(set(statuses) <= {204, 503},
                   "answers other than 204 and 503 while the disk filled: %s"
                   % statuses)
            expect(acked, "not one beacon stored before the disk was full")
            r = srv.post_events(_bulky("full_again", 10))
            t.log("again on the full disk: %d %r" % (r.status, r.body[:200]))
            if r.status == 503:
                harness.error_message(r, "503 on a full disk")
            expect(srv.alive(), "the server died on a full disk")
            os.unlink(filler)                # space returns
            resumed = None
            deadline = time.monotonic() + 10
            while resumed is None and time.monotonic() < deadline:
                evs = _bulky("back_%05d" % i, 10)
                st, _ = conn.post(evs)
                if st == 204:
                    resumed = evs
                    acked.append(evs)
                i += 1
            expect(resumed is not None, "no beacon answered 204 within 10 s "
                   "of space coming back")
            for j in range(20):
                evs = _bulky("after_%03d" % j, 2)
                _status(srv.post_events(evs), 204, "beacon %d after space "
                        "came back" % j)
                acked.append(evs)
            grown = srv.log_tail(1 << 20).count("map grown")
            conn.close()
        t.log("disk full: map grown %d times" % grown)
        expect(grown > 0, "the map never grew: the disk did not fill while "
               "it was growing (see %s)" % t.log_path)
        evs = _check_store(t, data, "after the disk filled")
        lost = _missing(acked, evs)
        nacked = sum(len(a) for a in acked)
        print("     disk full: %d events acknowledged, %d lost, first 503 "
              "after %d requests, map grown %d times"
              % (nacked, len(lost), statuses.get(204, 0), grown), flush=True)
        expect(not lost, "%d of the %d events answered 204 are not stored, "
               "e.g. %s" % (len(lost), nacked, ", ".join(lost[:5])))
        views = {e.get("view") for e in evs}
        stored = [ev["v"] for ev in full if ev["v"] in views]
        expect(not stored, "events of the request answered 503 are stored "
               "(a retry would count them twice): %s" % stored[:5])
    finally:
        t.kill_servers()
        subprocess.run(["umount", "-l", mnt], capture_output=True)
