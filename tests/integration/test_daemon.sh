#!/usr/bin/env bash
# The daemon end to end over HTTP: registration, reference upload, records,
# window results equal to `modelwatch drift` on the same data, /metrics valid
# for promtool, persistence across restarts, kill -9 during ingestion with
# nothing acknowledged lost, and bad input answered with clear errors.
. "$(dirname "$0")/lib.sh"
DB=$TMP/mw.db
REF=$FIX/drift/ref.csv
CUR_CSV=$FIX/drift/cur.csv
CUR=$FIX/drift/cur.ndjson
V=/api/v1/models/fraud/versions/3
trap 'kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT
req() { curl -s -o "$TMP/body" -w '%{http_code}' "$@"; }
expect_status() { # WANT DESCRIPTION curl-args...
  local want=$1 what=$2; shift 2
  local got; got=$(req "$@")
  if [ "$got" = "$want" ]; then pass; else fail "$what: HTTP $got, expected $want: $(head -c 300 "$TMP/body")"; fi
}

start_daemon d1 --db "$DB" || { finish; exit 1; }
expect_status 200 "healthz" "$URL/healthz"
expect_status 200 "readyz" "$URL/readyz"
expect_status 201 "register" -X PUT "$URL$V" -d '{"window_seconds": 3600, "tests": "auto"}'
expect_status 200 "re-register" -X PUT "$URL$V" -d '{"window_seconds": 3600}'
expect_status 400 "bad config" -X PUT "$URL/api/v1/models/fraud/versions/4" -d '{"windw_seconds": 5}'
expect_contains "$TMP/body" "windw_seconds" "config error names the key"
expect_status 400 "bad name" -X PUT "$URL/api/v1/models/fr%20aud/versions/4" -d '{}'
expect_status 400 "records before reference" -X POST --data-binary @"$CUR" "$URL/api/v1/records"
expect_contains "$TMP/body" "no reference" "no-baseline rejection explained"
expect_status 200 "reference" -X PUT -H 'Content-Type: text/csv' --data-binary @"$REF" "$URL$V/reference"
expect_jq "$TMP/body" '.has_reference and (.reference.columns|length)==8' "reference columns"
expect_status 200 "records" -X POST -H 'Content-Type: application/x-ndjson' --data-binary @"$CUR" "$URL/api/v1/records"
expect_jq "$TMP/body" '.accepted==250 and .rejected==0' "all records accepted"
expect_status 200 "describe" "$URL$V"
expect_jq "$TMP/body" '.open_window.records==250' "open window counts"
expect_status 200 "close window" -X POST "$URL$V/windows/close"
cp "$TMP/body" "$TMP/window.json"
expect_jq "$TMP/window.json" '.records==250 and .model=="fraud" and .version=="3" and (.end-.start)==3600' "window meta"
expect_jq "$TMP/window.json" '.columns[]|select(.name=="only_ref")|.drift.skipped=="no values in the current data"' "a feature that stopped arriving is reported"
expect_status 409 "close an empty window" -X POST "$URL$V/windows/close"

# the window equals the batch report on the same data (same auto tests)
"$MW_BIN" drift -r "$REF" -c "$CUR_CSV" --format json > "$TMP/batch.json"
jq -S '[.columns[]|{name,type,tests,drift}]' "$TMP/batch.json" > "$TMP/a.json"
# (the window also lists reference features that stopped arriving, here only_ref, as
# skipped with "no values in the current data"; the batch lists them as one-sided)
jq -S --slurpfile b "$TMP/batch.json" '[($b[0].columns|map(.name)) as $n | .columns[] | select(.name as $x | $n | index($x)) | {name,type,tests,drift}]' "$TMP/window.json" > "$TMP/b.json"
if cmp -s "$TMP/a.json" "$TMP/b.json"; then pass; else fail "window differs from batch: $(diff "$TMP/a.json" "$TMP/b.json" | head -10)"; fi
[ "$(jq .drift_share "$TMP/window.json")" = "$(jq .drift_share "$TMP/batch.json")" ] && pass || fail "drift share differs"

# metrics
expect_status 200 "metrics" "$URL/metrics"
cp "$TMP/body" "$TMP/metrics.txt"
expect_contains "$TMP/metrics.txt" 'modelwatch_feature_drifted{model="fraud",version="3",feature="shifted"} 1' "shifted drifted"
expect_contains "$TMP/metrics.txt" 'modelwatch_records_total{model="fraud",version="3"} 250' "records counter"
expect_contains "$TMP/metrics.txt" 'modelwatch_feature_drift_p_value{model="fraud",version="3",feature="shifted",test="ks"}' "p-value series"
expect_contains "$TMP/metrics.txt" 'modelwatch_window_records{model="fraud",version="3"} 250' "window records"
expect_contains "$TMP/metrics.txt" 'modelwatch_build_info' "build info"
expect_contains "$TMP/metrics.txt" 'modelwatch_http_request_duration_seconds_bucket' "request histogram"
expect_contains "$TMP/metrics.txt" 'modelwatch_ingested_bytes_total' "ingested bytes"
if command -v promtool >/dev/null; then
  if promtool check metrics < "$TMP/metrics.txt" > "$TMP/promtool.txt" 2>&1; then pass; else fail "promtool: $(head -5 "$TMP/promtool.txt")"; fi
