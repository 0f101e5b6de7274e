"""harness.py — what the HTTP cases and the scenarios share: starting and
stopping `dwell serve`, talking HTTP to it, running the CLI, reading back
what it stored.

Python 3 standard library only. Every socket and every subprocess wait has a
timeout; every server started here is registered and killed at exit (and,
through PR_SET_PDEATHSIG, when the runner itself dies). Start servers from
the main thread only: the kernel's parent-death signal follows the thread
that forked.
"""

import atexit
import contextlib
import ctypes
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "out", "http")

SITE = "help.test"
ORIGIN = "http://help.test"
API = "/api/v1/sites/"   # the reports API; a site name follows

# A normal desktop browser; the runner sends it unless a case sets its own.
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")

READY_TIMEOUT = 10.0     # seconds for /healthz to answer 200
STOP_TIMEOUT = 15.0      # seconds for SIGTERM to end the server
HTTP_TIMEOUT = 10.0      # seconds per socket operation
CLI_TIMEOUT = 30.0       # seconds per `dwell ...` command


class TestFailure(Exception):
    """A test's expectation did not hold; the message says which."""


def expect(cond, msg):
    if not cond:
        raise TestFailure(msg)


# --- processes ----------------------------------------------------------------

_procs = []
_procs_lock = threading.Lock()


def _register(p):
    with _procs_lock:
        _procs.append(p)


def kill_all():
    """Kills every server this process started that is still running."""
    with _procs_lock:
        procs = list(_procs)
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass


atexit.register(kill_all)

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def _child_setup():
    # PR_SET_PDEATHSIG (1): the server dies with the runner, even on kill -9.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def sanitizer_report(text):
    """The first sanitizer complaint in a server's log, or None."""
    for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                "runtime error:", "ThreadSanitizer"):
        i = text.find(pat)
        if i >= 0:
            return text[i:i + 300].splitlines()[0]
    return None


# --- HTTP ---------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers        # list of (name, value)
        self.body = body              # bytes

    def header(self, name):
        """The value of header NAME (case-insensitive), or None; repeated
        headers are joined with ', '."""
        vals = [v for (k, v) in self.headers if k.lower() == name.lower()]
        return ", ".join(vals) if vals else None

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise TestFailure("body is not JSON (%s): %r" % (e, self.body[:200]))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:120])


def raw_request(port, method, target, headers=(), body=None,
                timeout=HTTP_TIMEOUT):
    """Sends one request on a fresh connection and reads the answer.

    HEADERS is a list of (name, value), sent as given and in order; Host,
    Content-Length (when there is a body, or for POST/PUT) and
    Connection: close are added unless present. TARGET and BODY may be str
    or bytes and are sent byte for byte (no escaping).
    """
    if isinstance(target, str):
        target = target.encode("utf-8")
    if isinstance(body, str):
        body = body.encode("utf-8")
    names = {k.lower() for (k, _) in headers}
    hdrs = list(headers)
    if "host" not in names:
        hdrs.insert(0, ("Host", "127.0.0.1:%d" % port))
    if "content-length" not in names and (body is not None or
                                          method in ("POST", "PUT")):
        hdrs.append(("Content-Length", str(len(body or b""))))
    if "connection" not in names:
        hdrs.append(("Connection", "close"))
    head = method.encode() + b" " + target + b" HTTP/1.1\r\n"
    for k, v in hdrs:
        try:
            vb = v.encode("latin-1")        # byte for byte, as cases read them
        except UnicodeEncodeError:
            vb = v.encode("utf-8")
        head += k.encode("latin-1") + b": " + vb + b"\r\n"
    head += b"\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.settimeout(timeout)
        try:
            sock.sendall(head + (body or b""))
        except (BrokenPipeError, ConnectionResetError):
            pass        # a server may answer (413, 414) before reading it all
        resp = http.client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
        except ConnectionResetError:
            raise TestFailure("connection reset before an answer")
        except http.client.RemoteDisconnected:
            raise TestFailure("connection closed before an answer")
        data = resp.read()
        return Response(resp.status, resp.getheaders(), data)
    finally:
        sock.close()


