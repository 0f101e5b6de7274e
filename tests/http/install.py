"""install.py — dwell as an operator installs it (issue 12 items 2, 3):
`make install` / `make uninstall` with PREFIX and DESTDIR, the man page
docs/dwell.1 (renders without warnings, names every flag of every command,
its COMMANDS are `dwell help --man`), and the systemd unit
docs/deploy/dwell.service (passes `systemd-analyze verify` as installed,
and its restrictions fit what `dwell serve` really does, seen by strace).
Run by run.py after damage.py.
"""

import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import harness
from harness import expect

MAN = os.path.join(harness.ROOT, "docs", "dwell.1")
UNIT = os.path.join(harness.ROOT, "docs", "deploy", "dwell.service")
MAN_SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "ENVIRONMENT",
                "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO")


def _destdir(t, owner=None):
    """A fresh, empty directory under tests/out/http/ owned by OWNER (a
    pwd entry) when given."""
    os.makedirs(harness.OUT, exist_ok=True)
    d = tempfile.mkdtemp(prefix="install-%s." % t.name, dir=harness.OUT)
    if owner is not None:
        os.chown(d, owner.pw_uid, owner.pw_gid)
    return d


def _nobody():
    """The unprivileged user to install as (when the suite runs as root
    and setpriv exists), else None."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


def _make(t, target, destdir, prefix=None, user=None):
    """Runs `make TARGET DESTDIR=… [PREFIX=…]` in the source tree for the
    binary under test (never rebuilding it: -o), as USER when given."""
    rel = os.path.relpath(os.path.abspath(t.bin), harness.ROOT)
    argv = ["make", "-s", "--no-print-directory", "-o", rel, target,
            "BIN=" + rel, "DESTDIR=" + destdir]
    if prefix:
        argv.append("PREFIX=" + prefix)
    if user is not None:
        argv = ["setpriv", "--reuid=%d" % user.pw_uid,
                "--regid=%d" % user.pw_gid, "--clear-groups"] + argv
    t.log("$ " + " ".join(argv))
    r = subprocess.run(argv, cwd=harness.ROOT, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    t.log("exit %d\n%s%s" % (r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    expect(r.returncode == 0, "make %s DESTDIR=%s%s: exit %d: %s"
           % (target, destdir, " PREFIX=" + prefix if prefix else "",
              r.returncode, r.stderr.strip()[-400:]))


def _files(root):
    """Every file (not directory) under ROOT, as paths relative to it."""
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def _expected_layout(prefix):
    """What make install lays out under PREFIX: {relative path: mode}."""
    p = prefix.lstrip("/")
    docs = ["README.md", "LICENSE"] + sorted(
        f for f in os.listdir(os.path.join(harness.ROOT, "docs"))
        if f.endswith(".md"))
    out = {p + "/bin/dwell": 0o755,
           p + "/share/man/man1/dwell.1": 0o644,
           p + "/lib/systemd/system/dwell.service": 0o644}
    for f in docs:
        out[p + "/share/doc/dwell/" + f] = 0o644
    return out


def _read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def _serves_its_embedded_files(t, binary):
    """The installed BINARY, started from its own path with a fresh data
    dir, serves the snippet and the report page (built into it)."""
    data = t.datadir()
    saved, t.bin = t.bin, binary
    try:
        with t.server(data=data) as srv:
            r = srv.request("GET", "/dwell.js")
            expect(r.status == 200 and b"/e" in r.body and len(r.body) > 500,
                   "installed dwell: GET /dwell.js: %d, %d bytes"
                   % (r.status, len(r.body)))
            r = srv.request("GET", "/report/" + harness.SITE)
            expect(r.status == 200 and b"<html" in r.body.lower(),
                   "installed dwell: GET /report/%s: %d %r"
                   % (harness.SITE, r.status, r.body[:100]))
    finally:
        t.bin = saved


def install_lays_out_the_files_without_root_and_uninstall_removes_them(t):
    """make install DESTDIR=D (as nobody when the suite runs as root) puts
    exactly the binary, the man page, the unit (ExecStart at PREFIX/bin)
    and the docs under D/PREFIX with their modes; the binary works from
    there; make uninstall removes exactly those, leaving others' files."""
    user = _nobody()
    for prefix in (None, "/opt/dwell"):
        dest = _destdir(t, user)
        _make(t, "install", dest, prefix, user)
        want = _expected_layout(prefix or "/usr/local")
        got = _files(dest)
        expect(got == set(want), "make install%s laid out %s; expected %s"
               % (" PREFIX=" + prefix if prefix else "",
                  sorted(got ^ set(want)), "those" if got < set(want)
                  else "none of them"))
        for rel, mode in want.items():
            m = stat.S_IMODE(os.stat(os.path.join(dest, rel)).st_mode)
            expect(m == mode, "%s: mode %o, expected %o" % (rel, m, mode))
        root = os.path.join(dest, (prefix or "/usr/local").lstrip("/"))
        expect(_read(os.path.join(root, "bin/dwell"), "rb")
               == _read(t.bin, "rb"), "the installed dwell is not the built "
               "binary")
        expect(_read(os.path.join(root, "share/man/man1/dwell.1"))
               == _read(MAN), "the installed man page is not docs/dwell.1")
        unit = _read(os.path.join(root, "lib/systemd/system/dwell.service"))
        exec_start = re.findall(r"^ExecStart=(\S+)", unit, re.M)
        expect(exec_start == [(prefix or "/usr/local") + "/bin/dwell"],
               "installed unit's ExecStart runs %r" % exec_start)
        if prefix is None:
            _serves_its_embedded_files(t, os.path.join(root, "bin/dwell"))
        # files of others in the same directories survive the uninstall
        mine = [os.path.join(root, "bin", "other-tool"),
                os.path.join(root, "share", "man", "man1", "other.1")]
        for p in mine:
            with open(p, "w") as f:
                f.write("not dwell's\n")
            if user is not None:
                os.chown(p, user.pw_uid, user.pw_gid)
        _make(t, "uninstall", dest, prefix, user)
        left = _files(dest)
        expect(left == {os.path.relpath(p, dest) for p in mine},
               "after make uninstall%s: %s remain"
               % (" PREFIX=" + prefix if prefix else "", sorted(left)))
        expect(not os.path.exists(os.path.join(root, "share/doc/dwell")),
               "make uninstall left share/doc/dwell/")
        shutil.rmtree(dest)


