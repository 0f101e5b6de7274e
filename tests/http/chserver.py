"""chserver.py — a real ClickHouse server for the tests that need one.

    import chserver
    why = chserver.unavailable()       # None, or why no server can be had
    ch = chserver.ClickHouse(dirpath)  # a temporary config and data dir
    ch.start()                         # waits until it answers /ping
    ch.url("dwell")                    # http://127.0.0.1:PORT/dwell (for --ship)
    ch.query("SELECT count() FROM dwell.events FINAL")   # text, raises on error
    ch.scalar("SELECT ...")            # the first cell as int (or str)
    ch.kill9(); ch.start()             # a crash and a restart on the same data
    ch.stop()

Debian's clickhouse-server (18.16), started as a child of the test process
(it dies with it: PR_SET_PDEATHSIG) on a free loopback HTTP port, with its
own config, users file, data and logs under DIRPATH; nothing of the system's
/etc/clickhouse-server is read. When the server is missing and we are root,
unavailable() installs it through the Makefile's DEB_TEST (`make deps-test`);
a test prints "skip: REASON" and passes only when that fails.

Start one server per test module (start-up costs a second or two), not per
test. Python 3 standard library only.

Run alone, it starts a server and prints its URL until interrupted:

    python3 tests/http/chserver.py [DIR]
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVER_BIN = "/usr/sbin/clickhouse-server"
START_TIMEOUT = 60.0     # seconds for /ping to answer after a start
QUERY_TIMEOUT = 60.0     # seconds per query

_children = []

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def _child_setup():
    # PR_SET_PDEATHSIG (1): the server dies with the test, even on kill -9.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    os.setpgrp()


def _kill_children():
    for p in list(_children):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=10)
            except Exception:
                pass


atexit.register(_kill_children)


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


_unavailable = "not checked"


def unavailable():
    """None when clickhouse-server can be run here, else the reason why
    not. Installs the package (make deps-test) when missing and root."""
    global _unavailable
    if _unavailable != "not checked":
        return _unavailable
    _unavailable = None
    if not os.access(SERVER_BIN, os.X_OK):
        if os.geteuid() != 0:
            _unavailable = ("clickhouse-server is not installed and we are "
                            "not root (apt-get install clickhouse-server)")
            return _unavailable
        try:
            r = subprocess.run(["make", "-s", "-C", ROOT, "deps-test"],
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=900)
            out = r.stdout.decode("utf-8", "replace").strip()
        except (OSError, subprocess.TimeoutExpired) as e:
            out = str(e)
        if not os.access(SERVER_BIN, os.X_OK):
            _unavailable = ("clickhouse-server could not be installed "
                            "(make deps-test): %s" % out[-300:])
    return _unavailable


CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>{dir}/log/server.log</log>
        <errorlog>{dir}/log/server.err.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <http_port>{http}</http_port>
    <tcp_port>{tcp}</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>64</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>20</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>{dir}/data/</path>
    <tmp_path>{dir}/data/tmp/</tmp_path>
    <user_files_path>{dir}/data/user_files/</user_files_path>
    <format_schema_path>{dir}/data/format_schemas/</format_schema_path>
    <users_config>{dir}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
"""

USERS = """<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
                <read_rows>0</read_rows><execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""


class ClickHouseError(Exception):
    """A query ClickHouse refused, or no answer at all."""


class ClickHouse:
    """One clickhouse-server on 127.0.0.1 with its files under DIRPATH (made
    empty on the first start; kept across kill9()/stop() and start())."""

    def __init__(self, dirpath):
        self.dir = os.path.abspath(dirpath)
        self.proc = None
        self.port = None
        self.tcp_port = None
        self.fresh = True

    def _write_config(self):
        if self.fresh:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.fresh = False
        for d in ("log", "data/tmp", "data/user_files", "data/format_schemas"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        if self.port is None:
            self.port, self.tcp_port = _free_port(), _free_port()
        with open(os.path.join(self.dir, "config.xml"), "w") as f:
            f.write(CONFIG.format(dir=self.dir, http=self.port,
                                  tcp=self.tcp_port))
        with open(os.path.join(self.dir, "users.xml"), "w") as f:
            f.write(USERS)

    def start(self):
        """Starts the server (on the same port and data as before, after a
        stop or kill9) and waits until it answers; raises ClickHouseError
        with its log's tail when it does not."""
        why = unavailable()
        if why:
            raise ClickHouseError(why)
        self._write_config()
        out = open(os.path.join(self.dir, "log", "stdout.log"), "ab")
        try:
            self.proc = subprocess.Popen(
                [SERVER_BIN, "--config-file=%s/config.xml" % self.dir],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, preexec_fn=_child_setup)
        finally:
            out.close()
        _children.append(self.proc)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.ping():
                return self
            time.sleep(0.1)
        self.kill9()
        raise ClickHouseError("clickhouse-server did not answer within %gs: %s"
                              % (START_TIMEOUT, self.log_tail()))

    def ping(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % self.port,
                                        timeout=2) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL, as a crash would; waits for the process to go."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self):
        """SIGTERM, then SIGKILL after 30 s."""
        if not self.alive():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()

    def url(self, db="dwell"):
        return "http://127.0.0.1:%d/%s" % (self.port, db)

    def query(self, sql, body=None, timeout=QUERY_TIMEOUT):
        """Runs SQL (with BODY as the data of an INSERT); returns the answer
        as text; raises ClickHouseError with ClickHouse's message."""
        if body is None:
            target, data = "/", sql.encode()
        else:
            target = "/?query=" + urllib.parse.quote(sql)
            data = body if isinstance(body, bytes) else body.encode()
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, target),
                                     data=data, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            raise ClickHouseError("%s: %s" % (sql[:80], e.read().decode(
                "utf-8", "replace").strip()[:500]))
        except OSError as e:
            raise ClickHouseError("%s: %s" % (sql[:80], e))

    def rows(self, sql):
        """The rows of SQL's answer as lists of strings (TabSeparated)."""
        text = self.query(sql + " FORMAT TabSeparated")
        return [line.split("\t") for line in text.splitlines()]

    def scalar(self, sql):
        """The first cell of SQL's answer: an int when it reads as one."""
        rows = self.rows(sql)
        if not rows:
            raise ClickHouseError("%s: no rows" % sql[:80])
        v = rows[0][0]
        try:
            return int(v)
        except ValueError:
            return v

    def log_tail(self, n=1500):
        text = ""
        for name in ("stdout.log", "server.err.log"):
            try:
                with open(os.path.join(self.dir, "log", name), "rb") as f:
                    text += f.read()[-n:].decode("utf-8", "replace")
            except OSError:
                pass
        return " ".join(text.split())[-n:]


def main(argv):
    d = argv[1] if len(argv) > 1 else os.path.join(ROOT, "tests", "out",
                                                   "clickhouse")
    why = unavailable()
    if why:
        print("skip: %s" % why)
        return 0
    ch = ClickHouse(d).start()
    print("clickhouse %s at %s (files in %s); Ctrl-C stops it"
          % (ch.scalar("SELECT version()"), ch.url(""), ch.dir), flush=True)
    try:
        while ch.alive():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    ch.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
