#!/usr/bin/env python3
"""run.py — dwell's HTTP integration suite.

    python3 tests/http/run.py BIN GEO_DIR [NAME...]

BIN is the dwell binary; GEO_DIR holds geo-maxmind.mmdb and
geo-iplocation.mmdb (tests/tools/make-mmdb.pl makes them). Plays every
tests/http/cases/*.case against one server, then every scenario function of
tests/http/scenarios.py, then of tests/http/reports.py, then of
tests/http/tickets.py, then of tests/http/replay.py, tests/http/parity.py,
tests/http/crash.py, abuse.py, hostile.py, damage.py, install.py,
lifecycle.py, metrics.py, export.py, config.py, cluster.py,
chreports.py and ship.py. NAMEs (case file
stems or scenario function names; shell patterns allowed) run only those
tests. Prints `ok   NAME` or
`FAIL NAME: reason` per test and ends with `N passed, N failed`; exit status
1 when any failed. Logs and data dirs go to tests/out/http/.

The case server: `dwell serve --geo GEO_DIR/geo-maxmind.mmdb` (durability
fsync, no --trust-proxy) on a data dir where the site help.test exists with
the origin http://help.test.

Case files (tests/http/cases/NAME.case) — one request, what must come back,
and optionally what must (not) have been stored:

    # what this checks (any number of leading '#' lines)
    POST /e
    Origin: http://help.test
    Content-Type: text/plain

    {"s":"help.test","t":"view","v":"case_view_0001","u":"http://help.test/a"}
    --- expect
    status: 204
    body-empty
    --- stored v=case_view_0001
    count: 1
    json: [0].path = "/a"

Request: the request line (METHOD TARGET), header lines, a blank line, then
the body up to the first `--- ` line (the newline before it is not part of
the body; no blank line means no body). The runner adds Host, Content-Length
and Connection: close, and a desktop Chrome User-Agent unless the case gives
one. In the target, header values and body, `%repeat[N x TEXT]%` stands for
TEXT N times and `%hex[41 0a]%` for raw bytes.

`--- expect` lines (blank and '#' lines ignored):
    status: N
    header: NAME OP [TEXT]      OP: = (exact)  ~ (contains, any case)
                                matches REGEX  present  absent
    json: PATH OP [VALUE]       PATH: key, [0], key.sub[1] ... ; VALUE is JSON
                                OP: = != ~ (string contains, any case)
                                names "f" (a string naming field f as a word)
                                len N (UTF-8 bytes of a string, items of a list)
                                matches "REGEX"  present  absent
    body-empty | body-size: N | body-prefix: TEXT (%hex[]% allowed)
    sent-body-bytes: N | sent-target-bytes: N   (checks the case itself)
Every answer with status >= 400 must also carry Content-Type application/json
and a body {"error": "non-empty string"}; the runner checks that by itself.

`--- stored FIELD=VALUE ...` lines: the events of help.test printed by
`dwell events help.test --since all --limit 0` whose FIELDs equal the VALUEs
(compared as text), in order, are the JSON list the lines test:
    count: N
    json: PATH OP [VALUE]       as above, the root being the list
A case may have several stored sections.
"""

import fnmatch
import inspect
import json
import os
import re
import signal
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness                                      # noqa: E402
from harness import TestFailure, expect             # noqa: E402

CASES_DIR = os.path.join(harness.HERE, "cases")
TEST_LIMIT = 90.0        # seconds before a test's servers are killed
SUITE_LIMIT = 400.0      # seconds before the whole run gives up


# --- case files -----------------------------------------------------------------

_TEMPLATE = re.compile(rb"%repeat\[(\d+) x (.*?)\]%|%hex\[([0-9A-Fa-f \t]*)\]%",
                       re.S)


def expand(b):
    """Expands %repeat[N x TEXT]% and %hex[..]% in the bytes B."""
    def sub(m):
        if m.group(1) is not None:
            return m.group(2) * int(m.group(1))
        return bytes.fromhex(m.group(3).decode())
    return _TEMPLATE.sub(sub, b)


