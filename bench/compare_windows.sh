#!/usr/bin/env bash
# Window results of a fixed ingestion, to compare two builds (say, before and
# after a change to the ingestion path, which must not change any result):
# bench/gen_ingest_data.py's 1,000 records posted 150 times (150,000 records,
# beyond the 100,000-value samples, so the reservoirs replace values), a
# kill -9 and restart after the first 60 posts (the rest of the window is
# replayed from the journal), then the window closed and
# GET .../windows printed (jq -S), with the fields that depend on the wall
# clock removed. The daemon seeds its samples with time(NULL): a small
# LD_PRELOAD shim (compiled here) pins time() so that two runs draw the same
# samples. Same output from two builds = same results.
#
# usage: MW_BIN=path/to/modelwatch bench/compare_windows.sh > out.json
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=bench/data/ingest
[ -f "$DATA/records.ndjson" ] || /usr/bin/python3 bench/gen_ingest_data.py "$DATA" >&2
. bench/lib.sh
V=/api/v1/models/bench/versions/1
printf '#include <time.h>\ntime_t time(time_t *t) { if (t) *t = 1764000000; return 1764000000; }\n' \
  > "$TMP/fixtime.c"
cc -shared -fPIC -o "$TMP/fixtime.so" "$TMP/fixtime.c"
export LD_PRELOAD=$TMP/fixtime.so
post() {
  for _ in $(seq "$1"); do
    curl -sf -X POST --data-binary @"$DATA/records.ndjson" "$URL/api/v1/records" > /dev/null
  done
}
bench_start_daemon
bench_register bench 1 '{"window_seconds": 86400}' "$DATA/reference.csv"
post 60
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
mv "$TMP/serve.log" "$TMP/serve1.log"
bench_start_daemon
post 90
curl -sf -X POST "$URL$V/windows/close" > /dev/null
unset LD_PRELOAD
curl -sf "$URL$V/windows?limit=5" | jq -S 'del(.. | .closed_at?, .created_at?, .duration_seconds?)'
