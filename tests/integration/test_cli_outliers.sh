#!/usr/bin/env bash
# `modelwatch outliers` end to end: help and usage errors, the JSON contract,
# --scores in the current file's row order equal to sklearn's LOF scores
# (tests/fixtures/outliers.txt, 1e-9 relative), exit code 3 with --fail-above,
# text/HTML formats, categorical encodings, and bad input with clear errors.
. "$(dirname "$0")/lib.sh"
F=$FIX/outliers
mw() { "$MW_BIN" "$@"; }

# ---- help and usage ----
expect_exit 0 "help" -- mw outliers --help
expect_contains "$TMP/out" "--fail-above" "help lists --fail-above"
expect_exit 0 "top help" -- mw --help
expect_contains "$TMP/out" "outliers" "top help lists outliers"
expect_exit 2 "no files" -- mw outliers
expect_exit 2 "bad method" -- mw outliers -r "$F/lof_basic_ref.csv" -c "$F/lof_basic_cur.csv" --method knn
expect_contains "$TMP/err" '"knn"' "bad method named"
expect_exit 2 "bad contamination" -- mw outliers -r "$F/lof_basic_ref.csv" -c "$F/lof_basic_cur.csv" --contamination 0.9
expect_exit 2 "bad trees" -- mw outliers -r "$F/lof_basic_ref.csv" -c "$F/lof_basic_cur.csv" --trees 0
expect_exit 2 "bad encode" -- mw outliers -r "$F/lof_basic_ref.csv" -c "$F/lof_basic_cur.csv" --encode hash

# ---- LOF scores equal sklearn's, in row order ----
check_scores() { # CASE K [extra options]
  local c=$1 k=$2; shift 2
  expect_exit 0 "lof $c" -- mw outliers -r "$F/${c}_ref.csv" -c "$F/${c}_cur.csv" --method lof \
    --neighbors "$k" --scores "$TMP/$c.scores" "$@"
  awk -v c="$c" '$1=="case"{on=($2==c)} on&&$1=="array"&&$2=="score"{for(i=4;i<=NF;i++)print $i}' \
    "$FIX/outliers.txt" > "$TMP/$c.want"
  if paste "$TMP/$c.scores" "$TMP/$c.want" | awk 'NF!=2{exit 1} {d=$1-$2; if(d<0)d=-d; if(d>1e-9*($2<0?-$2:$2)) exit 1} END{exit NR==0}'; then
    pass; else fail "$c: scores differ from sklearn"; fi
}
check_scores lof_basic 20
check_scores lof_dups 10
check_scores lof_few_distinct 20
check_scores lof_small_n 20
check_scores lof_std_missing 15 --standardize

# ---- the JSON contract ----
expect_exit 0 "forest json" -- mw outliers -r "$F/if_blobs_ref.csv" -c "$F/if_blobs_cur.csv" --format json --seed 1 --top 5
cp "$TMP/out" "$TMP/if.json"
expect_jq "$TMP/if.json" '.method=="iforest" and .parameters.n_trees==100 and .parameters.max_samples==256' "forest parameters"
expect_jq "$TMP/if.json" '.current.rows==1000 and (.outliers|type)=="number" and .outlier_share==.outliers/1000' "share"
expect_jq "$TMP/if.json" '.expected_share>0.009 and .expected_share<0.011 and .binomial_p_value<1e-10' "binomial test"
expect_jq "$TMP/if.json" '(.top|length)==5 and (.top[0].score>=.top[1].score) and (.top[0].explanation|length)>=1' "top rows"
expect_jq "$TMP/if.json" '.top[0].values|has("f0") and has("f5")' "top row values"
expect_jq "$TMP/if.json" '(.histogram.counts|add)==1000 and (.histogram.edges|length)==21' "histogram"
if grep -qE 'NaN|Infinity' "$TMP/if.json"; then fail "bare NaN/Infinity in JSON"; else pass; fi
expect_exit 0 "deterministic seed" -- mw outliers -r "$F/if_blobs_ref.csv" -c "$F/if_blobs_cur.csv" --format json --seed 1 --top 5
if cmp -s "$TMP/out" "$TMP/if.json"; then pass; else fail "same seed, different report"; fi

