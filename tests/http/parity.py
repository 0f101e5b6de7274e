"""parity.py — one query table behind two front ends (issue 10): for every
report kind, `dwell report` / `dwell correlate … --format json` (and csv)
answer exactly what the API answers for the same parameters, on demo data;
both refuse the same values; `dwell --help` and every `dwell COMMAND
--help` agree with docs/cli.md, whose generated flags tables are
`dwell help --markdown`. Run by run.py after tickets.py.
"""

import datetime
import json
import os
import re

import harness
from harness import expect
from harness import day_iso as _day

API = "/api/v1/sites/"
DEMO = "demo"
DOC = os.path.join(harness.ROOT, "docs", "cli.md")


def _api(srv, tok, target):
    r = srv.request("GET", API + DEMO + "/" + target,
                    [("Authorization", "Bearer " + tok)])
    expect(r.status == 200, "GET %s: status %d %r" % (target, r.status,
                                                     r.body[:200]))
    return r.body


def _cli(t, data, cmd, args):
    r = t.dwell(cmd, DEMO, "--data", data, *args)
    expect(r.returncode == 0, "dwell %s %s: exit %d: %s"
           % (cmd, " ".join(args), r.returncode, r.stderr.strip()[-300:]))
    return r.stdout.encode()


def _pairs(path, art_id, ticket):
    """(command, CLI flags, API target) for every kind, a few parameter
    combinations each."""
    rng = ["--from", _day(29), "--to", _day(0)]
    q = "from=%s&to=%s" % (_day(29), _day(0))
    report = [
        ([], "articles"),
        (rng + ["--sort", "title", "--order", "asc", "--limit", "5",
                "--offset", "3"],
         "articles?%s&sort=title&order=asc&limit=5&offset=3" % q),
        (["--days", "7", "--sort", "read_rate", "--kind", "all"],
         "articles?days=7&sort=read_rate&kind=all"),
        (["--prefix", path[:4], "--limit", "1000"],
         "articles?prefix=%s&limit=1000" % path[:4]),
        (["--category", "billing", "--include-bots", "--sort", "attention"],
         "articles?category=billing&include_bots=1&sort=attention"),
        (["--summary"], "summary"),
        (["--summary"] + rng + ["--kind", "search,article"],
         "summary?%s&kind=search,article" % q),
        (["--summary", "--prefix", path[:4]], "summary?prefix=" + path[:4]),
        (["--searches"], "searches"),
        (["--searches", "--limit", "3", "--days", "60"],
         "searches?limit=3&days=60"),
        (["--article", path], "articles/" + art_id),
        (["--article", path] + rng, "articles/%s?%s" % (art_id, q)),
        (["--legend"], "legend"),
    ]
    out = [("report", a + ["--format", "json"], tgt) for a, tgt in report]
    out += [("report", a + ["--format", "csv"], tgt.replace("?", ".csv?", 1)
             if "?" in tgt else tgt + ".csv") for a, tgt in report[:3]]
    for part in ("contact-after-read", "deflection", "topics", "gaps"):
        for a, tq in (([], ""),
                      (rng + ["--window", "7d"], q + "&window=7d"),
                      (["--days", "60", "--window", "30m", "--topic",
                        "billing=invoice", "--topic", "account=login"],
                       "days=60&window=30m&topics=billing:invoice,"
                       "account:login")):
            out.append(("correlate", ["--part", part, "--format", "json"] + a,
                        part + ("?" + tq if tq else "")))
    for a, tq in (([], ""), (["--window", "7d"], "?window=7d")):
        out.append(("correlate", ["--ticket", ticket, "--format", "json"] + a,
                    "tickets/%s/reads%s" % (ticket, tq)))
    return out


def parity_cli_and_api_answer_the_same_for_every_kind(t):
    data = t.datadir(sites=((DEMO, ("http://demo.test",)),))
    r = t.dwell("demo", DEMO, "--days", "90", "--seed", "4", "--data", data,
                timeout=120)
    expect(r.returncode == 0, "dwell demo: %s" % r.stderr[-300:])
    with t.server(data=data) as srv:
        tok = harness.token(t, data, DEMO)
        rows = json.loads(_api(srv, tok, "articles?limit=1"))["articles"]
        expect(rows, "the demo has no articles")
        pairs = _pairs(rows[0]["path"], rows[0]["id"], "demo-4-1")
        kinds = set()
        bad = []
        for cmd, args, target in pairs:
            got, want = _cli(t, data, cmd, args), _api(srv, tok, target)
            kinds.add(target.split("?")[0].split(".")[0].split("/")[0])
            if got != want:
                bad.append("dwell %s %s != GET %s:\n%r\n%r"
                           % (cmd, " ".join(args), target, got[:300],
                              want[:300]))
        expect(kinds == {"articles", "summary", "searches", "legend",
                         "contact-after-read", "deflection", "topics",
                         "gaps", "tickets"}, "kinds covered: %s" % kinds)
        expect(not bad, "%d differ: %s" % (len(bad), "\n".join(bad[:3])))


