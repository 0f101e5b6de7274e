"""tickets.py — tickets after reading, end to end against the real CLI and
server: `dwell tickets import` of every helpdesk export format, the ticket
webhook POST /api/v1/tickets (each helpdesk's shape, tokens, Help Scout
signatures, limits), attribution of a ticket to the reads before it (link
ids and identify), and `dwell correlate` with the API's deflection, topics,
gaps and tickets/ID/reads on the demo data. The sample exports and webhook
bodies are the unit tests' (tests/unit/data/helpdesk/). Every public
function is one test (run by run.py after reports.py), named for the
behaviour.
"""

import base64
import csv
import datetime
import hashlib
import hmac
import io
import json
import os
import re
import statistics
import time
import urllib.parse

import harness
from harness import SITE, API, expect
from harness import (today as _today, iso_time as _iso, status as _status,
                     error_message as _error, names as _names, token as _token,
                     get as _get, api_json as _api_json)

SAMPLES = os.path.join(harness.ROOT, "tests", "unit", "data", "helpdesk")
HOOK = "/api/v1/tickets"
NOVEMBER = "from=2026-11-01&to=2026-11-30"      # every sample ticket's month
HS_SECRET = "hs-secret-8c1f2a"
# base64(HMAC-SHA1(HS_SECRET, webhook-helpscout.json)), as test_helpdesk.c
# has it: a check on the signature this module computes itself
HS_KNOWN_SIGNATURE = "Vavw+5IMNSxWcszED4mv3H7++kw="

FIREFOX_UA = ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 "
              "Firefox/125.0")


# --- helpers --------------------------------------------------------------------------

def _sample(name):
    path = os.path.join(SAMPLES, name)
    with open(path, "rb") as f:
        return f.read()


def _reads_target(site, ticket, query=""):
    return "%s%s/tickets/%s/reads%s" % (API, site,
                                        urllib.parse.quote(ticket, safe=""),
                                        query)


def _reads(srv, tok, ticket, site=SITE, query=""):
    return _api_json(srv, tok, _reads_target(site, ticket, query))


def _hook(srv, body, token=None, site=SITE, query="", headers=()):
    """POSTs BODY (bytes, str, or a dict sent as JSON) to the webhook."""
    if isinstance(body, dict):
        body = json.dumps(body)
    target = HOOK
    if site is not None:
        target += "?site=" + urllib.parse.quote(site, safe="")
    target += query
    h = [("Content-Type", "application/json")] + list(headers)
    if token is not None:
        h.append(("Authorization", "Bearer " + token))
    return srv.request("POST", target, h, body)


def _stored(r, ticket, stored, what):
    """Checks a webhook's 200 {"ticket": TICKET, "stored": STORED}."""
    _status(r, 200, what)
    expect((r.header("Content-Type") or "").startswith("application/json"),
           "%s: Content-Type %r" % (what, r.header("Content-Type")))
    doc = r.json()
    expect(doc == {"ticket": ticket, "stored": stored},
           "%s: answered %r, expected {\"ticket\": %r, \"stored\": %s}"
           % (what, doc, ticket, json.dumps(stored)))


def _hs_signature(body, secret=HS_SECRET):
    return base64.b64encode(hmac.new(secret.encode(), body,
                                     hashlib.sha1).digest()).decode()


def _site_tickets(srv, tok, site=SITE, query=NOVEMBER):
    doc = _api_json(srv, tok, API + site + "/deflection?" + query)
    return doc["site_numbers"]["tickets"]


def _wilson(k, n, z=None):
    z = z or statistics.NormalDist().inv_cdf(0.975)
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
    return c - h, c + h


# --- what must never be stored -----------------------------------------------------------

_EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_TEXT_KEYS = {"subject", "raw_subject", "description", "preview", "body",
              "ticket_subject", "ticket_description", "ticket_contact_name"}


