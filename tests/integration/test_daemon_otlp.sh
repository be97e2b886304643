#!/usr/bin/env bash
# OpenTelemetry ingestion (issue #9, part 3): GenAI spans exported by the real
# OpenTelemetry JavaScript SDK (sdk-trace-base + exporter-trace-otlp-http
# 0.203.0, OTLP/HTTP JSON, one export plain and one gzip, and
# exporter-trace-otlp-proto 0.203.0, protobuf) become records of
# the mapped model versions ("@production" through the registry): records,
# tokens, latency, errors, finish reasons and ttft in /metrics, and the
# modelwatch_otlp_* counters for ignored, unmapped and invalid spans. Then bad
# input over curl: 415 for other content types, 400 for a malformed or truncated body
# (nothing of it ingested), 405, and the daemon still counts everything else.
# The npm packages are installed (pinned) into $MW_BUILD/npm-otel once; with
# no node/npm or no registry this test FAILS, it is not skipped.
. "$(dirname "$0")/lib.sh"
NPM_DIR="${MW_BUILD:-$TMP}/npm-otel"
PKGS="@opentelemetry/api@1.9.0 @opentelemetry/sdk-trace-base@2.0.1 @opentelemetry/resources@2.0.1 @opentelemetry/exporter-trace-otlp-http@0.203.0 @opentelemetry/exporter-trace-otlp-proto@0.203.0"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  fail "node and npm are needed (Debian: apt-get install nodejs npm; scripts/deps.sh installs them)"
  finish; exit 1
fi
if [ "$(jq -r .version "$NPM_DIR/node_modules/@opentelemetry/exporter-trace-otlp-http/package.json" 2>/dev/null)" != 0.203.0 ] ||
   [ "$(jq -r .version "$NPM_DIR/node_modules/@opentelemetry/exporter-trace-otlp-proto/package.json" 2>/dev/null)" != 0.203.0 ]; then
  mkdir -p "$NPM_DIR" && echo '{"name":"modelwatch-otel-test","private":true}' > "$NPM_DIR/package.json"
  # shellcheck disable=SC2086
  if ! (cd "$NPM_DIR" && npm install --no-audit --no-fund --ignore-scripts --save-exact $PKGS) > "$TMP/npm.log" 2>&1; then
    fail "npm install of the OpenTelemetry SDK failed (is the npm registry reachable?): $(tail -5 "$TMP/npm.log")"
    finish; exit 1
  fi
fi
DB=$TMP/o.db
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
"$MW_BIN" registry --db "$DB" register chat 1 > /dev/null
"$MW_BIN" registry --db "$DB" promote chat 1 --alias production > /dev/null
cat > "$TMP/mw.yaml" <<YAML
db: $DB
otlp:
  models:
    - {match: "gpt-4o*", model: chat, version: "@production"}
    - {match: "claude-*", operation: chat, model: chat, version: "2"}
  features: [gen_ai.request.temperature]
YAML
start_daemon o --config "$TMP/mw.yaml" || { finish; exit 1; }
printf 'gen_ai.request.temperature\n0.1\n0.5\n0.7\n0.9\n1.0\n0.2\n' > "$TMP/ref.csv"
for v in 1 2; do
  curl -s -X PUT "$URL/api/v1/models/chat/versions/$v" -d '{"window_seconds": 3600}' > /dev/null
  curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$TMP/ref.csv" "$URL/api/v1/models/chat/versions/$v/reference" > /dev/null
done

# every span must fall in the open hourly window (aligned to the hour): near
# the end of an hour, wait for the next one; spans start up to 60 s back
now=$(date +%s)
into=$((now % 3600))
if [ "$into" -gt 3570 ]; then sleep $((3601 - into)); now=$(date +%s); into=$((now % 3600)); fi
base=$((now - (into < 60 ? into : 60)))
NODE_PATH="$NPM_DIR/node_modules" timeout 120 node "$MW_SRC/tests/integration/otlp/export.cjs" "$URL" "$base" > "$TMP/node.out" 2> "$TMP/node.err"
rc=$?
[ "$rc" -eq 0 ] && pass || fail "the OpenTelemetry exporter failed (exit $rc): $(head -5 "$TMP/node.err")"
expect_contains "$TMP/node.out" "exported 1 protobuf" "the three providers flushed"

