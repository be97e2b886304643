#!/usr/bin/env bash
# Estimated performance before labels (CBPE) and prediction drift in the
# daemon, on synthetic data where the truth is known: P(y=1|x) = sigmoid(2x)
# everywhere, the model's score is miscalibrated but informative, and the
# inputs shift (covariate shift) from window to window. The reference carries
# target, prediction and scores; three windows of 10,000 records each get their
# CBPE estimate at close, then their labels: |estimated - realised| accuracy
# must be at most 0.02 in every window (the issue's criterion), the shifted
# windows must show prediction drift, and the target must not be a feature.
. "$(dirname "$0")/lib.sh"
V=/api/v1/models/churn/versions/1
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
# gen MU N SEED MODE: MODE ref -> CSV rows; rec W -> NDJSON records of window W; lab -> labels
gen() {
  awk -v mu="$1" -v n="$2" -v seed="$3" -v mode="$4" -v w="${5:-0}" 'BEGIN {
    srand(seed)
    for (i = 0; i < n; i++) {
      u1 = rand(); if (u1 < 1e-12) u1 = 1e-12; u2 = rand()
      x = mu + sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2)
      y = rand() < 1 / (1 + exp(-2 * x)) ? 1 : 0
      s = 1 / (1 + exp(-(1.6 * x + 0.3)))
      p = s > 0.5 ? 1 : 0
      if (mode == "ref") printf "%.6f,%d,%d,%.6f,%.6f\n", x, y, p, 1 - s, s
      else if (mode == "rec") printf "{\"model\":\"churn\",\"version\":\"1\",\"id\":\"w%d-%d\",\"ts\":%d,\"features\":{\"x\":%.6f},\"prediction\":%d,\"scores\":{\"0\":%.6f,\"1\":%.6f}}\n", w, i, 1700000000 + 100 * w + 1, x, p, 1 - s, s
      else printf "{\"model\":\"churn\",\"id\":\"w%d-%d\",\"label\":%d}\n", w, i, y
    } }'
}
{ echo "x,target,prediction,score_0,score_1"; gen 0 20000 1 ref; } > "$TMP/ref.csv"
start_daemon d --db "$TMP/mw.db" || { finish; exit 1; }
status=$(curl -s -o "$TMP/reg.json" -w '%{http_code}' -X PUT "$URL$V" \
  -d '{"window_seconds": 100, "target_column": "target", "task": "classification"}')
[ "$status" = 201 ] && pass || fail "register answered $status: $(cat "$TMP/reg.json")"
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$TMP/ref.csv" "$URL$V/reference" > "$TMP/refput.json"
expect_jq "$TMP/refput.json" '(.reference.columns | map(.name) | index("target")) == null' "the target is not a feature"

mus=(0 0.7 -0.6)
for w in 0 1 2; do
  gen "${mus[$w]}" 10000 $((10 + w)) rec "$w" > "$TMP/rec$w.ndjson"
  gen "${mus[$w]}" 10000 $((10 + w)) lab "$w" > "$TMP/lab$w.ndjson"
  curl -s -X POST --data-binary @"$TMP/rec$w.ndjson" "$URL/api/v1/records" > "$TMP/post$w.json"
  expect_jq "$TMP/post$w.json" '.accepted == 10000' "window $w records accepted"
done
curl -s -X POST "$URL$V/windows/close" > /dev/null # the third window; the first two closed on time
curl -s "$URL$V/windows?limit=3" > "$TMP/windows.json"
expect_jq "$TMP/windows.json" '[.windows[] | .estimated_performance.records] == [10000, 10000, 10000]' "every record estimated"
curl -s "$URL/metrics" > "$TMP/m.txt"
expect_contains "$TMP/m.txt" 'modelwatch_model_metric_estimated{model="churn",version="1",metric="accuracy"}' "estimated accuracy gauge"
for w in 0 1 2; do
  curl -s -X POST --data-binary @"$TMP/lab$w.ndjson" "$URL/api/v1/labels" > "$TMP/l$w.json"
  expect_jq "$TMP/l$w.json" '.matched == 10000' "window $w labels matched"
done
curl -s "$URL$V/performance?limit=3" > "$TMP/perf.json"
# windows newest first in both lists: window 2, 1, 0
jq -n --slurpfile w "$TMP/windows.json" --slurpfile p "$TMP/perf.json" \
  '[range(3) as $i | {est: $w[0].windows[$i].estimated_performance.accuracy, real: $p[0].windows[$i].accuracy}]' > "$TMP/cmp.json"
cat "$TMP/cmp.json" | jq -c '.[]' | sed 's/^/  estimated vs realised accuracy: /'
expect_jq "$TMP/cmp.json" 'length == 3 and all(.[]; (.est - .real | fabs) <= 0.02)' "CBPE within 0.02 of the realised accuracy in every window"
expect_jq "$TMP/cmp.json" '(.[1].real - .[2].real | fabs) > 0.03' "the shift moves the realised accuracy (the estimate has something to track)"
# prediction drift: the shifted windows' predictions differ from the reference's
expect_jq "$TMP/windows.json" '[.windows[] | .columns[] | select(.name == "prediction") | .drift.drifted] == [true, true, false]' "prediction drift in the shifted windows only"
expect_jq "$TMP/windows.json" '[.windows[0].columns[] | select(.name == "score_1") | .drift.drifted] == [true]' "score drift"
finish
