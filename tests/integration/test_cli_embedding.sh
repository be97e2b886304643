#!/usr/bin/env bash
# `modelwatch drift` on embeddings: CSV prefix columns (--embedding emb_) and
# NDJSON arrays (found without a flag) give the MMD^2, bandwidth and
# classifier AUC of tests/fixtures/embedding/expected.json (numpy/sklearn,
# gen_embedding.py); reports in every format; exit 3 on embedding drift with
# --fail-on-drift; reproducible p-values for a seed; sample bounds; and bad
# vectors (wrong dimension, null, NaN, inf) counted and left out while the
# rest of the row still counts.
. "$(dirname "$0")/lib.sh"
D=$FIX/embedding
EXP=$D/expected.json
mw() { "$MW_BIN" "$@"; }
# close FILE FILTER EXPECTED_FILTER: |got - want| <= 1e-9 |want|
close() {
  local got want
  got=$(jq -r "$2" "$1")
  want=$(jq -r "$3" "$EXP")
  if awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; if (d < 0) d = -d; a = w < 0 ? -w : w; exit !(d <= 1e-9 * a) }'; then
    pass
  else fail "$2: got $got, numpy/sklearn $want"; fi
}

expect_exit 0 "help" -- mw drift --help
expect_contains "$TMP/out" "--embedding PREFIX" "help lists --embedding"

# ---- CSV columns emb_0..emb_7 ----
expect_exit 0 "csv moved" -- mw drift -r "$D/ref.csv" -c "$D/cur_moved.csv" --embedding emb_ -f json
cp "$TMP/out" "$TMP/moved.json"
expect_jq "$TMP/moved.json" '.embeddings|length==1 and .[0].name=="emb_" and .[0].dim==8' "one group of 8"
expect_jq "$TMP/moved.json" '.embeddings[0]|.n_ref==300 and .n_cur==200 and .n_ref_used==300 and .tested' "rows"
close "$TMP/moved.json" '.embeddings[0].mmd.statistic' '.moved.mmd2'
close "$TMP/moved.json" '.embeddings[0].mmd.bandwidth' '.moved.bandwidth'
expect_jq "$TMP/moved.json" "(.embeddings[0].classifier.auc - $(jq .moved.auc "$EXP") | fabs) < 1e-6" "auc as sklearn on the same folds"
expect_jq "$TMP/moved.json" '.embeddings[0]|.mmd.p_value < 0.05 and .classifier.drifted and .drifted' "moved drifts"
expect_jq "$TMP/moved.json" '.embedding_drift == true and .dataset_drift == false' "flags"
expect_jq "$TMP/moved.json" '[.embeddings[0].top_shifts[0:2][].dim]==[2,5] and .embeddings[0].top_shifts[0].shift > 0.7' "top shifts: dims 2 and 5"
expect_jq "$TMP/moved.json" '[.columns[].name]==["amount"]' "embedding columns are not tested one by one"
expect_exit 3 "fail on embedding drift" -- mw drift -r "$D/ref.csv" -c "$D/cur_moved.csv" --embedding emb_ --fail-on-drift
expect_contains "$TMP/out" "Embedding drift: DETECTED" "text report"
expect_contains "$TMP/out" "classifier AUC" "text shows the classifier"
expect_exit 0 "csv same" -- mw drift -r "$D/ref.csv" -c "$D/cur_same.csv" --embedding emb_ -f json --fail-on-drift
close "$TMP/out" '.embeddings[0].mmd.statistic' '.same.mmd2'
expect_jq "$TMP/out" "(.embeddings[0].classifier.auc - $(jq .same.auc "$EXP") | fabs) < 1e-6" "same: auc as sklearn"
expect_jq "$TMP/out" '.embeddings[0]|(.drifted|not) and .mmd.p_value >= 0.05 and .classifier.auc < 0.55' "same distribution: no drift"
expect_exit 0 "html" -- mw drift -r "$D/ref.csv" -c "$D/cur_moved.csv" --embedding emb_ -f html
expect_contains "$TMP/out" "<h2>Embedding drift</h2>" "html section"
# without the flag the CSV columns are ordinary columns
expect_exit 0 "csv without flag" -- mw drift -r "$D/ref.csv" -c "$D/cur_moved.csv" -f json
expect_jq "$TMP/out" '(.columns|length)==9 and (has("embeddings")|not)' "no flag, no group"

