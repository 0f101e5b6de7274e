#!/usr/bin/env python3
"""paste-help.py BIN — re-pastes what the binary says of its commands and
flags into the docs that carry it: `dwell help --markdown` into docs/cli.md
(the "Every flag" block) and `dwell help --man` into docs/dwell.1 (COMMANDS).
`make docs` runs it; tests/http/parity.py and install.py fail while either
block differs from the binary. Prints what it changed."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# (file, flag of `dwell help`, the line opening the block, the line closing it)
BLOCKS = (
    ("docs/cli.md", "--markdown", "<!-- dwell help --markdown -->\n\n",
     "\n<!-- end -->"),
    ("docs/dwell.1", "--man", '.\\" dwell help --man\n', '.\\" end'),
)


def paste(binary, path, flag, begin, end):
    """Replaces the block of PATH between BEGIN and END with the output of
    `BINARY help FLAG`. Returns True when the file changed."""
    out = subprocess.run([binary, "help", flag], check=True,
                         capture_output=True, text=True).stdout
    full = os.path.join(ROOT, path)
    with open(full, encoding="utf-8") as f:
        text = f.read()
    a = text.find(begin)
    b = text.find(end, a + len(begin)) if a >= 0 else -1
    if a < 0 or b < 0:
        sys.exit("paste-help.py: %s has no %r ... %r block" % (path, begin,
                                                               end))
    new = text[:a + len(begin)] + out + text[b:]
    if new == text:
        return False
    with open(full, "w", encoding="utf-8") as f:
        f.write(new)
    return True


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: paste-help.py BIN")
    for path, flag, begin, end in BLOCKS:
        changed = paste(sys.argv[1], path, flag, begin, end)
        print("%s: %s" % (path, "updated" if changed else "unchanged"))


if __name__ == "__main__":
    main()
