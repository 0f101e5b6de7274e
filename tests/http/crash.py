"""crash.py — dwell on a failing machine: `dwell serve` killed with -9 again
and again under concurrent beacons, a disk that fills while the map grows,
and the clock stepped forward and back across midnight (Debian's
libfaketime). Every public function here is one test, run in the order
written; it gets a harness.T. What each must keep: every event answered 204
is stored, once, and the data dir stays whole.
"""

import datetime
import json
import math
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


class _Tmpfs:
    """A DISK_SIZE tmpfs under tests/out/http/mnt/ (needs root and mount
    rights): fill() leaves DISK_LEFT bytes beside a filler file, free()
    deletes the filler: ENOSPC, then space again."""

    what = "a %d KiB tmpfs" % (DISK_SIZE >> 10)

    def __init__(self, t):
        self.dir = os.path.join(harness.OUT, "mnt", t.name)
        subprocess.run(["umount", "-l", self.dir], capture_output=True)
        os.makedirs(self.dir, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700"
                            % DISK_SIZE, "tmpfs", self.dir],
                           capture_output=True)
        if r.returncode != 0:
            raise OSError(r.stderr.decode().strip())
        self.filler = os.path.join(self.dir, "filler")

    def fill(self, t, bin_):
        _fill(self.filler, DISK_LEFT)
        t.log("disk: %d bytes free beside the filler"
              % _free_bytes(self.dir))
        return bin_

    def free(self, srv):
        os.unlink(self.filler)

    def close(self):
        subprocess.run(["umount", "-l", self.dir], capture_output=True)


class _FileSizeLimit:
    """Where no tmpfs can be mounted: RLIMIT_FSIZE of the server, DISK_LEFT
    bytes above data.mdb's size (SIGXFSZ ignored, so writes fail with
    EFBIG), raised again by free() with prlimit(2)."""

    what = "RLIMIT_FSIZE"

    def __init__(self, t):
        self.dir = os.path.join(harness.OUT, "mnt", t.name + ".fsize")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.wrapper = os.path.join(harness.OUT, t.name + ".fsize.dwell")

    def fill(self, t, bin_):
        size = os.path.getsize(os.path.join(self.dir, "data", "data.mdb"))
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\ntrap '' XFSZ\nulimit -S -f %d\nexec %s \"$@\"\n"
                    % ((size + DISK_LEFT) // 512, bin_))
        os.chmod(self.wrapper, 0o755)
        return self.wrapper

    def free(self, srv):
        import resource
        hard = resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))

    def close(self):
        pass


def _small_disk(t):
    """A _Tmpfs when one can be mounted (DWELL_TEST_DISK=fsize: never),
    else a _FileSizeLimit."""
    if os.environ.get("DWELL_TEST_DISK") != "fsize":
        try:
            return _Tmpfs(t)
        except OSError as e:
            t.log("no tmpfs (%s): RLIMIT_FSIZE instead" % e)
    return _FileSizeLimit(t)


def _bulky(tag, n):
    """N views with long titles in one request, their ids starting TAG."""
    return [_view("%s_%02d" % (tag, j), "/kb/full-%s-%d" % (tag, j),
                  title=("Disk full %s %d " % (tag, j)) * 12)
            for j in range(n)]


def disk_full_answers_503_loses_nothing_and_resumes(t):
    disk = _small_disk(t)
    try:
        data = os.path.join(disk.dir, "data")
        os.makedirs(data)
        t.site_add(data, harness.SITE, (harness.ORIGIN,))
        srv = harness.Server(disk.fill(t, t.bin), data, ("--map-size", "64K"),
                             t.log_path)
        t.servers.append(srv)
        srv.start()
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
        disk.free(srv)                   # space returns
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
        rc = srv.stop()
        expect(rc == 0, "exit status %s on SIGTERM after the disk was "
               "full" % rc)
        t.log("disk full: map grown %d times" % grown)
        expect(grown > 0, "the map never grew: the disk did not fill while "
               "it was growing (see %s)" % t.log_path)
        evs = _check_store(t, data, "after the disk filled")
        lost = _missing(acked, evs)
        nacked = sum(len(a) for a in acked)
        print("     disk full (%s): %d events acknowledged, %d lost, first "
              "503 after %d requests, map grown %d times"
              % (disk.what, nacked, len(lost), statuses.get(204, 0), grown),
              flush=True)
        expect(not lost, "%d of the %d events answered 204 are not stored, "
               "e.g. %s" % (len(lost), nacked, ", ".join(lost[:5])))
        views = {e.get("view") for e in evs}
        stored = [ev["v"] for ev in full if ev["v"] in views]
        expect(not stored, "events of the request answered 503 are stored "
               "(a retry would count them twice): %s" % stored[:5])
    finally:
        t.kill_servers()
        disk.close()