# ---- NDJSON arrays, no flag ----
expect_exit 0 "ndjson" -- mw drift -r "$D/ref.ndjson" -c "$D/cur_moved.ndjson" -f json
expect_jq "$TMP/out" '.embeddings[0].name=="embedding" and .embeddings[0].dim==8' "array found"
close "$TMP/out" '.embeddings[0].mmd.statistic' '.moved.mmd2'
expect_jq "$TMP/out" '.dataset_quality|has("columns_only_in_current")' "quality present"

# ---- seeds, sample bounds ----
expect_exit 0 "seed 7" -- mw drift -r "$D/ref.csv" -c "$D/cur_same.csv" --embedding emb_ -f json --seed 7 --embedding-samples 50 --embedding-permutations 200
cp "$TMP/out" "$TMP/s7a.json"
expect_exit 0 "seed 7 again" -- mw drift -r "$D/ref.csv" -c "$D/cur_same.csv" --embedding emb_ -f json --seed 7 --embedding-samples 50 --embedding-permutations 200
expect_jq "$TMP/out" ".embeddings[0].mmd.p_value == $(jq .embeddings[0].mmd.p_value "$TMP/s7a.json") and .embeddings[0].mmd.statistic == $(jq .embeddings[0].mmd.statistic "$TMP/s7a.json")" "same seed, same p-value"
expect_jq "$TMP/out" '.embeddings[0]|.n_ref_used==50 and .n_cur_used==50 and .mmd.permutations==200' "bounded samples"
expect_exit 2 "samples too small" -- mw drift -r "$D/ref.csv" -c "$D/cur_same.csv" --embedding-samples 1
expect_contains "$TMP/err" "--embedding-samples" "names the flag"
expect_exit 2 "bad permutations" -- mw drift -r "$D/ref.csv" -c "$D/cur_same.csv" --embedding-permutations x
expect_exit 1 "unknown prefix" -- mw drift -r "$D/ref.csv" -c "$D/cur_same.csv" --embedding vec_
expect_contains "$TMP/err" 'embedding "vec_"' "names the prefix"

# ---- bad vectors: counted, left out, the rest of the row kept ----
{
  head -n 20 "$D/cur_moved.ndjson"
  echo '{"amount": 99.5, "embedding": [1, 2, 3, 4, 5, 6, 7]}'
  echo '{"amount": 98.5, "embedding": [1, 2, 3, 4, 5, 6, 7, 8, 9]}'
  echo '{"amount": 97.5, "embedding": [1, 2, null, 4, 5, 6, 7, 8]}'
  echo '{"amount": 96.5}'
  echo '{"amount": 95.5, "embedding": ["a", "b"]}'
} > "$TMP/bad.ndjson"
expect_exit 0 "bad ndjson vectors" -- mw drift -r "$D/ref.ndjson" -c "$TMP/bad.ndjson" -f json
expect_jq "$TMP/out" '.embeddings[0]|.n_cur==20 and .cur_invalid==3 and .cur_missing==2 and .tested' "3 invalid, 2 without"
expect_jq "$TMP/out" '.columns[0]|.name=="amount" and .quality.current_missing==0' "amount of every row kept"
expect_jq "$TMP/out" '.current.rows==25' "all rows read"
{
  head -n 21 "$D/cur_moved.csv"
  echo "99.5,1,inf,3,4,5,6,7,8"
  echo "98.5,1,2,nan,4,5,6,7,8"
  echo "97.5,,,,,,,,"
} > "$TMP/bad.csv"
expect_exit 0 "bad csv vectors" -- mw drift -r "$D/ref.csv" -c "$TMP/bad.csv" --embedding emb_ -f json
expect_jq "$TMP/out" '.embeddings[0]|.n_cur==20 and .cur_invalid==2 and .cur_missing==1' "inf and nan invalid, empty missing"
expect_exit 0 "too few vectors" -- mw drift -r "$D/ref.csv" -c <(head -n 2 "$D/cur_moved.csv") --embedding emb_ -f json
expect_jq "$TMP/out" '.embeddings[0]|(.tested|not) and (.skip_reason|test("at least 2"))' "skipped with the reason"
finish
