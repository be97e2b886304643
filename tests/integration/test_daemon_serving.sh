#!/usr/bin/env bash
# Serving telemetry from records (issue #6, item 1): latency histogram, error
# counts by type and ratio, LLM tokens, time to first token, time per output
# token and finish reasons. Bucket counts and sums must match the records sent;
# the window result carries latency percentiles (numpy 'linear') and the ratio.
. "$(dirname "$0")/lib.sh"
V=/api/v1/models/m/versions/1
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
start_daemon s --db "$TMP/s.db" || { finish; exit 1; }
printf 'x\n1\n2\n3\n4\n5\n6\n7\n8\n' > "$TMP/ref.csv"
curl -s -X PUT "$URL$V" -d '{"window_seconds": 3600}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$TMP/ref.csv" "$URL$V/reference" > /dev/null
rec() { printf '{"model":"m","version":"1","features":{"x":3}%s}\n' "$1"; }
{
  rec ',"latency_ms":1'
  rec ',"latency_ms":3,"error":"timeout"'
  rec ',"latency_ms":7'
  rec ',"latency_ms":15'
  rec ',"latency_ms":30,"error":"timeout"'
  rec ',"latency_ms":60'
  rec ',"latency_ms":120'
  rec ',"latency_ms":250'
  rec ',"latency_ms":600,"error":"timeout"'
  rec ',"latency_ms":2000,"error":"oom"'
  rec ',"latency_ms":1000,"llm":{"input_tokens":812,"output_tokens":95,"ttft_ms":140,"finish_reason":"stop"}'
  rec ',"llm":{"input_tokens":10,"output_tokens":1,"ttft_ms":50,"finish_reason":"length"}'
} > "$TMP/records.ndjson"
curl -s -X POST --data-binary @"$TMP/records.ndjson" "$URL/api/v1/records" > "$TMP/post.json"
expect_jq "$TMP/post.json" '.accepted==12' "records accepted"
printf '{"model":"m","version":"1","features":{},"latency_ms":-5}\n{"model":"m","version":"1","features":{},"llm":{"output_tokens":-1}}\n' > "$TMP/bad.ndjson"
curl -s -X POST --data-binary @"$TMP/bad.ndjson" "$URL/api/v1/records" > "$TMP/bad.json"
expect_jq "$TMP/bad.json" '.accepted==0 and .rejected==2 and (.errors[0].message|test("latency_ms")) and (.errors[1].message|test("output_tokens"))' "negative latency and token counts rejected"
curl -s "$URL/metrics" > "$TMP/metrics.txt"
L='model="m",version="1"'
for want in \
  "modelwatch_prediction_latency_seconds_bucket{$L,le=\"0.001\"} 1" \
  "modelwatch_prediction_latency_seconds_bucket{$L,le=\"0.005\"} 2" \
  "modelwatch_prediction_latency_seconds_bucket{$L,le=\"0.04\"} 5" \
  "modelwatch_prediction_latency_seconds_bucket{$L,le=\"0.64\"} 9" \
  "modelwatch_prediction_latency_seconds_bucket{$L,le=\"1.28\"} 10" \
  "modelwatch_prediction_latency_seconds_bucket{$L,le=\"2.56\"} 11" \
  "modelwatch_prediction_latency_seconds_bucket{$L,le=\"+Inf\"} 11" \
  "modelwatch_prediction_latency_seconds_sum{$L} 4.086" \
  "modelwatch_prediction_latency_seconds_count{$L} 11" \
  "modelwatch_prediction_errors_total{$L,error_type=\"timeout\"} 3" \
  "modelwatch_prediction_errors_total{$L,error_type=\"oom\"} 1" \
  "modelwatch_llm_tokens_total{$L,type=\"input\"} 822" \
  "modelwatch_llm_tokens_total{$L,type=\"output\"} 96" \
  "modelwatch_llm_token_usage_bucket{$L,type=\"output\",le=\"1\"} 1" \
  "modelwatch_llm_token_usage_bucket{$L,type=\"output\",le=\"256\"} 2" \
  "modelwatch_llm_token_usage_sum{$L,type=\"input\"} 822" \
  "modelwatch_llm_time_to_first_token_seconds_bucket{$L,le=\"0.06\"} 1" \
  "modelwatch_llm_time_to_first_token_seconds_bucket{$L,le=\"0.25\"} 2" \
  "modelwatch_llm_time_per_output_token_seconds_bucket{$L,le=\"0.01\"} 1" \
  "modelwatch_llm_time_per_output_token_seconds_count{$L} 1" \
  "modelwatch_llm_finish_reasons_total{$L,reason=\"stop\"} 1" \
  "modelwatch_llm_finish_reasons_total{$L,reason=\"length\"} 1"; do
  expect_contains "$TMP/metrics.txt" "$want" "metric"
done
if command -v promtool >/dev/null; then
  promtool check metrics < "$TMP/metrics.txt" > "$TMP/pt.txt" 2>&1 && pass || fail "promtool: $(head -3 "$TMP/pt.txt")"
fi
curl -s -X POST "$URL$V/windows/close" > "$TMP/w.json"
# latencies (ms) 1 3 7 15 30 60 120 250 600 1000 2000: numpy.quantile (linear)
# gives 60.0, 1500.0 and 1900.0000000000005
expect_jq "$TMP/w.json" '.serving.latency_ms.count==11 and .serving.latency_ms.p50==60 and .serving.latency_ms.p95==1500 and .serving.latency_ms.p99==1900.0000000000005' "latency percentiles"
expect_jq "$TMP/w.json" '(.serving.latency_ms.mean - 4086/11 | fabs) < 1e-9' "latency mean"
expect_jq "$TMP/w.json" '.serving.errors==4 and (.serving.error_ratio - 4/12 | fabs) < 1e-15 and .serving.error_types=={"timeout":3,"oom":1}' "errors in the window"
expect_jq "$TMP/w.json" '.serving.llm.records==2 and .serving.llm.input_tokens==822 and .serving.llm.output_tokens==96 and .serving.llm.finish_reasons=={"stop":1,"length":1}' "llm in the window"
curl -s "$URL/metrics" > "$TMP/metrics2.txt"
expect_contains "$TMP/metrics2.txt" "modelwatch_window_latency_seconds{$L,quantile=\"0.5\"} 0.06" "window p50 gauge"
expect_contains "$TMP/metrics2.txt" "modelwatch_window_error_ratio{$L} 0.3333333333333333" "window error ratio gauge"
# modelwatch top reads the same metrics
"$MW_BIN" top --url "$URL" --count 1 --interval 0.2 > "$TMP/top.txt" 2>&1
expect_contains "$TMP/top.txt" "MODEL/VERSION" "top header"
expect_contains "$TMP/top.txt" "m/1" "top lists the version"
expect_exit 1 "top without a daemon" -- "$MW_BIN" top --url http://127.0.0.1:1 --count 1
expect_contains "$TMP/err" "is \`modelwatch serve\` running" "top explains"
finish
