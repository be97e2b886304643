#!/usr/bin/env bash
# `modelwatch compare` end to end: help and usage errors; metrics, deltas,
# agreement, flips and McNemar against statsmodels and scikit-learn
# (tests/fixtures/compare/*.expected.json, gen_compare.py) within 1e-12; the
# gate's exit codes (3 for a worse candidate, 0 for an equal or better one),
# MLflow-style thresholds; bootstrap reproducibility (same seed, same JSON;
# another seed, other intervals); bad golden sets with errors naming column
# and row.
. "$(dirname "$0")/lib.sh"
G=$FIX/compare
mw() { "$MW_BIN" "$@"; }
cls() { mw compare --golden "$G/$1.csv" --target label --baseline v1 --candidate v2 "${@:2}"; }
# close FILE EXPECTED_JSON PATH...: each path within 1e-12 of the expected value
close() {
  local f=$1 e=$2; shift 2
  for k in "$@"; do
    expect_jq "$f" "((.$k) - $(jq ".$k" "$e") | fabs) <= 1e-12" "$(basename "$e" .expected.json) $k"
  done
}
# rclose FILE EXPECTED_JSON PATH...: within 1e-12 relative (p-values can be tiny)
rclose() {
  local f=$1 e=$2; shift 2
  for k in "$@"; do
    local want; want=$(jq ".$k" "$e")
    expect_jq "$f" "((.$k) - $want | fabs) <= 1e-12 * ($want | fabs)" "$(basename "$e" .expected.json) $k (relative)"
  done
}
CLS="accuracy balanced_accuracy precision_macro recall_macro f1_macro precision_weighted recall_weighted f1_weighted"
REG="mae mse rmse mape r2 max_error"

# ---- help and usage ----
expect_exit 0 "help" -- mw compare --help
for w in --golden --baseline --candidate --threshold min_absolute_change min_relative_change \
         greater_is_better --bootstrap --seed --confidence McNemar "exit status"; do
  expect_contains "$TMP/out" "$w" "help explains $w"
done
if awk 'length > 80 {exit 1}' "$TMP/out"; then pass; else fail "help wider than 80 columns"; fi
expect_exit 0 "top help" -- mw --help
expect_contains "$TMP/out" "compare" "top help lists compare"
expect_exit 2 "no golden" -- mw compare --target label --baseline v1 --candidate v2
expect_exit 2 "no candidate" -- mw compare --golden "$G/worse.csv" --target label --baseline v1
expect_exit 2 "bad format" -- cls worse --format html
expect_exit 2 "bad bootstrap" -- cls worse --bootstrap -5
expect_exit 2 "bad confidence" -- cls worse --confidence 1.5
expect_exit 2 "bad threshold metric" -- cls worse --threshold nope:threshold=1
expect_contains "$TMP/err" '"nope"' "unknown metric named"
expect_exit 2 "threshold without condition" -- cls worse --threshold accuracy:greater_is_better=true
expect_exit 2 "threshold bad key" -- cls worse --threshold accuracy:min_change=1
expect_contains "$TMP/err" '"min_change"' "unknown key named"
expect_exit 2 "negative min_absolute_change" -- cls worse --threshold accuracy:min_absolute_change=-1
expect_exit 2 "regression metric on a classifier" -- cls worse --threshold mae:threshold=1
expect_contains "$TMP/err" "not a metric of classification" "wrong task's metric"

# ---- values against statsmodels and scikit-learn ----
expect_exit 3 "worse candidate fails the default gate" -- cls worse --format json
cp "$TMP/out" "$TMP/worse.json"
E=$G/worse.expected.json
for k in baseline candidate delta; do close "$TMP/worse.json" "$E" $(for m in $CLS; do echo "metrics.$m.$k"; done); done
close "$TMP/worse.json" "$E" agreement mcnemar.statistic
rclose "$TMP/worse.json" "$E" mcnemar.p_value
expect_jq "$TMP/worse.json" ".mcnemar.baseline_right_candidate_wrong == $(jq .mcnemar.baseline_right_candidate_wrong "$E") and .mcnemar.baseline_wrong_candidate_right == $(jq .mcnemar.baseline_wrong_candidate_right "$E")" "discordant counts"
expect_jq "$TMP/worse.json" ".flips == $(jq -c .flips "$E")" "flips per class"
expect_jq "$TMP/worse.json" '.task == "classification" and .rows == 600 and .bootstrap.resamples == 1000 and .bootstrap.seed == 0' "header keys"
expect_jq "$TMP/worse.json" '[.metrics[] | .ci | length == 2 and .[0] <= .[1]] | all' "every metric has a CI [lo, hi]"
expect_jq "$TMP/worse.json" '[.metrics[] | .ci[0] <= .delta and .delta <= .ci[1]] | all' "deltas inside their CIs"
expect_jq "$TMP/worse.json" '.gate.passed == false and .gate.rules == "default"' "gate failed"
expect_jq "$TMP/worse.json" '[.gate.failures[] | select(.rule == "mcnemar" and .metric == "accuracy")] | length == 1' "McNemar failure listed"
expect_jq "$TMP/worse.json" '[.gate.failures[] | select(.rule == "confidence_interval" and .metric == "f1_macro")] | length == 1' "CI failure listed"
if grep -qE 'NaN|Infinity' "$TMP/worse.json"; then fail "bare NaN in JSON"; else pass; fi

