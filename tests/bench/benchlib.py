"""benchlib.py — what the benchmark scripts of tests/bench/ share (they run
as scripts from the repository's root, so this directory is on sys.path)."""

import socket


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()