def beacon_headers(origin=ORIGIN, ua=CHROME_UA, xff=None, extra=()):
    h = [("Content-Type", "text/plain;charset=UTF-8")]
    if origin is not None:
        h.append(("Origin", origin))
    if ua is not None:
        h.append(("User-Agent", ua))
    if xff is not None:
        h.append(("X-Forwarded-For", xff))
    return h + list(extra)


class Conn:
    """A keep-alive connection for bursts. post() never raises: it returns
    (status, Retry-After value), with status None when the request failed at
    the transport level (the server may or may not have stored it)."""

    def __init__(self, port, timeout=HTTP_TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.c = None

    def post(self, events, headers=None):
        body = json.dumps(events).encode()
        hdrs = dict(headers or beacon_headers())
        try:
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port,
                                                    timeout=self.timeout)
            self.c.request("POST", "/e", body=body, headers=hdrs)
            r = self.c.getresponse()
            r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, r.getheader("Retry-After")
        except (OSError, http.client.HTTPException):
            self.close()
            return None, None

    def close(self):
        if self.c is not None:
            try:
                self.c.close()
            except Exception:
                pass
            self.c = None


# --- the server ---------------------------------------------------------------

class Server:
    """One `dwell serve` process on 127.0.0.1:PORT."""

    def __init__(self, bin_, data, args, log_path):
        self.bin = bin_
        self.data = data
        self.args = list(args)
        self.log_path = log_path
        self.proc = None
        self.port = None
        self.killed = False      # stopped by a signal the test chose

    def start(self):
        for attempt in range(3):
            self.port = free_port()
            argv = [self.bin, "serve", "--listen", "127.0.0.1:%d" % self.port,
                    "--data", self.data] + self.args
            log = open(self.log_path, "ab")
            log.write(("\n$ %s\n" % " ".join(argv)).encode())
            log.flush()
            try:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=log,
                                             cwd=OUT,
                                             preexec_fn=_child_setup)
            finally:
                log.close()
            _register(self.proc)
            self.killed = False
            if self._wait_ready():
                return self
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
                raise TestFailure("server not ready within %gs (log: %s)"
                                  % (READY_TIMEOUT, self.log_path))
            tail = self.log_tail()
            if "in use" not in tail.lower():        # not a port race: give up
                break
        raise TestFailure("server exited with status %s before it was ready: %s"
                          % (self.proc.returncode, self.log_tail().strip()[-400:]))

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                r = raw_request(self.port, "GET", "/healthz", timeout=2)
                if r.status == 200:
                    return True
            except (OSError, TestFailure, http.client.HTTPException):
                pass
            time.sleep(0.05)
        return False

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.killed = True
        self.proc.send_signal(sig)

    def kill9(self):
        self.killed = True
        self.proc.kill()
        self.proc.wait(timeout=STOP_TIMEOUT)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for the process to end; returns its exit status, or kills it
        and raises when it is still running after TIMEOUT seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise TestFailure("server still running %gs after the signal"
                              % timeout)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends SIG and waits; returns the exit status."""
        self.send_signal(sig)
        return self.wait(timeout)

    # requests
    def request(self, method, target, headers=(), body=None, **kw):
        return raw_request(self.port, method, target, headers, body, **kw)

    def post_events(self, events, origin=ORIGIN, ua=CHROME_UA, xff=None,
                    headers=()):
        """POSTs EVENTS (a dict or a list, sent as JSON) to /e like a beacon."""
        return self.request("POST", "/e",
                            beacon_headers(origin, ua, xff, headers),
                            json.dumps(events))


# --- one test's context ---------------------------------------------------------

class T:
    """What a scenario gets: the binary, the geo databases, fresh data dirs,
    servers that are stopped when the scenario ends, and the CLI."""

    def __init__(self, name, bin_, geo_dir):
        self.name = name
        self.bin = bin_
        self.geo_dir = geo_dir
        self.servers = []
        self._ndata = 0
        os.makedirs(OUT, exist_ok=True)
        self.log_path = os.path.join(OUT, name + ".log")
        with open(self.log_path, "wb"):
            pass

    def geo(self, schema="maxmind"):
        """Path of the test country database: schema 'maxmind' (country.
        iso_code) or 'iplocation' (country_code)."""
        return os.path.join(self.geo_dir, "geo-%s.mmdb" % schema)

    def log(self, msg):
        with open(self.log_path, "a") as f:
            f.write(msg.rstrip("\n") + "\n")

    def datadir(self, sites=((SITE, (ORIGIN,)),)):
        """A fresh, empty data dir under tests/out/http/data/, with SITES
        (name, origins) registered through `dwell site add`."""
        self._ndata += 1
        d = os.path.join(OUT, "data", "%s.%d" % (self.name, self._ndata))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, origins in sites:
            self.site_add(d, name, origins)
        return d

    def site_add(self, data, name, origins):
        argv = ["site", "add", name]
        for o in origins:
            argv += ["--origin", o]
        r = self.dwell(*(argv + ["--data", data]))
        expect(r.returncode == 0, "dwell site add %s: exit %d: %s"
               % (name, r.returncode, r.stderr.strip()[-300:]))

    def dwell(self, *args, timeout=CLI_TIMEOUT):
        """Runs the CLI; returns a CompletedProcess with text stdout/stderr."""
        argv = [self.bin] + [str(a) for a in args]
        self.log("$ " + " ".join(argv))
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, cwd=OUT,
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("`dwell %s` did not end within %gs"
                              % (" ".join(argv[1:]), timeout))
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        self.log("exit %d\n%s%s" % (r.returncode, out[-2000:], err[-2000:]))
        return subprocess.CompletedProcess(argv, r.returncode, out, err)

    def events(self, data, site=SITE, since="all", limit="0"):
        """`dwell events SITE --since SINCE --limit LIMIT` as a list of dicts
        (pass since=None / limit=None to leave a flag out)."""
        argv = ["events", site, "--data", data]
        if since is not None:
            argv += ["--since", since]
        if limit is not None:
            argv += ["--limit", limit]
        r = self.dwell(*argv)
        expect(r.returncode == 0, "dwell events: exit %d: %s"
               % (r.returncode, r.stderr.strip()[-300:]))
        evs = []
        for i, line in enumerate(r.stdout.splitlines()):
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                raise TestFailure("dwell events: line %d is not JSON: %r"
                                  % (i + 1, line[:200]))
            expect(isinstance(ev, dict),
                   "dwell events: line %d is not an object" % (i + 1))
            evs.append(ev)
        return evs

    @contextlib.contextmanager
    def server(self, *args, data=None):
        """Starts `dwell serve ... ARGS` on a fresh data dir (or DATA) and
        yields the Server. On leaving, a server still running gets SIGTERM and
        must exit 0 (unless the scenario already signalled it)."""
        if data is None:
            data = self.datadir()
        s = Server(self.bin, data, args, self.log_path)
        self.servers.append(s)
        s.start()
        ok = False
        try:
            yield s
            ok = True
        finally:
            if not ok:
                if s.alive():
                    s.proc.kill()
                    s.proc.wait(timeout=5)
            else:
                if s.alive():
                    rc = s.stop()
                    expect(rc == 0, "server exited with status %s on SIGTERM"
                           " (log: %s, ending: %r)"
                           % (rc, self.log_path,
                              s.log_tail(4000).splitlines()[-30:]))
                bad = sanitizer_report(s.log_tail(1 << 20))
                expect(bad is None, "server log: %s" % bad)

    def kill_servers(self):
        for s in self.servers:
            if s.alive():
                try:
                    s.proc.kill()
                except OSError:
                    pass


def grep_tree(root, needles):
    """The (file, needle) pairs where one of NEEDLES (bytes) occurs in a file
    under ROOT, reading every file as bytes."""
    hits = []
    for dirpath, _, files in os.walk(root):
        for fn in files:
            p = os.path.join(dirpath, fn)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for n in needles:
                if n in data:
                    hits.append((os.path.relpath(p, root), n))
    return hits


ISO_UTC_RE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


# --- helpers the test modules share --------------------------------------------

def today():
    """Today's UTC date (a datetime.date)."""
    return datetime.datetime.now(datetime.timezone.utc).date()


