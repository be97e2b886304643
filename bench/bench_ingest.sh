#!/usr/bin/env bash
# Ingestion benchmark (issue #3): wrk, a separate load process, posts NDJSON
# batches of 1,000 records (10 numeric + 2 categorical features) over loopback
# into one model of a running `modelwatch serve` (SQLite journal on, windows of
# 60 s), for DURATION seconds with CONNECTIONS connections; records/s come from
# the daemon's own modelwatch_records_total. Side by side: Python json.loads
# with field access on the same records (no statistics). Prints the ratio.
#
# usage: bench/bench_ingest.sh [DURATION] [CONNECTIONS]   (needs build/ and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONN=${2:-4}
BIN=${MW_BIN:-build/modelwatch}
DATA=bench/data/ingest
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
[ -f "$DATA/records.ndjson" ] || /usr/bin/python3 bench/gen_ingest_data.py "$DATA"
TMP=$(mktemp -d)
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
"$BIN" serve --listen 127.0.0.1:0 --db "$TMP/bench.db" > "$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
URL=http://$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$TMP/serve.log")
curl -sf -X PUT "$URL/api/v1/models/bench/versions/1" -d '{"window_seconds": 60}' > /dev/null
curl -sf -X PUT -H 'Content-Type: text/csv' --data-binary @"$DATA/reference.csv" \
  "$URL/api/v1/models/bench/versions/1/reference" > /dev/null
count() { curl -s "$URL/metrics" | sed -n 's/^modelwatch_records_total{model="bench",version="1"} //p'; }
before=$(count)
MW_BODY=$DATA/records.ndjson wrk -t1 -c"$CONN" -d"${DURATION}s" -s bench/ingest.lua \
  "$URL/api/v1/records" > "$TMP/wrk.txt"
after=$(count)
ours=$(( (after - before) / DURATION ))
rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$PID/status)
peer=$(/usr/bin/python3 bench/peer_ingest.py "$DATA/records.ndjson" 5)
echo "ingestion: batches of 1000 records, $CONN connections, ${DURATION}s, loopback, wrk and the daemon on the same cores"
grep -E "Requests/sec|Latency" "$TMP/wrk.txt" | sed 's/^/  wrk: /'
echo "  modelwatch serve (parse + statistics + SQLite journal): $ours records/s, peak RSS ${rss} MiB"
echo "  python json.loads + field access (no statistics):       $peer records/s"
echo "  ratio: $(echo "scale=1; $ours / $peer" | bc)x"
