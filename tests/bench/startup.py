#!/usr/bin/env python3
"""startup.py BIN DATA [RUNS] — start-up time of `dwell serve` on the data
dir DATA: from the exec to the first answered GET /healthz (polled every
millisecond), RUNS times (default 5), the server stopped between runs.
Prints the data dir's size and
    bench: startup_ms MEDIAN ms
    bench: startup_ms_max MAX ms"""
import os
import socket
import subprocess
import sys
import time

from benchlib import free_port



def healthy(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def once(binary, data):
    port = free_port()
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port,
                          "--data", data], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        while not healthy(port):
            if p.poll() is not None or time.monotonic() - t0 > 30:
                sys.exit("startup.py: the server did not start on %s" % data)
            time.sleep(0.001)
        return (time.monotonic() - t0) * 1000
    finally:
        p.terminate()
        p.wait(timeout=30)


def main():
    binary, data = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    size = os.path.getsize(os.path.join(data, "data.mdb"))
    ms = sorted(once(binary, data) for _ in range(runs))
    print("start-up on a data dir of %.2f GB (data.mdb), %d runs: median "
          "%.1f ms, max %.1f ms" % (size / 1e9, runs, ms[len(ms) // 2],
                                    ms[-1]))
    print("bench: startup_ms %.1f ms" % ms[len(ms) // 2])
    print("bench: startup_ms_max %.1f ms" % ms[-1])
    print("bench: startup_data_gb %.2f GB" % (size / 1e9))


if __name__ == "__main__":
    main()