def day_iso(days_ago=0):
    """The UTC date DAYS_AGO days before today as YYYY-MM-DD."""
    return (today() - datetime.timedelta(days=days_ago)).isoformat()


def iso_time(ts):
    """Unix seconds as an RFC 3339 UTC time, as a helpdesk would send it."""
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def view(vid, path="/kb/article", title=None, cat=None, words=None, sd=None,
         bot=False, site=SITE, **kw):
    """A view event of help.test PATH (title "Article VID" unless given);
    the fields in KW are added as they are."""
    ev = {"s": site, "t": "view", "v": vid, "u": "http://help.test" + path,
          "ti": title if title is not None else "Article " + vid}
    if cat is not None:
        ev["c"] = cat
    if words is not None:
        ev["w"] = words
    if sd is not None:
        ev["sd"] = sd
    if bot:
        ev["b"] = 1
    ev.update(kw)
    return ev


def engage(vid, ms, sd=None, site=SITE):
    """An engage event: MS engaged milliseconds, scroll depth SD if given."""
    ev = {"s": site, "t": "engage", "v": vid, "e": ms}
    if sd is not None:
        ev["sd"] = sd
    return ev


def status(r, want, what):
    """Fails unless answer R has status WANT; the message shows the body."""
    expect(r.status == want, "%s: status %d, expected %d (body %r)"
           % (what, r.status, want, r.body[:300]))