class Case:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.about = []
        self.method = self.target = None
        self.headers = []
        self.body = None
        self.expect = []        # (lineno, text)
        self.stored = []        # (filter dict, [(lineno, text)])
        self._parse()

    def _err(self, n, msg):
        raise TestFailure("%s:%d: %s" % (os.path.basename(self.path), n, msg))

    def _parse(self):
        with open(self.path, "rb") as f:
            lines = f.read().split(b"\n")
        i = 0
        while i < len(lines) and (lines[i].startswith(b"#") or
                                  not lines[i].strip()):
            if lines[i].startswith(b"#"):
                self.about.append(lines[i][1:].strip().decode())
            i += 1
        if i >= len(lines):
            self._err(i, "no request line")
        parts = lines[i].rstrip(b"\r").split(b" ", 1)
        if len(parts) != 2 or not parts[0].isalpha():
            self._err(i + 1, "request line must be METHOD TARGET")
        self.method = parts[0].decode()
        self.target = expand(parts[1].strip())
        i += 1
        # headers
        while i < len(lines) and lines[i].strip() and \
                not lines[i].startswith(b"--- "):
            line = lines[i].rstrip(b"\r")
            if b":" not in line:
                self._err(i + 1, "header line without ':'")
            k, v = line.split(b":", 1)
            self.headers.append((k.strip().decode(),
                                 expand(v.strip()).decode("latin-1")))
            i += 1
        # body
        if i < len(lines) and not lines[i].strip():
            i += 1
            start = i
            while i < len(lines) and not lines[i].startswith(b"--- "):
                i += 1
            self.body = expand(b"\n".join(lines[start:i]))
        # sections
        section = None
        while i < len(lines):
            line = lines[i].decode("utf-8").rstrip("\r")
            i += 1
            if line.startswith("--- "):
                words = line[4:].split()
                if words == ["expect"]:
                    section = self.expect
                elif words and words[0] == "stored":
                    filt = {}
                    for w in words[1:]:
                        if "=" not in w:
                            self._err(i, "stored filter must be FIELD=VALUE")
                        k, v = w.split("=", 1)
                        filt[k] = v
                    if not filt:
                        self._err(i, "stored needs at least one FIELD=VALUE")
                    section = []
                    self.stored.append((filt, section))
                else:
                    self._err(i, "unknown section %r" % line)
                continue
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if section is None:
                self._err(i, "line outside a section")
            section.append((i, line.strip()))
        if not any(t.startswith("status:") for (_, t) in self.expect):
            self._err(len(lines), "no `status:` in --- expect")


# --- checks shared by expect and stored sections ---------------------------------

_PATH_TOKEN = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][A-Za-z0-9_-]*)")
_MISSING = object()


def json_get(root, path):
    """The value at PATH (`a.b[0].c`, `[1].x`) in ROOT, or _MISSING."""
    cur, pos = root, 0
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if not m or m.end() == pos:
            raise TestFailure("bad JSON path %r" % path)
        pos = m.end()
        if m.group(1) is not None:
            k = int(m.group(1))
            if not isinstance(cur, list) or k >= len(cur):
                return _MISSING
            cur = cur[k]
        else:
            if not isinstance(cur, dict) or m.group(2) not in cur:
                return _MISSING
            cur = cur[m.group(2)]
    return cur


def same_json(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def names_field(msg, field):
    return re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(field),
                     msg) is not None


_JSON_LINE = re.compile(r"^(\S+)\s+(=|!=|~|names|len|matches|present|absent)"
                        r"(?:\s+(.*))?$")


