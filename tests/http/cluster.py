"""cluster.py — shared identity across collectors (issue 13 item 1): with
the same --cluster-secret (or DWELL_CLUSTER_SECRET), two collectors whose
data dirs numbered their sites differently give one reader one visitor hash
and one identity key; another secret, or none, gives others; a short secret
is refused with the reason and never echoed; the derived salts are the
documented HKDF ones and, like random ones, none outlives its day (the
server's clock stepped over midnight with Debian's libfaketime). Every
public function is one test (run by run.py)."""

import datetime
import hashlib
import hmac
import ipaddress
import os
import secrets
import subprocess

import harness
from harness import expect, SITE, ORIGIN, CHROME_UA
from harness import view as _view, status as _status
from crash import _Clock, _calendar_utc, _day_number

SALT_INFO = b"dwell visitor salt v1"
KEY_INFO = b"dwell keyed hash v1"


# --- the documented derivation, computed here independently -------------------

def _hkdf(secret, info, length):
    """HKDF-SHA256 (RFC 5869) of SECRET, no salt, one block."""
    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def _day_salt(secret, day):
    return _hkdf(secret, SALT_INFO + day.to_bytes(4, "big"), 16)


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & 0xFFFFFFFFFFFFFFFF


def _siphash24(key, data):
    """SipHash-2-4 (Aumasson and Bernstein) of DATA under the 16-byte KEY."""
    m64 = 0xFFFFFFFFFFFFFFFF
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & m64; v[1] = _rotl(v[1], 13); v[1] ^= v[0]
        v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & m64; v[3] = _rotl(v[3], 16); v[3] ^= v[2]
        v[0] = (v[0] + v[3]) & m64; v[3] = _rotl(v[3], 21); v[3] ^= v[0]
        v[2] = (v[2] + v[1]) & m64; v[1] = _rotl(v[1], 17); v[1] ^= v[2]
        v[2] = _rotl(v[2], 32)
    n = len(data)
    tail = data[n - n % 8:] + b"\0" * (7 - n % 8) + bytes([n & 0xff])
    for i in range(0, n - n % 8, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m; rnd(); rnd(); v[0] ^= m
    m = int.from_bytes(tail, "little")
    v[3] ^= m; rnd(); rnd(); v[0] ^= m
    v[2] ^= 0xff
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def _named_visitor(salt, site, address, ua):
    """The visitor hash docs/privacy.md gives for a cluster, as 16 hex."""
    a = ipaddress.ip_address(address)
    if a.version == 4:
        a = ipaddress.IPv6Address("::ffff:" + address)
    msg = b"\xff" + bytes([len(site)]) + site.encode() + a.packed + \
        ua.encode()
    return "%016x" % _siphash24(salt, msg)


# --- helpers ---------------------------------------------------------------------

def _secret_file(t, name, text, mode=0o600):
    path = os.path.join(harness.OUT, "%s.%s" % (t.name, name))
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def _meta(data):
    """{key hex: value hex} of the meta database, read with mdb_dump."""
    r = subprocess.run(["mdb_dump", "-s", "meta", data], capture_output=True,
                       timeout=30)
    expect(r.returncode == 0, "mdb_dump -s meta: exit %d: %s"
           % (r.returncode, r.stderr.decode()[-300:]))
    lines = [ln.strip() for ln in r.stdout.decode().splitlines()]
    body = lines[lines.index("HEADER=END") + 1:]
    body = body[:body.index("DATA=END")] if "DATA=END" in body else body
    return dict(zip(body[0::2], body[1::2]))


def _salts(data):
    """{day number: salt bytes} stored in meta."""
    return {int(k[8:], 16): bytes.fromhex(v) for k, v in _meta(data).items()
            if k.startswith("73616c74") and len(k) == 16}


def _stored_secret(data):
    v = _meta(data).get(b"secret".hex())
    return bytes.fromhex(v) if v else None


def _serve_env(t, data, env, *args):
    """A started harness.Server on DATA whose environment adds ENV."""
    srv = harness.Server(t.bin, data, args, t.log_path)
    t.servers.append(srv)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        srv.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return srv


def _one_reader(t, srv, vid):
    """One view and one identify from the same reader (address 127.0.0.1,
    Chrome's UA); returns (visitor hex, identity) as `dwell events` shows."""
    _status(srv.post_events(_view(vid, "/kb/cluster")), 204, "a view")
    h = hashlib.sha256(b"reader@example.com").hexdigest()
    _status(srv.post_events({"s": SITE, "t": "identify", "v": vid, "h": h}),
            204, "identify")
    rc = srv.stop()
    expect(rc == 0, "exit status %s on SIGTERM" % rc)
    evs = [e for e in t.events(srv.data) if e.get("view") == vid]
    views = [e for e in evs if e["type"] == "view"]
    ids = [e for e in evs if e["type"] == "identify"]
    expect(len(views) == 1 and len(ids) == 1,
           "dwell events: %d views and %d identifies of %s, expected 1 and 1"
           % (len(views), len(ids), vid))
    expect("visitor" in views[0], "dwell events shows no visitor: %s"
           % views[0])
    expect(ids[0]["visitor"] == views[0]["visitor"],
           "the identify's visitor %s differs from its view's %s"
           % (ids[0]["visitor"], views[0]["visitor"]))
    return views[0]["visitor"], ids[0]["identity"]


def _datadir_ids(t, names):
    """A fresh data dir with the sites NAMES added in order (origin
    http://NAME); returns (dir, {name: the id `dwell site add` printed})."""
    data = t.datadir(sites=())
    ids = {}
    for name in names:
        r = t.dwell("site", "add", name, "--origin", "http://" + name,
                    "--data", data)
        expect(r.returncode == 0 and "(id " in r.stdout,
               "dwell site add %s: exit %d: %s" % (name, r.returncode,
                                                   r.stdout + r.stderr))
        ids[name] = int(r.stdout.split("(id ")[1].split(")")[0])
    return data, ids


# --- the tests -------------------------------------------------------------------

def cluster_secret_gives_one_visitor_hash_across_collectors(t):
    secret = secrets.token_hex(32)
    path = _secret_file(t, "secret", secret + "\n")
    # node B numbers help.test 2: a dummy site came first
    a, ida = _datadir_ids(t, [SITE])
    b, idb = _datadir_ids(t, ["dummy.test", SITE])
    expect(ida[SITE] != idb[SITE], "help.test has id %d on both data dirs; "
           "the test needs different ids" % ida[SITE])
    srv_a = _serve_env(t, a, {}, "--cluster-secret", path)
    va, ia = _one_reader(t, srv_a, "cluster_view_a")
    # B takes the secret itself from the environment
    srv_b = _serve_env(t, b, {"DWELL_CLUSTER_SECRET": secret})
    vb, ib = _one_reader(t, srv_b, "cluster_view_b")
    expect(va == vb, "one reader, two collectors with the same cluster "
           "secret: visitor %s on A, %s on B" % (va, vb))
    expect(ia == ib, "one e-mail, two collectors with the same cluster "
           "secret: identity %s on A, %s on B" % (ia, ib))
    # the documented formula, computed here
    today = _day_number(harness.today())
    want = _named_visitor(_day_salt(secret.encode(), today), SITE,
                          "127.0.0.1", CHROME_UA)
    expect(va == want, "visitor %s, but docs/privacy.md's formula gives %s"
           % (va, want))
    key = _hkdf(secret.encode(), KEY_INFO, 32)
    expect(_stored_secret(a) == key and _stored_secret(b) == key,
           "meta's keyed-hash secret is not HKDF(secret, \"dwell keyed hash "
           "v1\") on both nodes")
    # another secret, or none: another hash
    c = t.datadir()
    other = _secret_file(t, "other", secrets.token_hex(32))
    vc, ic = _one_reader(t, _serve_env(t, c, {}, "--cluster-secret", other),
                         "cluster_view_c")
    d = t.datadir()
    vd, idd = _one_reader(t, _serve_env(t, d, {}), "cluster_view_d")
    expect(vc != va and vd != va and vc != vd,
           "visitors with the secret %s, another %s, none %s: expected three "
           "different" % (va, vc, vd))
    expect(ic != ia and idd != ia, "identity keys agree without the same "
           "secret: %s %s %s" % (ia, ic, idd))
    # a node that ran alone, restarted with the secret: today's salt is
    # replaced by the cluster's, and its hash agrees from then on
    _serve_env(t, d, {}, "--cluster-secret", path).stop()
    expect(_salts(d).get(today) == _day_salt(secret.encode(), today),
           "a node restarted with the cluster secret kept its random salt")
    print("     cluster: same secret, site ids %d / %d: visitor %s on both "
          "(= the documented formula); other secret %s, none %s"
          % (ida[SITE], idb[SITE], va, vc, vd), flush=True)


def cluster_secret_too_short_is_refused_and_never_echoed(t):
    data = t.datadir()
    short = "0123456789abcdef" * 2                       # 128 bits
    path = _secret_file(t, "short", short + "\n")
    r = t.dwell("serve", "--listen", "127.0.0.1:0", "--data", data,
                "--cluster-secret", path)
    expect(r.returncode == 2, "a 32-hex-digit secret file: exit %d, "
           "expected 2: %s" % (r.returncode, r.stderr[-300:]))
    for want in ("too short", "32 hex digits", "128 bits", "256",
                 "openssl rand -hex 32"):
        expect(want in r.stderr, "the refusal does not say %r: %s"
               % (want, r.stderr.strip()))
    missing = os.path.join(harness.OUT, "no-such-secret")
    r = t.dwell("serve", "--data", data, "--cluster-secret", missing)
    expect(r.returncode == 2 and "No such file" in r.stderr,
           "a missing secret file: exit %d: %s"
           % (r.returncode, r.stderr.strip()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DWELL_")}
    env["DWELL_CLUSTER_SECRET"] = "hunter2-but-longer-1234"
    p = subprocess.run([t.bin, "serve", "--listen", "127.0.0.1:0", "--data",
                        data], capture_output=True, text=True, env=env,
                       timeout=harness.CLI_TIMEOUT)
    expect(p.returncode == 2 and "DWELL_CLUSTER_SECRET" in p.stderr and
           "too short" in p.stderr, "a short DWELL_CLUSTER_SECRET: exit %d: "
           "%s" % (p.returncode, p.stderr.strip()))
    expect("hunter2" not in p.stderr, "the refusal echoes the secret: %s"
           % p.stderr.strip())
    # readable by others: a warning, and it still runs
    loose = _secret_file(t, "loose", secrets.token_hex(32), 0o644)
    srv = _serve_env(t, data, {}, "--cluster-secret", loose)
    rc = srv.stop()
    expect(rc == 0, "exit status %s on SIGTERM" % rc)
    expect("chmod 600" in srv.log_tail(), "no warning about a secret file "
           "readable by others (mode 644)")


def cluster_salts_are_derived_and_do_not_outlive_their_day(t):
    # Server clock: D 23:59:40, D+1 00:00:20, D+2 12:00. D is 6 days ago.
    secret = secrets.token_hex(32)
    path = _secret_file(t, "secret", secret)
    day0 = harness.today() - datetime.timedelta(days=6)
    d0 = _day_number(day0)
    midnight = _calendar_utc(day0 + datetime.timedelta(days=1))
    clock = _Clock(t)
    data = t.datadir()
    srv = harness.Server(clock.wrapper(t.bin), data,
                         ("--cluster-secret", path), t.log_path)
    t.servers.append(srv)
    clock.set(midnight - 20)
    srv.start()
    seen = {}
    for name, when in (("b1", midnight - 20), ("b2", midnight + 20),
                       ("b3", midnight + 86400 + 43200)):
        clock.set(when)
        _status(srv.post_events(_view("cluster_%s_view" % name,
                                      "/kb/cluster-%s" % name)), 204,
                "a view at %s" % harness.iso_time(when))
        seen[name] = _salts(data)
    rc = srv.stop()
    expect(rc == 0, "exit status %s on SIGTERM after the clock steps" % rc)
    for name, days in (("b1", (d0 - 1, d0)), ("b2", (d0, d0 + 1)),
                       ("b3", (d0 + 1, d0 + 2))):
        got = seen[name]
        expect(sorted(got) == list(days),
               "%s: salts of days %s stored, expected %s (today's and "
               "yesterday's only)" % (name, sorted(got), list(days)))
        for day in days:
            expect(got[day] == _day_salt(secret.encode(), day),
                   "%s: the stored salt of day %d is not HKDF(secret, "
                   "\"dwell visitor salt v1\" || day)" % (name, day))
    # nothing of day D's salt is left in meta, in any form
    old = _day_salt(secret.encode(), d0).hex()
    left = [k for k, v in _meta(data).items() if old in v or old in k]
    expect(not left, "day D's salt is still in meta under %s" % left)
    # each view hashed under its own day's salt
    evs = {e["view"]: e for e in t.events(data)}
    for name, day in (("b1", d0), ("b2", d0 + 1), ("b3", d0 + 2)):
        want = _named_visitor(_day_salt(secret.encode(), day), SITE,
                              "127.0.0.1", CHROME_UA)
        got = evs.get("cluster_%s_view" % name, {}).get("visitor")
        expect(got == want, "the view of day %d has visitor %s, expected %s"
               % (day, got, want))
    print("     cluster clock: salts %s -> %s -> %s (days from D); each the "
          "documented HKDF, day D's gone after D+1"
          % tuple(sorted(k - d0 for k in seen[n]) for n in ("b1", "b2",
                                                            "b3")),
          flush=True)
