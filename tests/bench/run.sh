#!/bin/sh
# run.sh BUILD_DIR — throughput of dwell's ingest endpoints under wrk on
# loopback, as ratios against nginx's empty_gif (access log on) measured in
# the same run. Bounded: each run lasts BENCH_SECONDS (default 10).
# Then the reports API over 10,000 articles x 365 days of rollups, and the
# articles report from ClickHouse next to it (tests/bench/report_ch.py).
# BENCH_ONLY=ingest, profile (instructions per event under callgrind:
# tests/bench/profile.py), startup (tests/bench/startup.py on a 1 GB data
# dir), flat (costs as the data grows: tests/bench/flat.py) or reports runs
# one part. Figures as `bench: NAME VALUE UNIT` lines;
# docs/performance.md reads them.
set -eu
B=${1:-build/std}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
OUT=tests/out/bench
mkdir -p "$OUT"     # other parts (report_ch.py) keep their files here too
BIN=$B/dwell
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for i in $(seq 1 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "server at $1 did not start"; exit 1; }
# rps LOG: requests/second from wrk's output
rps() { awk '/Requests\/sec/ {print int($2)}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1"; }
# cpu_ticks PID: the process's user + system time so far, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu_per_request TICKS0 TICKS1 LOG: CPU microseconds per request answered
# in wrk's LOG, from the clock ticks used before and after the run
cpu_per_request() {
    awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" \
        '/requests in/ { if ($1) printf "%.2f", (b - a) * 1e6 / hz / $1 }' "$3"
}

want() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }

