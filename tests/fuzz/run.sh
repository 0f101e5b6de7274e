#!/bin/sh
# run.sh BUILD_DIR [SECONDS] — runs each libFuzzer target BUILD_DIR/fuzz_*
# for SECONDS (default 60) from its seed corpus tests/fuzz/corpus/NAME and
# the inputs that once crashed it, tests/fuzz/regress/NAME (which also run
# first, each once). New inputs go to BUILD_DIR/corpus/NAME, crashes to
# BUILD_DIR/crashes/. Ends with the executions of each target and a count
# of the targets that ran their time clean and of those that crashed (not
# in the "N passed, N failed" form, which stays the test suites' closing
# line in CI); exits 1 when any target crashed.
set -u
B=${1:-build/fuzz}
S=${2:-60}
passed=0; failed=0; table=""
mkdir -p "$B/crashes"
for bin in "$B"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    work="$B/corpus/$name"; seeds="tests/fuzz/corpus/$name"
    regress="tests/fuzz/regress/$name"
    log="$B/$name.log"
    mkdir -p "$work"
    dirs="$work"
    [ -d "$seeds" ] && dirs="$dirs $seeds"
    [ -d "$regress" ] && dirs="$dirs $regress"
    echo "== fuzz $name: $S s"
    # shellcheck disable=SC2086  # dirs is a list of folders without spaces
    "$bin" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$B/crashes/$name-" \
        $dirs > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    [ -z "$execs" ] && execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    [ -z "$execs" ] && execs="?"
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1)); verdict="ok"
    else
        failed=$((failed + 1)); verdict="FAILED (exit $rc; see $log)"
        grep -E 'ERROR|SUMMARY|check failed|runtime error|Test unit written' "$log" | head -20
    fi
    table="$table$(printf '%-24s %12s execs  %s' "$name" "$execs" "$verdict")
"
done
echo "== fuzz executions per target ($S s each, ASan + UBSan)"
printf '%s' "$table"
echo "fuzz targets: $passed clean, $failed crashed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
