#!/usr/bin/env bash
# Canary comparison in the daemon and automatic rollback from an alert.
# Model "fraud": version 1 is "production", version 2 "canary" (the canary
# alias moved 1 -> 2, so it has a previous version); records go to
# "@production" and "@canary". The canary answers with ten times the errors,
# three times the latency and worse accuracy (labels sent before the windows
# close): the comparison flags it with those reasons, stores it (GET
# .../canary) and exports modelwatch_canary_*; the rule CanaryWorse (for: 0s,
# rollback: {model: "{{ $labels.model }}", alias: canary}) fires and moves the
# canary alias back to 1, once: the audit log has one rollback by
# "modelwatch-alert:CanaryWorse" with the alert's summary, and later
# evaluations do not move it again. Model "same": both versions get traffic
# from the same distributions: compared, not flagged. Also: a per-model alias
# setting (model "pair" uses "stable"/"beta"), bad canary settings refused
# at start naming the key, and `modelwatch rules export` of the rollback rule
# passes promtool.
. "$(dirname "$0")/lib.sh"
DB=$TMP/mw.db
PID=
trap 'kill -9 $PID 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
reg() { "$MW_BIN" registry --db "$DB" "$@"; }

# reference: two features and the prediction (classes a/b)
awk 'BEGIN { srand(7); print "x,color,prediction";
  for (i = 0; i < 400; i++) printf "%.4f,%s,%s\n", rand(), (rand() < 0.5 ? "red" : "blue"), (rand() < 0.5 ? "a" : "b") }' > "$TMP/ref.csv"

# gen MODEL VERSION SEED N ERR_EVERY LAT_BASE CORRECT_SHARE IDPREFIX: records and their labels
gen() {
  awk -v model="$1" -v ver="$2" -v seed="$3" -v n="$4" -v everr="$5" -v lat="$6" -v ok="$7" -v idp="$8" \
      -v rec="$TMP/$1-$8.ndjson" -v lab="$TMP/$1-$8.labels" 'BEGIN { srand(seed);
    for (i = 1; i <= n; i++) {
      p = rand() < 0.5 ? "a" : "b"; color = rand() < 0.5 ? "red" : "blue";
      l = rand() < ok ? p : (p == "a" ? "b" : "a");
      e = (i % everr == 0) ? ",\"error\":\"timeout\"" : "";
      printf "{\"model\":\"%s\",\"version\":\"%s\",\"id\":\"%s-%d\",\"features\":{\"x\":%.4f,\"color\":\"%s\"},\"prediction\":\"%s\",\"latency_ms\":%.3f%s}\n", model, ver, idp, i, rand(), color, p, lat + 4 * rand(), e > rec;
      printf "{\"model\":\"%s\",\"id\":\"%s-%d\",\"label\":\"%s\"}\n", model, idp, i, l > lab } }'
}

for m in fraud same pair; do
  for v in 1 2; do reg register $m $v > /dev/null; done
done
reg promote fraud 1 --alias production > /dev/null
reg promote fraud 1 --alias canary > /dev/null
reg promote fraud 2 --alias canary > /dev/null
reg promote same 1 --alias production > /dev/null
reg promote same 2 --alias canary > /dev/null
reg promote pair 1 --alias stable > /dev/null
reg promote pair 2 --alias beta > /dev/null

cat > "$TMP/bad.yaml" <<EOF2
db: $DB
canary: {alpha: 2}
EOF2
expect_exit 1 "alpha out of range refused" -- "$MW_BIN" serve --listen 127.0.0.1:0 --config "$TMP/bad.yaml"
expect_contains "$TMP/err" "canary: alpha: expected a number from 0 to 0.5" "bad alpha named"
cat > "$TMP/bad.yaml" <<EOF2
db: $DB
canary: {models: {pair: {canary: beta}}}
EOF2
expect_exit 1 "unknown per-model key refused" -- "$MW_BIN" serve --listen 127.0.0.1:0 --config "$TMP/bad.yaml"
expect_contains "$TMP/err" 'canary: models.pair: unknown key "canary"' "unknown key named"

cat > "$TMP/mw.yaml" <<EOF2
db: $DB
canary:
  models:
    pair: {baseline_alias: stable, canary_alias: beta}
alerting:
  evaluation_interval: 1s
rules:
  - name: CanaryWorse
    expr: modelwatch_canary_worse == 1
    for: 0s
    annotations:
      summary: "canary {{ \$labels.canary }} of {{ \$labels.model }} is worse than {{ \$labels.baseline }}"
    rollback: {model: "{{ \$labels.model }}", alias: canary}