# ---- gate ----
expect_exit 3 "fail above" -- mw outliers -r "$F/if_blobs_ref.csv" -c "$F/if_blobs_cur.csv" --fail-above 0.02
expect_contains "$TMP/out" "FAILED" "gate in text"
expect_exit 0 "pass gate" -- mw outliers -r "$F/if_blobs_ref.csv" -c "$F/if_blobs_ref.csv" --fail-above 0.05
expect_exit 0 "explicit threshold" -- mw outliers -r "$F/if_blobs_ref.csv" -c "$F/if_blobs_cur.csv" --threshold 0.99 --format json
expect_jq "$TMP/out" '.outliers==0 and .threshold==0.99 and .binomial_p_value==1' "explicit threshold"

# ---- formats ----
expect_exit 0 "text" -- mw outliers -r "$F/if_corr_ref.csv" -c "$F/if_corr_cur.csv" --trees 50
expect_contains "$TMP/out" "Binomial test" "text report"
if awk 'length > 80 {exit 1}' "$TMP/out"; then pass; else fail "text wider than 80 columns"; fi
expect_exit 0 "html" -- mw outliers -r "$F/if_corr_ref.csv" -c "$F/if_corr_cur.csv" --format html -o "$TMP/r.html"
expect_contains "$TMP/r.html" "<svg" "inline svg"
if grep -qE 'src="http|href="http' "$TMP/r.html"; then fail "html loads from the network"; else pass; fi

# ---- categorical columns and encodings ----
{ echo "x,y,color"; for i in $(seq 0 199); do echo "$((i % 10)),$(((i * 7) % 10)),$([ $((i % 3)) = 0 ] && echo blue || echo red)"; done; } > "$TMP/cat_ref.csv"
printf 'x,y,color\n5,4,red\n5,4,green\n,4,blue\n5,40,red\n' > "$TMP/cat_cur.csv"
expect_exit 0 "numeric only by default" -- mw outliers -r "$TMP/cat_ref.csv" -c "$TMP/cat_cur.csv" --format json
expect_jq "$TMP/out" '.features==["x","y"] and .current.imputed_values==1' "numeric only, one imputed"
expect_exit 0 "onehot" -- mw outliers -r "$TMP/cat_ref.csv" -c "$TMP/cat_cur.csv" --encode onehot --method lof --neighbors 5 --format json
expect_jq "$TMP/out" '.features==["x","y","color=blue","color=red"] and .top[0].row==4' "onehot features, row 4 first"
expect_jq "$TMP/out" '.top[0].explanation[0].feature=="y"' "y explains row 4"
expect_exit 0 "ordinal" -- mw outliers -r "$TMP/cat_ref.csv" -c "$TMP/cat_cur.csv" --encode ordinal --format json
expect_jq "$TMP/out" '.features==["x","y","color"]' "ordinal feature"

# ---- bad input ----
expect_exit 1 "categorical without encode" -- mw outliers -r "$TMP/cat_ref.csv" -c "$TMP/cat_cur.csv" --columns color
expect_contains "$TMP/err" "--encode" "asks for an encoding"
expect_exit 1 "k too large" -- mw outliers -r "$F/lof_small_n_ref.csv" -c "$F/lof_small_n_cur.csv" --method lof --neighbors 30
expect_contains "$TMP/err" "more than 30 reference rows" "k vs rows"
printf 'x,y\n1,2\n' > "$TMP/other.csv"
expect_exit 1 "columns differ" -- mw outliers -r "$F/lof_basic_ref.csv" -c "$TMP/other.csv"
expect_contains "$TMP/err" '"f0"' "missing column named"
printf 'c,k\n7,1\n7,\n7,3\n' > "$TMP/const.csv"
expect_exit 0 "constant column dropped" -- mw outliers -r "$TMP/const.csv" -c "$TMP/const.csv" --format json
expect_jq "$TMP/out" '.features==["k"] and (.notes[0]|test("constant"))' "constant noted"
printf 'c,k\n7,\n7,\n7,\n' > "$TMP/nothing.csv"
expect_exit 1 "nothing usable" -- mw outliers -r "$TMP/nothing.csv" -c "$TMP/nothing.csv"
expect_contains "$TMP/err" "no usable column" "nothing usable"
printf 'a,b\n1,2\n2,inf\n3,1\n' > "$TMP/inf.csv"
expect_exit 1 "infinity" -- mw outliers -r "$TMP/inf.csv" -c "$TMP/inf.csv"
expect_contains "$TMP/err" 'data row 2: infinite' "infinity located"
expect_exit 1 "missing file" -- mw outliers -r "$TMP/nope.csv" -c "$TMP/inf.csv"

finish
