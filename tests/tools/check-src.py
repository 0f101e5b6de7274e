#!/usr/bin/env python3
"""check-src.py [ROOT] — the rules of dwell's source tree (docs/architecture.md,
"Layers"), checked on every file of ROOT/src and ROOT/include (default: the
repository this script lives in). Prints one line per violation and exits 1
if there is any, else prints a summary and exits 0.

  --self-test   copies the tree, plants one violation of each rule in the
                copy, and checks that each is caught (and the clean copy
                passes); exits 1 if a planted violation goes unnoticed.

The rules:
  1. layers: a file of src/L/ includes only headers of L or of a layer below
     it (LAYERS, lowest first); a public header (include/dwell/) only public
     headers. A header's layer is that of the folder its .c lives in.
  2. no include loop between modules (X.c, X.h and the private X_int.h
     count as one module X);
  3. doors: each third-party library's header only in the files of DOORS;
  4. banned functions (BANNED) nowhere in src/;
  5. every .c includes its own header first (OWN_HEADER_EXCEPTIONS aside).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

LAYERS = ["base", "model", "store", "query", "serve", "cli"]

# Third-party headers and the only files that may include them.
DOORS = {
    "lmdb.h": lambda f: f.startswith("src/store/"),
    "microhttpd.h": lambda f: f == "src/serve/http.c",
    "maxminddb.h": lambda f: f == "src/model/geo.c",
    # nettle (SHA-1, SHA-256, HMAC): every header of the library, one door
    "nettle/": lambda f: f == "src/base/crypto.c",
    # libcurl (the HTTP client: shipping to ClickHouse, reports from it)
    "curl/": lambda f: f == "src/base/fetch.c",
    # cJSON: the parsers of untrusted JSON only (JSON is written through
    # base/json.h); beacons (src/model/event.c) are read with base/jscan.c
    "cjson/cJSON.h": lambda f: f == "src/query/helpdesk.c",
}

BANNED = ["strcpy", "strcat", "sprintf", "vsprintf", "atoi", "atol", "strtok",
          "gets"]

# .c files without a header of their own name (main) or sharing one private
# header (the store's parts, until the store is split by concern).
OWN_HEADER_EXCEPTIONS = {
    "src/cli/main.c": None,
}

# Public headers that several files implement rather than one X.c: each is
# a node of its own in the loop check, so that the files below the one
# named X.c may include it; their own loops show through their private
# headers (one per file).
CONTRACTS = {
    "dwell/store.h": "the store's calls, implemented floor by floor by "
                     "src/store/{store,writer,apply,rollups,ticketdb,env}.c",
}

# Generated at build time, below everything.
GENERATED = {"embed.h": "base"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def strip_comments(text):
    """TEXT without C comments and string literals (kept as "")."""
    out = re.sub(r'/\*.*?\*/', lambda m: "\n" * m.group(0).count("\n"), text,
                 flags=re.S)
    out = re.sub(r'//[^\n]*', "", out)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', out)


def files_of(root):
    found = []
    for top in ("src", "include"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    found.append(os.path.relpath(os.path.join(dirpath, n),
                                                 root))
    return sorted(found)


def module_of(path):
    """The module of a file: X for X.c, X.h and X_int.h (X's private half)."""
    base = os.path.basename(path)[:-2]
    return base[:-4] if base.endswith("_int") else base


def layer_of_file(f):
    parts = f.split("/")
    if parts[0] == "src" and len(parts) > 2 and parts[1] in LAYERS:
        return parts[1]
    return None


def check(root):
    files = files_of(root)
    problems = []
    # where each module's source lives: X -> layer
    module_layer = {}
    for f in files:
        lay = layer_of_file(f)
        if lay and f.endswith(".c"):
            module_layer[os.path.basename(f)[:-2]] = lay
    for f in files:
        if f.startswith("src/") and layer_of_file(f) is None and \
                not f.startswith("src/web/"):
            problems.append("%s: outside the layers (src/{%s}/)"
                            % (f, ",".join(LAYERS)))

    def header_layer(name):
        """(layer, module, public) of an included project header, or None."""
        if name in CONTRACTS:
            return module_layer.get(module_of(name)), name, True
        if name.startswith("dwell/"):
            mod = os.path.basename(name)[:-2]
            return module_layer.get(mod), mod, True
        if name in GENERATED:
            return GENERATED[name], None, False
        top = name.split("/")[0]
        if top in LAYERS:
            return top, module_of(name), False
        return None

    graph = {}
    for f in files:
        text = open(os.path.join(root, f), encoding="utf-8").read()
        code = strip_comments(text)
        incs = INCLUDE.findall(text)
        lay = layer_of_file(f)
        mod = module_of(f)
        if f.startswith("include/") and f[len("include/"):] in CONTRACTS:
            mod = f[len("include/"):]
        public = f.startswith("include/")
        for kind, name in incs:
            if kind == "<":
                door = DOORS.get(name) or DOORS.get(name.split("/")[0] + "/")
                if door is not None and not door(f):
                    problems.append("%s: <%s> outside its door" % (f, name))
                continue
            if not name.startswith("dwell/") and os.path.exists(
                    os.path.join(root, os.path.dirname(f), name)) and \
                    "/" not in name and name not in GENERATED:
                problems.append('%s: "%s": name private headers by their '
                                'layer ("%s/%s")' % (f, name, lay, name))
                continue
            h = header_layer(name)
            if h is None:
                problems.append('%s: "%s": unknown header' % (f, name))
                continue
            hlay, hmod, hpublic = h
            if hmod is not None and hlay is None:
                problems.append('%s: "%s": no module of that name in src/'
                                % (f, name))
                continue
            if public and not hpublic:
                problems.append('%s: a public header includes the private '
                                '"%s"' % (f, name))
            if lay and LAYERS.index(hlay) > LAYERS.index(lay):
                problems.append('%s (%s) includes "%s" of the layer above, %s'
                                % (f, lay, name, hlay))
            if hmod and hmod != mod:
                graph.setdefault(mod, set()).add(hmod)
        for fn in BANNED:
            for m in re.finditer(r'(?<![\w.>])%s\s*\(' % fn, code):
                line = code.count("\n", 0, m.start()) + 1
                problems.append("%s:%d: %s() is banned" % (f, line, fn))
        if f.endswith(".c") and lay:
            first = incs[0][1] if incs else "none"
            want = OWN_HEADER_EXCEPTIONS.get(f, "own")
            if want == "own":
                if first not in ("dwell/%s.h" % mod, "%s/%s.h" % (lay, mod)):
                    problems.append("%s: its first include is %s, not its own "
                                    "header" % (f, first))
            elif want is not None and first != want:
                problems.append("%s: its first include should be %s"
                                % (f, want))
    # loops between modules
    state = {}

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cyc = path[path.index(n):] + [n] if n in path else [m, n]
                problems.append("include loop: %s" % " -> ".join(cyc))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return files, problems


PLANTS = [
    ("a model file includes a query header",
     "src/model/bot.c", '#include "dwell/bot.h"\n',
     '#include "dwell/bot.h"\n#include "dwell/report.h"\n'),
    ("<lmdb.h> outside the store",
     "src/query/report.c", '#include "dwell/report.h"\n',
     '#include "dwell/report.h"\n#include <lmdb.h>\n'),
    ("a banned function",
     "src/model/bot.c", '#include "dwell/bot.h"\n',
     '#include "dwell/bot.h"\nstatic int bad(const char *s) { return atoi(s); }\n'),
    ("a .c without its own header first",
     "src/model/bot.c", '#include "dwell/bot.h"\n',
     '#include <stdio.h>\n#include "dwell/bot.h"\n'),
    ("an include loop",
     "include/dwell/bot.h", "#define DWELL_BOT_H\n",
     '#define DWELL_BOT_H\n#include "dwell/clientaddr.h"\n'),
]


def self_test(root):
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "tree")
        for top in ("src", "include"):
            shutil.copytree(os.path.join(root, top), os.path.join(copy, top))
        _, clean = check(copy)
        if clean:
            print("self-test: the clean tree fails: %s" % clean[0])
            return 1
        # the loop plant needs the other direction too
        loop_back = ("include/dwell/clientaddr.h",)
        for what, f, old, new in PLANTS:
            path = os.path.join(copy, f)
            before = open(path, encoding="utf-8").read()
            if old not in before:
                print("self-test: cannot plant %s in %s" % (what, f))
                failed += 1
                continue
            open(path, "w", encoding="utf-8").write(before.replace(old, new, 1))
            extra = None
            if what == "an include loop":
                extra = os.path.join(copy, loop_back[0])
                saved = open(extra, encoding="utf-8").read()
                open(extra, "w", encoding="utf-8").write(saved.replace(
                    "#define DWELL_CLIENTADDR_H\n",
                    '#define DWELL_CLIENTADDR_H\n#include "dwell/bot.h"\n', 1))
            _, found = check(copy)
            open(path, "w", encoding="utf-8").write(before)
            if extra:
                open(extra, "w", encoding="utf-8").write(saved)
            if found:
                print("self-test: caught %s: %s" % (what, found[0]))
            else:
                print("self-test: NOT caught: %s" % what)
                failed += 1
    return 1 if failed else 0


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", "..")
    if "--self-test" in sys.argv:
        return self_test(root)
    files, problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print("check-src: %d problem(s) in %d files" % (len(problems),
                                                         len(files)))
        return 1
    print("check-src: %d files, layers %s, no violations"
          % (len(files), " < ".join(LAYERS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
