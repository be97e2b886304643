#!/usr/bin/env bash
# The CLI end to end: help and usage errors, the drift JSON contract, exit codes,
# every output format, gzip/stdin/NDJSON inputs, schemas, quality and profile,
# and bad input that must give a clear error naming the place.
. "$(dirname "$0")/lib.sh"
REF=$FIX/drift/ref.csv
CUR=$FIX/drift/cur.csv
mw() { "$MW_BIN" "$@"; }

# ---- help and usage ----
expect_exit 0 "top help" -- mw --help
expect_contains "$TMP/out" "drift" "top help lists drift"
expect_exit 0 "drift help" -- mw drift --help
expect_contains "$TMP/out" "--fail-on-drift" "drift help"
expect_exit 2 "no arguments" -- mw
expect_exit 2 "drift without files" -- mw drift
expect_exit 2 "unknown option" -- mw drift --bogus
expect_exit 2 "unknown test" -- mw drift -r "$REF" -c "$CUR" --tests ks,nope
expect_contains "$TMP/err" '"nope"' "unknown test named"
expect_exit 2 "bad format" -- mw drift -r "$REF" -c "$CUR" --format xml
expect_exit 2 "bad drift share" -- mw drift -r "$REF" -c "$CUR" --drift-share 2
expect_exit 2 "unknown command" -- mw frobnicate

# ---- the JSON contract ----
expect_exit 0 "drift json" -- mw drift -r "$REF" -c "$CUR" --format json
cp "$TMP/out" "$TMP/auto.json"
expect_jq "$TMP/auto.json" '(.dataset_drift|type)=="boolean" and (.drift_share|type)=="number"' "top keys"
expect_jq "$TMP/auto.json" '.columns|length==7' "seven common columns"
expect_jq "$TMP/auto.json" '[.columns[]|has("name") and has("type") and has("tests") and has("drift")]|all' "column keys"
expect_jq "$TMP/auto.json" '.columns[]|select(.name=="shifted")|.drift.test=="ks" and .drift.drifted==true and .drift.p_value<0.001' "shifted drifts by ks"
expect_jq "$TMP/auto.json" '.columns[]|select(.name=="color")|.type=="categorical" and .drift.test=="chi2"' "color uses chi2"
expect_jq "$TMP/auto.json" '.dataset_quality.columns_only_in_reference==["only_ref"]' "one-sided column"
expect_jq "$TMP/auto.json" '.drift_share == ([.columns[]|select(.drift.drifted)]|length) / .tested_columns' "share"
if grep -qE 'NaN|Infinity' "$TMP/auto.json"; then fail "bare NaN/Infinity in JSON"; else pass; fi
expect_exit 0 "all tests" -- mw drift -r "$REF" -c "$CUR" --tests all --format json
expect_jq "$TMP/out" '.columns[]|select(.name=="normal")|.tests|has("ks") and has("cvm") and has("anderson") and has("mannwhitney") and has("ttest") and has("energy") and has("wasserstein_norm")' "all numeric tests"
expect_jq "$TMP/out" '.columns[]|select(.name=="normal")|(.tests.psi|has("p_value")|not) and (.tests.ks|has("p_value"))' "distances have no p_value"
expect_jq "$TMP/out" '.columns[]|select(.name=="binary")|.tests|has("fisher")' "fisher for two categories"
expect_exit 0 "list and threshold" -- mw drift -r "$REF" -c "$CUR" --tests psi --threshold 0.5 --format json
expect_jq "$TMP/out" '[.columns[]|.drift.test=="psi" and .drift.threshold==0.5]|all' "psi decides with 0.5"
expect_exit 0 "bh correction" -- mw drift -r "$REF" -c "$CUR" --correction bh --format json
expect_jq "$TMP/out" '.correction=="bh" and ([.columns[]|select(.drift.p_value)|.drift.p_value_adjusted>=.drift.p_value]|all)' "bh adjusts upward"
expect_exit 0 "columns" -- mw drift -r "$REF" -c "$CUR" --columns normal,color --format json
expect_jq "$TMP/out" '[.columns[].name]==["normal","color"]' "column selection"
expect_exit 1 "unknown column" -- mw drift -r "$REF" -c "$CUR" --columns nothere
expect_contains "$TMP/err" '"nothere"' "unknown column named"

# ---- exit codes for CI gates ----
expect_exit 0 "no drift against itself" -- mw drift -r "$REF" -c "$REF" --fail-on-drift
expect_exit 3 "drift gate" -- mw drift -r "$REF" -c "$CUR" --drift-share 0.1 --fail-on-drift

# ---- formats ----
expect_exit 0 "text" -- mw drift -r "$REF" -c "$CUR"
expect_contains "$TMP/out" "Dataset drift" "text summary"
if awk 'length > 80 {exit 1}' "$TMP/out"; then pass; else fail "text wider than 80 columns"; fi
expect_exit 0 "html" -- mw drift -r "$REF" -c "$CUR" --format html -o "$TMP/report.html"
expect_contains "$TMP/report.html" "<svg" "inline svg"
if grep -qE 'src="http|href="http' "$TMP/report.html"; then fail "html loads from the network"; else pass; fi
[ "$(stat -c %s "$TMP/report.html")" -lt 1000000 ] && pass || fail "html over 1 MB"
[ ! -e "$TMP/report.html.tmp" ] && pass || fail "temporary output left behind"