curl -s "$URL/metrics" > "$TMP/m1.txt"
L1='model="chat",version="1"'
L2='model="chat",version="2"'
# gpt-4o spans: tokens in 100+200+300+400+500, out 20+30+50+60+70; latencies
# 1000, 500, 250, 125, 500 ms; ttft 0.1, 0.2, 0.05 s (sums as doubles add them)
cat > "$TMP/want1.txt" <<WANT
modelwatch_records_total{$L1} 5
modelwatch_records_total{$L2} 1
modelwatch_llm_tokens_total{$L1,type="input"} 1500
modelwatch_llm_tokens_total{$L1,type="output"} 230
modelwatch_llm_tokens_total{$L2,type="input"} 10
modelwatch_llm_tokens_total{$L2,type="output"} 5
modelwatch_prediction_latency_seconds_sum{$L1} 2.375
modelwatch_prediction_latency_seconds_count{$L1} 5
modelwatch_prediction_latency_seconds_sum{$L2} 2
modelwatch_prediction_errors_total{$L1,error_type="timeout"} 1
modelwatch_llm_finish_reasons_total{$L1,reason="stop"} 4
modelwatch_llm_finish_reasons_total{$L1,reason="length"} 1
modelwatch_llm_time_to_first_token_seconds_count{$L1} 3
modelwatch_llm_time_to_first_token_seconds_sum{$L1} 0.35000000000000003
modelwatch_otlp_spans_total{result="mapped"} 6
modelwatch_otlp_spans_total{result="accepted"} 6
modelwatch_otlp_spans_total{result="not_genai"} 1
modelwatch_otlp_spans_total{result="unmapped"} 1
modelwatch_otlp_spans_total{result="invalid"} 1
modelwatch_otlp_requests_total{result="partial"} 2
WANT
while IFS= read -r want; do
  expect_contains "$TMP/m1.txt" "$want" "metric after the SDK export"
done < "$TMP/want1.txt"
# the exposition stays valid with the new families
if command -v promtool >/dev/null && ! promtool check metrics < "$TMP/m1.txt" > "$TMP/pt.txt" 2>&1; then
  fail "promtool: $(head -3 "$TMP/pt.txt")"
fi
# the temperature feature reached the window (from gen_ai.request.temperature)
curl -s -X POST "$URL/api/v1/models/chat/versions/1/windows/close" > "$TMP/w.json"
expect_jq "$TMP/w.json" '.records == 5 and .serving.llm.input_tokens == 1500 and ([.columns[] | select(.name == "gen_ai.request.temperature")] | length) == 1' "window of chat/1"

# the answer to a partly rejected export, per the OTLP specification
S='{"resourceSpans":[{"scopeSpans":[{"spans":['
A='{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}'
NOW=$(date +%s)
body="$S{\"endTimeUnixNano\":\"${NOW}000000000\",\"attributes\":[$A,{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-4o\"}},{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"7\"}}]},{\"attributes\":[$A,{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"mistral\"}}]},{\"attributes\":[$A,{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-4o\"}},{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{\"doubleValue\":-2}}]}]}]}]}"
code=$(curl -s -o "$TMP/p.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$body" "$URL/v1/traces")
[ "$code" = 200 ] && pass || fail "partial success: HTTP $code"
expect_jq "$TMP/p.json" '.partialSuccess.rejectedSpans == 2 and (.partialSuccess.errorMessage | test("span 2: no otlp.models rule matches model \"mistral\"")) and .modelwatch.accepted == 1 and .modelwatch.invalid == 1' "partialSuccess"
code=$(curl -s -o "$TMP/ok.json" -w '%{http_code}' -H 'Content-Type: application/json; charset=utf-8' --data-binary '{"resourceSpans":[]}' "$URL/v1/traces")
[ "$code" = 200 ] && pass || fail "empty request: HTTP $code"
expect_jq "$TMP/ok.json" 'has("partialSuccess") | not' "full success has no partialSuccess"

