#!/bin/sh
# run.sh BUILD_DIR — runs every suite against BUILD_DIR/dwell and its unit
# test binaries, and ends with the line "N passed, N failed".
set -u
B=${1:-build/std}
OUT=tests/out
mkdir -p "$OUT"
passed=0; failed=0; broken=""

# count SUITE-NAME LOGFILE EXIT-CODE: adds the suite's closing line to the totals
count() {
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
    if [ -z "$line" ]; then
        failed=$((failed + 1)); broken="$broken $1"
        echo "!! $1 ended without a result line (exit $3); see $2"
        return
    fi
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ] || [ "$3" -ne 0 ]; then
        broken="$broken $1"
        [ "$f" -eq 0 ] && failed=$((failed + 1))
    fi
    echo "== $1: $line"
}

echo "== building test country databases"
mkdir -p "$OUT/geo"
perl tests/tools/make-mmdb.pl "$OUT/geo" || { echo "!! make-mmdb.pl failed"; exit 1; }
export DWELL_TEST_GEO_DIR="$OUT/geo"

for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    name=unit/$(basename "$t")
    log="$OUT/$(basename "$t").log"
    "$t" > "$log" 2>&1; rc=$?
    grep -E '^(FAIL|  )' "$log" | head -20
    count "$name" "$log" $rc
done

log="$OUT/http.log"
python3 tests/http/run.py "$B/dwell" "$OUT/geo" > "$log" 2>&1; rc=$?
grep -E '^FAIL' "$log" | head -30
count http "$log" $rc

if [ -f tests/browser/run.mjs ]; then
    log="$OUT/browser.log"
    node tests/browser/run.mjs "$B/dwell" > "$log" 2>&1; rc=$?
    grep -E '^FAIL' "$log" | head -30
    count browser "$log" $rc
fi

[ -n "$broken" ] && echo "failing suites:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
