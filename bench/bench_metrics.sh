#!/usr/bin/env bash
# /metrics scrape time (issue #3 target: under 10 ms with 100 models x 20
# features): registers 100 model versions whose reference has 20 numeric
# features, sends each 200 records and closes its window (so every drift
# series exists), then times SCRAPES scrapes with curl and prints the median.
#
# usage: bench/bench_metrics.sh [SCRAPES]      (needs build/)
set -euo pipefail
cd "$(dirname "$0")/.."
SCRAPES=${1:-50}
BIN=${MW_BIN:-build/modelwatch}
TMP=$(mktemp -d)
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
"$BIN" serve --listen 127.0.0.1:0 --db "$TMP/m.db" > "$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
URL=http://$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$TMP/serve.log")
awk 'BEGIN { srand(1); for (j = 0; j < 20; j++) printf "%sf%d", j ? "," : "", j; print "";
             for (i = 0; i < 200; i++) { for (j = 0; j < 20; j++) printf "%s%.6f", j ? "," : "", j + rand(); print "" } }' > "$TMP/ref.csv"
awk 'BEGIN { srand(2); for (i = 0; i < 200; i++) { printf "{\"model\":\"MODEL\",\"version\":\"1\",\"features\":{";
             for (j = 0; j < 20; j++) printf "%s\"f%d\":%.6f", j ? "," : "", j, j + 1.1 * rand(); print "}}" } }' > "$TMP/records.tmpl"
for m in $(seq 100); do
  curl -sf -X PUT "$URL/api/v1/models/model$m/versions/1" -d '{"window_seconds": 3600}' > /dev/null
  curl -sf -X PUT -H 'Content-Type: text/csv' --data-binary @"$TMP/ref.csv" "$URL/api/v1/models/model$m/versions/1/reference" > /dev/null
  sed "s/MODEL/model$m/" "$TMP/records.tmpl" | curl -sf -X POST --data-binary @- "$URL/api/v1/records" > /dev/null
  curl -sf -X POST "$URL/api/v1/models/model$m/versions/1/windows/close" > /dev/null
done
curl -s "$URL/metrics" > "$TMP/metrics.txt"
series=$(grep -vc '^#' "$TMP/metrics.txt")
for i in $(seq "$SCRAPES"); do curl -s -o /dev/null -w '%{time_total}\n' "$URL/metrics"; done | sort -g > "$TMP/times"
median=$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]*1000}' "$TMP/times")
echo "/metrics with 100 models x 20 features: $series series, $(stat -c %s "$TMP/metrics.txt") bytes"
echo "  median scrape ${median} ms over $SCRAPES scrapes (curl time_total, loopback); target < 10 ms"