def check_json_line(root, text, what):
    m = _JSON_LINE.match(text)
    if not m:
        raise TestFailure("cannot read check %r" % text)
    path, op, arg = m.group(1), m.group(2), m.group(3)
    got = json_get(root, path)
    shown = "absent" if got is _MISSING else json.dumps(got)[:200]
    if op == "present":
        expect(got is not _MISSING, "%s %s: absent" % (what, path))
        return
    if op == "absent":
        expect(got is _MISSING, "%s %s: present (%s)" % (what, path, shown))
        return
    if arg is None:
        raise TestFailure("check %r needs a value" % text)
    if op == "len":
        n = int(arg)
        if isinstance(got, str):
            have = len(got.encode("utf-8"))
        elif isinstance(got, list):
            have = len(got)
        else:
            raise TestFailure("%s %s: %s has no length" % (what, path, shown))
        expect(have == n, "%s %s: length %d, expected %d" % (what, path, have, n))
        return
    try:
        want = json.loads(arg)
    except ValueError:
        raise TestFailure("check %r: value is not JSON" % text)
    if op == "=":
        expect(got is not _MISSING and same_json(got, want),
               "%s %s = %s, expected %s" % (what, path, shown, arg))
    elif op == "!=":
        expect(got is _MISSING or not same_json(got, want),
               "%s %s = %s, expected anything else" % (what, path, shown))
    elif op == "~":
        expect(isinstance(got, str) and want.lower() in got.lower(),
               "%s %s = %s, expected it to contain %s" % (what, path, shown, arg))
    elif op == "names":
        expect(isinstance(got, str) and names_field(got, want),
               "%s %s = %s, expected it to name the field %s"
               % (what, path, shown, arg))
    elif op == "matches":
        expect(isinstance(got, str) and re.search(want, got),
               "%s %s = %s, expected it to match %s" % (what, path, shown, arg))


_HEADER_LINE = re.compile(r"^([A-Za-z0-9-]+)\s+(=|~|matches|present|absent)"
                          r"(?:\s+(.*))?$")


def check_header_line(resp, text):
    m = _HEADER_LINE.match(text)
    if not m:
        raise TestFailure("cannot read header check %r" % text)
    name, op, arg = m.group(1), m.group(2), (m.group(3) or "").strip()
    got = resp.header(name)
    if op == "present":
        expect(got is not None, "header %s: absent" % name)
    elif op == "absent":
        expect(got is None, "header %s: present (%r)" % (name, got))
    elif op == "=":
        expect(got is not None and got.strip() == arg,
               "header %s: %r, expected %r" % (name, got, arg))
    elif op == "~":
        expect(got is not None and arg.lower() in got.lower(),
               "header %s: %r, expected it to contain %r" % (name, got, arg))
    elif op == "matches":
        expect(got is not None and re.search(arg, got),
               "header %s: %r, expected it to match %r" % (name, got, arg))