def _json_values(doc, out):
    """Collects, from a parsed sample, the texts no store may keep: subjects,
    descriptions, message bodies and people's names."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, str) and k in _TEXT_KEYS:
                out.add(v)
            _json_values(v, out)
        if "email" in doc and isinstance(doc.get("name"), str):
            out.add(doc["name"])                 # a person: {name, email}
        for a, b in (("first", "last"), ("firstName", "lastName")):
            if isinstance(doc.get(a), str) and isinstance(doc.get(b), str):
                out.add("%s %s" % (doc[a], doc[b]))
    elif isinstance(doc, list):
        for v in doc:
            _json_values(v, out)


def _personal_needles(names):
    """Byte strings of the samples NAMES that must not be in a data dir:
    every e-mail address as written, lower-cased, and as its plain SHA-256
    (the store keeps only keyed hashes), subjects, descriptions, bodies and
    names of people."""
    emails, texts = set(), set()
    for name in names:
        raw = _sample(name)
        emails.update(m.group(0) for m in _EMAIL.finditer(raw))
        text = raw.decode("utf-8-sig", "replace")
        if name.endswith(".csv"):
            for row in csv.DictReader(io.StringIO(text, newline="")):
                for col in ("Subject", "Requester", "Submitter", "Notes"):
                    if row.get(col):
                        texts.add(row[col])
            continue
        docs = []
        try:
            docs.append(json.loads(text))
        except ValueError:
            for line in text.splitlines():     # NDJSON, or a broken file
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    pass
        for d in docs:
            _json_values(d, texts)
    needles = set()
    for e in emails:
        low = e.strip().lower()
        needles.update([e, low])
        h = hashlib.sha256(low).digest()
        needles.update([h, h.hex().encode()])
    for s in texts:
        s = s.strip()
        for part in [s] + s.splitlines():
            part = part.strip()
            if len(part) >= 8:                 # long enough not to be chance
                needles.add(part.encode())
    return sorted(needles)


def _expect_nothing_personal(data, names, kept, what):
    """Greps DATA for what the samples NAMES must not leave there; KEPT are
    strings of the same tickets that are stored (link ids): finding them
    shows the grep reads where the tickets are."""
    needles = _personal_needles(names)
    expect(len(needles) > 20, "only %d needles from %s" % (len(needles), names))
    found = {n for _, n in harness.grep_tree(data, kept)}
    expect(found == set(kept), "%s: the data dir does not hold %s: the grep "
           "does not see the tickets" % (what, sorted(set(kept) - found)))
    hits = harness.grep_tree(data, needles)
    expect(not hits, "%s: the data dir keeps what it must not: %s" % (
        what, ", ".join("%r in %s" % (n[:40], f) for f, n in hits[:6])))


# --- import ------------------------------------------------------------------------------

GENERIC_MAP = ["--map", "Ticket=id", "--map", "Opened=created_at",
               "--map", "Link=link", "--map", "Customer=email",
               "--map", "Labels=tags"]

# format, sample, extra flags, tickets stored, bad records (where, why),
# ids stored with the link id the sample gives them (or None), ids the
# sample has but must not be stored
IMPORTS = [
    ("zendesk-json", "zendesk-tickets.json", ["--link-field", "360001234"],
     [], {"35436": "k3Jx9_q-2LmN", "35437": None, "35438": None}, []),
    ("zendesk-csv", "zendesk.csv", [], [],
     {"35450": "csv_link_0001", "35451": None, "35452": "csv_link_0003"}, []),
    ("freshdesk-json", "freshdesk-tickets.json", [], [],
     {"101": "fd_link_0001", "102": None, "103": "fd_link_0003", "104": None,
      "105": None, "106": None}, []),
    ("helpscout-json", "helpscout-conversations.json", [],
     [("_embedded.conversations[2]", "createdAt: missing")],
     {"2391938111": "hs_link_0001", "2391938112": None}, ["2391938113"]),
    ("intercom-json", "intercom-conversations.json", [], [],
     {"1911149811": "ic_link_0001", "1911149812": "ic-url-Link-2",
      "1911149813": None}, []),
    ("csv", "generic.csv", GENERIC_MAP,
     [("line 4", "Opened: not an ISO 8601 time or Unix seconds")],
     {"HD-1001": "gen_link_0001", "HD-1002": None, "HD-1004": None},
     ["HD-1003"]),
]


def _site_of(fmt):
    return fmt + ".test"


def _summary(path, imported, unchanged, bad):
    return ("%s: %d tickets imported (%d already stored as they are), "
            "%d bad records skipped\n" % (path, imported, unchanged, bad))


def _import(t, data, fmt, name, extra, site=None):
    path = os.path.join(SAMPLES, name)
    return path, t.dwell("tickets", "import", path, "--site",
                         site or _site_of(fmt), "--format", fmt,
                         "--data", data, *extra)


def _check_import(r, path, imported, unchanged, bad, what):
    want_rc = 3 if bad else 0
    expect(r.returncode == want_rc, "%s: exit %d, expected %d (stderr %r)"
           % (what, r.returncode, want_rc, r.stderr[-400:]))
    want = _summary(path, imported, unchanged, len(bad))
    expect(r.stdout == want, "%s: printed %r, expected %r"
           % (what, r.stdout, want))
    lines = r.stderr.splitlines()
    want_err = ["%s: %s: %s" % (path, w, why) for w, why in bad]
    expect(lines == want_err, "%s: stderr %r, expected %r"
           % (what, lines, want_err))
    expect("@" not in r.stdout + r.stderr,
           "%s: an e-mail address in the output: %r"
           % (what, (r.stdout + r.stderr)[:400]))


def _import_all(t):
    """A fresh data dir with one site per format, each format's sample
    imported into its site; returns the data dir."""
    data = t.datadir(sites=[(_site_of(f[0]), ("http://" + _site_of(f[0]),))
                            for f in IMPORTS])
    for fmt, name, extra, bad, ids, _ in IMPORTS:
        path, r = _import(t, data, fmt, name, extra)
        _check_import(r, path, len(ids), 0, bad, "import %s" % fmt)
    return data


def _tokens(t, data):
    return {f[0]: _token(t, data, _site_of(f[0])) for f in IMPORTS}


def _snapshot(srv, toks):
    """Everything the API tells about each format's site: the deflection of
    November and the reads of every stored ticket."""
    snap = {}
    for fmt, name, extra, bad, ids, _ in IMPORTS:
        site, tok = _site_of(fmt), toks[fmt]
        snap[fmt] = [_api_json(srv, tok, API + site + "/deflection?" +
                               NOVEMBER)]
        snap[fmt] += [_reads(srv, tok, i, site) for i in sorted(ids)]
    return snap


def tickets_import_of_each_format_prints_its_counts_and_stores_the_tickets(t):
    data = _import_all(t)
    toks = _tokens(t, data)
    with t.server(data=data) as srv:
        for fmt, name, extra, bad, ids, refused in IMPORTS:
            site, tok = _site_of(fmt), toks[fmt]
            n = _site_tickets(srv, tok, site)
            expect(n == len(ids), "%s: deflection counts %d tickets in "
                   "November 2026, expected %d" % (fmt, n, len(ids)))
            n = _site_tickets(srv, tok, site, "from=2020-01-01&to=2020-01-31")
            expect(n == 0, "%s: %d tickets in January 2020" % (fmt, n))
            for i in ids:
                doc = _reads(srv, tok, i, site)
                expect(doc.get("ticket") == i and doc.get("site") == site and
                       doc.get("linked") is False and doc.get("reads") == [],
                       "%s: tickets/%s/reads answered %r" % (fmt, i, doc))
            for i in refused + ["999999", "no-such-ticket"]:
                r = _get(srv, _reads_target(site, i), tok)
                _status(r, 404, "%s: tickets/%s/reads" % (fmt, i))
                _error(r, "%s: tickets/%s/reads" % (fmt, i))
            # another site does not see them
            other = [f for f in toks if f != fmt][0]
            r = _get(srv, _reads_target(_site_of(other), sorted(ids)[0]),
                     toks[other])
            _status(r, 404, "%s's ticket on %s" % (fmt, _site_of(other)))

        # the days: zendesk-json has two tickets on the 23rd, one on the 24th
        tok = toks["zendesk-json"]
        for day, want in (("2026-11-23", 2), ("2026-11-24", 1),
                          ("2026-11-25", 0)):
            n = _site_tickets(srv, tok, "zendesk-json.test",
                              "from=%s&to=%s" % (day, day))
            expect(n == want, "zendesk-json: %d tickets on %s, expected %d"
                   % (n, day, want))

        # the link ids made it: a reader who clicks "contact" with the
        # ticket's link id makes the ticket linked (the read is after the
        # ticket, so it lists no read)
        for fmt, name, extra, bad, ids, _ in IMPORTS:
            site, tok = _site_of(fmt), toks[fmt]
            for i, link in sorted(ids.items()):
                if link is None:
                    continue
                vid = "imp_%s" % hashlib.sha1(link.encode()).hexdigest()[:12]
                r = srv.post_events([{"s": site, "t": "view", "v": vid,
                                      "u": "http://%s/kb/contact" % site},
                                     {"s": site, "t": "link", "v": vid,
                                      "k": link}], origin="http://" + site)
                _status(r, 204, "the link event of %s" % link)
            for i, link in sorted(ids.items()):
                doc = _reads(srv, tok, i, site)
                expect(doc.get("linked") is (link is not None),
                       "%s: ticket %s (link id %r) answers linked %r"
                       % (fmt, i, link, doc.get("linked")))


def tickets_reimport_stores_nothing_new_and_changes_nothing(t):
    data = _import_all(t)
    toks = _tokens(t, data)
    with t.server(data=data) as srv:
        before = _snapshot(srv, toks)
        # again, while the server runs
        for fmt, name, extra, bad, ids, _ in IMPORTS:
            path, r = _import(t, data, fmt, name, extra)
            _check_import(r, path, 0, len(ids), bad, "re-import %s" % fmt)
        after = _snapshot(srv, toks)
        for fmt in before:
            expect(before[fmt] == after[fmt],
                   "%s: the API answers differently after re-importing:\n"
                   "%s\n%s" % (fmt, json.dumps(before[fmt])[:600],
                               json.dumps(after[fmt])[:600]))
        # the same file into another site is new there
        path, r = _import(t, data, "freshdesk-json", "freshdesk-tickets.json",
                          [], site="csv.test")
        _check_import(r, path, 6, 0, [], "freshdesk-json into csv.test")
        n = _site_tickets(srv, toks["csv"], "csv.test")
        expect(n == 3 + 6, "csv.test: %d tickets after importing Freshdesk's "
               "six, expected 9" % n)


def tickets_import_skips_bad_records_names_them_and_exits_3(t):
    data = t.datadir()
    not_a_time = "not an ISO 8601 time or Unix seconds"
    cases = [
        # format, sample, the bad records (where, the start of why), the
        # ids stored, the ids of bad records
        ("zendesk-json", "zendesk-bad-row.json",
         [("tickets[1]", "created_at: " + not_a_time)],
         ["35446", "35448"], ["35447"]),
        ("zendesk-csv", "zendesk-bad-row.csv",
         [("line 5", "Id: missing"), ("line 7", "Created at: " + not_a_time)],
         ["35453", "35455"], ["35456"]),
        # NDJSON (the incremental export's stream): a bad time, a cut line
        ("zendesk-json", "zendesk-export.json",
         [("line 2", "created_at: " + not_a_time),
          ("line 4", "truncated JSON: ")],
         ["35442", "35444"], ["35443", "35445"]),
    ]
    tok = _token(t, data)
    total = 0
    with t.server(data=data) as srv:
        for fmt, name, bad, good, missing in cases:
            path, r = _import(t, data, fmt, name, [], site=SITE)
            what = "import %s" % name
            expect(r.returncode == 3, "%s: exit %d, expected 3 (stderr %r)"
                   % (what, r.returncode, r.stderr[-300:]))
            want = _summary(path, len(good), 0, len(bad))
            expect(r.stdout == want, "%s: printed %r, expected %r"
                   % (what, r.stdout, want))
            lines = r.stderr.splitlines()
            expect(len(lines) == len(bad) and all(
                line.startswith("%s: %s: %s" % (path, w, why))
                for line, (w, why) in zip(lines, bad)),
                "%s: stderr %r, expected FILE: where: reason for %s"
                % (what, lines, bad))
            expect("@" not in r.stdout + r.stderr,
                   "%s: an e-mail address in the output" % what)
            total += len(good)
            for i in good:
                doc = _reads(srv, tok, i)
                expect(doc.get("ticket") == i, "%s: reads of %s: %r"
                       % (what, i, doc))
            for i in missing:
                _status(_get(srv, _reads_target(SITE, i), tok), 404,
                        "%s: the bad record %s" % (what, i))
        n = _site_tickets(srv, tok)
        expect(n == total, "%d tickets stored, expected %d" % (n, total))


def tickets_import_of_an_unparsable_file_stores_nothing_and_exits_1(t):
    data = t.datadir()
    tok = _token(t, data)
    with open(os.path.join(harness.OUT, "tickets-garbage.json"), "wb") as f:
        f.write(b'{"tickets": [{"id": 1, "created_at": "2026-11-23T10:00:00Z"}'
                b']} trailing')
    cases = [
        # (format, file, flags, what stderr must say, ids it holds)
        ("zendesk-json", os.path.join(SAMPLES, "zendesk-truncated.json"), [],
         "truncated JSON: ends inside", ["35436"]),
        ("zendesk-csv", os.path.join(SAMPLES, "zendesk-no-header.csv"), [],
         "no header row", ["35453", "35455"]),
        ("zendesk-csv", os.path.join(SAMPLES, "zendesk-unterminated.csv"), [],
         "a quoted field is never closed", ["35450"]),
        ("zendesk-json", os.path.join(SAMPLES, "zendesk-html.json"), [],
         "not JSON", []),
        ("zendesk-json", os.path.join(SAMPLES, "zendesk-error.json"), [],
         "no \"tickets\" array", []),
        ("zendesk-json", os.path.join(SAMPLES, "empty.json"), [],
         "empty file", []),
        ("csv", os.path.join(SAMPLES, "empty.csv"), GENERIC_MAP,
         "empty file", []),
        ("zendesk-json", os.path.join(harness.OUT, "tickets-garbage.json"),
         [], "line 1", ["1"]),
        # the generic CSV needs to know which columns are the id and time
        ("csv", os.path.join(SAMPLES, "generic.csv"), [],
         "--map COLUMN=id", ["HD-1001"]),
        ("csv", os.path.join(SAMPLES, "generic.csv"),
         GENERIC_MAP + ["--map", "Nope=requester"], "Nope=requester",
         ["HD-1001"]),
    ]
    for fmt, path, extra, says, ids in cases:
        r = t.dwell("tickets", "import", path, "--site", SITE, "--format", fmt,
                    "--data", data, *extra)
        what = "import %s as %s" % (os.path.basename(path), fmt)
        expect(r.returncode == 1, "%s: exit %d, expected 1 (stdout %r, "
               "stderr %r)" % (what, r.returncode, r.stdout, r.stderr[-300:]))
        expect(r.stdout == "", "%s: printed %r" % (what, r.stdout))
        expect(says in r.stderr, "%s: stderr %r does not say %r"
               % (what, r.stderr[-400:], says))
        expect("nothing imported" in r.stderr and path in r.stderr,
               "%s: stderr %r does not say nothing was imported from the file"
               % (what, r.stderr[-400:]))
        expect("@" not in r.stderr, "%s: an e-mail address on stderr: %r"
               % (what, r.stderr[-400:]))
    # usage errors: exit 2 (or 1 when the file or site is not there)
    for argv, code, says in (
            (["tickets", "import", os.path.join(SAMPLES, "zendesk.csv"),
              "--site", SITE, "--format", "zendesk"], 2, "--format"),
            (["tickets", "import", os.path.join(SAMPLES, "zendesk.csv"),
              "--site", SITE], 2, "--format"),
            (["tickets", "import", "--site", SITE, "--format", "csv"], 2,
             "FILE"),
            (["tickets", "export"], 2, "import"),
            (["tickets", "import", os.path.join(SAMPLES, "generic.csv"),
              "--site", SITE, "--format", "csv", "--map", "Ticket"], 2,
             "--map"),
            (["tickets", "import", os.path.join(SAMPLES, "no-such.json"),
              "--site", SITE, "--format", "zendesk-json"], 1, "no-such.json"),
            (["tickets", "import", os.path.join(SAMPLES, "zendesk.csv"),
              "--site", "nope.test", "--format", "zendesk-csv"], 1,
             "nope.test")):
        r = t.dwell(*(argv + ["--data", data]))
        expect(r.returncode == code and says in r.stderr,
               "dwell %s: exit %d, stderr %r; expected exit %d naming %s"
               % (" ".join(argv[2:]), r.returncode, r.stderr[-300:], code,
                  says))
    with t.server(data=data) as srv:
        n = _site_tickets(srv, tok)
        expect(n == 0, "%d tickets stored after only failed imports" % n)
        for fmt, path, extra, says, ids in cases:
            for i in ids:
                _status(_get(srv, _reads_target(SITE, i), tok), 404,
                        "ticket %s of the refused %s"
                        % (i, os.path.basename(path)))


def tickets_import_keeps_no_email_subject_or_description_in_the_data_dir(t):
    data = _import_all(t)
    # and the files with bad records, where the good ones are kept
    for fmt, name in (("zendesk-json", "zendesk-bad-row.json"),
                      ("zendesk-csv", "zendesk-bad-row.csv"),
                      ("zendesk-json", "zendesk-export.json"),
                      ("zendesk-json", "zendesk-single.json"),
                      ("zendesk-json", "zendesk-incremental.json")):
        path, r = _import(t, data, fmt, name, [], site=_site_of(fmt))
        expect(r.returncode in (0, 3), "import %s: exit %d: %s"
               % (name, r.returncode, r.stderr[-300:]))
    names = [f[1] for f in IMPORTS] + [
        "zendesk-bad-row.json", "zendesk-bad-row.csv", "zendesk-export.json",
        "zendesk-single.json", "zendesk-incremental.json"]
    _expect_nothing_personal(data, names, [b"k3Jx9_q-2LmN", b"fd_link_0001",
                                           b"gen_link_0001", b"csv_link_0001"],
                             "after importing every sample")


# --- the webhook ---------------------------------------------------------------------------

# sample, ticket id it carries
WEBHOOKS = [
    ("webhook-zendesk-event.json", "5158"),
    ("webhook-zendesk-trigger.json", "35460"),
    ("webhook-freshdesk.json", "4321"),
    ("webhook-helpscout.json", "2391938120"),
    ("webhook-intercom.json", "1911149811"),
    ("webhook-generic.json", "T-1001"),
]


def webhook_accepts_each_helpdesk_shape_and_stores_the_ticket(t):
    body = _sample("webhook-helpscout.json")
    expect(_hs_signature(body) == HS_KNOWN_SIGNATURE,
           "this module's Help Scout signature %s differs from the unit "
           "test's %s" % (_hs_signature(body), HS_KNOWN_SIGNATURE))
    with t.server("--helpscout-secret", HS_SECRET) as srv:
        tok = _token(t, srv.data)
        for name, ticket in WEBHOOKS:
            body = _sample(name)
            if name == "webhook-helpscout.json":
                # signed: no token needed
                r = _hook(srv, body, headers=[("X-HelpScout-Signature",
                                               _hs_signature(body))])
            elif name == "webhook-zendesk-trigger.json":
                r = _hook(srv, body, query="&token=" +
                          urllib.parse.quote(tok, safe=""))
            else:
                r = _hook(srv, body, tok)
            _stored(r, ticket, True, "POST %s" % name)
            doc = _reads(srv, tok, ticket)
            expect(doc.get("ticket") == ticket and doc.get("reads") == [],
                   "%s: tickets/%s/reads: %r" % (name, ticket, doc))
        n = _site_tickets(srv, tok)
        expect(n == len(WEBHOOKS), "deflection counts %d tickets, expected "
               "%d" % (n, len(WEBHOOKS)))
        # the ticket of the Freshdesk hook (10:20:30+05:30 on the 27th) is
        # on the 27th in UTC; the Zendesk event's on the 27th too
        n = _site_tickets(srv, tok, query="from=2026-11-27&to=2026-11-27")
        expect(n == 5, "%d tickets on 2026-11-27, expected 5 (all but "
               "Intercom's of the 23rd)" % n)
        # requester hashes: Help Scout's and Zendesk trigger's e-mails
        doc = _api_json(srv, tok, API + SITE + "/deflection?" + NOVEMBER)
        expect(doc["site_numbers"]["requesters"] == len(WEBHOOKS),
               "requesters %r, expected %d" % (doc["site_numbers"],
                                               len(WEBHOOKS)))
        # the link field is the one the hook names (?link_field=)
        body = json.dumps({"id": "LF-1", "created_at": "2026-11-23T10:00:00Z",
                           "my_link": "custom_link_01"})
        _stored(_hook(srv, body, tok, query="&link_field=my_link"), "LF-1",
                True, "generic hook with ?link_field=my_link")
        r = srv.post_events([{"s": SITE, "t": "view", "v": "lf_view_0001",
                              "u": "http://help.test/kb/lf"},
                             {"s": SITE, "t": "link", "v": "lf_view_0001",
                              "k": "custom_link_01"}])
        _status(r, 204, "link event custom_link_01")
        expect(_reads(srv, tok, "LF-1").get("linked") is True,
               "LF-1 not linked by its ?link_field= link id")
        # an id with quotes, a backslash and a slash comes back as JSON
        odd = 'Q"1\\2/x'
        _stored(_hook(srv, {"id": odd, "created_at": "2026-11-23T10:00:00Z"},
                      tok), odd, True, "an id with \" \\ and /")
        expect(_reads(srv, tok, odd).get("ticket") == odd,
               "tickets/%s/reads does not find it" % odd)
    _expect_nothing_personal(srv.data, [w[0] for w in WEBHOOKS],
                             [b"Qw3rTy-12_ab", b"dL-9fK2mP0qZ"],
                             "after the webhooks")


def webhook_needs_a_full_token_of_the_site_or_a_help_scout_signature(t):
    data = t.datadir(sites=((SITE, ("http://help.test",)),
                            ("other.test", ("http://other.test",))))
    full = _token(t, data)
    ro = _token(t, data, read_only=True)
    other = _token(t, data, site="other.test")
    gen = _sample("webhook-generic.json")
    hs = _sample("webhook-helpscout.json")
    with t.server("--helpscout-secret", HS_SECRET, data=data) as srv:
        for r, code, what, says in (
                (_hook(srv, gen), 401, "no token", None),
                (_hook(srv, gen, "dw_" + "A" * 32), 401, "an unknown token",
                 None),
                (_hook(srv, gen, full[:-1]), 401, "a cut token", None),
                (_hook(srv, gen, query="&token="), 401, "an empty ?token=",
                 None),
                (_hook(srv, gen, ro), 403, "a read-only token", "read-only"),
                (_hook(srv, gen, other), 403, "another site's token", None),
                (_hook(srv, gen, full, site=None), 400, "no ?site=", "site"),
                (_hook(srv, gen, full, site=""), 400, "an empty ?site=",
                 "site"),
                # an unknown site: the token is checked first, and no token
                # can name a site that does not exist
                (_hook(srv, gen, full, site="nope.test"), 403,
                 "an unknown site with help.test's token", None),
                (_hook(srv, gen, site="nope.test"), 401,
                 "an unknown site without a token", None),
                # a Help Scout signature stands for the token...
                (_hook(srv, hs, site="nope.test",
                       headers=[("X-HelpScout-Signature", _hs_signature(hs))]),
                 404, "a signed Help Scout hook for an unknown site", "site"),
                # ...and a wrong one is refused, token or not
                (_hook(srv, hs, headers=[("X-HelpScout-Signature",
                                          _hs_signature(hs, "wrong"))]),
                 401, "a wrong Help Scout signature", "X-HelpScout-Signature"),
                (_hook(srv, hs, full,
                       headers=[("X-HelpScout-Signature",
                                 _hs_signature(hs, "wrong"))]),
                 401, "a wrong Help Scout signature with a full token",
                 "X-HelpScout-Signature"),
                (_hook(srv, hs.replace(b"Lea", b"Leo"),
                       headers=[("X-HelpScout-Signature", _hs_signature(hs))]),
                 401, "a Help Scout body changed after signing",
                 "X-HelpScout-Signature"),
                (_hook(srv, hs, headers=[("X-HelpScout-Signature", "")]),
                 401, "an empty Help Scout signature", None),
        ):
            _status(r, code, what)
            msg = _error(r, what)
            if says:
                expect(says.lower() in msg.lower(), "%s: error %r does not "
                       "mention %s" % (what, msg, says))
            if code == 401:
                expect("bearer" in (r.header("WWW-Authenticate") or "")
                       .lower() or "signature" in msg.lower(),
                       "%s: 401 without WWW-Authenticate: Bearer" % what)
        # none of that was stored
        for ticket in ("T-1001", "2391938120"):
            _status(_get(srv, _reads_target(SITE, ticket), full), 404,
                    "ticket %s after refused hooks" % ticket)
        expect(_site_tickets(srv, full) == 0, "refused hooks stored tickets")
        # the right ones
        _stored(_hook(srv, gen, full), "T-1001", True, "a full token")
        _stored(_hook(srv, hs, headers=[("X-HelpScout-Signature",
                                         _hs_signature(hs))]),
                "2391938120", True, "a good Help Scout signature")
        _stored(_hook(srv, gen, site="other.test",
                      query="&token=" + urllib.parse.quote(other, safe="")),
                "T-1001", True, "other.test's own token, as ?token=")
        _reads(srv, other, "T-1001", site="other.test")

    # without --helpscout-secret a signature proves nothing: a token is needed
    with t.server(data=data) as srv:
        r = _hook(srv, hs, headers=[("X-HelpScout-Signature",
                                     _hs_signature(hs))])
        _status(r, 401, "a signed hook to a server without a secret")
        _error(r, "a signed hook to a server without a secret")
        _stored(_hook(srv, hs, full, headers=[("X-HelpScout-Signature",
                                               "bogus")]),
                "2391938120", False, "a bogus signature ignored, with a token")


def webhook_signed_for_one_site_is_refused_by_another(t):
    data = t.datadir(sites=((SITE, ("http://help.test",)),
                            ("other.test", ("http://other.test",)),
                            ("third.test", ("http://third.test",))))
    for site, secret in ((SITE, "secret-of-help"),
                         ("other.test", "secret-of-other")):
        r = t.dwell("site", "add", site, "--helpscout-secret", secret,
                    "--data", data)
        expect(r.returncode == 0 and "Help Scout secret set" in r.stdout,
               "dwell site add %s --helpscout-secret: exit %d: %s %s"
               % (site, r.returncode, r.stdout, r.stderr))
    r = t.dwell("site", "list", "--data", data)
    expect("http://help.test" in r.stdout, "setting the secret dropped the "
           "origins: %r" % r.stdout)
    tok = _token(t, data)
    hs = _sample("webhook-helpscout.json")
    signed = _hs_signature(hs, "secret-of-help")
    sig = [("X-HelpScout-Signature", signed)]
    with t.server("--helpscout-secret", HS_SECRET, data=data) as srv:
        # replayed to other sites: other.test checks its own secret,
        # third.test (none of its own) the server's fallback
        for site in ("other.test", "third.test"):
            r = _hook(srv, hs, site=site, headers=sig)
            _status(r, 401, "help.test's signature replayed to " + site)
            _error(r, "help.test's signature replayed to " + site)
        # the server-wide secret no longer opens a site with its own
        r = _hook(srv, hs, headers=[("X-HelpScout-Signature",
                                     _hs_signature(hs))])
        _status(r, 401, "the fallback secret's signature for help.test")
        expect(_site_tickets(srv, tok) == 0, "refused hooks stored tickets")
        _stored(_hook(srv, hs, headers=sig), "2391938120", True,
                "help.test's own signature")
        _stored(_hook(srv, hs, site="third.test", headers=[
            ("X-HelpScout-Signature", _hs_signature(hs))]),
                "2391938120", True, "the fallback secret for third.test")
    # removing a site's secret: the fallback applies again
    r = t.dwell("site", "add", SITE, "--helpscout-secret", "", "--data", data)
    expect(r.returncode == 0 and "removed" in r.stdout,
           "removing the secret: exit %d: %s" % (r.returncode, r.stdout))
    with t.server("--helpscout-secret", HS_SECRET, data=data) as srv:
        _status(_hook(srv, hs, headers=sig), 401,
                "the removed secret's signature")
        _stored(_hook(srv, hs, headers=[("X-HelpScout-Signature",
                                         _hs_signature(hs))]),
                "2391938120", False, "the fallback after the removal")


def webhook_refuses_unusable_bodies_with_a_reason(t):
    with t.server() as srv:
        tok = _token(t, srv.data)
        bad = [
            (b"", "an empty body", "empty body"),
            (b'{"id":', "cut JSON", "not JSON"),
            (b"<html>oops</html>", "HTML", "not JSON"),
            (b"[1,2]", "an array", "object"),
            (b'{"id":"1","created_at":"2026-11-23T10:00:00Z"} x',
             "text after the JSON", "after"),
            (b'{"created_at":"2026-11-23T10:00:00Z"}', "no id", "id"),
            (b'{"id":"1"}', "no time", "created_at"),
            (b'{"id":"1","created_at":"2026-02-30","email":'
             b'"secret@example.com"}', "an impossible date", "created_at"),
            (_sample("webhook-zendesk-status-changed.json"),
             "Zendesk's ticket.status_changed", "ticket.created"),
            (b'{"type":"zen:event-type:ticket.created"}',
             "a Zendesk event without detail", "detail"),
            (b'{"freshdesk_webhook":{"ticket_id":5}}',
             "a Freshdesk hook without a time", "ticket_created_at"),
            (b'{"id":"' + b"x" * 65 + b'","created_at":0}',
             "a 65-byte id", "id"),
        ]
        for body, what, says in bad:
            r = _hook(srv, body, tok)
            _status(r, 400, what)
            msg = _error(r, what)
            expect(says.lower() in msg.lower(), "%s: error %r does not say %r"
                   % (what, msg, says))
            expect("@" not in msg, "%s: the error repeats an e-mail: %r"
                   % (what, msg))
        expect(_site_tickets(srv, tok) == 0 and
               _site_tickets(srv, tok, query="from=1970-01-01&to=1979-12-31")
               == 0, "a refused body stored a ticket")
        # GET and the other methods: 405 naming POST
        for method in ("GET", "PUT", "DELETE"):
            r = srv.request(method, HOOK + "?site=" + SITE,
                            [("Authorization", "Bearer " + tok)])
            _status(r, 405, method + " " + HOOK)
            _error(r, method + " " + HOOK)
            expect((r.header("Allow") or "").replace(" ", "") == "POST",
                   "%s %s: Allow %r" % (method, HOOK, r.header("Allow")))


def webhook_is_idempotent_by_ticket_id(t):
    with t.server() as srv:
        tok = _token(t, srv.data)
        body = _sample("webhook-zendesk-event.json")
        _stored(_hook(srv, body, tok), "5158", True, "the first delivery")
        _stored(_hook(srv, body, tok), "5158", False, "the same, again")
        # the same ticket in the trigger shape, same content: unchanged too
        same = {"ticket": {"id": 5158, "created_at": "2026-11-27T10:04:05Z",
                           "requester_id": "8447388090494",
                           "via": {"channel": "web_service"},
                           "tags": ["login", "Web_Widget"]}}
        _stored(_hook(srv, same, tok), "5158", False,
                "the same ticket in the trigger shape")
        expect(_site_tickets(srv, tok) == 1, "one ticket, delivered thrice, "
               "counts %d" % _site_tickets(srv, tok))
        # changed (another day): replaced, not added
        moved = json.loads(body)
        moved["detail"]["created_at"] = "2026-11-25T08:00:00Z"
        _stored(_hook(srv, moved, tok), "5158", True, "the ticket changed")
        _stored(_hook(srv, moved, tok), "5158", False, "the change, again")
        for q, want in (("from=2026-11-01&to=2026-11-30", 1),
                        ("from=2026-11-25&to=2026-11-25", 1),
                        ("from=2026-11-27&to=2026-11-27", 0)):
            n = _site_tickets(srv, tok, query=q)
            expect(n == want, "after moving ticket 5158 to the 25th: %d "
                   "tickets for %s, expected %d" % (n, q, want))


def webhook_takes_bodies_up_to_512_kib_and_refuses_larger_with_413(t):
    limit = 512 * 1024

    def padded(ticket, size):
        doc = {"id": ticket, "created_at": "2026-11-23T10:00:00Z", "notes": ""}
        pad = size - len(json.dumps(doc))
        doc["notes"] = "x" * pad
        b = json.dumps(doc).encode()
        assert len(b) == size, (len(b), size)
        return b

    with t.server() as srv:
        tok = _token(t, srv.data)
        # far above /e's 8 KiB: this route has its own limit
        _stored(_hook(srv, padded("BIG-64K", 64 * 1024), tok), "BIG-64K",
                True, "a 64 KiB hook")
        _stored(_hook(srv, padded("BIG-MAX", limit), tok), "BIG-MAX", True,
                "a hook of exactly 512 KiB")
        r = _hook(srv, padded("BIG-OVER", limit + 1), tok)
        _status(r, 413, "a hook of 512 KiB + 1 byte")
        _error(r, "a hook of 512 KiB + 1 byte")
        r = _hook(srv, padded("BIG-2M", 2 * 1024 * 1024), tok)
        _status(r, 413, "a 2 MiB hook")
        _status(_get(srv, _reads_target(SITE, "BIG-OVER"), tok), 404,
                "the refused 512 KiB + 1 hook's ticket")
        expect(_site_tickets(srv, tok) == 2, "tickets stored: %d, expected 2"
               % _site_tickets(srv, tok))
        # and /e keeps its 8 KiB
        r = srv.request("POST", "/e", harness.beacon_headers(),
                        padded("E-9K", 9000))
        _status(r, 413, "a 9000-byte beacon")


# --- attribution -----------------------------------------------------------------------------

def _around_now():
    """from/to covering yesterday to tomorrow: a ticket a few minutes from
    now may fall on tomorrow."""
    d = _today()
    return "from=%s&to=%s" % (d - datetime.timedelta(days=1),
                              d + datetime.timedelta(days=1))


def _read_paths(doc):
    return [x.get("path") for x in doc.get("reads", [])]


def attribution_link_id_ties_a_webhook_ticket_to_the_read_before_it(t):
    link = "e2eLink_0001-abc"
    with t.server() as srv:
        tok = _token(t, srv.data)
        vid = "e2e_view_a_0001"
        # what the snippet sends: the view, then (another beacon) the link id
        # dwell.linkId() makes when the reader clicks "contact support"
        _status(srv.post_events({"s": SITE, "t": "view", "v": vid,
                                 "u": "http://help.test/kb/a",
                                 "ti": "Article A", "c": "billing", "w": 120,
                                 "sd": 0}), 204, "the view of /kb/a")
        _status(srv.post_events({"s": SITE, "t": "engage", "v": vid,
                                 "e": 15000, "sd": 80}), 204, "engaged")
        _status(srv.post_events({"s": SITE, "t": "link", "v": vid,
                                 "k": link, "sd": 80}), 204, "the link event")
        # another reader reads /kb/z and never writes
        _status(srv.post_events({"s": SITE, "t": "view", "v": "e2e_view_z_01",
                                 "u": "http://help.test/kb/z", "ti": "Z"},
                                ua=FIREFOX_UA), 204, "another reader")
        posted = time.time()
        created = int(posted) + 180                # three minutes later
        _stored(_hook(srv, {"id": "E2E-LINK-1", "created_at": _iso(created),
                            "link": link, "channel": "web",
                            "tags": ["billing"]}, tok),
                "E2E-LINK-1", True, "the ticket with the link id")
        _stored(_hook(srv, {"id": "E2E-NONE-1", "created_at": _iso(created),
                            "channel": "email"}, tok),
                "E2E-NONE-1", True, "a ticket nobody can be tied to")

        doc = _reads(srv, tok, "E2E-LINK-1")
        expect(doc.get("linked") is True and doc.get("window") == "24h",
               "E2E-LINK-1: linked %r, window %r" % (doc.get("linked"),
                                                    doc.get("window")))
        expect(_read_paths(doc) == ["/kb/a"], "E2E-LINK-1 reads %s, expected "
               "/kb/a only" % _read_paths(doc))
        rd = doc["reads"][0]
        expect(170 <= rd.get("before_s", 0) <= 200,
               "before_s %r, expected about 180" % rd.get("before_s"))
        expect(rd.get("title") == "Article A" and
               harness.ISO_UTC_RE.match(rd.get("time", "")),
               "the read: %r" % rd)
        none = _reads(srv, tok, "E2E-NONE-1")
        expect(none.get("linked") is False and none.get("reads") == [],
               "E2E-NONE-1: %r" % none)
        # CSV of the reads
        r = _get(srv, _reads_target(SITE, "E2E-LINK-1", ".csv"), tok)
        _status(r, 200, "tickets/E2E-LINK-1/reads.csv")
        rows = list(csv.reader(io.StringIO(r.body.decode(), newline="")))
        expect(rows[0] == ["time", "path", "title", "before_s"] and
               len(rows) == 2 and rows[1][1] == "/kb/a" and
               rows[1][3] == "%d" % rd["before_s"],
               "reads.csv: %r" % rows)
        # a window shorter than the three minutes: no read, still linked
        short = _reads(srv, tok, "E2E-LINK-1", query="?window=2m")
        expect(short.get("linked") is True and short.get("reads") == [] and
               short.get("window") == "2m",
               "window=2m: %r" % short)

        doc = _api_json(srv, tok, API + SITE + "/deflection?" + _around_now())
        arts = {a["path"]: a for a in doc["articles"]}
        a = arts.get("/kb/a")
        expect(a is not None, "deflection has no /kb/a: %s" % sorted(arts))
        lo, hi = _wilson(1, 1)
        expect(a["views"] == 1 and a["followed_by_ticket"] == 1 and
               a["contact_after_read"] == 1.0,
               "/kb/a: %r" % a)
        # no "deflection = 1 - contact rate": it is not what it claims
        expect("deflection" not in a and "deflection_ci" not in a,
               "/kb/a still has a deflection: %r" % a)
        expect(a.get("contact_after_read_label") ==
               "at least 100% contacted support within 24h",
               "/kb/a label %r" % a.get("contact_after_read_label"))
        ci = a.get("contact_after_read_ci")
        expect(isinstance(ci, list) and len(ci) == 2 and
               abs(ci[0] - lo) < 1e-4 and abs(ci[1] - hi) < 1e-4,
               "/kb/a contact_after_read_ci %r, expected the Wilson interval "
               "of 1 in 1: [%.4f, %.4f]" % (ci, lo, hi))
        expect(170 <= (a.get("median_read_to_ticket_s") or 0) <= 200,
               "/kb/a median_read_to_ticket_s %r"
               % a.get("median_read_to_ticket_s"))
        z = arts.get("/kb/z")
        expect(z is not None and z["views"] == 1 and
               z["followed_by_ticket"] == 0 and z["contact_after_read"] == 0,
               "/kb/z: %r" % z)
        sn = doc["site_numbers"]
        expect(sn["tickets"] == 2 and sn["linked_tickets"] == 1 and
               sn["tickets_with_read"] == 1 and
               sn["share_of_tickets_after_reading"] == 0.5 and
               sn["views"] == 2,
               "site_numbers %r" % sn)
        expect(doc.get("linked_share") == {"linked_tickets": 1, "tickets": 2,
                                           "share": 0.5},
               "linked_share %r, expected 1 of 2 tickets" %
               doc.get("linked_share"))
        doc = _api_json(srv, tok, API + SITE + "/deflection?window=2m&" +
                        _around_now())
        a = {x["path"]: x for x in doc["articles"]}["/kb/a"]
        expect(a["followed_by_ticket"] == 0 and
               a["contact_after_read_label"] ==
               "at least 0% contacted support within 2m",
               "window=2m: /kb/a %r" % a)

        _status(_get(srv, _reads_target(SITE, "NO-SUCH-TICKET"), tok), 404,
                "an unknown ticket")


def attribution_identify_ties_a_ticket_to_the_requesters_reads(t):
    email = "Reader.Two@Example.COM"
    h = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    with t.server() as srv:
        tok = _token(t, srv.data)
        vid = "e2e_view_b_0001"
        _status(srv.post_events({"s": SITE, "t": "view", "v": vid,
                                 "u": "http://help.test/kb/b", "ti": "B"},
                                ua=FIREFOX_UA), 204, "the view of /kb/b")
        # dwell('identify', sha256(email)) from the same page
        _status(srv.post_events({"s": SITE, "t": "identify", "v": vid,
                                 "h": h}, ua=FIREFOX_UA), 204, "identify")
        # someone else (Chrome) read /kb/a
        _status(srv.post_events({"s": SITE, "t": "view", "v": "e2e_view_a_02",
                                 "u": "http://help.test/kb/a", "ti": "A"}),
                204, "another reader's view")
        created = int(time.time()) + 120
        # the helpdesk has the address as the requester typed it
        _stored(_hook(srv, {"id": "E2E-MAIL-1", "created_at": _iso(created),
                            "email": " " + email + " "}, tok),
                "E2E-MAIL-1", True, "the ticket with the requester's e-mail")
        _stored(_hook(srv, {"id": "E2E-MAIL-2", "created_at": _iso(created),
                            "email": "someone.else@example.com"}, tok),
                "E2E-MAIL-2", True, "a ticket of someone never identified")
        doc = _reads(srv, tok, "E2E-MAIL-1")
        expect(doc.get("linked") is True and _read_paths(doc) == ["/kb/b"],
               "E2E-MAIL-1: linked %r, reads %s; expected /kb/b"
               % (doc.get("linked"), _read_paths(doc)))
        expect(110 <= doc["reads"][0]["before_s"] <= 140,
               "before_s %r, expected about 120" % doc["reads"][0])
        doc = _reads(srv, tok, "E2E-MAIL-2")
        expect(doc.get("linked") is False and doc.get("reads") == [],
               "E2E-MAIL-2: %r" % doc)
        doc = _api_json(srv, tok, API + SITE + "/deflection?" + _around_now())
        b = {x["path"]: x for x in doc["articles"]}.get("/kb/b")
        expect(b is not None and b["views"] == 1 and
               b["followed_by_ticket"] == 1, "/kb/b: %r" % b)
        expect(doc["site_numbers"]["linked_tickets"] == 1 and
               doc["site_numbers"]["requesters"] == 2,
               "site_numbers %r" % doc["site_numbers"])
    # neither the address nor its plain SHA-256 is kept
    hits = harness.grep_tree(srv.data, [
        email.encode(), email.lower().encode(), h.encode(),
        h.upper().encode(), bytes.fromhex(h)])
    expect(not hits, "the data dir keeps the e-mail or its plain hash: %s"
           % hits[:3])


# --- linked share, the rate as a lower bound, its order ------------------------------------------

def _reader_ua(i):
    """A browser of its own: another User-Agent is another visitor hash."""
    return harness.CHROME_UA + " r%02d" % i


def contact_rates_show_the_linked_share_and_sort_by_the_rate(t):
    """15 readers: 10 of /kb/big (3 write a linked ticket), 2 of /kb/small
    (1 writes), 3 of /kb/none; 9 tickets of which 4 are linked (one more
    names a link id no reader sent). Every report states 4 of 9 linked next
    to the rates, labels each rate "at least", shows no deflection, and
    lists /kb/small (50 %) above /kb/big (30 %, but more tickets and the
    higher lower interval end) above /kb/none."""
    plan = ([("/kb/big", "LinkBig%04d" % i if i < 3 else None)
             for i in range(10)] +
            [("/kb/small", "LinkSmall0001"), ("/kb/small", None)] +
            [("/kb/none", None)] * 3)
    with t.server() as srv:
        tok = _token(t, srv.data)
        for i, (path, link) in enumerate(plan):
            vid = "lsh_view_%04d" % i
            ev = [{"s": SITE, "t": "view", "v": vid,
                   "u": "http://help.test" + path, "ti": path[4:].title()}]
            if link:
                ev.append({"s": SITE, "t": "link", "v": vid, "k": link})
            _status(srv.post_events(ev, ua=_reader_ua(i)), 204,
                    "reader %d's view of %s" % (i, path))
        created = _iso(int(time.time()) + 120)
        links = [l for _, l in plan if l] + ["NoReaderSentThis1"]
        for i, link in enumerate(links + [None] * 4):
            body = {"id": "LSH-%d" % i, "created_at": created,
                    "channel": "web" if link else "email"}
            if link:
                body["dwell_link"] = link
            _stored(_hook(srv, body, tok), "LSH-%d" % i, True,
                    "ticket LSH-%d" % i)

        q = "?" + _around_now()
        doc = _api_json(srv, tok, API + SITE + "/deflection" + q)
        want = {"linked_tickets": 4, "tickets": 9, "share": 0.4444}
        expect(doc.get("linked_share") == want,
               "linked_share %r, expected %r (4 of 9 tickets carry a link id "
               "a reader sent)" % (doc.get("linked_share"), want))
        sn = doc["site_numbers"]
        expect(sn["tickets"] == 9 and sn["linked_tickets"] == 4,
               "site_numbers %r" % sn)
        got = [(a["path"], a["views"], a["followed_by_ticket"],
                a["contact_after_read"], a["contact_after_read_label"])
               for a in doc["articles"]]
        label = "at least %d%% contacted support within 24h"
        expect(got == [("/kb/small", 2, 1, 0.5, label % 50),
                       ("/kb/big", 10, 3, 0.3, label % 30),
                       ("/kb/none", 3, 0, 0, label % 0)],
               "articles (path, views, followed, rate, label), expected "
               "highest rate first: %r" % got)
        # /kb/big has more tickets and the higher lower end: neither is
        # the order
        big, small = doc["articles"][1], doc["articles"][0]
        expect(big["contact_after_read_ci"][0] >
               small["contact_after_read_ci"][0],
               "precondition: /kb/big's interval starts higher (%r, %r)"
               % (big["contact_after_read_ci"],
                  small["contact_after_read_ci"]))
        bad = [a["path"] for a in doc["articles"]
               if "deflection" in a or "deflection_ci" in a]
        expect(not bad, "articles with a deflection: %s" % bad)

        # the clearer name answers the same document; so do the CSVs
        alias = _api_json(srv, tok, API + SITE + "/contact-after-read" + q)
        expect(alias == doc, "contact-after-read differs from deflection:\n"
               "%s\n%s" % (json.dumps(alias)[:400], json.dumps(doc)[:400]))
        r = _get(srv, API + SITE + "/deflection.csv" + q, tok)
        _status(r, 200, "deflection.csv")
        r2 = _get(srv, API + SITE + "/contact-after-read.csv" + q, tok)
        _status(r2, 200, "contact-after-read.csv")
        expect(r.body == r2.body, "contact-after-read.csv differs from "
               "deflection.csv")
        rows = _csv(r.body, "deflection.csv")
        head = rows[0]
        expect(head == CORRELATE_CSV_HEADER, "deflection.csv header %r"
               % head)
        rows = [dict(zip(head, x)) for x in rows[1:]]
        expect([x["path"] for x in rows] == ["/kb/small", "/kb/big",
                                            "/kb/none"] and
               all((x["period_linked_tickets"], x["period_tickets"],
                    x["linked_share"]) == ("4", "9", "0.4444") for x in rows),
               "deflection.csv rows (path, linked, tickets, share): %r"
               % [(x["path"], x["period_linked_tickets"],
                   x["period_tickets"], x["linked_share"]) for x in rows])
        frm, to = _today() - datetime.timedelta(days=1), \
            _today() + datetime.timedelta(days=1)

    # the CLI's table: the same order, the linked share beside the rates
    table = t.dwell("correlate", SITE, "--data", srv.data, "--from",
                    str(frm), "--to", str(to))
    expect(table.returncode == 0, "dwell correlate: exit %d: %s"
           % (table.returncode, table.stderr[-300:]))
    lines = table.stdout.splitlines()
    rows = [l.split() for l in lines if l.startswith("/kb/")]
    expect([(r[0], r[3]) for r in rows] == [("/kb/small", "50%"),
                                           ("/kb/big", "30%"),
                                           ("/kb/none", "0%")],
           "table rows (path, rate), expected highest rate first: %r" % rows)
    head = [l for l in lines if l.startswith("article")]
    expect(len(head) == 1 and head[0].split()[3:5] == ["at", "least"],
           "table header %r: the rate column is not labelled \"at least\""
           % head)
    text = table.stdout
    expect("at least this share of views contacted support within 24h" in
           text and "linked to a reader count, 4 of 9 (44%)" in text,
           "the table does not say the rates are lower bounds with 4 of 9 "
           "tickets linked:\n%s" % text)
    expect("deflection" not in text.lower(), "the table still speaks of "
           "deflection:\n%s" % text)
    part = t.dwell("correlate", SITE, "--data", srv.data, "--from", str(frm),
                   "--to", str(to), "--format", "json", "--part",
                   "contact-after-read")
    expect(part.returncode == 0 and json.loads(part.stdout) == doc,
           "dwell correlate --part contact-after-read: exit %d, differs from "
           "the API: %s" % (part.returncode, part.stdout[:300]))


# --- correlate on the demo data ---------------------------------------------------------------

DEMO = "demo"
CORRELATE_CSV_HEADER = ["id", "path", "title", "views", "followed_by_ticket",
                        "contact_after_read", "ci_low", "ci_high",
                        "median_read_to_ticket_s", "period_linked_tickets",
                        "period_tickets", "linked_share"]


def _demo(t):
    data = t.datadir(sites=((DEMO, ("http://demo.test",)),))
    r = t.dwell("demo", DEMO, "--days", "90", "--seed", "4", "--data", data,
                timeout=120)
    expect(r.returncode == 0, "dwell demo: exit %d: %s"
           % (r.returncode, r.stderr.strip()[-300:]))
    return data


def _near(text, number):
    """A CSV number (4 decimals) against the JSON's (rounded to 4)."""
    try:
        return abs(float(text) - number) <= 0.000101
    except (TypeError, ValueError):
        return False


