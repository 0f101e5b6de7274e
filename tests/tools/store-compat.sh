#!/bin/sh
# store-compat.sh OLD_DWELL NEW_DWELL [WORKDIR] — the on-disk format did not
# change: data written by OLD_DWELL (`dwell demo`) opens with NEW_DWELL and
# every report gives byte-identical JSON with both binaries; and data
# written by NEW_DWELL (the same demo seed) reports the same with both too.
# Exits 0 when every output matches, 1 (naming the first difference) if not.
set -eu
old=$(realpath "$1"); new=$(realpath "$2")
work=${3:-$(mktemp -d /tmp/store-compat.XXXXXX)}
mkdir -p "$work"
rm -rf "$work/old-data" "$work/new-data"
"$old" site add demo --origin http://localhost --data "$work/old-data" >/dev/null
"$new" site add demo --origin http://localhost --data "$work/new-data" >/dev/null
"$old" demo demo --seed 7 --days 60 --data "$work/old-data" >/dev/null
"$new" demo demo --seed 7 --days 60 --data "$work/new-data" >/dev/null
art=$("$old" report demo --data "$work/old-data" --format csv --limit 1 |
      sed -n 2p | cut -d, -f2)
n=0; bad=0
for data in old-data new-data; do
    for args in "" "--summary" "--searches" "--kind all" "--include-bots" \
                "--article $art" "--sort views --order asc --limit 5" \
                "--days 7" "--legend" \
                "correlate" "correlate --part topics" "correlate --part gaps" \
                "correlate --window 7d"; do
        case "$args" in
            correlate*) cmd="correlate demo ${args#correlate}" ;;
            --legend) cmd="report --legend" ;;
            *) cmd="report demo $args" ;;
        esac
        # shellcheck disable=SC2086
        "$old" $cmd --format json --data "$work/$data" >"$work/o.json"
        # shellcheck disable=SC2086
        "$new" $cmd --format json --data "$work/$data" >"$work/n.json"
        n=$((n + 1))
        if ! cmp -s "$work/o.json" "$work/n.json"; then
            echo "DIFFERS ($data): dwell $cmd --format json"
            bad=$((bad + 1))
        fi
        cp "$work/n.json" "$work/$data-$n.json"
    done
done
# both demo runs wrote the same rollups: identical reports from both dirs
same=0
i=1; while [ $i -le $((n / 2)) ]; do
    cmp -s "$work/old-data-$i.json" "$work/new-data-$((i + n / 2)).json" &&
        same=$((same + 1))
    i=$((i + 1))
done
# the events a report does not read: the raw records, through `dwell events`
"$old" events demo --since all --limit 100000 --data "$work/old-data" \
    >"$work/o.ndjson"
"$new" events demo --since all --limit 100000 --data "$work/old-data" \
    >"$work/n.ndjson"
n=$((n + 1))
cmp -s "$work/o.ndjson" "$work/n.ndjson" || {
    echo "DIFFERS: dwell events"; bad=$((bad + 1)); }
echo "store-compat: $n outputs compared, $bad differ;" \
     "$same of $(( (n - 1) / 2 )) reports equal across the old and new demo data"
[ "$bad" -eq 0 ]
