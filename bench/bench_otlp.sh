#!/usr/bin/env bash
# OTLP ingestion speed (issue #9, part 3; target >= 100,000 spans/s).
#  1. the library path (bench_otlp), JSON and protobuf: reading, mapping GenAI
#     spans to records, and mapping + mw_monitor_ingest, against Python
#     json.loads plus the same field extraction (bench/peer_otlp.py) on the
#     same JSON requests: the ratio. It also checks that both encodings of
#     each request give the same records.
#  2. end to end: the requests POSTed to `modelwatch serve` on /v1/traces
#     by two curl processes at once (each one keep-alive connection, half the
#     requests; as exporters of several processes send), SQLite journal on,
#     spans/s of wall time, JSON then protobuf.
# Data: bench/gen_otlp_data.py N 512 (512 spans per request, as the SDKs'
# batch span processors send; 1 span in 20 is not GenAI).
#
# usage: bench/bench_otlp.sh [N]      (N spans, default 100000; needs a build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BUILD=${BUILD:-build}
. bench/lib.sh
BIN=$BUILD/modelwatch
[ -x "$BUILD/bench/bench_otlp" ] || { echo "build first: cmake --build $BUILD" >&2; exit 1; }
DATA=$TMP/otlp.ndjson
/usr/bin/python3 bench/gen_otlp_data.py "$N" 512 "$TMP/otlp.pb" > "$DATA"
MB=$(awk -v b="$(stat -c %s "$DATA")" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "OTLP JSON ingestion: $N spans in $(wc -l < "$DATA") requests, $MB MB"
OURS=$("$BUILD/bench/bench_otlp" "$DATA" "$TMP/otlp.pb")
PEER=$(/usr/bin/python3 bench/peer_otlp.py "$DATA")
echo "$OURS" | grep -E '_per_s|same_records' | sed 's/^/  modelwatch /'
echo "$PEER" | grep _per_s | sed 's/^/  python     /'
ours=$(sed -n 's/^json_map_spans_per_s //p' <<<"$OURS")
peer=$(sed -n 's/^spans_per_s //p' <<<"$PEER")
awk -v o="$ours" -v p="$peer" 'BEGIN {
  printf "  read + map: modelwatch %.0f vs Python json %.0f spans/s: %.1fx\n", o, p, o / p }'

# end to end through the daemon
cat > "$TMP/mw.yaml" <<YAML
otlp:
  models: [{match: "gpt-4o*", model: chat, version: "1"}]
  features: [gen_ai.request.temperature]
YAML
"$BIN" serve --listen 127.0.0.1:0 --db "$TMP/bench.db" --config "$TMP/mw.yaml" > "$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
URL=http://$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$TMP/serve.log")
printf 'gen_ai.request.temperature\n0.2\n0.7\n1.0\n0.7\n' > "$TMP/ref.csv"
bench_register chat 1 '{"window_seconds": 86400}' "$TMP/ref.csv"
split -l 1 -a 4 "$DATA" "$TMP/req.json."
/usr/bin/python3 - "$TMP/otlp.pb" "$TMP/req.pb." <<'PY'
import struct, sys
data, i, k = open(sys.argv[1], "rb").read(), 0, 0
while i < len(data):
    n = struct.unpack_from("<I", data, i)[0]
    open("%s%05d" % (sys.argv[2], k), "wb").write(data[i + 4:i + 4 + n])
    i, k = i + 4 + n, k + 1
PY
# post ENCODING CONTENT_TYPE: all requests of one encoding, timed; prints spans/s
post() {
  local k=0 f
  rm -f "$TMP"/curl.cfg.*
  for f in "$TMP"/req."$1".*; do   # alternate requests between two clients
    printf 'url = "%s/v1/traces"\nheader = "Content-Type: %s"\ndata-binary = "@%s"\noutput = "/dev/null"\nnext\n' "$URL" "$2" "$f" >> "$TMP/curl.cfg.$((k++ % 2))"
  done
  for f in "$TMP"/curl.cfg.*; do sed -i '$d' "$f"; done   # no "next" after the last request
  local t0 t1
  t0=$(date +%s.%N)
  curl -s -K "$TMP/curl.cfg.0" & local c0=$!
  curl -s -K "$TMP/curl.cfg.1"
  wait $c0
  t1=$(date +%s.%N)
  awk -v t0="$t0" -v t1="$t1" -v n="$N" 'BEGIN { printf "%.0f", n / (t1 - t0) }'
}
rj=$(post json application/json)
rp=$(post pb application/x-protobuf)
curl -s "$URL/metrics" > "$TMP/m.txt"
acc=$(sed -n 's/^modelwatch_otlp_spans_total{result="accepted"} //p' "$TMP/m.txt")
awk -v j="$rj" -v p="$rp" -v a="$acc" 'BEGIN {
  printf "  daemon, POST /v1/traces with the journal: JSON %d spans/s, protobuf %d spans/s (%d GenAI spans accepted); target >= 100000: %s\n",
    j, p, a, (j >= 100000 && p >= 100000 ? "met" : "NOT MET") }'