else fail "promtool not installed"; fi
curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' "$URL/metrics" > "$TMP/om.txt"
[ "$(tail -1 "$TMP/om.txt")" = "# EOF" ] && pass || fail "OpenMetrics ends with # EOF"

# bad input
printf '{"model":"fraud","version":"3","features":{"normal":1}}\n{oops\n{"model":"nope","version":"1","features":{}}\n' > "$TMP/mixed.ndjson"
expect_status 200 "mixed batch" -X POST --data-binary @"$TMP/mixed.ndjson" "$URL/api/v1/records"
expect_jq "$TMP/body" '.accepted==1 and .rejected==2 and .errors[0].line==2 and (.errors[1].message|test("not registered"))' "per-line errors"
expect_status 400 "all rejected" -X POST -d '{"model":"fraud"}' "$URL/api/v1/records"
expect_jq "$TMP/body" '.error.code=="invalid_record" and (.error.message|test("version"))' "error object"
gzip -c "$CUR" > "$TMP/cur.ndjson.gz"
expect_status 200 "gzip records" -X POST -H 'Content-Encoding: gzip' --data-binary @"$TMP/cur.ndjson.gz" "$URL/api/v1/records"
expect_jq "$TMP/body" '.accepted==250' "gzip accepted"
expect_status 404 "unknown endpoint" "$URL/api/v2/nothing"
expect_status 404 "unknown version" "$URL/api/v1/models/nope/versions/1"
expect_status 405 "wrong method" -X DELETE "$URL/api/v1/records"
expect_status 400 "bad limit" "$URL$V/windows?limit=abc"
expect_status 400 "bad reference" -X PUT -H 'Content-Type: text/csv' --data-binary $'a,b\n1\n' "$URL$V/reference"
expect_contains "$TMP/body" "line" "reference error names the line"

# hundreds of concurrent connections: every request answered, nothing lost
head -20 "$CUR" > "$TMP/small.ndjson"
seq 300 | xargs -P 300 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST \
  --data-binary @"$TMP/small.ndjson" "$URL/api/v1/records" > "$TMP/codes" 2>/dev/null
[ "$(grep -c '^200$' "$TMP/codes")" = 300 ] && pass || fail "300 concurrent posts: $(sort "$TMP/codes" | uniq -c | tr '\n' ' ')"
expect_status 200 "describe after the burst" "$URL$V"
expect_jq "$TMP/body" '.open_window.records==(250+1+6000)' "burst fully counted"

# restart: versions, baseline, history and the open window come back
kill "$PID"; wait "$PID" 2>/dev/null
start_daemon d2 --db "$DB" || { finish; exit 1; }
expect_status 200 "describe after restart" "$URL$V"
expect_jq "$TMP/body" '.has_reference and .open_window.records==6251' "open window restored (1 + 250 + 6000)"
expect_status 200 "history after restart" "$URL$V/windows?limit=5"
expect_jq "$TMP/body" '(.windows|length)==1 and .windows[0].records==250' "window history"

# kill -9 during ingestion: every acknowledged record is in the next window
expect_status 200 "close before the crash test" -X POST "$URL$V/windows/close"
acked=0
( for i in $(seq 200); do
    out=$(curl -s -X POST --data-binary @"$CUR" "$URL/api/v1/records") || break
    n=$(echo "$out" | jq -r '.accepted // empty' 2>/dev/null) || break
    [ -n "$n" ] && echo "$n" >> "$TMP/acked"
  done ) &
LOADER=$!
sleep 1.5
kill -9 "$PID"; wait "$PID" 2>/dev/null
wait "$LOADER" 2>/dev/null
acked=$(awk '{s+=$1} END {print s+0}' "$TMP/acked")
[ "$acked" -gt 0 ] && pass || fail "no batch acknowledged before the kill"
start_daemon d3 --db "$DB" || { finish; exit 1; }
expect_status 200 "close after the crash" -X POST "$URL$V/windows/close"
got=$(jq .records "$TMP/body")
# a request in flight at the kill may have been journaled without its answer
if [ "$got" -ge "$acked" ] && [ "$got" -le $((acked + 250)) ]; then pass; else
  fail "after kill -9: window has $got records, $acked were acknowledged"; fi
echo "kill -9: $acked acknowledged, $got in the window after restart"
kill "$PID"; wait "$PID" 2>/dev/null

# body limit
start_daemon d4 --db "$TMP/small.db" --max-body 4096 || { finish; exit 1; }
expect_status 413 "body over the limit" -X POST --data-binary @"$CUR" "$URL/api/v1/records"
kill "$PID"; wait "$PID" 2>/dev/null
finish
