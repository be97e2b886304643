#!/usr/bin/env bash
# Soak (issue #3): MINUTES (default 10) of steady traffic, one batch of 1,000
# records every 100 ms (10,000 records/s), into a daemon with 60-second windows,
# sampling its resident memory every 10 s. Passes when the memory after the
# first two windows stays within 10 % of its value at that point.
#
# usage: bench/soak.sh [MINUTES]     (needs build/; prints the RSS series)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
DATA=bench/data/ingest
[ -f "$DATA/records.ndjson" ] || /usr/bin/python3 bench/gen_ingest_data.py "$DATA"
. bench/lib.sh
bench_start_daemon
bench_register bench 1 '{"window_seconds": 60}' "$DATA/reference.csv"
( while true; do
    curl -s -o /dev/null -X POST --data-binary @"$DATA/records.ndjson" "$URL/api/v1/records"
    sleep 0.1
  done ) &
LOADER=$!
end=$(( $(date +%s) + MINUTES * 60 ))
: > "$TMP/rss"
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 10
  echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$PID/status)" >> "$TMP/rss"
done
kill $LOADER
windows=$(curl -s "$URL/api/v1/models/bench/versions/1/windows?limit=100" | jq '.windows|length')
records=$(curl -s "$URL/metrics" | sed -n 's/^modelwatch_records_total{model="bench",version="1"} //p')
start=$(head -1 "$TMP/rss" | cut -d' ' -f1)
base=$(awk -v s="$start" '$1 - s >= 120 {print $2; exit}' "$TMP/rss")
max=$(awk -v s="$start" '$1 - s >= 120 && $2 > m {m = $2} END {print m}' "$TMP/rss")
echo "soak: $MINUTES min, $records records, $windows windows closed"
echo "  RSS (KiB) every 10 s: $(cut -d' ' -f2 "$TMP/rss" | tr '\n' ' ')"
echo "  after two windows: ${base} KiB; highest later: ${max} KiB; growth $(echo "scale=1; ($max - $base) * 100 / $base" | bc) %"
[ "$max" -le $(( base * 110 / 100 )) ] && echo "  PASS: within 10 %" || { echo "  FAIL: grew more than 10 %"; exit 1; }
