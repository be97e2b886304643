#!/usr/bin/env bash
# Alerting end to end with a real Alertmanager (Debian package
# prometheus-alertmanager): drifted traffic makes a rule fire and Alertmanager's
# own API shows the alert; the alert survives a daemon restart; healthy traffic
# resolves it and Alertmanager drops it well before the firing alert's endsAt
# could have expired. A dead webhook meanwhile is retried and counted without
# slowing ingestion. Also: the rules API and its errors, `modelwatch alerts`,
# and `modelwatch rules export`, which promtool accepts.
. "$(dirname "$0")/lib.sh"
AM_BIN=$(command -v prometheus-alertmanager || command -v alertmanager) ||
  { fail "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"; finish; exit 1; }
V=/api/v1/models/fraud/versions/3
AM_PID=""
trap 'kill $PID $AM_PID 2>/dev/null; rm -rf "$TMP"' EXIT

# ---- Alertmanager ----
cat > "$TMP/am.yml" <<YAML
route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
YAML
start_on_free_port alertmanager -/ready "$AM_BIN" --config.file="$TMP/am.yml" --storage.path="$TMP/am" \
  --web.listen-address="127.0.0.1:@PORT@" --cluster.listen-address= || { finish; exit 1; }
pass
AM_PID=$SERVER_PID
AM=http://127.0.0.1:$SERVER_PORT

# ---- the daemon, alerting on drift, with a webhook nobody listens on ----
DEAD=$(free_port)
cat > "$TMP/mw.yml" <<YAML
db: $TMP/mw.db
tick_seconds: 0.2
alerting:
  alertmanager: $AM
  evaluation_interval: 1s
  resend_interval: 2s
  webhook: {url: "http://127.0.0.1:$DEAD/hook", timeout: 1s, max_attempts: 2}
rules:
  - name: FeatureDrift
    expr: modelwatch_feature_drifted{model="fraud"} == 1
    for: 0s
    labels: {severity: warning}
    annotations: {summary: "{{ \$labels.feature }} drifted"}
YAML
start_daemon d --config "$TMP/mw.yml" || { finish; exit 1; }
curl -s -X PUT "$URL$V" -d '{"window_seconds": 3600}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL$V/reference" > /dev/null
curl -s -X POST --data-binary @"$FIX/drift/cur.ndjson" "$URL/api/v1/records" > /dev/null
curl -s -X POST "$URL$V/windows/close" > /dev/null

# am_alert FEATURE: the Alertmanager alert of FeatureDrift for that feature, or nothing
am_alert() {
  curl -s -G "$AM/api/v2/alerts" --data-urlencode 'filter=alertname="FeatureDrift"' |
    jq -c --arg f "$1" '.[] | select(.labels.feature == $f)'
}
got=""
for _ in $(seq 100); do got=$(am_alert shifted); [ -n "$got" ] && break; sleep 0.2; done
echo "$got" > "$TMP/am_alert.json"
expect_jq "$TMP/am_alert.json" '.status.state == "active" and .labels.severity == "warning" and .labels.model == "fraud" and .labels.version == "3"' "Alertmanager has the firing alert with its labels"
expect_jq "$TMP/am_alert.json" '.annotations.summary == "shifted drifted"' "annotation rendered with the feature label"
curl -s "$URL/api/v1/alerts" > "$TMP/alerts.json"
expect_jq "$TMP/alerts.json" '[.alerts[] | select(.labels.feature == "shifted")][0] | .state == "firing" and (.activeAt|test("Z$"))' "API: alert firing"
expect_jq "$TMP/alerts.json" '[.history[] | select(.labels.feature == "shifted" and .from == "inactive" and .to == "firing")] | length == 1' "API: transition in the history"
starts=$(jq -r '.startsAt' "$TMP/am_alert.json")
active=$(jq -r '[.alerts[] | select(.labels.feature == "shifted")][0].activeAt' "$TMP/alerts.json")
[ "${starts:0:19}" = "${active:0:19}" ] && pass || fail "Alertmanager startsAt $starts differs from activeAt $active"

curl -s "$URL/metrics" > "$TMP/metrics"
expect_contains "$TMP/metrics" 'modelwatch_alerts{alertname="FeatureDrift",alertstate="firing"} 3' "three features firing in /metrics"
"$MW_BIN" alerts --url "$URL" > "$TMP/cli.txt" 2>&1
expect_contains "$TMP/cli.txt" "firing" "modelwatch alerts lists the firing alert"
expect_contains "$TMP/cli.txt" "summary: shifted drifted" "modelwatch alerts shows annotations"

# the dead webhook: failures counted, ingestion not slowed
failed=0
for _ in $(seq 50); do
  failed=$(curl -s "$URL/metrics" | sed -n 's/^modelwatch_notifications_failed_total{notifier="webhook"} //p')
  [ "${failed:-0}" -ge 1 ] 2>/dev/null && break; sleep 0.2
done
[ "${failed:-0}" -ge 1 ] 2>/dev/null && pass || fail "webhook failures not counted (got '$failed')"
t0=$(date +%s%N)
curl -s -X POST --data-binary @"$FIX/drift/cur.ndjson" "$URL/api/v1/records" > "$TMP/post.json"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_jq "$TMP/post.json" '.accepted == 250' "records accepted while the webhook is down"
[ "$ms" -lt 2000 ] && pass || fail "ingestion took $ms ms while the webhook is down"
grep -q "notify webhook" "$TMP/d.log" && pass || fail "webhook failure not logged"