# --- the clock steps across midnight ----------------------------------------------

def _libfaketime():
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
              "/usr/lib"):
        p = os.path.join(d, "faketime", "libfaketime.so.1")
        if os.path.exists(p):
            return p
    raise TestFailure("libfaketime.so.1 not found: install Debian's faketime "
                      "(make deps-test)")


class _Clock:
    """The wall clock of a server started through wrapper(): libfaketime
    reads the offset from a file once a second, so set() steps the running
    server's CLOCK_REALTIME (its monotonic clock is left alone).

    Not at every call (FAKETIME_NO_CACHE): libfaketime 0.9.10 reads the file
    through a static buffer that the server's threads share, and one clock
    read in a few hundred then misses the file and returns the real time,
    days away from the stepped one (measured: 18,892 of 8,000,000 reads
    from four threads). A writer that read such a time rotated the salts to
    the real day and destroyed the stepped day's salt (a CI failure). Read
    once a second, the same program had none in 32,000,000."""

    def __init__(self, t):
        self.t = t
        self.file = os.path.join(harness.OUT, t.name + ".faketime")
        self.set(time.time())

    def set(self, when):
        """Steps the clock to WHEN (Unix seconds, whole seconds)."""
        with open(self.file + ".tmp", "w") as f:
            f.write("%+d\n" % int(round(when - time.time())))
        os.replace(self.file + ".tmp", self.file)
        # libfaketime reads the file again at its first clock read in a
        # later second: wait until every read is past one
        time.sleep(1.1 - math.modf(time.time())[0])
        self.t.log("clock: stepped to %s" % harness.iso_time(when))

    def wrapper(self, bin_):
        path = os.path.join(harness.OUT, self.t.name + ".dwell")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nunset FAKETIME\n"
                    "export LD_PRELOAD=%s FAKETIME_TIMESTAMP_FILE=%s\n"
                    "export FAKETIME_CACHE_DURATION=0 "
                    "FAKETIME_DONT_FAKE_MONOTONIC=1\n"
                    # a sanitizer build wants its runtime first in the
                    # library list; libfaketime, preloaded, comes before it
                    "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
                    "verify_asan_link_order=0\"\n"
                    "exec %s \"$@\"\n" % (_libfaketime(), self.file, bin_))
        os.chmod(path, 0o755)
        return path


def _salts(data):
    """{day number: salt hex} of the meta database, read with mdb_dump."""
    r = subprocess.run(["mdb_dump", "-s", "meta", data], capture_output=True,
                       timeout=30)
    expect(r.returncode == 0, "mdb_dump -s meta: exit %d: %s"
           % (r.returncode, r.stderr.decode()[-300:]))
    lines = [ln.strip() for ln in r.stdout.decode().splitlines()]
    body = lines[lines.index("HEADER=END") + 1:]
    out = {}
    for k, v in zip(body[0::2], body[1::2]):
        if k.startswith("73616c74") and len(k) == 16:        # "salt" + day
            out[int(k[8:], 16)] = v
    return out


def _day_number(d):
    return (d - datetime.date(1970, 1, 1)).days


def _healthz(srv):
    r = srv.request("GET", "/healthz")
    _status(r, 200, "GET /healthz")
    return r.json()


