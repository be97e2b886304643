#!/usr/bin/env bash
# `modelwatch eval` end to end: help and usage errors, metrics against
# scikit-learn's values (tests/fixtures/perf/*.expected.json, gen_perf.py)
# within 1e-12, label order, every output format, --estimate, and bad input
# (NaN scores, scores not summing to 1, labels of the wrong type, missing
# targets, unknown predicted classes) with counted, named diagnostics.
. "$(dirname "$0")/lib.sh"
P=$FIX/perf
mw() { "$MW_BIN" "$@"; }
# close FILE EXPECTED_JSON KEY...: each key within 1e-12 of the expected value
close() {
  local f=$1 e=$2; shift 2
  for k in "$@"; do
    expect_jq "$f" "((.$k) - $(jq ".$k" "$e") | fabs) <= 1e-12" "$k matches sklearn"
  done
}

# ---- help and usage ----
expect_exit 0 "help" -- mw eval --help
expect_contains "$TMP/out" "--estimate" "help names --estimate"
expect_exit 0 "top help" -- mw --help
expect_contains "$TMP/out" "eval" "top help lists eval"
expect_exit 2 "no file" -- mw eval --target y --prediction yhat
expect_exit 2 "no prediction" -- mw eval "$P/binary.csv" --target y
expect_exit 2 "bad task" -- mw eval "$P/binary.csv" --target y --prediction yhat --task nope
expect_exit 2 "estimate without reference" -- mw eval "$P/binary.csv" --target y --prediction yhat --scores score --estimate
expect_exit 1 "unknown column" -- mw eval "$P/binary.csv" --target nothere --prediction yhat
expect_contains "$TMP/err" '"nothere"' "unknown column named"
expect_exit 1 "unknown scores" -- mw eval "$P/binary.csv" --target y --prediction yhat --scores zz_
expect_contains "$TMP/err" '"zz_"' "unknown scores named"

# ---- metrics against scikit-learn ----
expect_exit 0 "multiclass json" -- mw eval "$P/multi.csv" --target label --prediction pred --scores p_ --format json
cp "$TMP/out" "$TMP/multi.json"
close "$TMP/multi.json" "$P/multi.expected.json" accuracy balanced_accuracy f1_macro precision_weighted recall_micro roc_auc log_loss
expect_jq "$TMP/multi.json" ".confusion_matrix.matrix == $(jq -c .confusion_matrix "$P/multi.expected.json")" "confusion matrix"
expect_jq "$TMP/multi.json" '.confusion_matrix.labels == ["cat","dog","eel"]' "string labels sorted"
expect_jq "$TMP/multi.json" '(.per_class|keys) == ["cat","dog","eel"] and .per_class.dog.support == 26' "per_class"
expect_jq "$TMP/multi.json" '.brier == null and (.ece|type) == "number"' "brier is binary only"
for k in accuracy balanced_accuracy precision_macro recall_macro f1_macro precision_micro recall_micro f1_micro precision_weighted recall_weighted f1_weighted roc_auc average_precision log_loss brier ece per_class confusion_matrix; do
  expect_jq "$TMP/multi.json" "has(\"$k\")" "key $k"
done
if grep -qE 'NaN|Infinity' "$TMP/multi.json"; then fail "bare NaN in JSON"; else pass; fi

expect_exit 0 "binary json" -- mw eval "$P/binary.csv" --target y --prediction yhat --scores score --format json
close "$TMP/out" "$P/binary.expected.json" accuracy roc_auc average_precision log_loss brier ece f1_macro
expect_jq "$TMP/out" '.confusion_matrix.labels == [0,1]' "numeric labels are numbers"

expect_exit 0 "regression json" -- mw eval "$P/regression.csv" --target price --prediction predicted --format json
cp "$TMP/out" "$TMP/reg.json"
close "$TMP/reg.json" "$P/regression.expected.json" mae mse rmse mape r2 max_error median_absolute_error
expect_jq "$TMP/reg.json" '.task == "regression"' "auto task: regression"
expect_exit 0 "forced classification" -- mw eval "$P/binary.csv" --target y --prediction yhat --task classification --format json
expect_jq "$TMP/out" '.task == "classification" and .roc_auc == null' "no scores, no roc_auc"

# numeric labels sort numerically, not as text
printf 'y,p\n10,2\n2,2\n100,10\n10,10\n2,100\n' > "$TMP/num.csv"
expect_exit 0 "numeric order" -- mw eval "$TMP/num.csv" --target y --prediction p --format json
expect_jq "$TMP/out" '.confusion_matrix.labels == [2,10,100]' "2 < 10 < 100"
expect_jq "$TMP/out" '.accuracy == 0.4' "accuracy 2/5"