# bad input: clear errors and counters, nothing of a bad body ingested
code=$(curl -s -o "$TMP/e1.json" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary 'x' "$URL/v1/traces")
[ "$code" = 415 ] && pass || fail "text/plain: HTTP $code"
expect_jq "$TMP/e1.json" '.error.code == "unsupported_media_type" and (.message | test("application/x-protobuf or application/json"))' "415 says what to send"
code=$(printf '\x0a\x05\x12\x01' | curl -s -o "$TMP/e3.json" -w '%{http_code}' -H 'Content-Type: application/x-protobuf' --data-binary @- "$URL/v1/traces")
[ "$code" = 400 ] && pass || fail "malformed protobuf: HTTP $code"
# protobuf requests get protobuf answers: google.rpc.Status {1: code 3, 2: message}
[ "$(head -c 2 "$TMP/e3.json" | od -An -tx1 | tr -d ' ')" = 0803 ] && pass || fail "400 for protobuf is a Status with code 3"
expect_contains "$TMP/e3.json" "OTLP protobuf, byte 1: a length runs past the end" "400 for protobuf names the byte"
# ExportTraceServiceResponse {1: partial_success {1: rejected_spans 1, 2: message}}
# for a protobuf request with one unmapped GenAI span (model "mistral")
printf '\x0a\x48\x12\x46\x12\x44\x4a\x1f\x0a\x15gen_ai.operation.name\x12\x06\x0a\x04chat\x4a\x21\x0a\x14gen_ai.request.model\x12\x09\x0a\x07mistral' > "$TMP/unmapped.pb"
code=$(curl -s -o "$TMP/ps.pb" -D "$TMP/ps.h" -w '%{http_code}' -H 'Content-Type: application/x-protobuf' --data-binary @"$TMP/unmapped.pb" "$URL/v1/traces")
[ "$code" = 200 ] && pass || fail "protobuf partial success: HTTP $code"
expect_contains "$TMP/ps.h" "application/x-protobuf" "protobuf answer's content type"
[ "$(head -c 5 "$TMP/ps.pb" | od -An -tx1 | tr -d ' ' | cut -c1-2,5-8)" = 0a0801 ] && pass || fail "partial_success.rejected_spans = 1: $(od -An -tx1 "$TMP/ps.pb" | head -2)"
expect_contains "$TMP/ps.pb" 'span 1: no otlp.models rule matches model "mistral"' "protobuf partial success message"
trunc=${body:0:200}
code=$(curl -s -o "$TMP/e2.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$trunc" "$URL/v1/traces")
[ "$code" = 400 ] && pass || fail "truncated body: HTTP $code"
expect_jq "$TMP/e2.json" '.code == 3 and (.message | test("OTLP JSON, byte [0-9]+: expected"))' "400 names the byte"
printf '%s' "$body" | head -c 150 | gzip > "$TMP/t.gz"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary @"$TMP/t.gz" "$URL/v1/traces")
[ "$code" = 400 ] && pass || fail "truncated gzip JSON: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/traces")
[ "$code" = 405 ] && pass || fail "GET: HTTP $code"
curl -s "$URL/metrics" > "$TMP/m2.txt"
for want in \
  "modelwatch_records_total{$L1} 6" \
  "modelwatch_llm_tokens_total{$L1,type=\"input\"} 1507" \
  'modelwatch_otlp_spans_total{result="unmapped"} 3' \
  'modelwatch_otlp_spans_total{result="invalid"} 2' \
  'modelwatch_otlp_requests_total{result="malformed"} 3' \
  'modelwatch_otlp_requests_total{result="unsupported_media_type"} 1'; do
  expect_contains "$TMP/m2.txt" "$want" "metric after bad input"
done
kill -0 "$PID" 2>/dev/null && pass || fail "the daemon died"
# a bad otlp: section stops the start with the key named
printf 'otlp:\n  models:\n    - {match: "x", model: m}\n' > "$TMP/bad.yaml"
expect_exit 1 "bad otlp config" -- "$MW_BIN" serve --config "$TMP/bad.yaml" --listen 127.0.0.1:0 --db "$TMP/b.db"
expect_contains "$TMP/err" 'otlp.models[0]: "model" and "version" are required' "config error names the key"
finish