def _render(env_extra):
    """docs/dwell.1 through man -l with warnings on: (text, stderr)."""
    env = dict(os.environ, LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    env.pop("MANWIDTH", None)
    env.update(env_extra)
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", MAN],
                       env=env, capture_output=True, timeout=60)
    expect(r.returncode == 0, "man -l docs/dwell.1 (%s): exit %d: %s"
           % (env_extra, r.returncode, r.stderr.decode()[-300:]))
    text = re.sub(r".\x08", "", r.stdout.decode("utf-8", "replace"))
    return text, r.stderr.decode("utf-8", "replace")


def _commands(t):
    """The commands `dwell --help` lists ("serve", "site add", …)."""
    r = t.dwell("--help")
    expect(r.returncode == 0, "dwell --help: exit %d" % r.returncode)
    names = re.findall(r"^  ([a-z]+(?: [a-z]+)?)(?= [A-Z]| *$| {2,})",
                       r.stdout.split("commands:")[1], re.M)
    expect(len(names) >= 10, "dwell --help lists %r" % names)
    return names


def _man_section(text, name):
    """The rendered text of the COMMANDS subsection "dwell NAME …"."""
    m = re.search(r"^   dwell %s(?: [^\n]*)?\n(.*?)(?=^   dwell |^\S)"
                  % re.escape(name), text, re.M | re.S)
    expect(m, "the man page has no subsection for dwell %s" % name)
    return m.group(1)


def man_page_renders_without_warnings_and_names_every_flag(t):
    """man --warnings -E UTF-8 -l docs/dwell.1, at the default width and at
    MANWIDTH=80, prints nothing on stderr; the page has the usual sections,
    and under each command's subsection every flag (and every DWELL_*
    variable) that `dwell COMMAND --help` lists."""
    text = None
    for extra in ({}, {"MANWIDTH": "80"}):
        text, err = _render(extra)
        expect(err == "", "man -l docs/dwell.1 (%s) warns: %s"
               % (extra or "default width", err.strip()[:600]))
    for sec in MAN_SECTIONS:
        expect(re.search(r"^%s$" % sec, text, re.M),
               "the man page has no section %s" % sec)
    expect(re.search(r"--help\b", text), "the man page never names --help")
    missing = []
    for name in _commands(t):
        r = t.dwell(*(name.split() + ["--help"]))
        expect(r.returncode == 0, "dwell %s --help: exit %d"
               % (name, r.returncode))
        wanted = set(re.findall(r"^  (--[a-z][a-z-]*)", r.stdout, re.M))
        wanted -= {"--help"}
        wanted |= set(re.findall(r"\bDWELL_[A-Z_]+\b", r.stdout))
        section = _man_section(text, name)
        for w in sorted(wanted):
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(w),
                             section):
                missing.append("dwell %s: %s" % (name, w))
    expect(not missing, "the man page lacks %d flags under their command: "
           "%s" % (len(missing), ", ".join(missing[:12])))


