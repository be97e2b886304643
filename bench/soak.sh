#!/usr/bin/env bash
# Soak (issue #3): MINUTES (default 10) of steady traffic, one batch of 1,000
# records every 100 ms (10,000 records/s), into a daemon with 60-second windows,
# sampling its resident memory every 5 s. Memory rises within a window (its
# sample fills) and is reused by the next, so the measure is each window's peak:
# passes when no later window peaks more than 10 % above the third window's.
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
  sleep 5
  echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$PID/status)" >> "$TMP/rss"
done
kill $LOADER
windows=$(curl -s "$URL/api/v1/models/bench/versions/1/windows?limit=100" | jq '.windows|length')
records=$(curl -s "$URL/metrics" | sed -n 's/^modelwatch_records_total{model="bench",version="1"} //p')
# peak RSS of each 60-second window (the daemon's windows are aligned to minutes)
awk '{w = int($1 / 60); if ($2 > peak[w]) peak[w] = $2} END {for (w in peak) print w, peak[w]}' "$TMP/rss" \
  | sort -n | cut -d' ' -f2 > "$TMP/peaks"
base=$(sed -n 3p "$TMP/peaks")
max=$(tail -n +4 "$TMP/peaks" | sort -n | tail -1)
echo "soak: $MINUTES min, $records records, $windows windows closed"
echo "  peak RSS per minute (KiB): $(tr '\n' ' ' < "$TMP/peaks")"
echo "  third window: ${base} KiB; highest later: ${max} KiB; growth $(echo "scale=1; ($max - $base) * 100 / $base" | bc) %"
[ "$max" -le $(( base * 110 / 100 )) ] && echo "  PASS: within 10 %" || { echo "  FAIL: grew more than 10 %"; exit 1; }
