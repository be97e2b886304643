#!/usr/bin/env bash
# The registry in the daemon: records sent with "version": "@production" go to
# the version the alias points to, and follow a promotion made through the
# API at once (the next request) and one made by the CLI on the same database
# file within a second; unknown aliases are rejected with their reason;
# accepted records are checked against the registry signature and violations
# counted per field in modelwatch_signature_violations_total; the registry
# API reads, registers and promotes (refusing a breaking signature with 409).
. "$(dirname "$0")/lib.sh"
DB=$TMP/mw.db
R=$FIX/registry
trap 'kill -9 $PID 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
reg() { "$MW_BIN" registry --db "$DB" "$@"; }
# two registry versions with signatures (v2 adds an optional input), v1 in production
cat > "$TMP/s1.json" <<'JSON'
{"inputs": [{"name": "normal", "type": "double"}, {"name": "color", "type": "string"},
            {"name": "ties", "type": "long", "required": false}],
 "classes": ["a", "b"]}
JSON
cat > "$TMP/s2.json" <<'JSON'
{"inputs": [{"name": "normal", "type": "double"}, {"name": "color", "type": "string"},
            {"name": "ties", "type": "long", "required": false},
            {"name": "extra", "type": "string", "required": false}],
 "classes": ["a", "b"]}
JSON
reg register fraud 1 --signature "$TMP/s1.json" > /dev/null
reg register fraud 2 --signature "$TMP/s2.json" > /dev/null
reg promote fraud 1 --alias production > /dev/null
start_daemon d --db "$DB" || { finish; exit 1; }
for v in 1 2; do
  curl -s -X PUT "$URL/api/v1/models/fraud/versions/$v" -d '{"window_seconds": 3600}' > /dev/null
  curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL/api/v1/models/fraud/versions/$v/reference" > /dev/null
done
rec() { printf '{"model":"fraud","version":"%s","features":{"normal":%s,"color":"%s","ties":%s},"prediction":"%s"}\n' "$@"; }
{ rec @production 0.1 red 1 a; rec @production 0.2 red 2 b; rec @staging 0.1 red 1 a;
  rec @production '"x"' red 1 a; rec @production 0.3 red 1.5 c;
  echo '{"model":"fraud","version":"@production","features":{"color":"red"},"prediction":"a"}'; } > "$TMP/b1.ndjson"
curl -s -X POST --data-binary @"$TMP/b1.ndjson" "$URL/api/v1/records" > "$TMP/r1.json"
expect_jq "$TMP/r1.json" '.accepted == 5 and .rejected == 1 and .errors[0].line == 3 and (.errors[0].message|test("model \"fraud\" has no alias \"staging\" in the registry"))' "@production accepted, @staging rejected with its reason"
curl -s "$URL/api/v1/models/fraud/versions/1" > "$TMP/v1.json"
expect_jq "$TMP/v1.json" '.records_total == 5' "records went to version 1"
curl -s "$URL/metrics" > "$TMP/m1.txt"
expect_contains "$TMP/m1.txt" 'modelwatch_signature_violations_total{model="fraud",version="1",field="normal",reason="type"} 1' "type violation on normal"
expect_contains "$TMP/m1.txt" 'modelwatch_signature_violations_total{model="fraud",version="1",field="ties",reason="type"} 1' "type violation on ties (1.5 is not a long)"
expect_contains "$TMP/m1.txt" 'modelwatch_signature_violations_total{model="fraud",version="1",field="normal",reason="missing"} 1' "missing required input"
expect_contains "$TMP/m1.txt" 'modelwatch_signature_violations_total{model="fraud",version="1",field="color",reason="missing"} 0' "no violation counted as 0"
expect_contains "$TMP/m1.txt" 'modelwatch_signature_violations_total{model="fraud",version="1",field="prediction",reason="class"} 1' "class outside the class set"
if grep -q 'modelwatch_signature_violations_total{model="fraud",version="1",field="ties",reason="missing"} [1-9]' "$TMP/m1.txt"; then fail "optional input counted missing"; else pass; fi

# promotion through the API is seen by the next request
curl -s -o "$TMP/p.json" -w '%{http_code}' -X PUT "$URL/api/v1/registry/models/fraud/aliases/production" \
  -d '{"version": "2", "who": "ci", "reason": "canary ok"}' > "$TMP/code"
expect_contains "$TMP/code" 200 "PUT alias promoted"
expect_jq "$TMP/p.json" '.version == "2" and .from == "1"' "promotion answer"
rec @production 0.1 red 1 a > "$TMP/b2.ndjson"
curl -s -X POST --data-binary @"$TMP/b2.ndjson" "$URL/api/v1/records" > /dev/null
curl -s "$URL/api/v1/models/fraud/versions/2" > "$TMP/v2.json"
expect_jq "$TMP/v2.json" '.records_total == 1' "next request follows the API promotion"

# a rollback by the CLI on the same file is seen within a second
reg rollback fraud --alias production --reason "cli" > /dev/null
sleep 1.2
curl -s -X POST --data-binary @"$TMP/b2.ndjson" "$URL/api/v1/records" > /dev/null
curl -s "$URL/api/v1/models/fraud/versions/1" > "$TMP/v1b.json"
expect_jq "$TMP/v1b.json" '.records_total == 6' "CLI rollback seen within a second"

# registry API
curl -s "$URL/api/v1/registry/models" > "$TMP/l.json"
expect_jq "$TMP/l.json" '.models[0].name == "fraud" and .models[0].aliases.production == "1" and (.models[0].versions|length) == 2' "GET models"
curl -s "$URL/api/v1/registry/models/fraud/versions/@production" > "$TMP/vp.json"
expect_jq "$TMP/vp.json" '.version == "1" and .signature.classes == ["a","b"]' "GET version through alias"
curl -s -o "$TMP/put.json" -w '%{http_code}' -X PUT "$URL/api/v1/registry/models/fraud/versions/3" \
  -d '{"description": "narrow", "signature": {"inputs": [{"name": "normal", "type": "integer"}]}}' > "$TMP/code"
expect_contains "$TMP/code" 201 "PUT version"
curl -s -o "$TMP/bad.json" -w '%{http_code}' -X PUT "$URL/api/v1/registry/models/fraud/versions/4" \
  -d '{"signature": {"inputs": [{"name": "x", "type": "tensor"}]}}' > "$TMP/code"
expect_contains "$TMP/code" 400 "malformed signature refused"
expect_jq "$TMP/bad.json" '.error.message|test("tensor specs are not supported")' "malformed signature named"
curl -s -o "$TMP/ref.json" -w '%{http_code}' -X PUT "$URL/api/v1/registry/models/fraud/aliases/production" \
  -d '{"version": "3"}' > "$TMP/code"
expect_contains "$TMP/code" 409 "breaking promotion refused"
expect_jq "$TMP/ref.json" '.error.code == "promotion_refused" and (.error.message|test("double -> integer"))' "refusal says why"
curl -s -o "$TMP/nf.json" -w '%{http_code}' "$URL/api/v1/registry/models/fraud/versions/9" > "$TMP/code"
expect_contains "$TMP/code" 404 "missing version 404"
curl -s "$URL/api/v1/registry/audit?model=fraud&alias=production" > "$TMP/a.json"
expect_jq "$TMP/a.json" '[.audit[] | [.action, .to, .who]] == [["rollback","1","'"${USER:-unknown}"'"],["promote","2","ci"],["promote","1","'"${USER:-unknown}"'"]]' "GET audit"
[ -n "${KEEP:-}" ] && echo "kept $TMP" >&2
finish
