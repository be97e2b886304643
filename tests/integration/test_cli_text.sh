#!/usr/bin/env bash
# Text columns in the batch CLI: prompt and completion inferred as text and
# expanded into descriptor columns; a planted shift (longer completions, more
# refusals) detected with the statistics scipy gives on the same descriptors
# (tests/fixtures/text/gen_text.py -> expected.json); the schema type text,
# --no-text-inference, --refusals, a small current file aligned with its
# reference, profile, and bad input.
. "$(dirname "$0")/lib.sh"
T="$FIX/text"
E="$T/expected.json"

# jq check of a drift column against expected.json: $1 column, $2 jq on (.c = column, .e = expected)
col_check() {
  jq -n --slurpfile d "$TMP/d.json" --slurpfile e "$E" \
    "(\$d[0].columns[] | select(.name == \"$1\")) as \$c | \$e[0][\"$1\"] as \$x | $2" > "$TMP/chk"
  if [ "$(cat "$TMP/chk")" = "true" ]; then pass; else fail "$1: $2 gave $(cat "$TMP/chk")"; fi
}

# 4 of 31 columns drift (completion chars, bytes, words and refusal): a
# data set decision at a share of 0.1
expect_exit 3 "drift on text found with --fail-on-drift" -- \
  "$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" -f json -o "$TMP/d.json" --fail-on-drift \
  --drift-share 0.1
expect_jq "$TMP/d.json" '[.columns[] | select(.drift.drifted) | .name] == ["completion.chars","completion.bytes","completion.words","completion.refusal"]' "the shifted descriptors drift, nothing else"
expect_jq "$TMP/d.json" '[.columns[].name] | index("prompt") == null and index("completion") == null' "no raw text columns"
expect_jq "$TMP/d.json" '[.columns[].name | select(startswith("completion."))] == ["completion.chars","completion.bytes","completion.words","completion.empty","completion.invalid_utf8","completion.non_ascii","completion.script","completion.emails","completion.phones","completion.cards","completion.ips","completion.urls","completion.repetition","completion.refusal","completion.json_valid"]' "descriptor columns in order"
col_check completion.chars '$c.drift.test == "ks" and $c.drift.drifted and (($c.drift.statistic - $x.ks_statistic)|fabs) < 1e-12 and (($c.drift.p_value - $x.ks_p_value)|fabs) <= 1e-6 * $x.ks_p_value and $c.quality.reference_mean == $x.reference_mean and $c.quality.current_mean == $x.current_mean'
col_check completion.refusal '$c.drift.test == "chi2" and $c.drift.drifted and (($c.drift.statistic - $x.chi2_statistic)|fabs) < 1e-9 and (($c.drift.p_value - $x.chi2_p_value)|fabs) <= 1e-6 * $x.chi2_p_value and (($c.quality.current_mean - $x.current_mean)|fabs) < 1e-15 and $c.quality.reference_mean == $x.reference_mean'
col_check completion.words '(($c.quality.current_mean - $x.current_mean)|fabs) < 1e-12 and $c.drift.drifted'
col_check prompt.emails '(($c.drift.p_value - $x.chi2_p_value)|fabs) < 1e-9 and ($c.drift.drifted|not) and (($c.quality.current_mean - $x.current_mean)|fabs) < 1e-15'
col_check prompt.script '$c.type == "categorical" and ($c.drift.drifted|not)'

# inference off: the same columns are plain categories
"$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" -f json --no-text-inference > "$TMP/n.json"
expect_jq "$TMP/n.json" '[.columns[].name] == ["id","prompt","completion"] and (.columns[1].type == "categorical")' "--no-text-inference keeps categories"