def _csv(text, what):
    """Parses a CSV answer, which must be text: a NUL byte in it cuts off
    everything after it for whoever reads it as a C string."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    nul = text.find("\0")
    expect(nul < 0, "%s: a NUL byte at offset %d (after %r), then %d more "
           "bytes" % (what, nul, text[max(0, nul - 30):nul], len(text) - nul))
    return list(csv.reader(io.StringIO(text, newline="")))


def _correlate(t, data, *args):
    r = t.dwell("correlate", DEMO, "--data", data, *args)
    expect(r.returncode == 0, "dwell correlate %s: exit %d: %s"
           % (" ".join(args), r.returncode,
              harness.sanitizer_report(r.stderr) or
              r.stderr.strip()[-300:]))
    return r.stdout


def _get_or_crash(srv, target, tok):
    """_get, saying what the server's log says when it died on it."""
    try:
        return _get(srv, target, tok)
    except harness.TestFailure as e:
        try:
            srv.proc.wait(timeout=2)
        except Exception:
            pass
        if not srv.alive():
            raise harness.TestFailure("GET %s: %s; the server died (status "
                                      "%s): %s" % (target, e,
                                                   srv.proc.returncode,
                                                   harness.sanitizer_report(
                                                       srv.log_tail(1 << 20))))
        raise


