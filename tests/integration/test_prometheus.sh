#!/usr/bin/env bash
# A real Prometheus (Debian package prometheus) scrapes the daemon, and its
# HTTP API answers modelwatch_feature_drifted for a drifted feature.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || { fail "prometheus is not installed (apt-get install prometheus)"; finish; exit 1; }
V=/api/v1/models/fraud/versions/3
PROM_PID=""
trap 'kill $PID $PROM_PID 2>/dev/null; rm -rf "$TMP"' EXIT
start_daemon d --db "$TMP/mw.db" || { finish; exit 1; }
curl -s -X PUT "$URL$V" -d '{"window_seconds": 3600}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL$V/reference" > /dev/null
curl -s -X POST --data-binary @"$FIX/drift/cur.ndjson" "$URL/api/v1/records" > /dev/null
curl -s -X POST "$URL$V/windows/close" > /dev/null

cat > "$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: modelwatch
    static_configs:
      - targets: ["${URL#http://}"]
YAML
start_on_free_port prometheus -/ready prometheus --config.file="$TMP/prometheus.yml" \
  --storage.tsdb.path="$TMP/prom" --web.listen-address="127.0.0.1:@PORT@" || { finish; exit 1; }
PROM_PID=$SERVER_PID
PROM=http://127.0.0.1:$SERVER_PORT
value=""
for _ in $(seq 60); do
  sleep 1
  value=$(curl -s -G "$PROM/api/v1/query" \
    --data-urlencode 'query=modelwatch_feature_drifted{model="fraud",version="3",feature="shifted"}' \
    | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
  [ -n "$value" ] && break
done
[ "$value" = "1" ] && pass || fail "Prometheus did not return modelwatch_feature_drifted=1 (got '$value'): $(tail -3 "$TMP/prometheus.log")"
up=$(curl -s -G "$PROM/api/v1/query" --data-urlencode 'query=up{job="modelwatch"}' | jq -r '.data.result[0].value[1]')
[ "$up" = "1" ] && pass || fail "scrape target not up"
n=$(curl -s -G "$PROM/api/v1/query" --data-urlencode 'query=count(modelwatch_feature_drifted{model="fraud"} == 1)' | jq -r '.data.result[0].value[1]')
[ "$n" = "3" ] && pass || fail "expected 3 drifted features in Prometheus, got $n"
finish
