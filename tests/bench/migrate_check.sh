#!/bin/sh
# migrate_check.sh OLD_DWELL NEW_DWELL [DIR] — a data dir written by OLD
# (`dwell demo`, 30 days) is opened by NEW, which converts it in place
# (src/store/migrate.c); every report, `dwell events` and both `dwell
# export` formats must be byte-identical before and after, and `dwell check`
# sound after. Build OLD from the commit before a schema change, e.g.
#   git archive HEAD~1 | tar -x -C /tmp/old && make -C /tmp/old B=build/o build/o/dwell
set -eu
OLD=$1; NEW=$2; D=${3:-tests/out/migrate-check}
rm -rf "$D"; mkdir -p "$D"
"$OLD" site add demo --data "$D/data" >/dev/null 2>&1
"$OLD" demo demo --days 30 --data "$D/data" --quiet >/dev/null
snap() {
    b=$1; o=$2; mkdir -p "$o"
    "$b" export demo --data "$D/data" > "$o/export.ndjson" 2>/dev/null
    "$b" export demo --data "$D/data" --format csv > "$o/export.csv" 2>/dev/null
    "$b" report demo --data "$D/data" > "$o/articles.txt"
    "$b" report demo --data "$D/data" --summary > "$o/summary.txt"
    "$b" report demo --data "$D/data" --searches > "$o/searches.txt"
    "$b" report demo --data "$D/data" --article /kb/reset-password > "$o/article.txt"
    "$b" events demo --data "$D/data" --limit 1000000 > "$o/events.txt"
}
snap "$OLD" "$D/before"
"$NEW" check --data "$D/data"        # its opening converts the data
snap "$NEW" "$D/after"
for f in "$D"/before/*; do
    cmp "$f" "$D/after/${f##*/}"
done
"$NEW" check --data "$D/data"
echo "migrate_check: $(ls "$D/before" | wc -l) outputs identical, check sound"