def check_error_body(resp):
    """The contract for every 4xx/5xx: JSON {"error": "..."}."""
    ct = resp.header("Content-Type") or ""
    expect(ct.lower().startswith("application/json"),
           "status %d with Content-Type %r, expected application/json"
           % (resp.status, ct))
    try:
        doc = json.loads(resp.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TestFailure("status %d with a body that is not JSON: %r"
                          % (resp.status, resp.body[:200]))
    expect(isinstance(doc, dict) and isinstance(doc.get("error"), str)
           and doc["error"].strip(),
           "status %d: body has no \"error\" message: %r"
           % (resp.status, resp.body[:200]))


def run_case(case, srv, t):
    headers = list(case.headers)
    if not any(k.lower() == "user-agent" for (k, _) in headers):
        headers.append(("User-Agent", harness.CHROME_UA))
    t.log("%s %s\n%s\n\n%s" % (case.method, case.target[:300].decode("latin-1"),
                               "\n".join("%s: %s" % h for h in headers),
                               (case.body or b"")[:600].decode("latin-1")))
    for n, text in case.expect:
        key, _, arg = text.partition(":")
        if key == "sent-body-bytes":
            expect(len(case.body or b"") == int(arg),
                   "case error: body is %d bytes, the case says %s"
                   % (len(case.body or b""), arg.strip()))
        elif key == "sent-target-bytes":
            expect(len(case.target) == int(arg),
                   "case error: target is %d bytes, the case says %s"
                   % (len(case.target), arg.strip()))
    resp = srv.request(case.method, case.target, headers, case.body)
    t.log("--> %d\n%s\n\n%r" % (resp.status,
                                "\n".join("%s: %s" % h for h in resp.headers),
                                resp.body[:600]))
    body_json = None
    for n, text in case.expect:
        key, _, arg = text.partition(":")
        arg = arg.strip()
        if key == "status":
            expect(resp.status == int(arg), "status %d, expected %s (body %r)"
                   % (resp.status, arg, resp.body[:200]))
        elif key == "header":
            check_header_line(resp, arg)
        elif key == "json":
            if body_json is None:
                body_json = resp.json()
            check_json_line(body_json, arg, "body")
        elif text == "body-empty":
            expect(resp.body == b"", "body is %d bytes, expected none: %r"
                   % (len(resp.body), resp.body[:100]))
        elif key == "body-size":
            expect(len(resp.body) == int(arg), "body is %d bytes, expected %s"
                   % (len(resp.body), arg))
        elif key == "body-prefix":
            want = expand(arg.encode())
            expect(resp.body.startswith(want), "body starts %r, expected %r"
                   % (resp.body[:len(want)], want))
        elif key in ("sent-body-bytes", "sent-target-bytes"):
            pass
        else:
            raise TestFailure("%s:%d: unknown expectation %r"
                              % (case.name, n, text))
    if resp.status >= 400:
        check_error_body(resp)
    if case.stored:
        evs = t.events(srv.data)
        for filt, lines in case.stored:
            sel = [e for e in evs
                   if all(k in e and _text(e[k]) == v for k, v in filt.items())]
            t.log("stored %s: %s" % (filt, json.dumps(sel)[:2000]))
            what = "stored[%s]" % " ".join("%s=%s" % kv for kv in filt.items())
            for n, text in lines:
                key, _, arg = text.partition(":")
                if key == "count":
                    expect(len(sel) == int(arg),
                           "%s: %d events, expected %s: %s"
                           % (what, len(sel), arg.strip(),
                              json.dumps(sel)[:300]))
                elif key == "json":
                    check_json_line(sel, arg.strip(), what)
                else:
                    raise TestFailure("%s:%d: unknown stored check %r"
                                      % (case.name, n, text))


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


# --- the run ---------------------------------------------------------------------

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def ok(self, name):
        with self.lock:
            self.passed += 1
            print("ok   %s" % name, flush=True)

    def fail(self, name, reason):
        reason = " ".join(str(reason).split())
        with self.lock:
            self.failed += 1
            print("FAIL %s: %s" % (name, reason), flush=True)

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)


def selected(name, patterns):
    if not patterns:
        return True
    return any(fnmatch.fnmatchcase(name, p) or
               fnmatch.fnmatchcase(name + ".case", p) for p in patterns)


def scenario_functions():
    import scenarios
    import reports
    import tickets
    import replay
    import parity
    import crash
    import damage
    import abuse
    import hostile
    import install
    import lifecycle
    import metrics
    import export
    import config
    import cluster
    import chreports
    import ship
    fns = []
    for mod in (scenarios, reports, tickets, replay, parity, crash, abuse,
                hostile, damage, install, lifecycle, metrics, export,
                config, cluster, chreports, ship):
        mine = [f for (n, f) in vars(mod).items()
                if inspect.isfunction(f) and not n.startswith("_")
                and f.__module__ == mod.__name__]
        mine.sort(key=lambda f: f.__code__.co_firstlineno)
        fns += mine
    return fns


