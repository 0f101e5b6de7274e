"""metrics.py — what an operator monitors (issue 12 item 5): GET /metrics
in Prometheus's text format, its counters moved by exactly what was sent
and refused, its access rule (loopback, or a bearer token), the JSON log
format, the access log, one refusal line for a burst, and no client
address in any log line unless --log-ip. Every test drives the real
server and reads what it answered, exposed and logged."""
import json
import os
import re
import urllib.parse

import harness
from harness import SITE, ORIGIN, CHROME_UA, expect
from harness import (view as _view, status as _status, token as _token)

BOT_UA = ("Mozilla/5.0 (compatible; Googlebot/2.1; "
          "+http://www.google.com/bot.html)")
TOKEN = "metrics-secret-0123456789"

# --- a strict reader of the text exposition format 0.0.4 -------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(r"^(%s)(\{(.*)\})? (\S+)$" % _NAME)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def _labels(text, line):
    """The labels of a sample as a sorted tuple of (name, value)."""
    out, pos = [], 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        expect(m, "metrics: bad labels at %r in %r" % (text[pos:], line))
        out.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos < len(text):
            expect(text[pos] == ",", "metrics: no ',' between labels: %r"
                   % line)
            pos += 1
    names = [k for k, _ in out]
    expect(len(names) == len(set(names)), "metrics: a label twice: %r" % line)
    return tuple(sorted(out))


def _family_of(name, types):
    """The family a sample NAME belongs to (histogram suffixes)."""
    if name in types:
        return name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram":
            return name[:-len(suf)]
    return None


def _parse_metrics(body):
    """Parses BODY strictly: every line a HELP, a TYPE or a sample of a
    family declared before it, each family's lines together, no sample
    twice, values numbers, histograms whole (cumulative buckets ending
    with +Inf equal to _count). Returns ({(name, labels): value},
    {family: type})."""
    text = body.decode("utf-8")
    expect(text.endswith("\n"), "metrics: the body does not end with a "
           "newline")
    samples, types, helps, done = {}, {}, set(), set()
    current = None
    for line in text[:-1].split("\n"):
        expect(line != "", "metrics: an empty line")
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            expect(re.fullmatch(_NAME, name) and name not in helps,
                   "metrics: HELP %r repeated or bad" % line)
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            expect(len(parts) == 4 and parts[3] in _TYPES and
                   parts[2] not in types,
                   "metrics: bad or repeated TYPE line %r" % line)
            types[parts[2]] = parts[3]
            if current is not None:
                done.add(current)
            current = parts[2]
            continue
        expect(not line.startswith("#"), "metrics: stray comment %r" % line)
        m = _SAMPLE.match(line)
        expect(m, "metrics: not a sample line: %r" % line)
        fam = _family_of(m.group(1), types)
        expect(fam is not None, "metrics: %s has no TYPE before it"
               % m.group(1))
        expect(fam == current and fam not in done,
               "metrics: %s outside its family's block" % m.group(1))
        key = (m.group(1), _labels(m.group(3) or "", line))
        expect(key not in samples, "metrics: sample repeated: %r" % line)
        try:
            samples[key] = float(m.group(4))
        except ValueError:
            raise harness.TestFailure("metrics: value not a number: %r"
                                      % line)
    for fam, typ in types.items():
        expect(fam in helps, "metrics: %s has no HELP" % fam)
        if typ == "counter":
            expect(fam.endswith("_total"), "metrics: counter %s without "
                   "_total" % fam)
        if typ == "histogram":
            _check_histogram(fam, samples)
    return samples, types


def _check_histogram(fam, samples):
    buckets = sorted(
        (float("inf") if dict(lb)["le"] == "+Inf" else float(dict(lb)["le"]),
         v) for (n, lb), v in samples.items() if n == fam + "_bucket")
    expect(buckets and buckets[-1][0] == float("inf"),
           "metrics: %s has no +Inf bucket" % fam)
    counts = [v for _, v in buckets]
    expect(counts == sorted(counts), "metrics: %s buckets not cumulative"
           % fam)
    expect(samples.get((fam + "_count", ())) == counts[-1],
           "metrics: %s_count is not its +Inf bucket" % fam)
    expect((fam + "_sum", ()) in samples, "metrics: %s_sum missing" % fam)


