# Shared by the daemon benchmarks: start `modelwatch serve` on a free loopback
# port with a temporary database (sets PID, URL and TMP; cleaned up on exit),
# and register a version with a reference file.
BIN=${MW_BIN:-build/modelwatch}
TMP=$(mktemp -d)
PID=""
LOADER=""
trap 'kill $PID $LOADER 2>/dev/null; rm -rf "$TMP"' EXIT

bench_start_daemon() {
  "$BIN" serve --listen 127.0.0.1:0 --db "$TMP/bench.db" > "$TMP/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 50); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
  URL=http://$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$TMP/serve.log")
}

# bench_register MODEL VERSION CONFIG_JSON REFERENCE_CSV
bench_register() {
  curl -sf -X PUT "$URL/api/v1/models/$1/versions/$2" -d "$3" > /dev/null
  curl -sf -X PUT -H 'Content-Type: text/csv' --data-binary @"$4" \
    "$URL/api/v1/models/$1/versions/$2/reference" > /dev/null
}