def run_guarded(res, name, body, t):
    """Runs BODY(); reports ok or FAIL; kills T's servers if it overruns."""
    timer = threading.Timer(TEST_LIMIT, t.kill_servers)
    timer.daemon = True
    timer.start()
    start = time.monotonic()
    try:
        body()
    except TestFailure as e:
        res.fail(name, e)
    except Exception as e:                       # a bug in the test or a crash
        t.log(traceback.format_exc())
        res.fail(name, "%s: %s" % (type(e).__name__, e))
    else:
        if time.monotonic() - start > TEST_LIMIT:
            res.fail(name, "took longer than %gs" % TEST_LIMIT)
        else:
            res.ok(name)
    finally:
        timer.cancel()
        t.kill_servers()


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print("usage: run.py BIN GEO_DIR [NAME...]", file=sys.stderr)
        return 2
    bin_, geo_dir, patterns = os.path.abspath(argv[1]), os.path.abspath(argv[2]), argv[3:]
    if not os.access(bin_, os.X_OK):
        print("run.py: %s is not an executable" % bin_, file=sys.stderr)
        return 2
    for schema in ("maxmind", "iplocation"):
        p = os.path.join(geo_dir, "geo-%s.mmdb" % schema)
        if not os.path.exists(p):
            print("run.py: warning: %s is missing" % p, file=sys.stderr)
    os.makedirs(harness.OUT, exist_ok=True)

    res = Results()

    def give_up():
        print("FAIL suite: still running after %gs; killing every server"
              % SUITE_LIMIT, flush=True)
        harness.kill_all()
        res.failed += 1
        res.summary()
        os._exit(1)
    watchdog = threading.Timer(SUITE_LIMIT, give_up)
    watchdog.daemon = True
    watchdog.start()

    def on_signal(signum, frame):
        harness.kill_all()
        sys.exit(130)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    cases = []
    for fn in sorted(os.listdir(CASES_DIR)) if os.path.isdir(CASES_DIR) else []:
        if fn.endswith(".case"):
            name = fn[:-5]
            if selected(name, patterns):
                cases.append(os.path.join(CASES_DIR, fn))
    scen = [f for f in scenario_functions() if selected(f.__name__, patterns)]
    if patterns and not cases and not scen:
        print("run.py: no test matches %s" % " ".join(patterns), file=sys.stderr)
        return 2

    if cases:
        run_cases(res, bin_, geo_dir, cases, patterns)
    for f in scen:
        t = harness.T(f.__name__, bin_, geo_dir)
        run_guarded(res, f.__name__, lambda f=f, t=t: f(t), t)

    watchdog.cancel()
    harness.kill_all()
    res.summary()
    return 1 if res.failed else 0


def run_cases(res, bin_, geo_dir, paths, patterns):
    t = harness.T("cases", bin_, geo_dir)
    state = {"srv": None}
    try:
        data = t.datadir()
        args = ("--geo", t.geo("maxmind"))

        def start():
            s = harness.Server(bin_, data, args, t.log_path)
            t.servers = [s]
            s.start()
            state["srv"] = s
        start()
    except TestFailure as e:
        for p in paths:
            res.fail(os.path.splitext(os.path.basename(p))[0],
                     "case server: %s" % e)
        t.kill_servers()
        return

    for p in paths:
        name = os.path.splitext(os.path.basename(p))[0]
        ct = harness.T(name, bin_, geo_dir)
        srv = state["srv"]
        ct.servers = [srv]

        def body(p=p, ct=ct, srv=srv):
            case = Case(p)
            if not srv.alive():
                raise TestFailure("the case server is not running")
            try:
                run_case(case, srv, ct)
            except Exception as e:
                # a server that crashed on this request may take a moment to go
                try:
                    srv.proc.wait(timeout=1)
                except Exception:
                    pass
                if not srv.alive():
                    raise TestFailure("%s; the case server died on this request "
                                      "(status %s, see %s)"
                                      % (e, srv.proc.returncode, t.log_path))
                raise
            if not srv.alive():
                raise TestFailure("the case server died after this request "
                                  "(status %s, see %s)"
                                  % (srv.proc.returncode, t.log_path))
        timer = threading.Timer(TEST_LIMIT, srv.proc.kill)
        timer.daemon = True
        timer.start()
        try:
            body()
        except TestFailure as e:
            res.fail(name, e)
        except Exception as e:
            ct.log(traceback.format_exc())
            res.fail(name, "%s: %s" % (type(e).__name__, e))
        else:
            res.ok(name)
        finally:
            timer.cancel()
        if not srv.alive():                     # go on with a fresh server
            try:
                start()
            except TestFailure as e:
                res.fail("cases_server_restart", e)
                return

    # The case server must also shut down cleanly.
    name = "case_server_exits_0_on_sigterm"
    if selected(name, patterns):

        def stop():
            srv = state["srv"]
            rc = srv.stop()
            expect(rc == 0, "exit status %s (log: %s)" % (rc, t.log_path))
            bad = harness.sanitizer_report(srv.log_tail(1 << 20))
            expect(bad is None, "server log: %s" % bad)
        run_guarded(res, name, stop, t)
    else:
        t.kill_servers()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
