"""damage.py — a damaged data file never kills dwell with a signal (issue 11,
item 5). A real data dir (dwell demo, three days) is cut short (to 0 bytes,
to half, to three pages, one page short) and overwritten with random 4 KiB
blocks (several seeds); every command — serve, events, report, site list,
token list, check — must end with a message and a status below 128, serve
must refuse to start on a cut file, and an empty data.mdb must never be
created anew. Every public function is one test; it gets a harness.T.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import time
import urllib.request

import harness
from harness import TestFailure, expect, free_port, SITE

PAGE = 4096
SEEDS = range(1, 17)       # random-corruption seeds
BLOCKS = 3                 # 4 KiB blocks overwritten per seed
SERVE_WAIT = 15.0          # seconds for a refusing serve to exit


def _demo_dir(t):
    """A data dir with three days of demo traffic for SITE."""
    d = t.datadir()
    r = t.dwell("demo", SITE, "--days", "3", "--data", d, timeout=120)
    expect(r.returncode == 0, "dwell demo: exit %d: %s"
           % (r.returncode, r.stderr.strip()[-300:]))
    r = t.dwell("check", "--data", d, timeout=60)
    expect(r.returncode == 0 and "sound" in r.stdout,
           "dwell check on an undamaged demo dir: exit %d: %s"
           % (r.returncode, (r.stdout + r.stderr).strip()[-400:]))
    return d


def _copy(src, what):
    dst = src + "." + what
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


def _no_signal(r, what):
    """R (a CompletedProcess) ended by itself: status 0–127, and a message
    on stderr when it failed."""
    if r.returncode < 0:
        raise TestFailure("%s: killed by signal %d" % (what, -r.returncode))
    expect(r.returncode < 128, "%s: exit %d" % (what, r.returncode))
    if r.returncode != 0:
        expect(r.stderr.strip() != "" or r.stdout.strip() != "",
               "%s: exit %d without a message" % (what, r.returncode))


def _commands(t, d, what):
    """Runs every reading command on D; each must end without a signal.
    Returns {command: CompletedProcess}."""
    out = {}
    for argv in (("site", "list"), ("token", "list"),
                 ("events", SITE, "--since", "all", "--limit", "0"),
                 ("report", SITE), ("report", SITE, "--summary"),
                 ("correlate", SITE), ("check",)):
        r = t.dwell(*(list(argv) + ["--data", d]), timeout=60)
        _no_signal(r, "%s: dwell %s" % (what, " ".join(argv)))
        out[" ".join(argv)] = r
    return out


def _serve(t, d, what):
    """Starts dwell serve on D. When it refuses (exits by itself within
    SERVE_WAIT), returns its CompletedProcess-like (status, output). When
    it starts, sends it a beacon and a report request, then SIGTERM; it
    must still end without a signal. Returns (status, output, started)."""
    port = free_port()
    argv = [t.bin, "serve", "--listen", "127.0.0.1:%d" % port, "--data", d]
    t.log("$ " + " ".join(argv))
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         cwd=harness.OUT)
    started = False
    deadline = time.monotonic() + SERVE_WAIT
    while p.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                        timeout=2) as res:
                started = res.status == 200
        except OSError:
            pass
        if started:
            break
        time.sleep(0.2)
    if started:
        try:
            body = json.dumps(harness.view("damage_view_0001")).encode()
            harness.raw_request(port, "POST", "/e", harness.beacon_headers(),
                                body, timeout=5)
            harness.raw_request(port, "GET", "/healthz", timeout=5)
        except (OSError, TestFailure):
            pass                # the server may have ended: judged below
        p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=SERVE_WAIT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise TestFailure("%s: dwell serve did not end within %gs"
                          % (what, SERVE_WAIT))
    text = out.decode("utf-8", "replace")
    t.log("exit %d\n%s" % (p.returncode, text[-2000:]))
    expect(p.returncode >= 0, "%s: dwell serve killed by signal %d"
           % (what, -p.returncode))
    expect(p.returncode < 128, "%s: dwell serve: exit %d"
           % (what, p.returncode))
    return p.returncode, text, started


def truncated_data_is_refused_with_a_message(t):
    """A data.mdb cut short: every command refuses with a message naming the
    damage (exit 1, no signal), serve refuses to start, and a write command
    does not create a new store over an emptied file."""
    base = _demo_dir(t)
    size = os.path.getsize(os.path.join(base, "data.mdb"))
    expect(size > 8 * PAGE, "demo data.mdb of %d bytes only" % size)
    cuts = {"empty": 0, "half": size // 2, "three-pages": 3 * PAGE,
            "one-page-short": size - PAGE}
    for what, n in cuts.items():
        d = _copy(base, what)
        with open(os.path.join(d, "data.mdb"), "r+b") as f:
            f.truncate(n)
        for cmd, r in _commands(t, d, what).items():
            expect(r.returncode == 1, "%s: dwell %s: exit %d (expected 1)"
                   % (what, cmd, r.returncode))
            msg = r.stderr.strip()
            expect("empty" in msg or "damaged" in msg,
                   "%s: dwell %s: the message does not name the damage: %r"
                   % (what, cmd, msg[-300:]))
        rc, text, started = _serve(t, d, what)
        expect(not started and rc != 0,
               "%s: dwell serve started on a cut data file" % what)
        expect("damaged" in text or "empty" in text,
               "%s: dwell serve: no message naming the damage: %r"
               % (what, text[-300:]))
        r = t.dwell("site", "add", "other.test", "--data", d)
        _no_signal(r, "%s: dwell site add" % what)
        expect(r.returncode == 1, "%s: dwell site add wrote on a damaged "
               "store (exit %d)" % (what, r.returncode))
        expect(os.path.getsize(os.path.join(d, "data.mdb")) == n,
               "%s: data.mdb was rewritten (%d bytes, was %d)"
               % (what, os.path.getsize(os.path.join(d, "data.mdb")), n))


def random_blocks_never_kill_dwell(t):
    """Random 4 KiB blocks of data.mdb overwritten (seeds 1–16, 3 blocks
    each): every command ends with status < 128, and `dwell check` says
    damaged (exit 1) whenever another command failed on the data."""
    base = _demo_dir(t)
    size = os.path.getsize(os.path.join(base, "data.mdb"))
    answered = {"sound": 0, "damaged": 0}
    for seed in SEEDS:
        what = "seed %d" % seed
        d = _copy(base, "seed%d" % seed)
        rnd = random.Random(seed)
        with open(os.path.join(d, "data.mdb"), "r+b") as f:
            for _ in range(BLOCKS):
                f.seek(rnd.randrange(size // PAGE) * PAGE)
                f.write(bytes(rnd.getrandbits(8) for _ in range(PAGE)))
        runs = _commands(t, d, what)
        check = runs["check"]
        expect(check.returncode in (0, 1), "%s: dwell check: exit %d"
               % (what, check.returncode))
        failed = [c for c, r in runs.items() if r.returncode != 0]
        if failed:
            expect(check.returncode == 1, "%s: dwell %s failed but dwell "
                   "check says sound: %r" % (what, ", ".join(failed),
                                             check.stdout[-300:]))
        answered["damaged" if check.returncode else "sound"] += 1
        _serve(t, d, what)
    t.log("random blocks: %r" % answered)
    print("    random blocks, %d seeds: %r" % (len(SEEDS), answered))
    expect(answered["damaged"] > 0, "no seed damaged anything: %r"
           % answered)
