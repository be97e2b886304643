#!/usr/bin/env bash
# `modelwatch serve --config`: versions, options and reference files from YAML,
# flags overriding the file, and configuration errors that name the place.
. "$(dirname "$0")/lib.sh"
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
cat > "$TMP/mw.yaml" <<YAML
# a comment
listen: 127.0.0.1:1        # overridden by --listen below
db: $TMP/from-config.db
tick_seconds: 0.5
http: {threads: 2, max_body_bytes: 1048576, timeout_seconds: 10}
models:
  - name: fraud
    versions:
      - version: 3
        reference: $FIX/drift/ref.csv
        window_seconds: 120
        tests: [psi, ks]
        threshold: 0.2
        columns:
          constant: {type: ignore}
          normal: {threshold: 0.5}
YAML
start_daemon cfg --config "$TMP/mw.yaml" || { finish; exit 1; }
[ -f "$TMP/from-config.db" ] && pass || fail "db path from the configuration not used"
curl -s "$URL/api/v1/models/fraud/versions/3" > "$TMP/v.json"
expect_jq "$TMP/v.json" '.has_reference and .window_seconds==120 and .config.tests==["psi","ks"]' "version from YAML"
expect_jq "$TMP/v.json" '[.reference.columns[].name]|index("constant")==null and length==7' "ignored column"
curl -s -X POST --data-binary @"$FIX/drift/cur.ndjson" "$URL/api/v1/records" > /dev/null
curl -s -X POST "$URL/api/v1/models/fraud/versions/3/windows/close" > "$TMP/w.json"
expect_jq "$TMP/w.json" '[.columns[]|select(.drift.test)|.drift.test]|unique==["psi"]' "tests from YAML"
expect_jq "$TMP/w.json" '(.columns[]|select(.name=="normal")|.drift.threshold==0.5) and (.columns[]|select(.name=="color")|.drift.threshold==0.2)' "thresholds from YAML"
kill "$PID"; wait "$PID" 2>/dev/null

bad() { # NAME YAML-TEXT EXPECTED-SUBSTRING
  printf '%s\n' "$2" > "$TMP/$1.yaml"
  expect_exit 1 "config $1" -- timeout 10 "$MW_BIN" serve --config "$TMP/$1.yaml" --listen 127.0.0.1:0 --db "$TMP/x.db"
  expect_contains "$TMP/err" "$3" "config $1 explained"
}
bad unknown_key 'listn: 127.0.0.1:9750' 'unknown key "listn"'
bad syntax $'models:\n  - name: [unclosed' "syntax.yaml:"
bad version_key $'models:\n  - name: m\n    versions:\n      - version: 1\n        windw_seconds: 5' 'windw_seconds'
bad no_name $'models:\n  - versions: []' 'models[0]'
printf 'listen: nowhere\n' > "$TMP/listen.yaml"   # (no --listen: that would override it)
expect_exit 1 "config listen" -- timeout 10 "$MW_BIN" serve --config "$TMP/listen.yaml" --db "$TMP/x.db"
expect_contains "$TMP/err" "HOST:PORT" "bad listen explained"
expect_exit 1 "missing config" -- "$MW_BIN" serve --config "$TMP/none.yaml"
expect_contains "$TMP/err" "none.yaml" "missing config named"
finish