def correlate_cli_on_demo_data_finds_the_planted_effects(t):
    data = _demo(t)
    doc = json.loads(_correlate(t, data, "--format", "json"))
    today = _today()
    # the default: the 90 full days before today (docs/metrics.md)
    expect(doc.get("site") == DEMO and doc.get("window") == "24h" and
           doc.get("to") == (today - datetime.timedelta(days=1)).isoformat()
           and doc.get("from") == (today - datetime.timedelta(days=90))
           .isoformat(),
           "scope %r, expected demo, 24h, the 90 days before today"
           % {k: doc.get(k) for k in ("site", "from", "to", "window")})
    sn = doc["site_numbers"]
    expect(sn["tickets"] > 1000 and 0 < sn["linked_tickets"] < sn["tickets"]
           and sn["views"] > 5000, "site_numbers %r" % sn)

    # the planted 40 % contact rate after /kb/refund-policy
    arts = {a["path"]: a for a in doc["articles"]}
    ref = arts.get("/kb/refund-policy")
    expect(ref is not None, "no /kb/refund-policy in %s" % sorted(arts))
    ci = ref["contact_after_read_ci"]
    expect(ci[0] <= 0.40 <= ci[1], "/kb/refund-policy contact_after_read %r, "
           "interval %r does not hold the planted 0.40"
           % (ref["contact_after_read"], ci))
    lo, hi = _wilson(ref["followed_by_ticket"], ref["views"])
    expect(abs(ci[0] - lo) < 1e-4 and abs(ci[1] - hi) < 1e-4 and
           abs(ref["contact_after_read"] -
               ref["followed_by_ticket"] / ref["views"]) < 1e-4,
           "/kb/refund-policy: %d of %d, rate %r, interval %r; Wilson gives "
           "[%.4f, %.4f]" % (ref["followed_by_ticket"], ref["views"],
                             ref["contact_after_read"], ci, lo, hi))
    expect(doc["articles"][0]["path"] == "/kb/refund-policy",
           "the article with the highest rate is %s"
           % doc["articles"][0]["path"])
    rates = [a["contact_after_read"] for a in doc["articles"]]
    expect(rates == sorted(rates, reverse=True), "articles not highest "
           "contact rate first: %s" % [(a["path"], a["contact_after_read"])
                                       for a in doc["articles"]])
    ls = doc.get("linked_share")
    expect(ls == {"linked_tickets": sn["linked_tickets"],
                  "tickets": sn["tickets"],
                  "share": round(sn["linked_tickets"] / sn["tickets"], 4)},
           "linked_share %r; site_numbers %r" % (ls, sn))
    for a in doc["articles"]:
        if a["path"] != "/kb/refund-policy" and a["views"] >= 200:
            expect(a["contact_after_read_ci"][1] < 0.40,
                   "%s: interval %r reaches the planted article's rate"
                   % (a["path"], a["contact_after_read_ci"]))

    # the planted topic: more "accounts" reads, fewer tickets two days later
    topics = {x["category"]: x for x in doc["topics"]}
    acc = topics.get("accounts")
    expect(acc is not None, "no topic accounts in %s" % sorted(topics))
    expect(acc["best_lag_days"] in (1, 2, 3) and acc["r"] < 0,
           "accounts: best lag %r days, r %r; expected 1-3 days, r < 0"
           % (acc["best_lag_days"], acc["r"]))
    expect(acc["days"] == 90 and acc["tickets"] > 0 and acc["reads"] > 0,
           "accounts: %r" % {k: acc[k] for k in ("days", "reads", "tickets")})

    gaps = doc["gaps"]
    zero = [g["query"] for g in gaps if g["zero_results"]]
    expect(zero, "no zero-result query among the gaps: %r" % gaps[:10])
    expect(set(zero) <= {"dark mode", "gdpr data request",
                         "slack integration"},
           "zero-result gaps %r: the demo's queries that find nothing are "
           "dark mode, gdpr data request, slack integration" % zero)
    expect([g["tickets"] for g in gaps] ==
           sorted((g["tickets"] for g in gaps), reverse=True),
           "gaps not most tickets first")

    # CSV: deflection (the default part), topics, gaps; every part is
    # checked before failing, so that the message names each broken one
    problems = []
    try:
        rows = _csv(_correlate(t, data, "--format", "csv"),
                    "dwell correlate --format csv")
        expect(rows and rows[0] == CORRELATE_CSV_HEADER,
               "correlate CSV header %r" % (rows[:1],))
        expect(len(rows) - 1 >= len(doc["articles"]),
               "dwell correlate --format csv: %d rows, the JSON has %d "
               "articles with views" % (len(rows) - 1, len(doc["articles"])))
        expect(all(len(r) == len(CORRELATE_CSV_HEADER) for r in rows),
               "correlate CSV rows of different lengths")
        by_id = {r[0]: r for r in rows[1:]}
        for a in doc["articles"]:
            r = by_id.get(a["id"])
            expect(r is not None and r[1] == a["path"] and
                   r[2] == a["title"] and int(r[3]) == a["views"] and
                   int(r[4]) == a["followed_by_ticket"] and
                   _near(r[5], a["contact_after_read"]) and
                   _near(r[6], a["contact_after_read_ci"][0]) and
                   _near(r[7], a["contact_after_read_ci"][1]) and
                   r[9:] == [str(ls["linked_tickets"]), str(ls["tickets"]),
                             "%.4f" % ls["share"]],
                   "CSV row %r differs from the JSON %r, %r" % (r, a, ls))
    except harness.TestFailure as e:
        problems.append(str(e))
    try:
        rows = _csv(_correlate(t, data, "--format", "csv", "--part",
                               "topics"),
                    "dwell correlate --format csv --part topics")
        rows = [dict(zip(rows[0], r)) for r in rows[1:]]
        expect(len(rows) == len(doc["topics"]),
               "dwell correlate --format csv --part topics: %d rows, the "
               "JSON has %d topics" % (len(rows), len(doc["topics"])))
        t_acc = [r for r in rows if r["category"] == "accounts"]
        expect(len(t_acc) == 1 and
               int(t_acc[0]["best_lag_days"]) == acc["best_lag_days"] and
               _near(t_acc[0]["r"], acc["r"]) and
               t_acc[0]["evidence"] == ("yes" if acc["evidence"] else "no"),
               "topics CSV %r vs JSON %r" % (t_acc, acc))
    except harness.TestFailure as e:
        problems.append(str(e))
    try:
        rows = _csv(_correlate(t, data, "--format", "csv", "--part", "gaps"),
                    "dwell correlate --format csv --part gaps")
        rows = [dict(zip(rows[0], r)) for r in rows[1:]]
        expect([(r["query"], int(r["tickets"]), r["zero_results"])
                for r in rows] ==
               [(g["query"], g["tickets"],
                 "yes" if g["zero_results"] else "no") for g in gaps],
               "gaps CSV differs from the JSON")
    except harness.TestFailure as e:
        problems.append(str(e))
    expect(not problems, "; ".join(problems))

    # the table, for a terminal
    for args in ([], ["--window", "7d"], ["--format", "table", "--from",
                                          "2020-01-01", "--to", "2020-03-01"]):
        table = _correlate(t, data, *args)
        lines = table.splitlines()
        wide = [(i + 1, len(l)) for i, l in enumerate(lines) if len(l) > 80]
        expect(lines and not wide, "dwell correlate %s: lines wider than 80 "
               "columns (line, width): %s" % (" ".join(args), wide[:5]))
    table = _correlate(t, data)
    row = [l for l in table.splitlines() if l.startswith("/kb/refund-policy")]
    expect(len(row) == 1 and row[0].split()[1:3] ==
           [str(ref["views"]), str(ref["followed_by_ticket"])],
           "table row for /kb/refund-policy %r, expected views %d and "
           "tickets %d" % (row, ref["views"], ref["followed_by_ticket"]))
    want = "linked to a reader count, %d of %d (" % (ls["linked_tickets"],
                                                     ls["tickets"])
    expect(want in table, "the table does not say %r:\n%s" % (want, table))

    # flags it refuses
    for args, flag in ((["--window", "0h"], "--window"),
                       (["--window", "31d"], "--window"),
                       (["--format", "xml"], "--format"),
                       (["--part", "articles"], "--part"),
                       (["--from", "2026-02-30"], "--from"),
                       (["--from", "2026-11-10", "--to", "2026-11-01"],
                        "--from")):
        r = t.dwell("correlate", DEMO, "--data", data, *args)
        expect(r.returncode == 2 and flag in r.stderr,
               "dwell correlate %s: exit %d, stderr %r" % (
                   " ".join(args), r.returncode, r.stderr[:200]))
    r = t.dwell("correlate", "nope.test", "--data", data)
    expect(r.returncode == 1 and "nope.test" in r.stderr,
           "dwell correlate nope.test: exit %d, %r" % (r.returncode, r.stderr))