expect_exit 0 "better candidate passes" -- cls better --format json
close "$TMP/out" "$G/better.expected.json" agreement mcnemar.p_value metrics.accuracy.delta metrics.f1_macro.delta
expect_jq "$TMP/out" '.gate.passed == true and (.gate.failures | length) == 0' "gate passed, no failures"
expect_exit 0 "equal candidate passes" -- cls equal --format json
expect_jq "$TMP/out" '.agreement == 1 and .mcnemar.statistic == 0 and .mcnemar.p_value == 1' "equal: agreement 1, McNemar p 1"
expect_jq "$TMP/out" '[.metrics[] | .delta == 0 and .ci == [0, 0]] | all' "equal: zero deltas and CIs"

expect_exit 3 "binary numeric labels" -- mw compare --golden "$G/binary.csv" --target y --baseline old --candidate new --format json
cp "$TMP/out" "$TMP/binary.json"
rclose "$TMP/binary.json" "$G/binary.expected.json" mcnemar.p_value
close "$TMP/binary.json" "$G/binary.expected.json" agreement $(for m in $CLS; do echo "metrics.$m.candidate"; done)
expect_jq "$TMP/binary.json" '(.flips | keys) == ["0", "1"]' "numeric labels as flip keys"

expect_exit 3 "regression" -- mw compare --golden "$G/regression.csv" --target price --baseline pred_old --candidate pred_new --format json
cp "$TMP/out" "$TMP/reg.json"
for k in baseline candidate delta; do close "$TMP/reg.json" "$G/regression.expected.json" $(for m in $REG; do echo "metrics.$m.$k"; done); done
expect_jq "$TMP/reg.json" '.task == "regression" and .agreement == null and .mcnemar == null and .flips == null' "regression: no agreement or McNemar"
expect_jq "$TMP/reg.json" '.metrics.mae.greater_is_better == false and .metrics.r2.greater_is_better == true' "directions"
expect_jq "$TMP/reg.json" '[.gate.failures[] | select(.metric == "mae" and .rule == "confidence_interval")] | length == 1' "regression CI failure"
expect_exit 0 "regression, roles swapped: the better one passes" -- mw compare --golden "$G/regression.csv" --target price --baseline pred_new --candidate pred_old

# ---- text report ----
expect_exit 3 "text" -- cls worse
expect_contains "$TMP/out" "Gate: FAILED" "text verdict"
expect_contains "$TMP/out" "McNemar" "text McNemar"
if awk 'length > 80 {exit 1}' "$TMP/out"; then pass; else fail "text wider than 80 columns"; fi
expect_exit 3 "text regression" -- mw compare --golden "$G/regression.csv" --target price --baseline pred_old --candidate pred_new
if awk 'length > 80 {exit 1}' "$TMP/out"; then pass; else fail "regression text wider than 80 columns"; fi
expect_exit 0 "output file" -- cls better --format json -o "$TMP/r.json"
expect_jq "$TMP/r.json" '.gate.passed' "report written to -o"

# ---- thresholds (MLflow MetricThreshold) ----
acc_b=$(jq .metrics.accuracy.baseline "$E"); acc_c=$(jq .metrics.accuracy.candidate "$E")
expect_exit 0 "worse candidate above an absolute threshold passes" -- cls worse --threshold accuracy:threshold=0.75 --format json
expect_jq "$TMP/out" '.gate.rules == "thresholds" and .gate.passed' "thresholds replace the default rules"
expect_exit 3 "below an absolute threshold" -- cls worse --threshold accuracy:threshold=0.76 --format json
expect_jq "$TMP/out" ".gate.failures == [.gate.failures[0]] and .gate.failures[0].rule == \"threshold\" and .gate.failures[0].limit == 0.76 and .gate.failures[0].candidate == $acc_c" "threshold failure: metric, values, condition"
expect_exit 3 "min_absolute_change" -- cls better --threshold accuracy:min_absolute_change=0.02 --format json
expect_jq "$TMP/out" '.gate.failures[0].rule == "min_absolute_change" and ((.gate.failures[0].limit - (.metrics.accuracy.baseline + 0.02)) | fabs) < 1e-15' "min_absolute_change limit = baseline + x"
expect_exit 0 "min_absolute_change met" -- cls better --threshold accuracy:min_absolute_change=0.005
expect_exit 3 "min_relative_change" -- cls better --threshold f1_macro:min_relative_change=0.5 --format json
expect_jq "$TMP/out" '.gate.failures[0].rule == "min_relative_change" and .gate.failures[0].metric == "f1_macro"' "relative failure named"
expect_exit 0 "no worse (relative 0)" -- cls equal --threshold accuracy:min_relative_change=0
expect_exit 0 "greater_is_better=false turns the inequality" -- cls worse --threshold accuracy:min_absolute_change=0.05,greater_is_better=false
expect_exit 3 "lower is better: mae must not rise" -- mw compare --golden "$G/regression.csv" --target price --baseline pred_old --candidate pred_new --threshold mae:min_relative_change=0.1 --format json
expect_jq "$TMP/out" '.gate.failures[0].metric == "mae" and ((.gate.failures[0].limit - .metrics.mae.baseline * 0.9) | fabs) < 1e-12' "mae limit = baseline * (1 - x)"
expect_exit 3 "several thresholds, one failing" -- cls worse --threshold accuracy:threshold=0.5 --threshold f1_macro:min_absolute_change=0 --format json
expect_jq "$TMP/out" '[.gate.failures[].metric] == ["f1_macro"]' "only the failing threshold listed"

