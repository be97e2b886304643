#!/usr/bin/env bash
# Ingestion benchmark (issue #3): wrk, a separate load process, posts NDJSON
# batches of 1,000 records (10 numeric + 2 categorical features) over loopback
# into one model of a running `modelwatch serve` (SQLite journal on, windows of
# 60 s), for DURATION seconds with CONNECTIONS connections; records/s come from
# the daemon's own modelwatch_records_total. Side by side: Python json.loads
# with field access on the same records (no statistics). Prints the ratio, and
# the daemon's CPU use (user + system, from /proc) in cores over the run.
#
# usage: bench/bench_ingest.sh [DURATION] [CONNECTIONS]   (needs build/ and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONN=${2:-4}
DATA=bench/data/ingest
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
[ -f "$DATA/records.ndjson" ] || /usr/bin/python3 bench/gen_ingest_data.py "$DATA"
. bench/lib.sh
bench_start_daemon
bench_register bench 1 '{"window_seconds": 60}' "$DATA/reference.csv"
count() { curl -s "$URL/metrics" | sed -n 's/^modelwatch_records_total{model="bench",version="1"} //p'; }
cpu() { awk '{print $14 + $15}' /proc/$PID/stat; }
before=$(count)
cpu0=$(cpu)
MW_BODY=$DATA/records.ndjson wrk -t1 -c"$CONN" -d"${DURATION}s" -s bench/ingest.lua \
  "$URL/api/v1/records" > "$TMP/wrk.txt"
after=$(count)
cpu1=$(cpu)
cores=$(echo "scale=2; ($cpu1 - $cpu0) / $(getconf CLK_TCK) / $DURATION" | bc)
ours=$(( (after - before) / DURATION ))
rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$PID/status)
peer=$(/usr/bin/python3 bench/peer_ingest.py "$DATA/records.ndjson" 5)
echo "ingestion: batches of 1000 records, $CONN connections, ${DURATION}s, loopback, wrk and the daemon on the same cores"
grep -E "Requests/sec|Latency" "$TMP/wrk.txt" | sed 's/^/  wrk: /'
echo "  modelwatch serve (parse + statistics + SQLite journal): $ours records/s, peak RSS ${rss} MiB, $cores cores busy"
echo "  python json.loads + field access (no statistics):       $peer records/s"
echo "  ratio: $(echo "scale=1; $ours / $peer" | bc)x"