def correlate_api_gives_the_same_numbers_as_the_cli(t):
    data = _demo(t)
    today = _today()

    def day(n):
        return (today - datetime.timedelta(days=n)).isoformat()

    with t.server(data=data) as srv:
        tok = _token(t, srv.data, site=DEMO)
        problems = []               # CSVs with too few rows, all named
        parts = {"deflection": ["linked_share", "site_numbers", "articles"],
                 "topics": ["topics"], "gaps": ["gaps"]}
        for frm, to, window in ((day(89), day(0), "24h"),
                                (day(29), day(0), "7d"),
                                (day(59), day(30), "30m")):
            cli = json.loads(_correlate(t, data, "--format", "json", "--from",
                                        frm, "--to", to, "--window", window))
            for part, keys in parts.items():
                q = "from=%s&to=%s&window=%s" % (frm, to, window)
                api = _api_json(srv, tok, API + DEMO + "/" + part + "?" + q)
                want = {k: cli[k] for k in ["site", "from", "to", "range",
                                            "window"] + keys}
                expect(api == want, "GET %s?%s differs from dwell correlate "
                       "--format json:\n%s\n%s" % (part, q,
                                                   json.dumps(api)[:700],
                                                   json.dumps(want)[:700]))
                # --part gives the same document as the API
                one = json.loads(_correlate(t, data, "--format", "json",
                                            "--part", part, "--from", frm,
                                            "--to", to, "--window", window))
                expect(one == api, "dwell correlate --part %s differs from "
                       "the API" % part)
                # and the same CSV, byte for byte
                r = _get_or_crash(srv, API + DEMO + "/" + part + ".csv?" + q,
                                  tok)
                _status(r, 200, part + ".csv")
                expect((r.header("Content-Type") or "").startswith("text/csv"),
                       "%s.csv: Content-Type %r" % (part,
                                                    r.header("Content-Type")))
                got = _correlate(t, data, "--format", "csv", "--part", part,
                                 "--from", frm, "--to", to, "--window",
                                 window)
                expect(got.encode() == r.body, "%s.csv differs from dwell "
                       "correlate --format csv --part %s:\n%r\n%r"
                       % (part, part, r.body[:300], got[:300]))
                try:
                    rows = _csv(r.body, "GET %s.csv?%s" % (part, q))
                    items = api[keys[-1]]
                    expect(len(rows) - 1 >= len(items) if part == "deflection"
                           else len(rows) - 1 == len(items),
                           "GET %s.csv?%s: %d rows, the JSON has %d"
                           % (part, q, len(rows) - 1, len(items)))
                except harness.TestFailure as e:
                    problems.append(str(e))
        expect(not problems, "; ".join(problems))
        # the API's defaults: full days, a range ending yesterday (its
        # length is the API's to choose: 30 or 90 days), window 24h; the
        # same numbers as the CLI for that range
        for part, keys in parts.items():
            api = _api_json(srv, tok, API + DEMO + "/" + part)
            expect(api.get("to") == day(1) and api.get("window") == "24h" and
                   api.get("from") in (day(30), day(90)),
                   "%s without parameters: from %r to %r window %r, expected "
                   "the 30 or 90 days ending yesterday and 24h"
                   % (part, api.get("from"), api.get("to"),
                      api.get("window")))
            cli = json.loads(_correlate(t, data, "--format", "json",
                                        "--part", part, "--from",
                                        api["from"]))
            expect(api == cli, "%s without parameters differs from dwell "
                   "correlate --part %s --from %s" % (part, part,
                                                      api["from"]))
        # one of the demo's tickets
        r = _get(srv, _reads_target(DEMO, "demo-4-1"), tok)
        _status(r, 200, "tickets/demo-4-1/reads")


