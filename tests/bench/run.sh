#!/bin/sh
# run.sh BUILD_DIR — throughput of dwell's ingest endpoints under wrk on
# loopback, as ratios against nginx's empty_gif (access log on) measured in
# the same run. Bounded: each run lasts BENCH_SECONDS (default 10).
# Then the reports API over 10,000 articles x 365 days of rollups, and the
# articles report from ClickHouse next to it (tests/bench/report_ch.py).
# BENCH_ONLY=ingest or BENCH_ONLY=reports runs one part.
set -eu
B=${1:-build/std}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
OUT=tests/out/bench
rm -rf "$OUT"; mkdir -p "$OUT"
BIN=$B/dwell
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for i in $(seq 1 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "server at $1 did not start"; exit 1; }
# rps LOG: requests/second from wrk's output
rps() { awk '/Requests\/sec/ {print int($2)}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1"; }

want() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }

if want ingest; then
# --- reference: nginx empty_gif ------------------------------------------
NPORT=$(free_port)
mkdir -p "$OUT/nginx"
cat > "$OUT/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $PWD/$OUT/nginx/nginx.pid;
error_log $PWD/$OUT/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log $PWD/$OUT/nginx/access.log;
  server {
    listen 127.0.0.1:$NPORT;
    location = /p.gif { empty_gif; add_header Cache-Control no-store; }
  }
}
NGINX
nginx -c "$PWD/$OUT/nginx/nginx.conf" -g 'daemon off;' &
pids="$pids $!"
wait_up "http://127.0.0.1:$NPORT/p.gif"
wrk -t1 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$NPORT/p.gif?s=bench&u=/kb/x" > "$OUT/nginx.wrk"
REF=$(rps "$OUT/nginx.wrk")
kill "$(cat "$OUT/nginx/nginx.pid")" 2>/dev/null || true

# --- dwell ------------------------------------------------------------------
# bench_dwell NAME DURABILITY PATH WRK-ARGS...: one wrk run, a fresh server
bench_dwell() {
    name=$1; dur=$2; path=$3; shift 3
    data="$OUT/data-$name"
    "$BIN" site add bench --data "$data" >/dev/null
    port=$(free_port)
    "$BIN" serve --listen "127.0.0.1:$port" --data "$data" \
        --durability "$dur" > "$OUT/$name.log" 2>&1 &
    spid=$!
    pids="$pids $spid"
    wait_up "http://127.0.0.1:$port/healthz"
    wrk -t1 -c"$CONNS" -d"${SECS}s" "$@" "http://127.0.0.1:$port$path" \
        > "$OUT/$name.wrk" 2>&1
    kill -TERM "$spid"; wait "$spid" 2>/dev/null || true
    r=$(rps "$OUT/$name.wrk"); bad=$(non2xx "$OUT/$name.wrk")
    stored=$("$BIN" events bench --data "$data" --since all --limit 0 | wc -l)
    psize=$(mdb_stat -e "$data" | awk '/Page size/ {print $3}')
    pages=$(mdb_stat -s events "$data" | awk -v ps="$psize" '/Branch pages|Leaf pages|Overflow pages/ {s+=$3} /Entries/ {e=$2} END {if (e) printf "%.0f", s*ps/e; else print "-"}')
    total=$(du -k "$data/data.mdb" | awk '{print $1*1024}')
    printf "%-22s %9s req/s  %5s x nginx  non-2xx %-6s stored %-8s events-db %s B/event, data.mdb %s B/event\n" \
        "$name" "$r" "$(echo "$r $REF" | awk '{printf "%.2f", $1/$2}')" \
        "${bad:-0}" "$stored" "$pages" \
        "$(echo "$total $stored" | awk '{if ($2) printf "%.0f", $1/$2; else print "-"}')"
}

echo "wrk -t1 -c$CONNS -d${SECS}s on loopback, $(nproc) cores"
printf "%-22s %9s req/s\n" "nginx empty_gif (ref)" "$REF"
bench_dwell pixel-fsync fsync "/p.gif?s=bench&u=/kb/pixel-article&t=Pixel"
bench_dwell beacon-fsync fsync /e -s tests/bench/beacon.lua
bench_dwell beacon-commit commit /e -s tests/bench/beacon.lua
bench_dwell beacon-none none /e -s tests/bench/beacon.lua
fi

# --- reports: 10,000 articles x 365 days of rollups ----------------------------
want reports || exit 0
ART=${BENCH_ARTICLES:-10000}
RDATA=tests/out/bench-data/reports-$ART
if [ ! -f "$RDATA/.filled" ]; then
    echo "filling $ART articles x 365 days of rollups (once; kept in $RDATA) ..."
    rm -rf "$RDATA"; mkdir -p "$RDATA"
    start=$(date +%s)
    "$B/bench/report_fill" "$RDATA" bench "$ART" 365
    echo "  filled in $(( $(date +%s) - start )) s, $(du -sh "$RDATA" | cut -f1)"
    touch "$RDATA/.filled"
fi
TOKEN=$("$BIN" token create bench --read-only --name bench --data "$RDATA" 2>/dev/null)
port=$(free_port)
"$BIN" serve --listen "127.0.0.1:$port" --data "$RDATA" > "$OUT/reports.log" 2>&1 &
spid=$!
pids="$pids $spid"
wait_up "http://127.0.0.1:$port/healthz"
echo "reports API over 365 days, $ART articles (one connection, sequential):"
python3 tests/bench/report_latency.py "$port" "$TOKEN" bench
kill -TERM "$spid"; wait "$spid" 2>/dev/null || true
echo "the articles report from ClickHouse next to the local rollups (the same events generated in ClickHouse):"
BENCH_CH_RUNS=${BENCH_CH_RUNS:-5} python3 tests/bench/report_ch.py "$BIN" "$RDATA" bench "$TOKEN" "$ART" 365