# ---- formats ----
expect_exit 0 "text" -- mw eval "$P/multi.csv" --target label --prediction pred --scores p_
expect_contains "$TMP/out" "balanced_accuracy" "text report"
if awk 'length > 80 {exit 1}' "$TMP/out"; then pass; else fail "text wider than 80 columns"; fi
expect_exit 0 "html" -- mw eval "$P/multi.csv" --target label --prediction pred --scores p_ --format html -o "$TMP/r.html"
expect_contains "$TMP/r.html" "<table" "html table"
[ ! -e "$TMP/r.html.tmp" ] && pass || fail "temporary output left behind"
gzip -c "$P/multi.csv" > "$TMP/multi.csv.gz"
expect_exit 0 "gzip" -- mw eval "$TMP/multi.csv.gz" --target label --prediction pred --scores p_ --format json
expect_jq "$TMP/out" ".accuracy == $(jq .accuracy "$TMP/multi.json")" "gzip same result"

# ---- --estimate (CBPE) ----
expect_exit 0 "estimate" -- mw eval "$P/multi.csv" --target label --prediction pred --scores p_ --estimate -r "$P/multi.csv" --format json
expect_jq "$TMP/out" '(.estimated.accuracy > 0.5 and .estimated.accuracy <= 1) and (.estimated.confusion_matrix.matrix|flatten|add|. - 60|fabs) < 1e-9' "estimate: accuracy and expected confusion sums to n"
cut -d, -f2- "$P/multi.csv" > "$TMP/nolabel.csv"
expect_exit 0 "estimate without labels" -- mw eval "$TMP/nolabel.csv" --target label --prediction pred --scores p_ --estimate -r "$P/multi.csv" --format json
expect_jq "$TMP/out" '.rows_evaluated == 60 and (.estimated|has("roc_auc"))' "unlabelled file estimated"

# ---- bad input ----
printf 'y,yhat,score\n1,1,0.9\n0,0,nan\n,1,0.8\n1,,0.7\n0,1,0.6\n1,1,0.4\n0,0,0.1\n' > "$TMP/bad.csv"
expect_exit 0 "NaN score and missing values" -- mw eval "$TMP/bad.csv" --target y --prediction yhat --scores score --format json
expect_jq "$TMP/out" '.rows == 7 and .rows_evaluated == 5 and .rows_scored == 4' "rows counted"
expect_jq "$TMP/out" '.skipped.missing_target == 1 and .skipped.missing_prediction == 1' "skips counted"
expect_jq "$TMP/out" '[.warnings[]|select(test("row 2"))]|length == 1' "NaN score row named"
expect_contains "$TMP/err" "warning" "warning on stderr"
printf 'y,p,p_a,p_b,p_c\na,a,0.5,0.3,0.4\nb,b,0.2,0.6,0.2\nc,c,0.1,0.1,0.8\na,b,0.4,0.4,0.2\n' > "$TMP/sum.csv"
expect_exit 0 "scores not summing to 1" -- mw eval "$TMP/sum.csv" --target y --prediction p --scores p_ --format json
expect_jq "$TMP/out" '[.warnings[]|select(test("do not sum to 1.*row 1"))]|length == 1' "renormalised, counted, row named"
expect_jq "$TMP/out" '(.log_loss - 0.6314321610770639 | fabs) < 1e-12' "log loss on renormalised rows (sklearn)"
printf 'y,p\n1,1\n0,cat\n1,0\n' > "$TMP/type.csv"
expect_exit 1 "labels of the wrong type" -- mw eval "$TMP/type.csv" --target y --prediction p
expect_contains "$TMP/err" 'column "p", row 2: label "cat" is text' "wrong type named with row and column"
printf 'y,p\na,a\nb,zebra\na,b\n' > "$TMP/unknown.csv"
expect_exit 0 "unknown predicted class" -- mw eval "$TMP/unknown.csv" --target y --prediction p --format json
expect_jq "$TMP/out" '.confusion_matrix.labels == ["a","b","zebra"] and (.balanced_accuracy == 0.25)' "unknown class kept as sklearn"
expect_jq "$TMP/out" '[.warnings[]|select(test("zebra"))]|length == 1' "unknown class warned"
printf 'y,p,p_a\na,a,0.5\nb,b,0.5\nc,a,0.1\n' > "$TMP/nocol.csv"
expect_exit 0 "class without score column" -- mw eval "$TMP/nocol.csv" --target y --prediction p --scores p_ --format json
expect_jq "$TMP/out" '.roc_auc == null and ([.warnings[]|select(test("no score column"))]|length) >= 1' "score metrics null with a reason"
printf 'y,p,s\n1,1,0.9\n1,1,0.8\n' > "$TMP/one.csv"
expect_exit 0 "single class" -- mw eval "$TMP/one.csv" --target y --prediction p --scores s --format json
expect_jq "$TMP/out" '.accuracy == 1 and .roc_auc == null' "single class: accuracy, no roc_auc"
printf 'price,predicted\n1.5,abc\n' > "$TMP/regbad.csv"
expect_exit 1 "regression on text" -- mw eval "$TMP/regbad.csv" --target price --prediction predicted --task regression
expect_contains "$TMP/err" 'row 1' "regression bad value row named"
finish
