#!/usr/bin/env bash
# Delayed labels end to end: predictions with ids, labels that arrive before
# and after their window closes, the window's performance filling in (values
# from scikit-learn 1.2, computed below in comments), duplicates, unmatched and
# malformed labels, a kill -9 and restart that keeps everything, the metrics,
# and the starter rule ModelAccuracyDrop firing on the live accuracy.
. "$(dirname "$0")/lib.sh"
V=/api/v1/models/fraud/versions/3
trap 'kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT
start_daemon d --db "$TMP/mw.db" --starter-rules || { finish; exit 1; }
curl -s -X PUT "$URL$V" -d '{"window_seconds": 3600, "task": "classification"}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL$V/reference" > /dev/null

# 100 predictions p-0..p-99: 40 (pred a, label a), 10 (a, b), 20 (b, a), 30 (b, b)
pred() { if [ "$1" -lt 50 ]; then echo a; else echo b; fi; }
label() { if [ "$1" -lt 40 ] || { [ "$1" -ge 50 ] && [ "$1" -lt 70 ]; }; then echo a; else echo b; fi; }
for i in $(seq 0 99); do
  printf '{"model":"fraud","version":"3","id":"p-%d","features":{"normal":0.1,"color":"red"},"prediction":"%s"}\n' "$i" "$(pred "$i")"
done > "$TMP/preds.ndjson"
for i in $(seq 0 99); do
  printf '{"model":"fraud","id":"p-%d","label":"%s"}\n' "$i" "$(label "$i")"
done > "$TMP/labels.ndjson"
curl -s -X POST --data-binary @"$TMP/preds.ndjson" "$URL/api/v1/records" > "$TMP/r.json"
expect_jq "$TMP/r.json" '.accepted == 100' "predictions accepted"

# the first 50 labels while the window is still open
head -50 "$TMP/labels.ndjson" > "$TMP/l1.ndjson"
curl -s -X POST --data-binary @"$TMP/l1.ndjson" "$URL/api/v1/labels" > "$TMP/l1.json"
expect_jq "$TMP/l1.json" '.matched == 50 and .unmatched == 0 and .duplicate == 0 and .rejected == 0' "first labels matched"
curl -s "$URL$V/performance" > "$TMP/p1.json"
# sklearn on the first 50: accuracy 0.8, precision_macro 0.4, recall_macro 0.5, f1_macro 0.4444444444444445
expect_jq "$TMP/p1.json" '.windows[0] | .predictions == 100 and .labelled == 50 and .coverage == 0.5 and .accuracy == 0.8 and .precision_macro == 0.4 and .recall_macro == 0.5 and ((.f1_macro - 0.4444444444444445)|fabs) < 1e-12' "open window's performance so far"

curl -s -X POST "$URL$V/windows/close" > /dev/null
# the rest after the window closed, one of them twice, plus strangers and a bad line
{ tail -50 "$TMP/labels.ndjson"; sed -n 99p "$TMP/labels.ndjson"
  echo '{"model":"fraud","id":"nobody","label":"a"}'
  echo '{"model":"fraud","id":"p-1","version":"9","label":"a"}'
  echo '{"model":"fraud","label":"a"}'
  echo '{"model":"fraud","id":"p-2","label":{"x":1}}'; } > "$TMP/l2.ndjson"
curl -s -X POST --data-binary @"$TMP/l2.ndjson" "$URL/api/v1/labels" > "$TMP/l2.json"
expect_jq "$TMP/l2.json" '.matched == 50 and .duplicate == 1 and .unmatched == 2 and .rejected == 2' "late labels: matched, duplicate, unmatched, rejected"
expect_jq "$TMP/l2.json" '.errors[0].line == 54 and (.errors[0].message|test("id")) and .errors[1].line == 55' "rejections name their line"
curl -s "$URL$V/performance" > "$TMP/p2.json"
# sklearn on all 100: accuracy 0.7, balanced 0.7083333333333333, precision/recall/f1 macro
# 0.7 / 0.7083333333333333 / 0.6969696969696968, weighted 0.72 / 0.7 / 0.703030303030303
expect_jq "$TMP/p2.json" '.windows[0] | .labelled == 100 and .coverage == 1 and ((.accuracy - 0.7)|fabs) < 1e-12 and ((.balanced_accuracy - 0.7083333333333333)|fabs) < 1e-12 and ((.precision_macro - 0.7)|fabs) < 1e-12 and ((.recall_macro - 0.7083333333333333)|fabs) < 1e-12 and ((.f1_macro - 0.6969696969696968)|fabs) < 1e-12 and ((.f1_weighted - 0.703030303030303)|fabs) < 1e-12' "closed window's performance with every label"