# ---- bootstrap reproducibility ----
cls worse --format json --seed 7 > "$TMP/s7a.json"
cls worse --format json --seed 7 > "$TMP/s7b.json"
cls worse --format json --seed 8 > "$TMP/s8.json"
if cmp -s "$TMP/s7a.json" "$TMP/s7b.json"; then pass; else fail "same seed gave different reports"; fi
expect_jq "$TMP/s8.json" ".metrics.accuracy.ci != $(jq -c .metrics.accuracy.ci "$TMP/s7a.json")" "another seed, another CI"
expect_jq "$TMP/s8.json" ".metrics.accuracy.delta == $(jq .metrics.accuracy.delta "$TMP/s7a.json")" "the point estimate does not depend on the seed"
expect_exit 3 "more resamples, other confidence" -- cls worse --format json --bootstrap 200 --confidence 0.8
expect_jq "$TMP/out" '.bootstrap.resamples == 200 and .bootstrap.confidence == 0.8' "bootstrap settings reported"
expect_exit 3 "no bootstrap: McNemar alone" -- cls worse --format json --bootstrap 0
expect_jq "$TMP/out" '.metrics.accuracy.ci == null and ([.gate.failures[].rule] == ["mcnemar"])' "no CI, McNemar still gates"
expect_exit 0 "alpha" -- mw compare --golden "$G/binary.csv" --target y --baseline old --candidate new --bootstrap 0 --alpha 0.001

# ---- bad golden sets ----
printf 'label,v1,v2\ncat,cat,dog\ndog,dog,dog\neel,,eel\ncat,cat,\n' > "$TMP/miss.csv"
expect_exit 1 "missing prediction" -- mw compare --golden "$TMP/miss.csv" --target label --baseline v1 --candidate v2
expect_contains "$TMP/err" 'baseline column "v1", row 3: missing' "missing baseline named with row"
printf 'y,a,b\n1,1,0\n0,0,0\nNaN,1,1\n' > "$TMP/nan.csv"
expect_exit 1 "NaN target" -- mw compare --golden "$TMP/nan.csv" --target y --baseline a --candidate b
expect_contains "$TMP/err" 'target column "y", row 3' "NaN target named with row"
printf 'y,a,b\n1.5,1.25,2.5\n2.5,2.5,inf\n3.5,3,4\n' > "$TMP/inf.csv"
expect_exit 1 "infinite regression prediction" -- mw compare --golden "$TMP/inf.csv" --target y --baseline a --candidate b --task regression
expect_contains "$TMP/err" 'candidate column "b", row 2: infinite' "infinite value named"
expect_exit 1 "missing column" -- mw compare --golden "$G/worse.csv" --target label --baseline v1 --candidate v3
expect_contains "$TMP/err" 'no candidate column "v3"' "missing column named"
: > "$TMP/empty.csv"
expect_exit 1 "empty file" -- mw compare --golden "$TMP/empty.csv" --target label --baseline v1 --candidate v2
expect_contains "$TMP/err" "empty" "empty file said"
printf 'label,v1,v2\n' > "$TMP/header.csv"
expect_exit 1 "header only" -- mw compare --golden "$TMP/header.csv" --target label --baseline v1 --candidate v2
expect_contains "$TMP/err" "no rows" "no rows said"
printf 'label,v1,v2\ncat,cat,cat\ndog,dog\n' > "$TMP/ragged.csv"
expect_exit 1 "ragged row" -- mw compare --golden "$TMP/ragged.csv" --target label --baseline v1 --candidate v2
expect_contains "$TMP/err" "ragged.csv:3" "ragged row's line named"
printf 'y,a,b\n1,1,1\n0,cat,0\n' > "$TMP/type.csv"
expect_exit 1 "labels of the wrong type" -- mw compare --golden "$TMP/type.csv" --target y --baseline a --candidate b
expect_contains "$TMP/err" 'column "a", row 2: label "cat" is text' "wrong type named"
printf 'y,a,b\n1.5,abc,2\n' > "$TMP/regtext.csv"
expect_exit 1 "text in a regression" -- mw compare --golden "$TMP/regtext.csv" --target y --baseline a --candidate b --task regression
expect_contains "$TMP/err" 'column "a", row 1: "abc" is not a number' "regression text named"
expect_exit 1 "no such file" -- mw compare --golden "$TMP/nothere.csv" --target y --baseline a --candidate b
finish