EOF2
"$MW_BIN" rules export --config "$TMP/mw.yaml" > "$TMP/export.yaml" 2> "$TMP/export.err"
expect_contains "$TMP/export.yaml" 'modelwatch_rollback: "model={{ $labels.model }} alias=canary"' "rollback exported as an annotation"
if command -v promtool > /dev/null; then
  expect_exit 0 "promtool accepts the export" -- promtool check rules "$TMP/export.yaml"
fi

start_daemon d --config "$TMP/mw.yaml" || { finish; exit 1; }
for m in fraud same pair; do
  for v in 1 2; do
    curl -s -X PUT "$URL/api/v1/models/$m/versions/$v" -d '{"window_seconds": 3600}' > /dev/null
    curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$TMP/ref.csv" "$URL/api/v1/models/$m/versions/$v/reference" > /dev/null
  done
done
# fraud: baseline 1% errors, 10 ms, 90% right; canary 10% errors, 30 ms, 60% right
gen fraud @production 11 400 100 10 0.9 b
gen fraud @canary 12 400 10 30 0.6 c
# same and pair: both sides alike (1% errors, 10 ms, 90% right)
gen same @production 21 400 100 10 0.9 b
gen same @canary 22 400 100 10 0.9 c
gen pair @stable 31 300 100 10 0.9 b
gen pair @beta 32 300 100 10 0.9 c
for f in fraud-b fraud-c same-b same-c pair-b pair-c; do
  curl -s -X POST --data-binary @"$TMP/$f.ndjson" "$URL/api/v1/records" > "$TMP/r.json"
  expect_jq "$TMP/r.json" '.accepted >= 300 and .rejected == 0' "records of $f accepted"
  curl -s -X POST --data-binary @"$TMP/$f.labels" "$URL/api/v1/labels" > "$TMP/l.json"
  expect_jq "$TMP/l.json" '.matched >= 300' "labels of $f matched"
done
for m in fraud same pair; do
  for v in 1 2; do curl -s -X POST "$URL/api/v1/models/$m/versions/$v/windows/close" > /dev/null; done
done

curl -s "$URL/api/v1/models/fraud/canary" > "$TMP/c.json"
expect_jq "$TMP/c.json" '.comparisons | length == 1' "one fraud comparison"
expect_jq "$TMP/c.json" '.comparisons[0] | .canary_worse == true and .baseline.version == "1" and .canary.version == "2"' "fraud canary flagged, versions named"
expect_jq "$TMP/c.json" '.comparisons[0].baseline | .records == 400 and .errors == 4' "baseline counts"
expect_jq "$TMP/c.json" '.comparisons[0].canary | .records == 400 and .errors == 40 and .latency_samples == 400' "canary counts"
expect_jq "$TMP/c.json" '.comparisons[0].checks.errors | .test == "fisher" and .worse and .p_value < 1e-6 and (.difference - 0.09 | fabs) < 1e-12' "error check"
expect_jq "$TMP/c.json" '.comparisons[0].checks.latency | .test == "mannwhitney" and .worse and .p_value < 1e-6 and .canary_p50_ms > 30 and .baseline_p50_ms < 14' "latency check"
expect_jq "$TMP/c.json" '.comparisons[0].checks.performance | .metric == "accuracy" and .worse and .baseline_labelled == 400 and .canary_labelled == 400 and .p_value < 0.001' "accuracy check"
expect_jq "$TMP/c.json" '.comparisons[0].checks.predictions | .test == "chi2" and (.p_value >= 0 and .p_value <= 1)' "prediction check"
expect_jq "$TMP/c.json" '.comparisons[0].reasons | length == 3 and (.[0] | test("^error rate 10%")) and (.[1] | test("^median latency")) and (.[2] | test("^accuracy"))' "reasons"

curl -s "$URL/api/v1/models/same/canary" > "$TMP/s.json"
expect_jq "$TMP/s.json" '.comparisons | length == 1 and .[0].canary_worse == false and (.[0].reasons | length) == 0' "equal traffic not flagged"
expect_jq "$TMP/s.json" '.comparisons[0].checks | .errors.p_value > 0.05 and .latency.p_value > 0.05 and .performance.p_value > 0.05' "equal traffic: no significant difference"
curl -s "$URL/api/v1/models/pair/canary" > "$TMP/p.json"
expect_jq "$TMP/p.json" '.comparisons | length == 1 and .[0].baseline.version == "1" and .[0].canary.version == "2"' "per-model aliases pair stable with beta"

