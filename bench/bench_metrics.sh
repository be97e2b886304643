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
. bench/lib.sh
bench_start_daemon
awk 'BEGIN { srand(1); for (j = 0; j < 20; j++) printf "%sf%d", j ? "," : "", j; print "";
             for (i = 0; i < 200; i++) { for (j = 0; j < 20; j++) printf "%s%.6f", j ? "," : "", j + rand(); print "" } }' > "$TMP/ref.csv"
awk 'BEGIN { srand(2); for (i = 0; i < 200; i++) { printf "{\"model\":\"MODEL\",\"version\":\"1\",\"features\":{";
             for (j = 0; j < 20; j++) printf "%s\"f%d\":%.6f", j ? "," : "", j, j + 1.1 * rand(); print "}}" } }' > "$TMP/records.tmpl"
for m in $(seq 100); do
  bench_register "model$m" 1 '{"window_seconds": 3600}' "$TMP/ref.csv"
  sed "s/MODEL/model$m/" "$TMP/records.tmpl" | curl -sf -X POST --data-binary @- "$URL/api/v1/records" > /dev/null
  curl -sf -X POST "$URL/api/v1/models/model$m/versions/1/windows/close" > /dev/null
done
curl -s "$URL/metrics" > "$TMP/metrics.txt"
series=$(grep -vc '^#' "$TMP/metrics.txt")
for i in $(seq "$SCRAPES"); do curl -s -o /dev/null -w '%{time_total}\n' "$URL/metrics"; done | sort -g > "$TMP/times"
median=$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]*1000}' "$TMP/times")
echo "/metrics with 100 models x 20 features: $series series, $(stat -c %s "$TMP/metrics.txt") bytes"
echo "  median scrape ${median} ms over $SCRAPES scrapes (curl time_total, loopback); target < 10 ms"