# ---- inputs: gzip, stdin, NDJSON, schema ----
gzip -c "$CUR" > "$TMP/cur.csv.gz"
expect_exit 0 "gzip input" -- mw drift -r "$REF" -c "$TMP/cur.csv.gz" --format json
jq -S 'del(.current)' "$TMP/out" > "$TMP/gz.json"; jq -S 'del(.current)' "$TMP/auto.json" > "$TMP/plain.json"
cmp -s "$TMP/gz.json" "$TMP/plain.json" && pass || fail "gzip result differs from plain"
"$MW_BIN" drift -r "$REF" -c - --format json < "$CUR" > "$TMP/stdin.json" 2>"$TMP/err" && pass || fail "stdin input"
jq -S 'del(.current)' "$TMP/stdin.json" > "$TMP/stdin2.json"
cmp -s "$TMP/stdin2.json" "$TMP/plain.json" && pass || fail "stdin result differs from file"
printf '{"model":"m","features":{"amount":1.5,"country":"DE"}}\n{"model":"m","features":{"amount":2.5,"country":"FR"}}\n{"model":"m","features":{"amount":3.5,"country":"DE"}}\n' > "$TMP/a.jsonl"
printf '{"model":"m","features":{"amount":9.5,"country":"US"}}\n{"model":"m","features":{"amount":8.5,"country":"US"}}\n' > "$TMP/b.jsonl"
expect_exit 0 "ndjson" -- mw drift -r "$TMP/a.jsonl" -c "$TMP/b.jsonl" --format json
expect_jq "$TMP/out" '[.columns[]|{(.name):.type}]|add == {"model":"categorical","amount":"numeric","country":"categorical"}' "ndjson flattening and types"
printf 'columns:\n  ties: categorical\n  constant: ignore\n' > "$TMP/schema.yaml"
expect_exit 0 "schema" -- mw drift -r "$REF" -c "$CUR" --schema "$TMP/schema.yaml" --format json
expect_jq "$TMP/out" '(.columns[]|select(.name=="ties")|.type=="categorical") and ([.columns[].name]|index("constant")==null)' "schema overrides"
printf 'columns:\n  ties: [oops\n' > "$TMP/bad.yaml"
expect_exit 1 "bad schema" -- mw drift -r "$REF" -c "$CUR" --schema "$TMP/bad.yaml"
expect_contains "$TMP/err" "bad.yaml" "schema error names the file"

# ---- a column with no values on one side: a documented skip, not an error ----
printf 'a,b\n1,x\n2,y\n3,x\n4,y\n5,x\n6,y\n' > "$TMP/full.csv"
printf 'a,b\n,x\n,y\nNA,x\n' > "$TMP/empty_a.csv"
expect_exit 0 "empty column on one side" -- mw drift -r "$TMP/full.csv" -c "$TMP/empty_a.csv" --format json
expect_jq "$TMP/out" '(.columns[]|select(.name=="a")|.drift.skipped=="no values in the current data" and .drift.test==null) and .tested_columns==1' "skipped with the reason, not counted"
expect_exit 0 "empty column text" -- mw drift -r "$TMP/full.csv" -c "$TMP/empty_a.csv"
expect_contains "$TMP/out" "skipped: no values in the current data" "skip shown in text"

# ---- quality and profile ----
expect_exit 0 "quality json" -- mw quality -r "$REF" -c "$CUR" --format json
expect_jq "$TMP/out" '.issues>=1 and (.columns[]|select(.name=="color")|.quality.unseen_examples==["violet"])' "unseen category"
expect_exit 3 "quality gate" -- mw quality -r "$REF" -c "$CUR" --fail-on-issues
expect_exit 0 "quality text" -- mw quality -r "$REF" -c "$CUR"
expect_contains "$TMP/out" "unseen categories" "quality text"
expect_exit 0 "profile json" -- mw profile "$REF" --format json --save "$TMP/ref.mwp"
expect_jq "$TMP/out" '.rows==300 and (.columns|length)==8 and (.columns[]|select(.name=="with_missing")|.missing==3)' "profile"
[ "$(head -c 4 "$TMP/ref.mwp")" = "MWPF" ] && pass || fail "saved profile magic"
expect_exit 0 "profile text" -- mw profile "$REF"

# ---- bad input: clear errors naming the place ----
printf 'a,b\n1,2\n3,4,5\n' > "$TMP/ragged.csv"
expect_exit 1 "ragged row" -- mw drift -r "$REF" -c "$TMP/ragged.csv"
expect_contains "$TMP/err" "ragged.csv:3" "ragged row names file and line"
printf 'a,b\n1,"unterminated\n2,3\n' > "$TMP/quote.csv"
expect_exit 1 "unterminated quote" -- mw drift -r "$REF" -c "$TMP/quote.csv"
expect_contains "$TMP/err" "quote.csv:2" "unterminated quote names the line"
: > "$TMP/empty.csv"
expect_exit 1 "empty file" -- mw drift -r "$REF" -c "$TMP/empty.csv"
expect_contains "$TMP/err" "empty.csv" "empty file named"
printf 'normal,color\n' > "$TMP/header.csv"
expect_exit 1 "header only" -- mw drift -r "$REF" -c "$TMP/header.csv"
expect_contains "$TMP/err" "no data rows" "header only explained"
head -c 3000 /dev/urandom > "$TMP/garbage.csv"
expect_exit 1 "binary garbage" -- mw drift -r "$REF" -c "$TMP/garbage.csv"
expect_exit 1 "missing file" -- mw drift -r "$REF" -c "$TMP/nothere.csv"
expect_contains "$TMP/err" "nothere.csv" "missing file named"
printf 'a,a\n1,2\n' > "$TMP/dup.csv"
expect_exit 1 "duplicate columns" -- mw profile "$TMP/dup.csv"
finish