# schema text on a short column (below the inference rule), and the text report
printf 'id: ignore\nprompt: categorical\ncompletion: text\n' > "$TMP/s.yaml"
"$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" --schema "$TMP/s.yaml" > "$TMP/d.txt"
expect_contains "$TMP/d.txt" "completion.refusal" "text report names descriptor columns"
"$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" --schema "$TMP/s.yaml" -f json > "$TMP/s.json"
expect_jq "$TMP/s.json" '([.columns[].name] | index("prompt") != null and index("prompt.chars") == null and index("completion.chars") != null)' "schema decides which column is text"
printf 'q,a\nhi,ok\nhey,fine\n' > "$TMP/short.csv"
printf 'a: text\n' > "$TMP/a.yaml"
"$MW_BIN" profile --schema "$TMP/a.yaml" -f json "$TMP/short.csv" > "$TMP/p.json"
expect_jq "$TMP/p.json" '[.columns[].name] | index("a.chars") != null and index("q") != null' "profile of a schema text column"

# --refusals: the phrase "sure" marks every completion that is not a refusal
printf '# one phrase per line\n\nSURE\n' > "$TMP/ref.txt"
"$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" -f json --refusals "$TMP/ref.txt" > "$TMP/d.json"
col_check completion.refusal '(($c.quality.current_mean - (1 - $x.current_mean))|fabs) < 1e-12 and (($c.quality.reference_mean - (1 - $x.reference_mean))|fabs) < 1e-12'
: > "$TMP/empty.txt"
expect_exit 1 "empty refusal list" -- "$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" --refusals "$TMP/empty.txt"
expect_contains "$TMP/err" "no phrases" "empty refusal list: message"
expect_exit 1 "missing refusal file" -- "$MW_BIN" profile --refusals "$TMP/nope.txt" "$T/ref.csv"
expect_contains "$TMP/err" "nope.txt: cannot open" "missing refusal file: message"

# a current file too small for inference is expanded like its reference
head -4 "$T/cur.csv" > "$TMP/small.csv"
"$MW_BIN" quality -r "$T/ref.csv" -c "$TMP/small.csv" -f json > "$TMP/q.json"
expect_jq "$TMP/q.json" '([.columns[].name] | index("completion.chars") != null and index("completion") == null) and .dataset_quality.columns_only_in_reference == [] and .dataset_quality.columns_only_in_current == []' "small current aligned with its reference"

# bad input: a descriptor name already taken, invalid UTF-8 (the reader's error)
printf 'completion,completion.chars\nsome text here,1\n' > "$TMP/clash.csv"
expect_exit 1 "descriptor name taken" -- "$MW_BIN" profile --schema "$TMP/s.yaml" "$TMP/clash.csv"
expect_contains "$TMP/err" 'expands into "completion.chars"' "name clash message"
printf 'a\nok \377 bad\n' > "$TMP/bad.csv"
expect_exit 1 "invalid UTF-8" -- "$MW_BIN" profile --schema "$TMP/a.yaml" "$TMP/bad.csv"
expect_contains "$TMP/err" "invalid UTF-8" "invalid UTF-8 message"
# a 10 MB text: over the default 8 MiB line limit, a clear error naming the
# line; --max-line reads it and describes it (no truncation)
{ echo 'completion'; echo 'short text one'; head -c 10485760 /dev/zero | tr '\0' 'a'; echo; } > "$TMP/long.csv"
expect_exit 1 "10 MB text over the default limit" -- "$MW_BIN" profile --schema "$TMP/s.yaml" "$TMP/long.csv"
expect_contains "$TMP/err" "long.csv:3: line is longer than the limit of 8388608 bytes" "line limit message names file and line"
"$MW_BIN" profile --schema "$TMP/s.yaml" --max-line 16777216 -f json "$TMP/long.csv" > "$TMP/long.json"
expect_jq "$TMP/long.json" '[.columns[] | select(.name == "completion.bytes") | .max] == [10485760]' "--max-line: the 10 MB text described whole"
expect_exit 2 "--max-line out of range" -- "$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" --max-line 10
expect_contains "$TMP/err" "--max-line expects a whole number from 1024" "--max-line range message"
"$MW_BIN" drift --help > "$TMP/h.txt"
expect_contains "$TMP/h.txt" "--refusals FILE" "help names --refusals"
expect_contains "$TMP/h.txt" "--max-line BYTES" "help names --max-line"
finish