def man_page_commands_are_dwell_help_man(t):
    """docs/dwell.1's COMMANDS between its marker comments is exactly what
    `dwell help --man` prints (re-paste it after changing a flag)."""
    r = t.dwell("help", "--man")
    expect(r.returncode == 0 and r.stdout.startswith(".SS dwell "),
           "dwell help --man: exit %d, %r" % (r.returncode, r.stdout[:80]))
    m = re.search(r'^\.\\" dwell help --man\n(.*?)^\.\\" end\n', _read(MAN),
                  re.M | re.S)
    expect(m, "docs/dwell.1 has no block between .\\\" dwell help --man and "
           ".\\\" end")
    expect(m.group(1) == r.stdout, "docs/dwell.1's COMMANDS differ from "
           "dwell help --man (make docs pastes it)")


def _unit_settings(text):
    """The [Service] settings of a unit file: {key: [values]}."""
    out = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


HARDENING = {
    "DynamicUser": "yes", "StateDirectory": "dwell",
    "Environment": "DWELL_DATA=%S/dwell", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "SystemCallArchitectures": "native", "MemoryDenyWriteExecute": "yes",
    "LockPersonality": "yes", "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes", "CapabilityBoundingSet": "",
    "UMask": "0077", "Restart": "on-failure",
}


def service_unit_passes_systemd_analyze_verify(t):
    """The unit as make install lays it out (its ExecStart pointed into
    DESTDIR, where the installed binary is; man:dwell(1) found in DESTDIR's
    man pages) passes `systemd-analyze verify` without a word about it, has
    every hardening setting of issue 12, and `systemd-analyze security
    --offline` rates it 2.0 or less (logged)."""
    expect(shutil.which("systemd-analyze"), "systemd-analyze is missing "
           "(Debian package systemd; make deps-test installs it)")
    dest = _destdir(t)
    _make(t, "install", dest)
    root = os.path.join(dest, "usr/local")
    installed = _read(os.path.join(root, "lib/systemd/system/dwell.service"))
    got = _unit_settings(installed)
    for k, v in HARDENING.items():
        expect(v in got.get(k, []), "dwell.service: %s=%s missing (has %r)"
               % (k, v, got.get(k)))
    expect(any(v.startswith("@system-service")
               for v in got.get("SystemCallFilter", [])),
           "dwell.service: no SystemCallFilter=@system-service")
    expect(got.get("LimitNOFILE"), "dwell.service: no LimitNOFILE")
    vdir = os.path.join(dest, "verify")
    os.makedirs(vdir)
    unit = os.path.join(vdir, "dwell.service")
    with open(unit, "w") as f:
        f.write(installed.replace("ExecStart=/usr/local/bin/dwell",
                                  "ExecStart=" + root + "/bin/dwell"))
    env = dict(os.environ, MANPATH=os.path.join(root, "share/man"))
    r = subprocess.run(["systemd-analyze", "verify", unit], env=env,
                       capture_output=True, text=True, timeout=60)
    t.log("systemd-analyze verify: exit %d\n%s%s"
          % (r.returncode, r.stdout, r.stderr))
    about = [l for l in (r.stdout + r.stderr).splitlines()
             if "dwell" in l or unit in l]
    expect(r.returncode == 0 and not about, "systemd-analyze verify: exit "
           "%d: %s" % (r.returncode, about[:5]))
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        unit], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for dwell.service: ([0-9.]+)",
                  r.stdout)
    t.log("systemd-analyze security --offline=yes:\n" + r.stdout[-3000:])
    expect(m, "systemd-analyze security printed no exposure: %r"
           % (r.stdout + r.stderr)[-300:])
    print("     systemd-analyze security: exposure %s" % m.group(1))
    expect(float(m.group(1)) <= 2.0, "dwell.service: exposure %s (> 2.0)"
           % m.group(1))
    shutil.rmtree(dest)


def _syscall_set(name, cache):
    """The system calls of NAME (a call or an @group), groups expanded."""
    if not name.startswith("@"):
        return {name}
    if name not in cache:
        r = subprocess.run(["systemd-analyze", "syscall-filter", name],
                           capture_output=True, text=True, timeout=30)
        expect(r.returncode == 0, "systemd-analyze syscall-filter %s: %s"
               % (name, r.stderr.strip()))
        calls = set()
        for line in r.stdout.splitlines()[1:]:
            w = line.strip()
            if w and not w.startswith("#"):
                calls |= _syscall_set(w, cache)
        cache[name] = calls
    return cache[name]


def _allowed_syscalls(settings):
    """The system calls the unit's SystemCallFilter= lines let through."""
    cache = {}
    allow, deny = None, set()
    for v in settings.get("SystemCallFilter", []):
        neg = v.startswith("~")
        calls = set()
        for w in v.lstrip("~").split():
            calls |= _syscall_set(w, cache)
        if neg:
            deny |= calls
        else:
            allow = calls if allow is None else allow | calls
    expect(allow is not None, "dwell.service has no SystemCallFilter=")
    return allow - deny


