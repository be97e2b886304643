#!/usr/bin/env bash
# `modelwatch diagnose` on a database the daemon wrote: a drifted window, two
# registry versions and an alias move; the drifted features found and ranked
# by effect size, the alias move listed, the timeline in time order, the
# --version filter, text output, an empty range, and the error cases.
. "$(dirname "$0")/lib.sh"
DB=$TMP/mw.db
V=/api/v1/models/fraud/versions/3
trap 'kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT
diag() { "$MW_BIN" diagnose "$@"; }

start_daemon d1 --db "$DB" || { finish; exit 1; }
curl -sf -o /dev/null -X PUT "$URL$V" -d '{"window_seconds": 3600}' && pass || fail "register"
curl -sf -o /dev/null -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" \
  "$URL$V/reference" && pass || fail "reference"
curl -sf -o /dev/null -X POST --data-binary @"$FIX/drift/cur.ndjson" "$URL/api/v1/records" \
  && pass || fail "records"
curl -sf -o "$TMP/window.json" -X POST "$URL$V/windows/close" && pass || fail "close window"
kill "$PID"; wait "$PID" 2>/dev/null

reg() { "$MW_BIN" registry --db "$DB" "$@" >/dev/null; }
reg register fraud 1 --description "first" && pass || fail "registry version 1"
reg register fraud 2 --description "more data" && pass || fail "registry version 2"
reg set-alias fraud production 1 && pass || fail "alias to 1"
reg set-alias fraud production 2 --reason "rollout" && pass || fail "alias to 2"

expect_exit 0 "diagnose json" -- diag fraud --db "$DB" --format json
cp "$TMP/out" "$TMP/d.json"
# the window's drifted features (from the daemon's own verdict) are the drift findings
jq -c '[.columns[]|select(.drift.drifted)|.name]|sort' "$TMP/window.json" > "$TMP/drifted"
expect_jq "$TMP/d.json" "[.timeline[]|select(.kind==\"drift\")|.feature]|sort == $(cat "$TMP/drifted")" "drift findings are the drifted features"
expect_jq "$TMP/d.json" '[.timeline[]|select(.kind=="drift")|.feature]|index("normal")==null' "an undrifted feature is not a finding"
# the highest-ranked drift finding is the drifted feature with the largest effect size
expect_jq "$TMP/d.json" '([.findings[]|select(.kind=="drift")][0]) as $top | ([.timeline[]|select(.kind=="drift")]|max_by(.score)) as $m | $top.feature == $m.feature and ($top.feature|IN("shifted","color","binary"))' "top drift finding"
expect_jq "$TMP/d.json" '[.findings[]|select(.kind=="drift")][0].what|test("drifted")' "drift finding says what"
expect_jq "$TMP/d.json" '[.timeline[]|select(.kind=="alias_move")]|length==2 and (.[-1].version=="2") and (.[-1].what|test("production moved 1 -> 2.*rollout"))' "alias moves listed"
expect_jq "$TMP/d.json" '[.timeline[]|select(.kind=="version_registered")|.version]|sort==["1","2","3"]' "versions registered"
expect_jq "$TMP/d.json" '[.timeline[].time] == ([.timeline[].time]|sort)' "timeline in time order"
expect_jq "$TMP/d.json" '[.findings[].score] == ([.findings[].score]|sort|reverse)' "findings ranked by score"
expect_jq "$TMP/d.json" '.model=="fraud" and .since=="1d" and (.findings|length)<=10 and all(.timeline[]; .score>=0 and .score<=1)' "shape"
expect_jq "$TMP/d.json" '[.timeline[]|select(.kind=="drift")][0].score > 0 and [.timeline[]|select(.kind=="drift")][0].score < 1' "effect size in (0, 1)"

expect_exit 0 "limit" -- diag fraud --db "$DB" --format json --limit 2
expect_jq "$TMP/out" '(.findings|length)==2' "--limit"
expect_exit 0 "version filter" -- diag fraud --db "$DB" --format json --version @production
expect_jq "$TMP/out" '.version=="2" and (.timeline|length)>0 and all(.timeline[]; .version=="2")' "--version @alias"

expect_exit 0 "diagnose text" -- diag fraud --db "$DB"
expect_contains "$TMP/out" "Most likely causes" "ranked section"
expect_contains "$TMP/out" "Timeline:" "timeline section"
expect_contains "$TMP/out" "feature shifted drifted" "text names the drifted feature"

# an empty range
"$MW_BIN" registry --db "$TMP/quiet.db" register quiet 1 >/dev/null
sleep 2
expect_exit 0 "empty range" -- diag quiet --db "$TMP/quiet.db" --since 1s
expect_contains "$TMP/out" "nothing changed" "empty range says so"
expect_exit 0 "empty range json" -- diag quiet --db "$TMP/quiet.db" --since 1s --format json
expect_jq "$TMP/out" '.findings==[] and .timeline==[]' "empty range json"

# errors
expect_exit 1 "unknown model" -- diag nope --db "$DB"
expect_contains "$TMP/err" 'unknown model "nope"' "unknown model named"
expect_exit 2 "bad duration" -- diag fraud --db "$DB" --since 5x
expect_contains "$TMP/err" '"5x" is not a duration' "bad duration named"
expect_exit 2 "zero limit" -- diag fraud --db "$DB" --limit 0
expect_exit 2 "no model" -- diag --db "$DB"
expect_exit 2 "bad format" -- diag fraud --db "$DB" --format xml
expect_exit 1 "missing database" -- diag fraud --db "$TMP/none.db"
expect_contains "$TMP/err" "no database at" "missing database named"
[ ! -e "$TMP/none.db" ] && pass || fail "a missing database is not created"
expect_exit 1 "unknown alias" -- diag fraud --db "$DB" --version @staging
expect_exit 0 "help" -- diag --help
finish