def clock_steps_across_midnight_misdate_nothing_and_salts_rotate(t):
    # Server clock: D 23:59:40, a step forward over midnight, one back over
    # it, forward again, 2.5 days forward, 2.5 days back. D is 6 days ago,
    # so that every stepped day is a full day for the CLI's real clock.
    day0 = harness.today() - datetime.timedelta(days=6)
    midnight = _calendar_utc(day0 + datetime.timedelta(days=1))
    steps = [("a1", midnight - 20, 0), ("a2", midnight + 20, 1),
             ("a3", midnight - 15, 0), ("a4", midnight + 25, 1),
             ("a5", midnight + 2 * 86400 + 43200, 3),
             ("a6", midnight + 30, 1)]
    clock = _Clock(t)
    data = t.datadir()
    srv = harness.Server(clock.wrapper(t.bin), data, (), t.log_path)
    t.servers.append(srv)
    salts, health = {}, {}
    clock.set(steps[0][1])
    srv.start()
    for name, when, _ in steps:
        clock.set(when)
        _status(srv.post_events(_view("clock_%s_view" % name,
                                      "/kb/clock-%s" % name)), 204,
                "a view at %s" % harness.iso_time(when))
        salts[name] = _salts(data)
        if name == "a5":             # a purge is due: views of D expired
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                health = _healthz(srv)
                if health.get("purged", 0) > 0:
                    break
                time.sleep(0.2)
    rc = srv.stop()
    expect(rc == 0, "exit status %s on SIGTERM after the clock steps" % rc)
    t.log("salts after each step: %s" % json.dumps(salts))
    # every event stored, dated by the server clock of its arrival
    evs = {e.get("view"): e for e in _check_store(t, data, "after the "
                                                   "clock steps")}
    for name, when, off in steps:
        e = evs.get("clock_%s_view" % name)
        expect(e is not None, "the view sent at %s is not stored"
               % harness.iso_time(when))
        got = datetime.datetime.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S")
        got = _calendar_utc(got.date()) + got.hour * 3600 + got.minute * 60 \
            + got.second
        want_day = day0 + datetime.timedelta(days=off)
        expect(e["time"][:10] == want_day.isoformat() and
               abs(got - when) < 15,
               "the view sent at server time %s is stored at %s"
               % (harness.iso_time(when), e["time"]))
    # salts: one per day; a new one across each stepped midnight
    d0 = _day_number(day0)
    s = salts
    expect(set(s["a1"]) == {d0}, "salts after the first view: days %s, "
           "expected %d" % (sorted(s["a1"]), d0))
    expect(s["a2"].get(d0 + 1) and s["a2"][d0 + 1] != s["a1"][d0],
           "no new salt after the clock stepped over midnight: %s" % s["a2"])
    # back before midnight: the day has a salt — its old one, or a new one
    # when the writer rotated meanwhile (a reader seen on both sides of the
    # step then counts twice that day; no hash outlives its two days)
    expect(s["a3"].get(d0) is not None and len(s["a3"]) <= 2,
           "back before midnight, no salt for the day: %s" % s["a3"])
    expect(s["a4"].get(d0 + 1) and s["a4"][d0 + 1] != s["a4"][d0],
           "forward again: no salt of its own for the new day: %s" % s["a4"])
    expect(set(s["a5"]) == {d0 + 3},
           "2.5 days later the salts of days %s remain, expected only %d"
           % (sorted(s["a5"]), d0 + 3))
    # the writer's chores kept going: expired views purged after the step
    expect(health.get("purged", 0) > 0, "no expired view purged within 15 s "
           "of the clock stepping 2.5 days forward: /healthz %s" % health)
    # rollups follow the events' days
    r = t.dwell("report", harness.SITE, "--summary", "--from",
                day0.isoformat(), "--to",
                (day0 + datetime.timedelta(days=3)).isoformat(),
                "--format", "json", "--data", data)
    expect(r.returncode == 0, "dwell report --summary: exit %d: %s"
           % (r.returncode, r.stderr.strip()[-300:]))
    series = {p["date"]: p for p in json.loads(r.stdout)["series"]}
    want = {day0 + datetime.timedelta(days=k): n
            for k, n in ((0, 2), (1, 3), (2, 0), (3, 1))}
    got = {d.isoformat(): series.get(d.isoformat(), {}).get("views")
           for d in want}
    expect(got == {d.isoformat(): n for d, n in want.items()},
           "views per day %s, expected %s" % (got, {d.isoformat(): n
                                                    for d, n in want.items()}))
    v0 = series[day0.isoformat()]["visitors"]
    expect(v0 == 1, "the reader of day %s counts as %s visitors, expected 1 "
           "(one salt for the day, before and after the step back)"
           % (day0, v0))
    print("     clock: 6 steps (±midnight, +2.5 d, -2.5 d): 6 of 6 views "
          "stored on the server clock's day; salts %d→%d→%d→%d→%d days; "
          "purged %d after the 2.5-day step"
          % tuple([len(s[k]) for k in ("a1", "a2", "a3", "a4", "a5")] +
                  [health.get("purged", 0)]), flush=True)


def _calendar_utc(d):
    """Unix seconds of the UTC midnight that starts the date D."""
    return _day_number(d) * 86400