def correlate_api_refuses_a_bad_window_naming_it(t):
    with t.server() as srv:
        tok = _token(t, srv.data)
        _stored(_hook(srv, {"id": "W-1", "created_at": "2026-11-23T10:00:00Z"},
                      tok), "W-1", True, "a ticket")
        views = ["deflection", "topics", "gaps", "tickets/W-1/reads",
                 "deflection.csv"]
        for i, w in enumerate(["0h", "0m", "31d", "721h", "43201m", "abc",
                               "", "24", "h", "-1h", "1.5h", "24H", "24 h",
                               "7d ", "1w", "99999999999999999999999d"]):
            view = views[i % len(views)]
            target = "%s%s/%s?window=%s" % (API, SITE, view,
                                            urllib.parse.quote(w, safe=""))
            r = _get(srv, target, tok)
            _status(r, 400, "window=%r on %s" % (w, view))
            msg = _error(r, "window=%r" % w)
            expect(_names(msg, "window"), "window=%r: error %r does not name "
                   "the parameter window" % (w, msg))
        for w in ("1m", "30m", "24h", "7d", "30d", "720h", "43200m"):
            doc = _api_json(srv, tok, API + SITE + "/deflection?window=" + w)
            expect(doc.get("window") == w, "window=%s: answered window %r"
                   % (w, doc.get("window")))