# ---- restart: the firing alert stays firing ----
kill -TERM "$PID"; wait "$PID" 2>/dev/null
start_daemon d2 --config "$TMP/mw.yml" || { finish; exit 1; }
sleep 1.5 # an evaluation or two without any window: no data, not resolved
curl -s "$URL/api/v1/alerts" > "$TMP/alerts2.json"
expect_jq "$TMP/alerts2.json" '[.alerts[] | select(.state == "firing")] | length == 3' "firing alerts restored after a restart"
expect_contains "$TMP/d2.log" "3 alerts restored" "restore logged"

# ---- healthy traffic: resolved, and Alertmanager learns it ----
awk -F, 'NR > 1 {
  printf "{\"model\":\"fraud\",\"version\":\"3\",\"features\":{\"normal\":%s,\"shifted\":%s,\"ties\":%s,\"constant\":%s,\"with_missing\":%s,\"color\":\"%s\",\"binary\":\"%s\",\"only_ref\":%s}}\n",
    $1, $2, $3, $4, ($5 ~ /^-?[0-9]/ ? $5 : "null"), $6, $7, $8 }' "$FIX/drift/ref.csv" > "$TMP/healthy.ndjson"
curl -s -X POST "$URL$V/windows/close" > /dev/null # the records sent before the restart
curl -s -X POST --data-binary @"$TMP/healthy.ndjson" "$URL/api/v1/records" > "$TMP/post2.json"
expect_jq "$TMP/post2.json" ".accepted == 300" "healthy records accepted"
t0=$(date +%s)
curl -s -X POST "$URL$V/windows/close" > "$TMP/close.json"
expect_jq "$TMP/close.json" '.dataset_drift == false' "healthy window not drifted"
got=x
for _ in $(seq 40); do got=$(am_alert shifted); [ -z "$got" ] && break; sleep 0.2; done
elapsed=$(( $(date +%s) - t0 ))
[ -z "$got" ] && pass || fail "Alertmanager still has the alert after healthy traffic: $got"
# firing alerts carry endsAt = now + 4 x resend (8 s): gone sooner means the resolution arrived
[ "$elapsed" -lt 6 ] && pass || fail "alert left Alertmanager after $elapsed s (expiry, not resolution?)"
curl -s "$URL/api/v1/alerts" > "$TMP/alerts3.json"
expect_jq "$TMP/alerts3.json" '[.alerts[] | select(.state == "resolved")] | length == 3' "resolved in the API"
expect_jq "$TMP/alerts3.json" '[.history[] | select(.to == "resolved")] | length == 3' "resolutions in the history"

# ---- rules through the API ----
status=$(curl -s -o "$TMP/put.json" -w '%{http_code}' -X PUT "$URL/api/v1/rules" \
  --data-binary $'rules:\n  - name: Bad\n    expr: modelwatch_records_total{model="fraud"} >> 3\n')
[ "$status" = 400 ] && pass || fail "invalid rule answered $status"
expect_jq "$TMP/put.json" '.error.message | test("rules\\[0\\] \\(Bad\\): expr: column 41: expected")' "rule error names rule and column"
status=$(curl -s -o "$TMP/put2.json" -w '%{http_code}' -X PUT "$URL/api/v1/rules" \
  --data-binary $'rules:\n  - name: Busy\n    expr: modelwatch_records_total > 100\n    keep_firing_for: 1m\n  - name: Typo\n    expr: modelwatch_no_such_metric > 1\n')
[ "$status" = 200 ] && pass || fail "valid rules answered $status: $(cat "$TMP/put2.json")"
expect_jq "$TMP/put2.json" '.source == "api" and (.rules|length) == 2 and (.warnings|length) == 1 and (.warnings[0]|test("modelwatch_no_such_metric"))' "unknown metric is a warning"
curl -s "$URL/api/v1/rules" > "$TMP/rules.json"
expect_jq "$TMP/rules.json" '.rules[0].keep_firing_for == "1m"' "GET /api/v1/rules"
if command -v promtool > /dev/null; then
  "$MW_BIN" rules export --url "$URL" -o "$TMP/prom-rules.yml"
  promtool check rules "$TMP/prom-rules.yml" > "$TMP/promtool.txt" 2>&1 && pass || fail "promtool rejects the export: $(cat "$TMP/promtool.txt")"
fi
# the API's rules survive a restart when the configuration has none
grep -v -e '^rules:' -e '^  - name: FeatureDrift' -e '^    ' "$TMP/mw.yml" > "$TMP/mw2.yml"
kill -TERM "$PID"; wait "$PID" 2>/dev/null
start_daemon d3 --config "$TMP/mw2.yml" || { finish; exit 1; }
curl -s "$URL/api/v1/rules" > "$TMP/rules2.json"
expect_jq "$TMP/rules2.json" '.source == "api" and (.rules|map(.name)) == ["Busy","Typo"]' "API rules restored"

# ---- a bad rule in the configuration stops the start, naming file, rule and column ----
printf 'rules:\n  - name: A\n    expr: modelwatch_records_total > 1\n  - name: B\n    expr: modelwatch_x{a="b" > 1\n' > "$TMP/bad.yml"
expect_exit 1 "serve with a bad rule" -- "$MW_BIN" serve --config "$TMP/bad.yml" --db "$TMP/bad.db"
expect_contains "$TMP/err" 'bad.yml: rules[1] (B): expr: column 20: expected "," or "}", found ">"' "config rule error"
expect_exit 1 "rules check of a bad rule" -- "$MW_BIN" rules check --config "$TMP/bad.yml"
expect_exit 0 "rules check of the starter rules" -- "$MW_BIN" rules check --starter
expect_contains "$TMP/out" "7 rules OK" "rules check counts"
finish