curl -s "$URL/metrics" > "$TMP/m.txt"
expect_contains "$TMP/m.txt" 'modelwatch_canary_worse{model="fraud",baseline="1",canary="2"} 1' "worse metric"
expect_contains "$TMP/m.txt" 'modelwatch_canary_worse{model="same",baseline="1",canary="2"} 0' "not worse metric"
expect_contains "$TMP/m.txt" 'modelwatch_canary_error_rate_difference{model="fraud",baseline="1",canary="2"} 0.09' "error rate difference metric"
expect_contains "$TMP/m.txt" 'modelwatch_canary_p_value{model="fraud",baseline="1",canary="2",check="latency"}' "p-value metric"
expect_contains "$TMP/m.txt" 'modelwatch_canary_performance_difference{model="fraud",baseline="1",canary="2",metric="accuracy"}' "performance metric"
expect_contains "$TMP/m.txt" 'modelwatch_canary_comparisons_total{model="fraud"} 1' "comparisons counter"

# the rule fires and rolls the canary alias back, once
for i in $(seq 50); do
  reg audit fraud --alias canary --format json > "$TMP/a.json" 2>/dev/null
  jq -e '.audit[0].action == "rollback"' "$TMP/a.json" > /dev/null 2>&1 && break
  sleep 0.2
done
expect_jq "$TMP/a.json" '.audit[0] | .action == "rollback" and .who == "modelwatch-alert:CanaryWorse" and .from == "2" and .to == "1" and .why == "canary 2 of fraud is worse than 1"' "rollback in the audit log"
sleep 2.5 # more evaluations while the alert stays firing
reg audit fraud --alias canary --format json > "$TMP/a2.json"
expect_jq "$TMP/a2.json" '[.audit[] | select(.action == "rollback")] | length == 1' "rolled back once per firing episode"
curl -s "$URL/api/v1/registry/models/fraud/versions/@canary" > "$TMP/vc.json"
expect_jq "$TMP/vc.json" '.version == "1"' "canary alias back on version 1"
curl -s "$URL/api/v1/alerts" > "$TMP/al.json"
expect_jq "$TMP/al.json" '[.alerts[] | select(.rule == "CanaryWorse" and .state == "firing")] | length == 1' "alert firing"
curl -s "$URL/metrics" > "$TMP/m2.txt"
expect_contains "$TMP/m2.txt" 'modelwatch_alert_rollbacks_total{result="done"} 1' "rollback counted"
expect_contains "$TMP/m2.txt" 'modelwatch_alert_rollbacks_total{result="failed"} 0' "no failed rollback"
# same and pair did not fire: their aliases stayed
curl -s "$URL/api/v1/registry/models/same/versions/@canary" > "$TMP/vs.json"
expect_jq "$TMP/vs.json" '.version == "2"' "same: canary alias untouched"

# the API's bad requests, and an unknown model
curl -s -o "$TMP/e.json" -w '%{http_code}' "$URL/api/v1/models/fraud/canary?limit=0" > "$TMP/code"
expect_contains "$TMP/code" 400 "limit 0 refused"
curl -s -o "$TMP/e.json" -w '%{http_code}' "$URL/api/v1/models/a%20b/canary" > "$TMP/code"
expect_contains "$TMP/code" 400 "bad model name refused"
expect_jq "$TMP/e.json" '.error.message | test("model name")' "bad model name named"
curl -s -o "$TMP/e.json" -w '%{http_code}' -X POST "$URL/api/v1/models/fraud/canary" > "$TMP/code"
expect_contains "$TMP/code" 405 "POST not allowed"
curl -s "$URL/api/v1/models/nosuch/canary" > "$TMP/e.json"
expect_jq "$TMP/e.json" '.comparisons == []' "unknown model: no comparisons"

# comparisons are stored: still there after a restart; the rollback is not repeated
kill "$PID"; wait "$PID" 2>/dev/null
start_daemon d2 --config "$TMP/mw.yaml" || { finish; exit 1; }
curl -s "$URL/api/v1/models/fraud/canary?limit=5" > "$TMP/c2.json"
expect_jq "$TMP/c2.json" '.comparisons | length == 1 and .[0].canary_worse == true' "comparison kept across a restart"
sleep 1.5
reg audit fraud --alias canary --format json > "$TMP/a3.json"
expect_jq "$TMP/a3.json" '[.audit[] | select(.action == "rollback")] | length == 1' "no second rollback after the restart"
finish