if want ingest; then
ING=$OUT/ingest
rm -rf "$ING"; mkdir -p "$ING"
# --- reference: nginx empty_gif ------------------------------------------
NPORT=$(free_port)
mkdir -p "$ING/nginx"
cat > "$ING/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $PWD/$ING/nginx/nginx.pid;
error_log $PWD/$ING/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log $PWD/$ING/nginx/access.log;
  server {
    listen 127.0.0.1:$NPORT;
    location = /p.gif { empty_gif; add_header Cache-Control no-store; }
  }
}
NGINX
nginx -c "$PWD/$ING/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
pids="$pids $NGINX_PID"
wait_up "http://127.0.0.1:$NPORT/p.gif"
# nginx's CPU: its master and workers (the workers' pids are its children)
nginx_ticks() {
    t=0
    for p in $NGINX_PID $(pgrep -P "$NGINX_PID"); do
        t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
ncpu0=$(nginx_ticks)
wrk -t1 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$NPORT/p.gif?s=bench&u=/kb/x" > "$ING/nginx.wrk"
ncpu1=$(nginx_ticks)
REF=$(rps "$ING/nginx.wrk")
REF_CPU=$(cpu_per_request "$ncpu0" "$ncpu1" "$ING/nginx.wrk")
# nginx keeps running, idle, for the reference p99s below

# --- dwell ------------------------------------------------------------------
# bench_dwell NAME DURABILITY PATH WRK-ARGS...: one wrk run, a fresh server
bench_dwell() {
    name=$1; dur=$2; path=$3; shift 3
    data="$ING/data-$name"
    "$BIN" site add bench --data "$data" >/dev/null
    port=$(free_port)
    # --rate-limit 0: one client address sends everything here
    "$BIN" serve --listen "127.0.0.1:$port" --data "$data" \
        --durability "$dur" --rate-limit 0 --max-conn-per-ip 0 \
        > "$ING/$name.log" 2>&1 &
    spid=$!
    pids="$pids $spid"
    wait_up "http://127.0.0.1:$port/healthz"
    sample_anon "$spid" "$ING/$name.anon" &
    cpu0=$(cpu_ticks "$spid")
    timeout $((SECS + 30)) wrk -t1 -c"$CONNS" -d"${SECS}s" "$@" \
        "http://127.0.0.1:$port$path" > "$ING/$name.wrk" 2>&1 || true
    cpu1=$(cpu_ticks "$spid")
    r=$(rps "$ING/$name.wrk"); bad=$(non2xx "$ING/$name.wrk")
    # the server's CPU time (user + system, every thread) per request
    cpu_us=$(cpu_per_request "$cpu0" "$cpu1" "$ING/$name.wrk")
    # p99 at half the maximum rate, paced (tests/bench/paced.lua)
    kind=${name%%-*}
    PACED_RATE=$((r / 2)) PACED_CONNS=$PACED_CONNS PACED_KIND=$kind \
        timeout $((SECS + 30)) wrk -t1 -c"$PACED_CONNS" -d"${SECS}s" \
        --latency -s tests/bench/paced.lua "http://127.0.0.1:$port" \
        > "$ING/$name.paced" 2>&1 || true
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$spid/status")
    kill -TERM "$spid"; wait "$spid" 2>/dev/null || true
    sleep 0.3
    # the reference: nginx's p99 under the same paced load (same rate,
    # connections and machine), since the pacing itself is ms-grained
    PACED_RATE=$((r / 2)) PACED_KIND=pixel \
        timeout $((SECS + 30)) wrk -t1 -c"$PACED_CONNS" -d"${SECS}s" \
        --latency -s tests/bench/paced.lua "http://127.0.0.1:$NPORT" \
        > "$ING/$name.paced-nginx" 2>&1 || true
    np99=$(p99_ms "$ING/$name.paced-nginx")
    anon=$(cat "$ING/$name.anon" 2>/dev/null || echo 0)
    p99=$(p99_ms "$ING/$name.paced"); prate=$(rps "$ING/$name.paced")
    pnon=$(non2xx "$ING/$name.paced")
    [ "$hwm" -gt "$PEAK_KB" ] && PEAK_KB=$hwm
    [ "$anon" -gt "$PEAK_ANON_KB" ] && PEAK_ANON_KB=$anon
    stored=$("$BIN" events bench --data "$data" --since all --limit 0 | wc -l)
    psize=$(mdb_stat -e "$data" | awk '/Page size/ {print $3}')
    pages=$(mdb_stat -s events "$data" | awk -v ps="$psize" '/Branch pages|Leaf pages|Overflow pages/ {s+=$3} /Entries/ {e=$2} END {if (e) printf "%.0f", s*ps/e; else print "-"}')
    total=$(du -k "$data/data.mdb" | awk '{print $1*1024}')
    printf "%-22s %9s req/s  %5s x nginx  non-2xx %-6s stored %-8s events-db %s B/event, data.mdb %s B/event\n" \
        "$name" "$r" "$(echo "$r $REF" | awk '{printf "%.2f", $1/$2}')" \
        "${bad:-0}" "$stored" "$pages" \
        "$(echo "$total $stored" | awk '{if ($2) printf "%.0f", $1/$2; else print "-"}')"
    printf "%-22s server CPU %s us per request (user + system, all threads; %s x nginx)\n" \
        "" "$cpu_us" "$(echo "$cpu_us $REF_CPU" | awk '{if ($2 > 0) printf "%.2f", $1/$2; else print "-"}')"
    printf "%-22s p99 %s ms at %s req/s (paced, half the max; non-2xx %s; nginx %s ms at that rate), peak RSS %s MiB (anonymous %s MiB)\n" \
        "" "$p99" "$prate" "${pnon:-0}" "$np99" "$((hwm / 1024))" "$((anon / 1024))"
    m=$(echo "$name" | tr - _)
    echo "bench: ingest_${m}_rps $r req/s"
    echo "bench: ingest_${m}_ratio $(echo "$r $REF" | awk '{printf "%.3f", $1/$2}') x_nginx"
    echo "bench: ingest_${m}_cpu_per_request ${cpu_us:-0} us"
    echo "bench: ingest_${m}_p99_half_rate $p99 ms"
    echo "bench: ingest_${m}_p99_half_rate_nginx $np99 ms"
    echo "bench: ingest_${m}_paced_rps $prate req/s"
    echo "bench: ingest_${m}_non2xx ${bad:-0} responses"
}
# p99_ms LOG: wrk --latency's 99th percentile in ms
p99_ms() {
    awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1;
         printf "%.3f", v * f }' "$1"
}
PACED_CONNS=${BENCH_PACED_CONNECTIONS:-64}
PEAK_KB=0
PEAK_ANON_KB=0
# sample_anon PID FILE: the largest RssAnon of PID (KiB; the heap and
# stacks, not the pages of data.mdb's map that VmHWM also counts), sampled
# every 0.2 s into FILE until PID exits
sample_anon() {
    max=0
    while kill -0 "$1" 2>/dev/null; do
        a=$(awk '/RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || true)
        [ -n "$a" ] && [ "$a" -gt "$max" ] && max=$a && echo "$max" > "$2"
        sleep 0.2
    done
}

echo "wrk -t1 -c$CONNS -d${SECS}s on loopback, $(nproc) cores"
printf "%-22s %9s req/s   server CPU %s us per request\n" "nginx empty_gif (ref)" "$REF" "$REF_CPU"
echo "bench: ingest_nginx_rps $REF req/s"
echo "bench: ingest_nginx_cpu_per_request $REF_CPU us"
bench_dwell pixel-fsync fsync "/p.gif?s=bench&u=/kb/pixel-article&t=Pixel"
bench_dwell pixel-none none "/p.gif?s=bench&u=/kb/pixel-article&t=Pixel"
bench_dwell beacon-fsync fsync /e -s tests/bench/beacon.lua
bench_dwell beacon-commit commit /e -s tests/bench/beacon.lua
bench_dwell beacon-none none /e -s tests/bench/beacon.lua
# With fsync a request waits for its commit, and each of wrk's connections
# has one request in flight: a batch holds at most CONNS events, and the
# rate is CONNS / (the time of a commit cycle), whatever the server could
# do. Browsers are an open crowd; the same cases with more connections
# (BENCH_FSYNC_CONNECTIONS, default 1024), against nginx with as many.
BIG=${BENCH_FSYNC_CONNECTIONS:-1024}
if [ "$BIG" -gt 0 ]; then
    ncpu0=$(nginx_ticks)
    wrk -t1 -c"$BIG" -d"${SECS}s" "http://127.0.0.1:$NPORT/p.gif?s=bench&u=/kb/x" > "$ING/nginx-c$BIG.wrk"
    ncpu1=$(nginx_ticks)
    REF64=$REF; CONNS64=$CONNS; REF_CPU64=$REF_CPU
    REF=$(rps "$ING/nginx-c$BIG.wrk"); CONNS=$BIG
    REF_CPU=$(cpu_per_request "$ncpu0" "$ncpu1" "$ING/nginx-c$BIG.wrk")
    printf "%-22s %9s req/s   server CPU %s us per request (wrk -c%s)\n" \
        "nginx empty_gif (ref)" "$REF" "$REF_CPU" "$BIG"
    echo "bench: ingest_nginx_c${BIG}_rps $REF req/s"
    echo "bench: ingest_nginx_c${BIG}_cpu_per_request $REF_CPU us"
    bench_dwell "pixel-fsync-c$BIG" fsync "/p.gif?s=bench&u=/kb/pixel-article&t=Pixel"
    bench_dwell "beacon-fsync-c$BIG" fsync /e -s tests/bench/beacon.lua
    REF=$REF64; CONNS=$CONNS64; REF_CPU=$REF_CPU64
fi
kill "$(cat "$ING/nginx/nginx.pid")" 2>/dev/null || true
echo "bench: ingest_peak_rss_mib $((PEAK_KB / 1024)) MiB"
echo "bench: ingest_peak_rss_anon_mib $((PEAK_ANON_KB / 1024)) MiB"
# the data dirs the runs left must be sound
for d in "$ING"/data-*; do
    "$BIN" check bench --data "$d" > "$ING/check-$(basename "$d").txt" 2>&1 \
        || { echo "dwell check failed on $d:"; tail -5 "$ING/check-$(basename "$d").txt"; exit 1; }
done
echo "dwell check: every bench data dir is sound"
fi

# --- instructions per event (callgrind), and start-up on a 1 GB data dir ----
if want profile; then
    timeout 900 python3 tests/bench/profile.py "$BIN" tests/out/geo/geo-maxmind.mmdb \
        || echo "profile: failed or timed out"
fi
if want startup; then
    SDATA=tests/out/bench-data/startup-1g
    if [ ! -f "$SDATA/.filled" ]; then
        echo "filling 4,500 articles x 365 days of rollups (about 1 GB; once; kept in $SDATA) ..."
        rm -rf "$SDATA"; mkdir -p "$SDATA"
        timeout 900 "$B/bench/report_fill" "$SDATA" bench 4500 365 > /dev/null
        touch "$SDATA/.filled"
    fi
    python3 tests/bench/startup.py "$BIN" "$SDATA" 5
fi

# --- costs as the data grows: ingest at 0/10 M/50 M events, reports at
# 1,000/10,000/100,000 articles (a size whose data dir is missing is skipped
# unless BENCH_FILL=1) ---------------------------------------------------------
if want flat; then
    python3 tests/bench/flat.py "$B" tests/out/geo/geo-maxmind.mmdb || echo "flat: failed"
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
