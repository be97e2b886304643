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
BIN=${MW_BIN:-build/modelwatch}
DATA=bench/data/ingest
[ -f "$DATA/records.ndjson" ] || /usr/bin/python3 bench/gen_ingest_data.py "$DATA"
TMP=$(mktemp -d)
trap 'kill $PID $LOADER 2>/dev/null; rm -rf "$TMP"' EXIT
"$BIN" serve --listen 127.0.0.1:0 --db "$TMP/soak.db" > "$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
URL=http://$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$TMP/serve.log")
curl -sf -X PUT "$URL/api/v1/models/bench/versions/1" -d '{"window_seconds": 60}' > /dev/null
curl -sf -X PUT -H 'Content-Type: text/csv' --data-binary @"$DATA/reference.csv" \
  "$URL/api/v1/models/bench/versions/1/reference" > /dev/null
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
