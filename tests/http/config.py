"""config.py — configuration and CLI comfort (issue 12 items 4 and 9): every
serve flag as DWELL_* in the environment (flags win, a bad value names the
variable), --listen with host names, [v6], port 0 and the system's reason for
a failed bind, token create's report link, site add's any-origin warning,
serve's hint on an empty data dir, --quiet. Every public function is one
test (run by run.py)."""

import http.client
import os
import re
import resource
import select
import signal
import socket
import subprocess
import time
import urllib.parse

import harness
from harness import TestFailure, expect, SITE

LISTENING = re.compile(r"listening on http://(\S+) ")


def _env(**kw):
    """The runner's environment without DWELL_* variables, plus KW."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DWELL_")}
    env.update(kw)
    return env


def _run(t, args, env=None):
    """The CLI with environment ENV; a CompletedProcess with text output."""
    argv = [t.bin] + list(args)
    t.log("$ %s%s" % (" ".join("%s=%s" % kv for kv in sorted((env or {}).items())
                              if kv[0].startswith("DWELL_")), " ".join(argv)))
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=harness.CLI_TIMEOUT,
                       env=env if env is not None else _env())
    t.log("exit %d\n%s%s" % (r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r


class _Serve:
    """`dwell serve ARGS` with ENV; its log is a file read for the address
    the server reports it bound."""

    def __init__(self, t, args, env=None):
        self.t = t
        self.log_path = os.path.join(harness.OUT, "%s.serve.%d.log"
                                     % (t.name, id(self) % 100000))
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([t.bin, "serve"] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log,
                                     env=env if env is not None else _env(),
                                     preexec_fn=harness._child_setup)
        harness._register(self.proc)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def address(self, timeout=harness.READY_TIMEOUT):
        """The bound "HOST:PORT" from the log's listening line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = LISTENING.search(self.text())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                raise TestFailure("serve exited %d: %s"
                                  % (self.proc.returncode, self.text()[-400:]))
            time.sleep(0.05)
        raise TestFailure("no listening line within %gs: %s"
                          % (timeout, self.text()[-400:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            rc = self.proc.wait(timeout=harness.STOP_TIMEOUT)
            expect(rc == 0, "serve exited %d on SIGTERM" % rc)
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.stop()


def _get(addr, target, headers=None):
    """GET TARGET from "HOST:PORT" or "[V6]:PORT": (status, body)."""
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=5)
    try:
        c.request("GET", target, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _has_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError as e:
        return "no IPv6 loopback (%s)" % e


def serve_flags_come_from_the_environment_and_flags_win(t):
    data = t.datadir()
    help_ = _run(t, ["serve", "--help"])
    for env in ("DWELL_LISTEN", "DWELL_RATE_LIMIT", "DWELL_TRUST_PROXY",
                "DWELL_DATA", "DWELL_QUIET"):
        expect(env in help_.stdout, "serve --help does not name %s" % env)
    # DWELL_LISTEN and DWELL_DATA used when the flags are absent
    with _Serve(t, [], _env(DWELL_LISTEN="127.0.0.1:0", DWELL_DATA=data,
                            DWELL_TRUST_PROXY="10.0.0.0/8, 192.168.0.0/16,::1",
                            DWELL_RATE_LIMIT="0")) as s:
        addr = s.address()
        expect(addr.startswith("127.0.0.1:") and not addr.endswith(":0"),
               "DWELL_LISTEN=127.0.0.1:0: bound %s" % addr)
        expect("(data %s," % data in s.text(),
               "DWELL_DATA not used: %s" % s.text()[-300:])
        expect(_get(addr, "/healthz")[0] == 200, "no /healthz at %s" % addr)
    # the flag wins over a variable that could not work
    with _Serve(t, ["--listen", "127.0.0.1:0", "--rate-limit", "0"],
                _env(DWELL_LISTEN="192.0.2.1:9", DWELL_DATA=data,
                     DWELL_RATE_LIMIT="5x")) as s:
        addr = s.address()
        expect(addr.startswith("127.0.0.1:"), "--listen lost to DWELL_LISTEN")
        expect(_get(addr, "/healthz")[0] == 200, "no /healthz at %s" % addr)


def a_bad_environment_value_names_the_variable(t):
    data = t.datadir()
    cases = [
        ({"DWELL_RATE_LIMIT": "5x"}, "DWELL_RATE_LIMIT=5x"),
        ({"DWELL_TRUST_PROXY": "10.0.0.0/8,nope"}, "DWELL_TRUST_PROXY=nope"),
        ({"DWELL_THREADS": "999"}, "DWELL_THREADS=999"),
        ({"DWELL_QUIET": "yes"}, "DWELL_QUIET=yes"),
    ]
    for extra, said in cases:
        r = _run(t, ["serve", "--data", data], _env(**extra))
        expect(r.returncode == 2, "%s: exit %d, expected 2" % (said, r.returncode))
        expect(said in r.stderr, "%s not named in %r" % (said, r.stderr[-300:]))
    r = _run(t, ["serve", "--data", data, "--rate-limit", "5x"])
    expect(r.returncode == 2 and "--rate-limit 5x" in r.stderr,
           "the flag's own error changed: %r" % r.stderr[-300:])


def listen_takes_host_names_ipv6_and_port_0(t):
    data = t.datadir()
    specs = ["localhost:0", ":0"]
    v6 = _has_ipv6_loopback()
    if v6 is True:
        specs += ["[::1]:0", "[::]:0"]
    else:
        print("    skipped [::1]:0 and [::]:0: %s" % v6)
    for spec in specs:
        with _Serve(t, ["--listen", spec, "--data", data]) as s:
            addr = s.address()
            expect(not addr.endswith(":0"), "%s: logged port 0" % spec)
            port = addr.rsplit(":", 1)[1]
            expect(_get(addr, "/healthz")[0] == 200,
                   "--listen %s: no /healthz at %s" % (spec, addr))
            if spec in (":0", "[::]:0"):      # every address, IPv4 too
                expect(_get("127.0.0.1:" + port, "/healthz")[0] == 200,
                       "--listen %s: 127.0.0.1 not served" % spec)


def a_failed_bind_prints_the_system_reason(t):
    data = t.datadir()
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        r = _run(t, ["serve", "--data", data, "--listen", "127.0.0.1:%d" % port])
        expect(r.returncode == 1, "busy port: exit %d" % r.returncode)
        expect("Address already in use" in r.stderr,
               "busy port: %r" % r.stderr[-300:])
    finally:
        busy.close()
    r = _run(t, ["serve", "--data", data, "--listen", "192.0.2.1:8093"])
    expect(r.returncode == 1 and "Cannot assign requested address" in r.stderr,
           "foreign address: exit %d, %r" % (r.returncode, r.stderr[-300:]))


def a_malformed_listen_address_is_refused_at_startup(t):
    """A listen address of no form serve takes exits 2 before serving,
    naming the variable or flag it came from; a flag wins over a bad
    variable."""
    data = t.datadir()
    cases = [
        (["--listen", "8093"], {}, "--listen 8093: expected HOST:PORT"),
        (["--listen", "127.0.0.1:65536"], {},
         "--listen 127.0.0.1:65536: expected"),
        ([], {"DWELL_LISTEN": "nonsense"},
         "DWELL_LISTEN=nonsense (environment): expected HOST:PORT"),
        ([], {"DWELL_LISTEN": "[::1:8093"}, "DWELL_LISTEN=[::1:8093"),
    ]
    for args, env, said in cases:
        r = _run(t, ["serve", "--data", data] + args, _env(**env))
        expect(r.returncode == 2, "%s: exit %d, expected 2: %r"
               % (said, r.returncode, r.stderr[-300:]))
        expect(said in r.stderr, "%r not in %r" % (said, r.stderr[-300:]))
        expect("listening" not in r.stderr and "cannot listen" not in r.stderr,
               "%s: got as far as binding: %r" % (said, r.stderr[-300:]))
    with _Serve(t, ["--listen", "127.0.0.1:0", "--data", data],
                _env(DWELL_LISTEN="nonsense")) as s:
        addr = s.address()
        expect(_get(addr, "/healthz")[0] == 200,
               "--listen did not win over DWELL_LISTEN=nonsense")


def token_create_prints_a_report_link_that_opens(t):
    data = t.datadir()
    with _Serve(t, ["--listen", "127.0.0.1:0", "--data", data]) as s:
        addr = s.address()
        r = _run(t, ["token", "create", SITE, "--read-only", "--data", data,
                     "--public-url", "http://%s/" % addr])
        expect(r.returncode == 0, "token create: %r" % r.stderr)
        tok = r.stdout.strip()
        expect(re.match(r"^dw_[A-Za-z0-9_-]{32}$", tok),
               "stdout is not the token alone: %r" % r.stdout)
        m = re.search(r"(http://\S+/report/\S+#token=(\S+))", r.stderr)
        expect(m, "no report link on stderr: %r" % r.stderr)
        link, in_link = m.group(1), m.group(2)
        expect(link.startswith("http://%s/report/%s#" % (addr, SITE)),
               "link %s is not of %s" % (link, addr))
        expect(in_link == tok, "the link's token is not the one printed")
        url = urllib.parse.urlsplit(link)
        st, body = _get(addr, url.path)
        expect(st == 200 and b"<html" in body.lower(),
               "the link's page: %d %r" % (st, body[:100]))
        st, body = _get(addr, harness.API + SITE + "/summary",
                        {"Authorization": "Bearer " + in_link})
        expect(st == 200, "the link's token does not open the API: %d" % st)
        # without --public-url: from DWELL_LISTEN, said to be local
        r = _run(t, ["token", "create", SITE, "--data", data],
                 _env(DWELL_LISTEN=addr))
        expect(r.returncode == 0 and "report: http://%s/report/%s#token=%s"
               % (addr, SITE, r.stdout.strip()) in r.stderr and
               "local" in r.stderr, "local link: %r" % r.stderr)
    r = _run(t, ["token", "create", SITE, "--data", data, "--public-url",
                 "help.example.com"])
    expect(r.returncode == 2 and "--public-url help.example.com" in r.stderr,
           "a bad --public-url: exit %d %r" % (r.returncode, r.stderr))


def site_add_warns_when_any_origin_is_accepted(t):
    data = t.datadir(sites=())
    r = _run(t, ["site", "add", "open.test", "--data", data])
    expect(r.returncode == 0 and "any origin" in r.stderr
           and "warning" in r.stderr, "no warning: %r" % r.stderr)
    r = _run(t, ["site", "add", "star.test", "--origin", "*", "--data", data])
    expect(r.returncode == 0 and "any origin" in r.stdout
           and "warning" not in r.stderr,
           "--origin '*': %r %r" % (r.stdout, r.stderr))
    r = _run(t, ["site", "add", "kept.test", "--origin", "https://a.test",
                 "--data", data])
    expect(r.returncode == 0 and r.stderr == "", "with --origin: %r" % r.stderr)
    r = _run(t, ["site", "add", "kept.test", "--data", data])
    expect(r.returncode == 0 and "warning" not in r.stderr,
           "origins kept, yet warned: %r" % r.stderr)


def a_site_changed_by_another_process_is_seen_by_the_next_beacon(t):
    """Each HTTP thread remembers the last site it looked up; a change made
    by `dwell site` while the server runs must still hold from the next
    request on, on every thread: new origins at once, a removed site gone
    at once. Eight beacons each time, on new connections, reach both of
    the server's threads."""
    data = t.datadir()                      # SITE with origin ORIGIN
    moved = "https://moved.example"

    def statuses(origin, n=8):
        return [srv.post_events(harness.view("memo_%s_%04d" % (tag, i)),
                                origin=origin).status for i in range(n)]

    with t.server(data=data) as srv:
        tag = "a"
        got = statuses(harness.ORIGIN)
        expect(got == [204] * 8, "before any change: %s" % got)
        r = _run(t, ["site", "add", SITE, "--origin", moved, "--data", data])
        expect(r.returncode == 0, "site add: %d %r" % (r.returncode, r.stderr))
        tag = "b"
        got = statuses(harness.ORIGIN)
        expect(got == [403] * 8, "the old origin after the change: %s" % got)
        tag = "c"
        got = statuses(moved)
        expect(got == [204] * 8, "the new origin after the change: %s" % got)
        r = _run(t, ["site", "remove", SITE, "--purge", "--data", data])
        expect(r.returncode == 0, "site remove: %d %r"
               % (r.returncode, r.stderr))
        tag = "d"
        got = statuses(moved)
        expect(got == [404] * 8, "after the site's removal: %s" % got)


def site_add_origin_star_opens_a_site_that_had_origins(t):
    """`site add NAME --origin '*'` on a site with origins removes them
    (the running server then takes a beacon from any page); without '*'
    the origins stay."""
    data = t.datadir()                      # SITE with origin ORIGIN
    foreign = "https://elsewhere.example"
    with t.server(data=data) as srv:
        r = srv.post_events(harness.view("origin_star_0001"), origin=foreign)
        expect(r.status == 403, "a foreign origin before: %d" % r.status)
        r = _run(t, ["site", "add", SITE, "--data", data])
        expect(r.returncode == 0 and "warning" not in r.stderr,
               "site add without --origin: %d %r" % (r.returncode, r.stderr))
        r = srv.post_events(harness.view("origin_star_0002"), origin=foreign)
        expect(r.status == 403, "origins not kept without --origin: %d"
               % r.status)
        r = _run(t, ["site", "add", SITE, "--origin", "*", "--data", data])
        expect(r.returncode == 0, "--origin '*': exit %d %r"
               % (r.returncode, r.stderr))
        expect("any origin accepted" in r.stdout and
               "origins removed" in r.stdout, "stdout: %r" % r.stdout)
        r = srv.post_events(harness.view("origin_star_0003"), origin=foreign)
        expect(r.status == 204, "a foreign origin after '*': %d" % r.status)
    r = _run(t, ["site", "list", "--data", data])
    expect(r.returncode == 0 and (SITE + "\t\n") in r.stdout,
           "site list still shows origins: %r" % r.stdout)
    evs = t.events(data)
    expect(len(evs) == 1, "stored %d events, expected the one accepted: %r"
           % (len(evs), evs))


def serve_on_an_empty_data_dir_says_how_to_add_a_site(t):
    data = t.datadir(sites=())
    with _Serve(t, ["--listen", "127.0.0.1:0", "--data", data]) as s:
        s.address()
        time.sleep(0.2)
        expect("dwell site add SITE --origin" in s.text() and
               "--data %s" % data in s.text(), "no hint: %r" % s.text()[-400:])
    port = harness.free_port()
    with _Serve(t, ["--listen", "127.0.0.1:%d" % port, "--data", data,
                    "--quiet"]) as s:
        deadline = time.monotonic() + harness.READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if _get("127.0.0.1:%d" % port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        expect("site add" not in s.text() and "listening" not in s.text(),
               "--quiet: %r" % s.text()[-400:])
    r = _run(t, ["token", "create", "nope.test", "--data", data, "--quiet"])
    expect(r.returncode == 1 and "no such site" in r.stderr,
           "--quiet silenced an error: %r" % r.stderr)


def _run_on_a_terminal(t, args):
    """The CLI with standard error on a pseudo-terminal and standard output
    a pipe: (exit status, stdout, the bytes the terminal received)."""
    argv = [t.bin] + list(args)
    t.log("$ (stderr a terminal) %s" % " ".join(argv))
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=slave,
                                env=_env(), preexec_fn=harness._child_setup)
    finally:
        os.close(slave)
    harness._register(proc)
    term = b""
    deadline = time.monotonic() + harness.CLI_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.5)[0]:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:            # EIO: the child closed the terminal
                break
            if not chunk:
                break
            term += chunk
        out = proc.communicate(timeout=max(1, deadline - time.monotonic()))[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        raise TestFailure("`%s` did not end within %gs"
                          % (" ".join(argv[1:]), harness.CLI_TIMEOUT))
    finally:
        os.close(master)
    t.log("exit %d\n%s%r" % (proc.returncode, out.decode()[-2000:],
                              term[-2000:]))
    return proc.returncode, out.decode(), term


PROGRESS = re.compile(rb"\r\x1b\[K([a-z ()A-Za-z]+): ([0-9,]+)(?: / ([0-9,]+) "
                      rb"\(([0-9]+)%\))?")


def _progress_lines(term):
    """The progress lines drawn on a terminal: [(what, done, total, %)]."""
    return [(m.group(1).decode(), int(m.group(2).replace(b",", b"")),
             int(m.group(3).replace(b",", b"")) if m.group(3) else None,
             int(m.group(4)) if m.group(4) else None)
            for m in PROGRESS.finditer(term)]


def demo_and_backup_draw_progress_only_on_a_terminal(t):
    """`dwell demo` and `dwell backup` draw a progress line on a terminal
    stderr (erased at the end; stdout unchanged), and write none to a
    pipe or with --quiet."""
    data = t.datadir(sites=(("tty.test", ("https://a.test",)),
                            ("pipe.test", ("https://a.test",)),
                            ("quiet.test", ("https://a.test",))))
    rc, out, term = _run_on_a_terminal(t, ["demo", "tty.test", "--days", "40",
                                           "--data", data])
    expect(rc == 0 and "over 40 days stored for tty.test" in out,
           "demo on a terminal: exit %d, %r" % (rc, out))
    lines = _progress_lines(term)
    expect(lines and all(w == "generating demo days" and n == 40
                         for w, d, n, p in lines),
           "demo: no progress line of 40 days on the terminal: %r"
           % term[-400:])
    expect(all(1 <= d <= 40 for w, d, n, p in lines) and
           [d for w, d, n, p in lines] == sorted(d for w, d, n, p in lines),
           "demo: progress not 1..40 and rising: %r" % lines)
    expect(term.rstrip(b"\r\n").endswith(b"\r\x1b[K") or
           term.endswith(b"\x1b[K"), "demo: the last line not erased: %r"
           % term[-200:])
    expect(b"\x1b" not in out.encode(), "demo: escapes on stdout: %r" % out)
    r = _run(t, ["demo", "pipe.test", "--days", "40", "--data", data])
    expect(r.returncode == 0 and r.stderr == "",
           "demo into a pipe: exit %d, stderr %r" % (r.returncode, r.stderr))
    rc, out, term = _run_on_a_terminal(t, ["demo", "quiet.test", "--days",
                                           "40", "--quiet", "--data", data])
    expect(rc == 0 and term == b"",
           "demo --quiet on a terminal: exit %d, %r" % (rc, term[-300:]))

    dest = os.path.join(harness.OUT, "data", t.name + ".backup")
    for d in (dest, dest + ".pipe", dest + ".quiet"):
        subprocess.run(["rm", "-rf", d], check=True)
    rc, out, term = _run_on_a_terminal(t, ["backup", dest, "--data", data])
    expect(rc == 0 and os.path.exists(os.path.join(dest, "data.mdb")),
           "backup on a terminal: exit %d, %r %r" % (rc, out, term[-300:]))
    size_kib = os.path.getsize(os.path.join(dest, "data.mdb")) >> 10
    lines = _progress_lines(term)
    expect(lines and all(w == "backing up (KiB)" for w, d, n, p in lines),
           "backup: no progress line on the terminal: %r" % term[-400:])
    expect(all(0 < d <= size_kib and n >= d * 0.5 for w, d, n, p in lines),
           "backup: progress %r against a copy of %d KiB" % (lines, size_kib))
    expect(b"\x1b" not in out.encode(), "backup: escapes on stdout")
    r = _run(t, ["backup", dest + ".pipe", "--data", data])
    expect(r.returncode == 0 and r.stderr == "",
           "backup into a pipe: exit %d, stderr %r" % (r.returncode, r.stderr))
    rc, out, term = _run_on_a_terminal(t, ["backup", dest + ".quiet",
                                           "--quiet", "--data", data])
    expect(rc == 0 and term == b"",
           "backup --quiet on a terminal: exit %d, %r" % (rc, term[-300:]))
    r = _run(t, ["check", "tty.test", "--data", dest])
    expect(r.returncode == 0, "the copy made on a terminal does not check: "
           "%r" % r.stderr[-300:])


def _small_files():
    """In the child: files may not grow past 256 KiB, and the signal that
    would kill a process that tries is ignored (write fails with EFBIG)."""
    harness._child_setup()
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def a_backup_that_cannot_write_leaves_nothing_behind(t):
    """A backup whose file cannot grow (RLIMIT_FSIZE: EFBIG) fails with the
    reason, at once, and leaves neither data.mdb nor the partial copy."""
    data = t.datadir(sites=(("big.test", ("https://a.test",)),))
    r = _run(t, ["demo", "big.test", "--days", "30", "--data", data])
    expect(r.returncode == 0, "demo: %r" % r.stderr)
    dest = os.path.join(harness.OUT, "data", t.name + ".backup")
    subprocess.run(["rm", "-rf", dest], check=True)
    os.makedirs(dest)                          # an empty one is kept
    argv = [t.bin, "backup", dest, "--data", data]
    t.log("$ (files at most 256 KiB) " + " ".join(argv))
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=harness.CLI_TIMEOUT, env=_env(),
                       preexec_fn=_small_files)
    t.log("exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
    expect(p.returncode == 1 and "File too large" in p.stderr,
           "a backup that cannot write: exit %d, %r"
           % (p.returncode, p.stderr[-300:]))
    expect(os.listdir(dest) == [], "left behind: %r" % os.listdir(dest))
    r = _run(t, ["backup", dest, "--data", data])
    expect(r.returncode == 0, "the backup after it: %r" % r.stderr[-300:])


def deploy_md_lists_every_variable_the_binary_takes(t):
    """docs/deploy.md's Configuration table holds exactly the variables the
    binary names in `dwell help --markdown`, each beside its flag."""
    r = _run(t, ["help", "--markdown"])
    expect(r.returncode == 0, "help --markdown: exit %d" % r.returncode)
    want = set(re.findall(r"^\| `--([a-z-]+)[^`]*` \| [^|]*; env (DWELL_[A-Z_]+) \|",
                          r.stdout, re.M))
    expect(("listen", "DWELL_LISTEN") in want and
           ("public-url", "DWELL_PUBLIC_URL") in want,
           "help --markdown names no variables: %r" % sorted(want)[:5])
    with open(os.path.join(harness.ROOT, "docs", "deploy.md")) as f:
        doc = f.read()
    sec = doc.split("\n## Configuration\n", 1)
    expect(len(sec) == 2, "docs/deploy.md has no ## Configuration")
    have = set((f, v) for v, f in re.findall(
        r"^\| `(DWELL_[A-Z_]+)` \| `--([a-z-]+)` \|", sec[1].split("\n## ")[0],
        re.M))
    expect(have == want, "docs/deploy.md's table: missing %s, extra %s"
           % (sorted(want - have), sorted(have - want)))