curl -s "$URL/metrics" > "$TMP/m.txt"
expect_contains "$TMP/m.txt" 'modelwatch_model_metric{model="fraud",version="3",metric="accuracy"} 0.7' "accuracy gauge"
expect_contains "$TMP/m.txt" 'modelwatch_label_coverage_ratio{model="fraud",version="3"} 1' "coverage gauge"
expect_contains "$TMP/m.txt" 'modelwatch_labels_total{model="fraud",version="3"} 100' "labels counter"
expect_contains "$TMP/m.txt" 'modelwatch_labels_duplicate_total{model="fraud",version="3"} 1' "duplicates counter"
expect_contains "$TMP/m.txt" 'modelwatch_labels_unmatched_total 2' "unmatched counter"
expect_contains "$TMP/m.txt" 'modelwatch_predictions_pending{model="fraud",version="3"} 0' "nothing pending"

# the starter rule fires on the live accuracy (0.7 < 0.9) at the next evaluation
curl -s -X POST --data-binary @"$TMP/preds.ndjson" "$URL/api/v1/records" > /dev/null # repeated ids: untracked
curl -s -X POST "$URL$V/windows/close" > /dev/null # an evaluation runs after a window closes
for _ in $(seq 50); do
  curl -s "$URL/api/v1/alerts" > "$TMP/a.json"
  jq -e '[.alerts[] | select(.rule == "ModelAccuracyDrop" and .state == "firing")] | length == 1' "$TMP/a.json" > /dev/null && break
  sleep 0.2
done
expect_jq "$TMP/a.json" '[.alerts[] | select(.rule == "ModelAccuracyDrop")][0] | .state == "firing" and (.annotations.summary|test("accuracy 0.700"))' "ModelAccuracyDrop fires"

# kill -9 and restart: the closed window's predictions and every label come back
kill -9 "$PID"; wait "$PID" 2>/dev/null
start_daemon d2 --db "$TMP/mw.db" || { finish; exit 1; }
curl -s "$URL$V/performance" > "$TMP/p3.json"
expect_jq "$TMP/p3.json" '[.windows[] | select(.labelled == 100)][0] | ((.accuracy - 0.7)|fabs) < 1e-12 and .coverage == 1' "performance after kill -9"
curl -s -X POST --data-binary @"$TMP/l1.ndjson" "$URL/api/v1/labels" > "$TMP/l3.json"
expect_jq "$TMP/l3.json" '.duplicate == 50 and .matched == 0' "labels after the restart are duplicates"

# a regression model: numeric predictions and labels
R=/api/v1/models/price/versions/1
curl -s -X PUT "$URL$R" -d '{"window_seconds": 3600}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL$R/reference" > /dev/null
printf '{"model":"price","version":"1","id":"x1","features":{"normal":0},"prediction":2.5}\n{"model":"price","version":"1","id":"x2","features":{"normal":0},"prediction":0.5}\n' |
  curl -s -X POST --data-binary @- "$URL/api/v1/records" > /dev/null
printf '{"model":"price","id":"x1","label":3}\n{"model":"price","id":"x2","label":"cheap"}\n' |
  curl -s -X POST --data-binary @- "$URL/api/v1/labels" > "$TMP/l4.json"
expect_jq "$TMP/l4.json" '.matched == 1 and .rejected == 1 and (.errors[0].message|test("regression"))' "regression labels must be numbers"
curl -s "$URL$R/performance" > "$TMP/p4.json"
expect_jq "$TMP/p4.json" '.windows[0] | .task == "regression" and .mae == 0.5 and .mse == 0.25 and .max_error == 0.5' "regression metrics"
finish
