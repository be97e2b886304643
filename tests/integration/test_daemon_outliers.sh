#!/usr/bin/env bash
# Outlier detection in the daemon (issue #4): a version configured with an
# Isolation Forest fits it on the reference upload, scores every record,
# reports the outlier share with its binomial test in the window result and
# the metrics, and keeps the detector across a restart.
. "$(dirname "$0")/lib.sh"
V=/api/v1/models/fraud/versions/3
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
start_daemon o1 --db "$TMP/o.db" || { finish; exit 1; }
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT "$URL$V" -d '{"outliers": {"method": "iforst"}}')
[ "$code" = 400 ] && grep -q 'method' "$TMP/body" && pass || fail "bad outlier config: $code $(cat "$TMP/body")"
curl -s -X PUT "$URL$V" -d '{"window_seconds": 3600, "outliers": {"method": "iforest", "trees": 200, "seed": 7, "columns": ["normal", "ties", "with_missing", "color"], "encode": "onehot"}}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL$V/reference" > "$TMP/ref.json"
expect_jq "$TMP/ref.json" '.outliers.method=="iforest" and .outliers.columns==["normal","ties","with_missing","color"] and .outliers.expected_share>0' "detector fitted with the reference"
# ordinary records, then 25 records far outside the reference
head -200 "$FIX/drift/ref.csv" | tail -199 | awk -F, '{printf "{\"model\":\"fraud\",\"version\":\"3\",\"features\":{\"normal\":%s,\"ties\":%s,\"with_missing\":%s,\"color\":\"%s\"}}\n", $1, $3, ($5 ~ /^[0-9.]+$/ ? $5 : "null"), $6}' > "$TMP/ordinary.ndjson"
for i in $(seq 25); do echo '{"model":"fraud","version":"3","features":{"normal":40,"ties":3,"with_missing":90,"color":"violet"}}'; done > "$TMP/planted.ndjson"
cat "$TMP/ordinary.ndjson" "$TMP/planted.ndjson" > "$TMP/all.ndjson"
curl -s -X POST --data-binary @"$TMP/all.ndjson" "$URL/api/v1/records" > "$TMP/post.json"
expect_jq "$TMP/post.json" '.accepted==224' "records accepted"
curl -s -X POST "$URL$V/windows/close" > "$TMP/w1.json"
expect_jq "$TMP/w1.json" '.outliers.method=="iforest" and .outliers.scored==224' "every record scored"
expect_jq "$TMP/w1.json" '.outliers.outliers>=25 and .outliers.outliers<=40' "planted anomalies found"
expect_jq "$TMP/w1.json" '.outliers.share > .outliers.expected_share and .outliers.p_value < 1e-6' "binomial test flags the share"
curl -s "$URL/metrics" > "$TMP/metrics.txt"
expect_contains "$TMP/metrics.txt" 'modelwatch_outliers_total{model="fraud",version="3"}' "outliers counter"
expect_contains "$TMP/metrics.txt" 'modelwatch_outlier_ratio{model="fraud",version="3"}' "outlier ratio"
expect_contains "$TMP/metrics.txt" 'modelwatch_outlier_score_bucket{model="fraud",version="3",le="+Inf"} 224' "score histogram"
if command -v promtool >/dev/null; then
  promtool check metrics < "$TMP/metrics.txt" > "$TMP/pt.txt" 2>&1 && pass || fail "promtool: $(head -3 "$TMP/pt.txt")"
fi
# restart: the detector comes back with the baseline
kill "$PID"; wait "$PID" 2>/dev/null
start_daemon o2 --db "$TMP/o.db" || { finish; exit 1; }
curl -s -X POST --data-binary @"$TMP/planted.ndjson" "$URL/api/v1/records" > /dev/null
curl -s -X POST "$URL$V/windows/close" > "$TMP/w2.json"
expect_jq "$TMP/w2.json" '.outliers.scored==25 and .outliers.outliers==25' "detector restored after restart"
# a version without a detector has no outlier keys or series
curl -s -X PUT "$URL/api/v1/models/plain/versions/1" -d '{}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL/api/v1/models/plain/versions/1/reference" > "$TMP/plain.json"
expect_jq "$TMP/plain.json" 'has("outliers")|not' "no detector unless configured"
finish