def error_message(r, what):
    """A 4xx answer's JSON error message (the contract of every error)."""
    ct = r.header("Content-Type") or ""
    expect(ct.lower().startswith("application/json"),
           "%s: status %d with Content-Type %r" % (what, r.status, ct))
    doc = r.json()
    expect(isinstance(doc, dict) and isinstance(doc.get("error"), str)
           and doc["error"].strip(),
           "%s: no \"error\" message in %r" % (what, r.body[:200]))
    return doc["error"]


def names(msg, field):
    """Whether MSG names FIELD as a whole word."""
    return re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(field),
                     msg) is not None


def token_and_id(t, data, site=SITE, read_only=False, name=None):
    """`dwell token create` (with --name NAME if given): returns (token, its
    12-digit id from stderr); fails unless it printed one dw_ token."""
    argv = ["token", "create", site, "--data", data]
    if name is not None:
        argv[3:3] = ["--name", name]
    if read_only:
        argv.insert(3, "--read-only")
    r = t.dwell(*argv)
    expect(r.returncode == 0, "dwell token create %s: exit %d: %s"
           % (site, r.returncode, r.stderr.strip()[-300:]))
    lines = r.stdout.splitlines()
    expect(len(lines) == 1 and re.match(r"^dw_[A-Za-z0-9_-]{32}$", lines[0]),
           "dwell token create printed %r, expected one line dw_ + 32 "
           "characters" % r.stdout[:200])
    m = re.search(r"\b([0-9a-f]{12})\b", r.stderr)
    expect(m, "dwell token create: no 12-digit id on stderr: %r" % r.stderr)
    return lines[0], m.group(1)


def token(t, data, site=SITE, read_only=False, name=None):
    """token_and_id without the id."""
    return token_and_id(t, data, site, read_only, name)[0]


def upto_today(target):
    """TARGET asking for the 30 days that end today, unless it names a
    range: data sent today is in no report's default range, which holds
    full days only, ending yesterday (docs/metrics.md, Full days)."""
    if not target.startswith(API) or re.search(r"[?&](from|to|days)=",
                                               target):
        return target
    return target + ("&" if "?" in target else "?") + "to=" + \
        today().isoformat()


def get(srv, target, token=None, headers=(), as_is=True):
    """GET TARGET with TOKEN as bearer if given; unless AS_IS, a report
    without a range asks up to today (upto_today)."""
    if not as_is:
        target = upto_today(target)
    h = list(headers)
    if token is not None:
        h.append(("Authorization", "Bearer " + token))
    return srv.request("GET", target, h)


def api_json(srv, tok, target, what=None, as_is=True):
    """GET TARGET (see get) as JSON; fails unless 200 with a JSON type."""
    r = get(srv, target, tok, as_is=as_is)
    status(r, 200, what or "GET " + target)
    ct = r.header("Content-Type") or ""
    expect(ct.startswith("application/json"),
           "GET %s: Content-Type %r" % (target, ct))
    return r.json()