def _scrape(srv, headers=()):
    """GET /metrics, parsed: fails unless 200 with the 0.0.4 type."""
    r = srv.request("GET", "/metrics", list(headers))
    _status(r, 200, "GET /metrics")
    ct = r.header("Content-Type") or ""
    expect(ct.startswith("text/plain") and "version=0.0.4" in ct,
           "GET /metrics: Content-Type %r" % ct)
    return _parse_metrics(r.body)


def _v(samples, name, **labels):
    """A sample's value; 0 when absent (a counter never moved)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- what is sent -----------------------------------------------------------------

def _pixel(srv, site=SITE, path="/kb/pixel", ua=CHROME_UA, xff=None):
    q = urllib.parse.urlencode({"s": site, "u": "http://help.test" + path})
    h = [("User-Agent", ua)]
    if xff:
        h.append(("X-Forwarded-For", xff))
    return srv.request("GET", "/p.gif?" + q, h)


def _hook(srv, body, token=None):
    h = [("Content-Type", "application/json")]
    if token:
        h.append(("Authorization", "Bearer " + token))
    return srv.request("POST", "/api/v1/tickets?site=" + SITE, h,
                       json.dumps(body) if isinstance(body, dict) else body)


def counters_move_by_exactly_what_was_accepted_and_refused(t):
    """Beacons and pixels accepted (one beacon a batch of two, two from a
    robot), and refused for each reason dwell can be made to refuse: an
    unknown site, a wrong origin, a body over 8 KiB, malformed JSON and
    a pixel without its site, GET on /e, a client over --rate-limit. Each
    counter moves by exactly what was sent; the commit histograms grew
    by the events stored; webhooks are counted by result."""
    data = t.datadir()
    with t.server("--trust-proxy", "127.0.0.1", "--rate-limit", "1/s,3",
                  data=data) as srv:
        tok = _token(t, data)
        before, _ = _scrape(srv)
        n = [0]

        def client():       # a fresh forwarded client: a full bucket
            n[0] += 1
            return "198.51.100.%d" % n[0]

        # accepted: 3 beacons (one of 2 events), 3 pixels; 2 robot beacons
        for i in range(3):
            evs = [_view("metrics_acc_%04d" % i, path="/kb/m%d" % i)]
            if i == 0:
                evs.append(_view("metrics_acc_x%03d" % i, path="/kb/x"))
            _status(srv.post_events(evs, xff=client()), 204, "beacon %d" % i)
        for i in range(3):
            _status(_pixel(srv, xff=client()), 200, "pixel %d" % i)
        for i in range(2):
            _status(srv.post_events(_view("metrics_bot_%04d" % i), ua=BOT_UA,
                                    xff=client()), 204, "robot beacon")
        accepted, bots = 4 + 3 + 2, 2

        # refused
        for i in range(3):
            _status(srv.post_events(_view("metrics_unk_%04d" % i,
                                          site="nosuch-%d.test" % i),
                                    xff=client()), 404, "unknown site")
        for i in range(2):
            _status(srv.post_events(_view("metrics_org_%04d" % i),
                                    origin="http://evil.test", xff=client()),
                    403, "wrong origin")
        big = json.dumps(_view("metrics_big_0001", ti="x" * 9000))
        for i in range(2):
            r = srv.request("POST", "/e", harness.beacon_headers(
                xff=client()), big)
            _status(r, 413, "oversized beacon")
        for body in ("{not json", ""):
            r = srv.request("POST", "/e", harness.beacon_headers(
                xff=client()), body)
            _status(r, 400, "malformed beacon %r" % body)
        r = srv.request("GET", "/p.gif?u=http%3A%2F%2Fhelp.test%2Fa",
                        [("X-Forwarded-For", client())])
        _status(r, 400, "pixel without its site")
        malformed = 3
        _status(srv.request("GET", "/e", [("X-Forwarded-For", client())]),
                405, "GET /e")
        one = client()
        codes = [_pixel(srv, xff=one).status for _ in range(8)]
        limited = codes.count(429)
        accepted += codes.count(200)
        expect(limited >= 1 and codes.count(200) + limited == 8,
               "a client over --rate-limit 1/s,3: answers %r" % codes)

        # webhooks: stored, unchanged, unauthorized, bad request
        ticket = {"id": "M-1", "created_at": "2026-11-23T10:00:00Z"}
        _status(_hook(srv, ticket, tok), 200, "webhook")
        _status(_hook(srv, ticket, tok), 200, "webhook again")
        _status(_hook(srv, ticket), 401, "webhook without a token")
        _status(_hook(srv, "{", tok), 400, "webhook, bad JSON")

        after, _ = _scrape(srv)

    def moved(name, want, **labels):
        got = _v(after, name, **labels) - _v(before, name, **labels)
        expect(got == want, "%s%r moved by %g, expected %d"
               % (name, labels, got, want))

    moved("dwell_events_accepted_total", accepted, site=SITE)
    moved("dwell_events_bot_total", bots, site=SITE)
    moved("dwell_events_refused_total", 3, site="", reason="unknown_site")
    moved("dwell_events_refused_total", 2, site=SITE, reason="origin")
    moved("dwell_events_refused_total", 2, site="", reason="size")
    moved("dwell_events_refused_total", malformed, site="",
          reason="malformed")
    moved("dwell_events_refused_total", 1, site="", reason="method")
    moved("dwell_events_refused_total", limited, site="",
          reason="rate_limited")
    for i in range(3):      # an unknown site's name is never a label
        expect(not any(("site", "nosuch-%d.test" % i) in lb
                       for (_, lb) in after),
               "an unknown site's name became a label")
    moved("dwell_events_stored_total", accepted)
    moved("dwell_commit_batch_events_sum", accepted)
    grew = _v(after, "dwell_commit_batch_events_count") - \
        _v(before, "dwell_commit_batch_events_count")
    expect(1 <= grew <= accepted, "commits counted: %g for %d events"
           % (grew, accepted))
    moved("dwell_commit_duration_seconds_count", grew)
    moved("dwell_ticket_webhooks_total", 1, result="stored")
    moved("dwell_ticket_webhooks_total", 1, result="unchanged")
    moved("dwell_ticket_webhooks_total", 1, result="unauthorized")
    moved("dwell_ticket_webhooks_total", 1, result="bad_request")
    expect(0 <= _v(after, "dwell_queue_events") <=
           _v(after, "dwell_queue_capacity_events") == 65536,
           "queue depth and capacity: %g of %g"
           % (_v(after, "dwell_queue_events"),
              _v(after, "dwell_queue_capacity_events")))
    used, size = _v(after, "dwell_lmdb_used_bytes"), \
        _v(after, "dwell_lmdb_map_size_bytes")
    expect(0 < used <= size, "LMDB used %g of a map of %g" % (used, size))
    expect(_v(after, "dwell_http_connections") >= 1,
           "no open connection counted while scraping")
    expect(_v(after, "dwell_http_responses_total", code="4xx") -
           _v(before, "dwell_http_responses_total", code="4xx") >= 14,
           "4xx responses not counted")
    expect(any(n == "dwell_build_info" and dict(lb).get("version")
               for (n, lb) in after), "no dwell_build_info{version}")
    for fam in ("dwell_store_fsync_failures_total",
                "dwell_store_write_errors_total",
                "dwell_process_start_time_seconds"):
        expect((fam, ()) in after, "no %s" % fam)


def metrics_need_loopback_or_the_token(t):
    """Without --metrics-token, /metrics answers a loopback client and
    refuses (403) one relayed by a proxy on the same host; with it, only
    the bearer token opens it (401 otherwise), from anywhere."""
    with t.server() as srv:
        _scrape(srv)
        r = srv.request("GET", "/metrics",
                        [("X-Forwarded-For", "203.0.113.9")])
        _status(r, 403, "relayed scrape without a token configured")
        expect(b"dwell_" not in r.body, "a refused scrape shows metrics")
    with t.server("--metrics-token", TOKEN) as srv:
        for h in ([], [("Authorization", "Bearer wrong-token-0000000000")],
                  [("Authorization", "Bearer " + TOKEN[:-1])]):
            r = srv.request("GET", "/metrics", h)
            _status(r, 401, "scrape with %r" % h)
            expect(b"dwell_events" not in r.body, "401 shows metrics")
        samples, _ = _scrape(srv, [("Authorization", "Bearer " + TOKEN)])
        _scrape(srv, [("Authorization", "Bearer " + TOKEN),
                     ("X-Forwarded-For", "203.0.113.9")])
        expect(samples, "no samples with the token")


# --- logs ---------------------------------------------------------------------------

IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
CLIENT = "203.0.113.77"


def _server_lines(path):
    """The lines a server wrote to PATH (the runner's '$ argv' lines out)."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    return [ln for ln in text.split("\n") if ln and not ln.startswith("$ ")]


def _run_logged(t, data, args, send):
    """Starts a server with ARGS logging to a file of its own, calls
    SEND(srv), stops it; returns its log lines."""
    path = os.path.join(harness.OUT, "%s.%d.server.log"
                        % (t.name, len(t.servers)))
    open(path, "wb").close()
    srv = harness.Server(t.bin, data, args, path)
    t.servers.append(srv)
    srv.start()
    send(srv)
    expect(srv.stop() == 0, "server did not stop cleanly")
    return _server_lines(path)


def json_logs_one_refusal_line_per_burst_and_no_address(t):
    """--log-format json --access-log: every line of the server is one JSON
    object with ts, level and msg; 50 beacons from a wrong origin give 50
    access lines (method, path, status, bytes, ms) and one refusal line;
    the client's address (forwarded by a trusted proxy) is in no line, and
    no line but the listening one holds an IPv4 address. With --log-ip
    the address is in the access and refusal lines."""
    data = t.datadir()
    base = ["--log-format", "json", "--access-log", "--trust-proxy",
            "127.0.0.1"]

    def burst(srv):
        for i in range(50):
            r = srv.post_events(_view("metrics_log_%04d" % i),
                                origin="http://evil.test", xff=CLIENT)
            _status(r, 403, "wrong origin %d" % i)
        _status(srv.post_events(_view("metrics_ok_0001"), xff=CLIENT), 204,
                "a good beacon")

    lines = _run_logged(t, data, base, burst)
    objs = []
    for ln in lines:
        try:
            o = json.loads(ln)
        except ValueError:
            raise harness.TestFailure("log line is not JSON: %r" % ln[:200])
        expect(isinstance(o, dict) and isinstance(o.get("msg"), str) and
               o.get("level") in ("info", "warn", "error") and
               harness.ISO_UTC_RE.match(o.get("ts", "")),
               "log line without ts/level/msg: %r" % ln[:200])
        objs.append(o)
    refusals = [o for o in objs if o["msg"] == "event request refused"]
    expect(len(refusals) == 1 and refusals[0].get("reason") == "origin" and
           refusals[0].get("site") == SITE and
           refusals[0].get("level") == "warn",
           "refusal lines for a burst of 50: %r" % refusals)
    access = [o for o in objs if o["msg"] == "request" and
              o.get("path") == "/e"]
    expect(len(access) == 51, "%d access lines for 51 beacons"
           % len(access))
    bad = [o for o in access if o.get("status") == 403]
    expect(len(bad) == 50 and all(
        o.get("method") == "POST" and isinstance(o.get("bytes"), int) and
        isinstance(o.get("ms"), (int, float)) and o.get("site") == SITE
        for o in bad), "access lines: %r" % bad[:2])
    for ln in lines:
        expect(CLIENT not in ln, "a client address without --log-ip: %r"
               % ln[:200])
        if "listening on" not in ln:
            expect(not IPV4.search(ln), "an address without --log-ip: %r"
                   % ln[:200])

    def one(srv):
        _status(srv.post_events(_view("metrics_ip_0001"),
                                origin="http://evil.test", xff=CLIENT),
                403, "wrong origin with --log-ip")

    lines = _run_logged(t, data, base + ["--log-ip"], one)
    objs = [json.loads(ln) for ln in lines]
    expect(any(o["msg"] == "request" and o.get("client") == CLIENT
               for o in objs), "--log-ip: no access line names %s" % CLIENT)
    expect(any(o["msg"] == "event request refused" and
               o.get("client") == CLIENT for o in objs),
           "--log-ip: the refusal line does not name %s" % CLIENT)


def text_logs_stay_text_without_an_access_log(t):
    """By default lines stay "TS LEVEL MSG" text and no request is logged."""
    data = t.datadir()

    def send(srv):
        _status(srv.post_events(_view("metrics_txt_0001")), 204, "beacon")

    lines = _run_logged(t, data, [], send)
    expect(lines, "the server logged nothing")
    for ln in lines:
        expect(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (info|warn|error) ",
                        ln), "not a text log line: %r" % ln[:200])
        expect(" request " not in ln + " ", "an access line by default: %r"
               % ln)