def _span(s):
    """How the ticket reads table writes S seconds: its two largest units."""
    v = int(s + 0.5)
    if v < 60:
        return "%ds" % v
    if v < 3600:
        return "%dm%02ds" % (v // 60, v % 60)
    if v < 86400:
        return "%dh%02dm" % (v // 3600, v // 60 % 60)
    return "%dd%02dh" % (v // 86400, v // 3600 % 24)


def parity_correlate_ticket_prints_a_table_of_the_reads_json_gives(t):
    """dwell correlate --ticket ID in its default table format: a line naming
    the ticket and window, then time, article, title and how long before
    for each read that --format json lists (not the JSON itself); a ticket
    not tied to a reader says so."""
    data = t.datadir(sites=((DEMO, ("http://demo.test",)),))
    r = t.dwell("demo", DEMO, "--days", "30", "--seed", "4", "--data", data,
                timeout=120)
    expect(r.returncode == 0, "dwell demo: %s" % r.stderr[-300:])
    linked = unlinked = None
    for i in range(1, 200):
        tid = "demo-4-%d" % i
        doc = json.loads(_cli(t, data, "correlate",
                              ["--ticket", tid, "--format", "json"]))
        if doc["reads"] and linked is None:
            linked = (tid, doc["reads"])
        if not doc["linked"] and unlinked is None:
            unlinked = tid
        if linked and unlinked:
            break
    expect(linked and unlinked, "demo tickets: linked %r, unlinked %r"
           % (linked, unlinked))
    tid, reads = linked
    out = _cli(t, data, "correlate", ["--ticket", tid]).decode()
    lines = out.split("\n")
    expect(lines[0] == "%s, ticket %s: articles read in the 24h before it"
           % (DEMO, tid) and lines[1] == "", "table starts %r" % lines[:2])
    expect(lines[2].split() == ["time", "article", "title", "before"],
           "columns %r" % lines[2])
    rows = lines[3:]
    expect(rows[-1] == "" and len(rows) - 1 == len(reads),
           "%d rows for %d reads:\n%s" % (len(rows) - 1, len(reads), out))
    for row, read in zip(rows, reads):
        expect(row.startswith(read["time"] + " " + read["path"][:23])
               and row.split()[-1] == _span(read["before_s"])
               and len(row) <= 80, "row %r for read %r" % (row, read))
    out = _cli(t, data, "correlate", ["--ticket", unlinked]).decode()
    expect(out.split("\n")[2].startswith("not linked to a reader"),
           "unlinked ticket %s: %r" % (unlinked, out))


def parity_cli_refuses_what_the_api_refuses_with_the_same_reason(t):
    data = t.datadir(sites=((DEMO, ("http://demo.test",)),))
    with t.server(data=data) as srv:
        tok = harness.token(t, data, DEMO)
        for flag, param, value in (("limit", "limit", "1001"),
                                   ("limit", "limit", "0"),
                                   ("offset", "offset", "x"),
                                   ("prefix", "prefix", "kb"),
                                   ("kind", "kind", "blog"),
                                   ("sort", "sort", "bogus"),
                                   ("days", "days", "0"),
                                   ("from", "from", "2026-02-30")):
            r = srv.request("GET", API + DEMO + "/articles?%s=%s"
                            % (param, value),
                            [("Authorization", "Bearer " + tok)])
            expect(r.status == 400, "GET articles?%s=%s: %d"
                   % (param, value, r.status))
            why = r.json()["error"].split(": ", 1)[1]
            c = t.dwell("report", DEMO, "--data", data, "--" + flag, value)
            expect(c.returncode == 2 and ("--%s %s: %s" % (flag, value, why))
                   in c.stderr, "dwell report --%s %s: exit %d, stderr %r; "
                   "the API says %r" % (flag, value, c.returncode,
                                        c.stderr[:200], why))
        for cmd, part in (("report", "--window"), ("correlate", "--limit")):
            c = t.dwell(cmd, DEMO, "--data", data, part, "1")
            expect(c.returncode == 2 and "unknown flag" in c.stderr,
                   "dwell %s %s: exit %d" % (cmd, part, c.returncode))


def _commands(t):
    r = t.dwell("--help")
    expect(r.returncode == 0, "dwell --help: exit %d" % r.returncode)
    names = re.findall(r"^  ([a-z]+(?: [a-z]+)?)(?= [A-Z]| *$| {2,})",
                       r.stdout.split("commands:")[1], re.M)
    expect(len(names) >= 10, "dwell --help lists %r" % names)
    return r.stdout, names


def _section(doc, name):
    """The text of docs/cli.md's "## dwell NAME" section (or of its first
    word's, as "## dwell token" for token create)."""
    for title in (name, name.split()[0]):
        m = re.search(r"^## dwell %s\n(.*?)(?=^## )" % re.escape(title), doc,
                      re.M | re.S)
        if m:
            return title, m.group(1)
    raise harness.TestFailure("docs/cli.md has no section ## dwell %s" % name)


def parity_every_command_answers_help_as_docs_cli_md_says(t):
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    top, names = _commands(t)
    for flag in set(re.findall(r"--[a-z][a-z-]+", top)):
        expect("`%s" % flag in doc, "dwell --help names %s, docs/cli.md "
               "does not" % flag)
    by_section = {}
    for name in names:
        r = t.dwell(*(name.split() + ["--help"]))
        expect(r.returncode == 0 and r.stdout.startswith("usage: dwell " +
                                                         name),
               "dwell %s --help: exit %d, %r" % (name, r.returncode,
                                                 r.stdout[:100]))
        h = t.dwell("help", *name.split())
        expect(h.returncode == 0 and h.stdout == r.stdout,
               "dwell help %s differs from dwell %s --help" % (name, name))
        flags = set(re.findall(r"^  (--[a-z][a-z-]*)", r.stdout, re.M))
        flags -= {"--help", "--data", "--quiet"}  # once, at the top
        title, text = _section(doc, name)
        for flag in flags:
            expect("`%s" % flag in text, "dwell %s --help has %s; docs/cli.md"
                   " ## dwell %s does not" % (name, flag, title))
        by_section.setdefault(title, (text, set()))[1].update(flags)
    for title, (text, flags) in by_section.items():
        rows = re.findall(r"^\| `(--[a-z][a-z-]*)", text, re.M)
        extra = set(rows) - flags - {"--data", "--quiet"}
        expect(not extra, "docs/cli.md ## dwell %s documents %s, which "
               "dwell --help does not know" % (title, sorted(extra)))
    # the generated tables are the declaration's
    r = t.dwell("help", "--markdown")
    expect(r.returncode == 0, "dwell help --markdown: exit %d" % r.returncode)
    m = re.search(r"<!-- dwell help --markdown -->\n\n(.*?)\n<!-- end -->",
                  doc, re.S)
    expect(m, "docs/cli.md has no generated block <!-- dwell help "
           "--markdown -->")
    expect(m.group(1) == r.stdout, "docs/cli.md's flags tables differ from "
           "dwell help --markdown (make docs pastes it)")


def parity_cli_flag_errors_exit_2_with_a_reason(t):
    r = t.dwell("report", DEMO, "--from", "--to", "2026-01-01")
    expect(r.returncode == 2 and "dwell: --from: missing value" in r.stderr,
           "--from without a value: exit %d, %r" % (r.returncode, r.stderr))
    r = t.dwell("serve", "--listen")
    expect(r.returncode == 2 and "dwell: --listen: missing value" in r.stderr,
           "--listen at the end: exit %d, %r" % (r.returncode, r.stderr))
    for argv in (["serve", "--frob"], ["site", "add", "x", "--frob"],
                 ["tickets", "import", "f", "--frob"]):
        r = t.dwell(*argv)
        name = " ".join(argv[:2] if argv[0] != "serve" else argv[:1])
        expect(r.returncode == 2 and "usage: dwell %s" % name in r.stderr,
               "dwell %s: exit %d, stderr %r" % (" ".join(argv),
                                                 r.returncode, r.stderr))