def ticket_after_only_a_search_page_is_linked_but_not_after_reading(t):
    # a reader who only searched (a search page is no article) and then
    # wrote in: the ticket is linked, but no article was read before it
    link = "srchOnlyLink-0001"
    with t.server() as srv:
        tok = _token(t, srv.data)
        vid = "srch_only_view01"
        _status(srv.post_events({"s": SITE, "t": "view", "v": vid, "wv": 2,
                                 "u": "http://help.test/search",
                                 "ti": "Search", "pk": "search"}), 204,
                "the view of /search")
        _status(srv.post_events({"s": SITE, "t": "search", "v": vid, "wv": 2,
                                 "q": "refund", "n": 0, "i": 1}), 204,
                "the search")
        _status(srv.post_events({"s": SITE, "t": "link", "v": vid, "wv": 2,
                                 "k": link}), 204, "the link event")
        created = int(time.time()) + 120
        _stored(_hook(srv, {"id": "SRCH-ONLY-1", "created_at": _iso(created),
                            "link": link, "channel": "web"}, tok),
                "SRCH-ONLY-1", True, "the ticket")
        doc = _api_json(srv, tok, API + SITE + "/contact-after-read?" +
                        _around_now())
        sn = doc["site_numbers"]
        expect(sn["tickets"] == 1 and sn["linked_tickets"] == 1 and
               sn["tickets_with_read"] == 0 and sn["views"] == 1,
               "site_numbers %r: the ticket is linked, but only a search "
               "page was viewed before it" % sn)
        expect(all(a["path"] != "/search" for a in doc["articles"]),
               "/search is listed as an article: %r" % doc["articles"])
        gaps = _api_json(srv, tok, API + SITE + "/gaps?" + _around_now())
        expect([g["query"] for g in gaps.get("gaps", [])] == ["refund"],
               "the search before the ticket is a gap: %r" % gaps)