def _traced_child(pid):
    """The process strace (PID) started: its only child."""
    try:
        kids = _read("/proc/%d/task/%d/children" % (pid, pid)).split()
    except OSError:
        kids = []
    return int(kids[0]) if kids else None


def service_unit_restrictions_fit_what_dwell_serve_does(t):
    """dwell serve, traced by strace while it starts, stores beacons and a
    pixel, serves the snippet, the report page and the API, and stops on
    SIGTERM, under the unit's UMask, makes only the system calls the unit's
    SystemCallFilter= allows, opens only the socket families of
    RestrictAddressFamilies=, never maps memory writable and executable or
    makes it executable later (MemoryDenyWriteExecute=), writes only inside
    its data directory (ProtectSystem=strict) and creates files there that
    only it can read (UMask=0077)."""
    expect(shutil.which("strace"), "strace is missing (Debian package "
           "strace; make deps-test installs it)")
    settings = _unit_settings(_read(UNIT))
    allowed = _allowed_syscalls(settings)
    families = set(settings["RestrictAddressFamilies"][0].split())
    umask = int(settings["UMask"][0], 8)
    data = os.path.abspath(t.datadir())
    trace = os.path.join(harness.OUT, t.name + ".strace")
    wrapper = os.path.join(harness.OUT, t.name + ".sh")
    with open(wrapper, "w") as f:
        # LeakSanitizer cannot run under ptrace (make test SAN=1): the
        # leak check at exit is left to the other tests
        f.write("#!/bin/sh\numask %03o\n"
                "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
                "detect_leaks=0\"\n"
                "exec strace -f -qq -s 256 -o '%s' '%s' \"$@\"\n"
                % (umask, trace, os.path.abspath(t.bin)))
    os.chmod(wrapper, 0o755)
    tok = harness.token(t, data)
    srv = harness.Server(wrapper, data, [], t.log_path)
    t.servers.append(srv)
    srv.start()
    r = srv.post_events(harness.view("strace_view_0001"))
    harness.status(r, 204, "POST /e")
    r = srv.request("GET", "/p.gif?s=%s&u=/kb/strace" % harness.SITE,
                    [("Referer", harness.ORIGIN + "/kb/strace")])
    harness.status(r, 200, "GET /p.gif")
    for target in ("/dwell.js", "/report/" + harness.SITE):
        harness.status(srv.request("GET", target), 200, "GET " + target)
    harness.api_json(srv, tok, harness.API + harness.SITE + "/articles",
                     "the articles")
    pid = _traced_child(srv.proc.pid)
    expect(pid, "no traced dwell under strace (pid %d)" % srv.proc.pid)
    os.kill(pid, signal.SIGTERM)
    srv.killed = True
    rc = srv.wait()
    expect(rc == 0, "dwell serve under strace exited %d" % rc)
    bad = set()
    used = set()
    for line in _read(trace).splitlines():
        m = re.match(r"\d+ +([a-z0-9_]+)\((.*)", line)
        if not m:
            continue
        call, args = m.groups()
        used.add(call)
        if call not in allowed:
            bad.add("system call %s (SystemCallFilter=)" % call)
        if call == "socket":
            fam = args.split(",")[0]
            if fam not in families:
                bad.add("socket(%s) (RestrictAddressFamilies=)" % fam)
        if call in ("mmap", "mprotect", "pkey_mprotect") and \
                "PROT_EXEC" in args and ("PROT_WRITE" in args or
                                         call != "mmap"):
            bad.add("%s(%s (MemoryDenyWriteExecute=)" % (call, args[:80]))
        w = re.match(r'(?:AT_FDCWD, )?"([^"]+)", ([A-Z_|]+)', args)
        writes = call in ("open", "openat") and w and \
            re.search(r"O_WRONLY|O_RDWR|O_CREAT", w.group(2))
        if writes or call in ("mkdir", "mkdirat", "unlink", "unlinkat",
                              "rename", "renameat", "renameat2"):
            p = re.search(r'"([^"]+)"', args)
            path = os.path.abspath(os.path.join(harness.OUT, p.group(1))) \
                if p else "?"
            if not (path + "/").startswith(data + "/") and \
                    not path.startswith("/tmp/") and \
                    not path.startswith("/dev/"):
                bad.add("%s %s outside the data directory "
                        "(ProtectSystem=strict)" % (call, path))
    expect(len(used) > 20, "strace saw only %r" % sorted(used))
    for n in os.listdir(data):
        m = stat.S_IMODE(os.stat(os.path.join(data, n)).st_mode)
        if m & 0o077:
            bad.add("%s is mode %o (UMask=0077)" % (n, m))
    expect(not bad, "dwell serve does what dwell.service forbids: %s"
           % "; ".join(sorted(bad)[:10]))
