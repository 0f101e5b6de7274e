#!/usr/bin/env python3
"""load.py PORT KIND N [CONNS] — sends exactly N ingest requests of KIND
(pixel: GET /p.gif, beacon: POST /e with a new view id each) to the server
on 127.0.0.1:PORT over CONNS keep-alive connections (default 1), each
connection waiting for its answer before the next request. Exits 1 unless
every answer is a 2xx. Used by tests/bench/profile.sh, where the server
runs under callgrind: a fixed number of events gives stable counts."""
import socket
import sys
import threading

PATHS = ["/kb/reset-password", "/kb/export-csv", "/kb/sso-saml",
         "/kb/display-language", "/kb/billing", "/kb/api-tokens"]


def request(kind, tag, n):
    path = PATHS[n % len(PATHS)]
    if kind == "pixel":
        return ("GET /p.gif?s=bench&u=%s&t=Pixel HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nUser-Agent: load.py\r\n\r\n"
                % path).encode()
    body = ('{"s":"bench","t":"view","v":"%s%010d","u":"https://help.bench%s",'
            '"r":"https://www.google.com/","ti":"A help article","w":640,'
            '"c":"accounts","l":"en-US","sw":1280}' % (tag, n, path))
    return ("POST /e HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: load.py\r\n"
            "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)).encode()


def read_reply(f):
    status = f.readline().split()
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    f.read(length)
    return int(status[1]) if len(status) > 1 else 0


def worker(port, kind, tag, first, count, bad):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    for n in range(first, first + count):
        s.sendall(request(kind, tag, n))
        st = read_reply(f)
        if st < 200 or st >= 300:
            bad.append(st)
    s.close()


def main():
    port, kind, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    conns = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    tag = "L%05d" % (port % 100000)
    bad, threads = [], []
    per = n // conns
    for c in range(conns):
        count = per if c < conns - 1 else n - per * (conns - 1)
        t = threading.Thread(target=worker,
                             args=(port, kind, tag, c * per, count, bad))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    if bad:
        print("load.py: %d of %d answers not 2xx (first %d)"
              % (len(bad), n, bad[0]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
