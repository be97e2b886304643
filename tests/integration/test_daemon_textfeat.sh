#!/usr/bin/env bash
# Text features in the daemon (tests/fixtures/textfeat): a feature "review"
# declared text in the version's columns, or inferred from the reference,
# gets descriptor columns; records' features.review are described and tested
# through them with the same statistics `modelwatch drift` gives on the same
# data as CSV (compared value for value); the drift metrics per descriptor;
# the raw reviews never reach the database (a sentinel word searched in the
# database files); a kill -9 mid-window replays the same numbers; numbers,
# booleans and missing-value tokens count as missing, and every copy of the
# value is nulled in the journal; a 10 MB review is described, a 20 MB record
# and invalid UTF-8 are rejected alone; opt-in samples carry the redacted
# review under "texts".
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || { echo "sqlite3 not installed: skipped"; exit 0; }
T="$FIX/textfeat"
DB="$TMP/mw.db"
V=/api/v1/models/shop/versions
trap 'kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT
start_daemon d --db "$DB" || { finish; exit 1; }

declared='{"window_seconds": 86400, "columns": {"review": {"type": "text"}}}'
register() { # $1 version, $2 config: registered, the reference uploaded
  curl -s -X PUT "$URL$V/$1" -d "$2" > /dev/null
  curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$T/ref.csv" "$URL$V/$1/reference" > "$TMP/ref$1.json"
}
post() { # $1 version, $2 file of records (version @V@), $3 the response
  sed "s/@V@/$1/" "$2" > "$TMP/post.ndjson"
  curl -s -X POST --data-binary @"$TMP/post.ndjson" "$URL/api/v1/records" > "$3"
}
register 1 "$declared"
register 2 '{"window_seconds": 86400}'
register 3 "$declared"
expect_jq "$TMP/ref1.json" '[.reference.columns[].name] | index("review.chars") != null and index("review.json_valid") != null and index("review") == null' "declared text: descriptor columns"
expect_jq "$TMP/ref2.json" '[.reference.columns[].name] | index("review.chars") != null and index("review") == null' "inferred text: descriptor columns"
curl -s -o "$TMP/bad.json" -X PUT "$URL$V/9" -d '{"columns": {"review": {"type": "txt"}}}'
expect_jq "$TMP/bad.json" '.error.message | test("numeric, categorical, text or ignore")' "bad column type named"

post 1 "$T/cur.ndjson" "$TMP/p1.json"
expect_jq "$TMP/p1.json" '.accepted == 150 and .rejected == 0' "records accepted"
journal_bytes "$DB" > "$TMP/j.txt"
expect_contains "$TMP/j.txt" '"review":"\u001fmwtext1 ' "journal keeps encoded descriptors"
expect_contains "$TMP/j.txt" '"review":null' "journal keeps a null review"
no_sentinel() { # $1 when: the raw reviews are nowhere in the database files
  if db_bytes "$DB" | grep -a -q -e SENTINELQX7 -e 'jo.smith' -e '555 0199'; then
    fail "$1: raw review text in the database"
  else pass; fi
}
no_sentinel "open window"

# the window equals the batch CLI on the same data (review.* value for value)
curl -s -X POST "$URL$V/1/windows/close" > "$TMP/w1.json"
printf 'review: text\n' > "$TMP/schema.yaml"
"$MW_BIN" drift -r "$T/ref.csv" -c "$T/cur.csv" --schema "$TMP/schema.yaml" -f json -o "$TMP/d.json"
review_cols() { # $1 result: the review.* columns' tests and quality (the mean apart:
  # the window's running mean may differ from the batch's sum / n in the last bits)
  jq -c '[.columns[] | select(.name | startswith("review")) | {name, type, test: .drift.test, statistic: .drift.statistic, p_value: .drift.p_value, drifted: .drift.drifted, missing: .quality.current_missing, min: .quality.current_min, max: .quality.current_max}]' "$1"
}
same_as_batch() { # $1 window result, $2 what
  review_cols "$1" > "$TMP/win.txt"
  if cmp -s "$TMP/batch.txt" "$TMP/win.txt"; then pass; else
    fail "$2: window differs from the batch CLI: $(diff <(jq . "$TMP/batch.txt") <(jq . "$TMP/win.txt") | head -20)"; fi
  jq -n --slurpfile w "$1" --slurpfile d "$TMP/d.json" '[($w[0].columns[], $d[0].columns[]) | select(.name | startswith("review")) | select(.type == "numeric")] | group_by(.name) | length == 14 and all(length == 2 and ((.[0].quality.current_mean - .[1].quality.current_mean) | fabs) <= 1e-12 * (.[1].quality.current_mean | fabs))' > "$TMP/means"
  expect_contains "$TMP/means" true "$2: means as the batch CLI's"
}
review_cols "$TMP/d.json" > "$TMP/batch.txt"
expect_jq "$TMP/batch.txt" 'length == 15 and all(.statistic != null)' "batch: 15 review columns tested"
same_as_batch "$TMP/w1.json" "declared"
expect_jq "$TMP/w1.json" '[.columns[] | select(.drift.drifted) | .name] == ["x","review.chars","review.bytes","review.words","review.emails","review.phones"]' "the planted shifts drift, nothing else"
expect_jq "$TMP/w1.json" '(.columns[] | select(.name == "review.chars") | .drift.test == "ks" and .quality.current_missing == 15) and ([.columns[].name] | index("review") == null)' "missing reviews counted, no raw column"
curl -s "$URL/metrics" > "$TMP/m.txt"
expect_contains "$TMP/m.txt" 'modelwatch_feature_drifted{model="shop",version="1",feature="review.chars"} 1' "drift metric of a descriptor"
expect_contains "$TMP/m.txt" 'modelwatch_feature_drifted{model="shop",version="1",feature="review.script"} 0' "no drift metric of a descriptor"
no_sentinel "closed window"

# inferred: the same numbers
post 2 "$T/cur.ndjson" "$TMP/p2.json"
curl -s -X POST "$URL$V/2/windows/close" > "$TMP/w2.json"
same_as_batch "$TMP/w2.json" "inferred"

# kill -9 mid-window: the journal replays the same numbers
head -75 "$T/cur.ndjson" > "$TMP/first.ndjson"
tail -n +76 "$T/cur.ndjson" > "$TMP/second.ndjson"
post 3 "$TMP/first.ndjson" "$TMP/p3.json"
kill -9 "$PID"
wait "$PID" 2> /dev/null
start_daemon d2 --db "$DB" || { finish; exit 1; }
post 3 "$TMP/second.ndjson" "$TMP/p3.json"
curl -s -X POST "$URL$V/3/windows/close" > "$TMP/w3.json"
expect_jq "$TMP/w3.json" '.records == 150' "restart: all records in the window"
same_as_batch "$TMP/w3.json" "after a restart"
no_sentinel "after restart"

# values that are not text: missing; every copy of the value nulled in the journal
{
  printf '{"model":"shop","version":"@V@","features":{"x":1,"review":123456789}}\n'
  printf '{"model":"shop","version":"@V@","features":{"x":2,"review":true}}\n'
  printf '{"model":"shop","version":"@V@","features":{"x":3,"review":"NA"}}\n'
  printf '{"model":"shop","version":"@V@","features":{"x":4,"review":""}}\n'
  printf '{"model":"shop","version":"@V@","features":{"review":"SENTINELQX7 dropped"},"features":{"x":5,"re\\u0076iew":"two words"}}\n'
} > "$TMP/odd.ndjson"
post 1 "$TMP/odd.ndjson" "$TMP/p4.json"
expect_jq "$TMP/p4.json" '.accepted == 5 and .rejected == 0' "odd values accepted"
journal_bytes "$DB" > "$TMP/j.txt"
if grep -a -q -e 123456789 -e '"review":true' -e '"NA"' "$TMP/j.txt"; then fail "odd values journaled"; else pass; fi
expect_contains "$TMP/j.txt" '"features":{"review":null},"features":{"x":5,"re\u0076iew":"\u001fmwtext1 ' "an earlier duplicate nulled, the kept one encoded"
no_sentinel "duplicate features"
curl -s -X POST "$URL$V/1/windows/close" > "$TMP/w4.json"
expect_jq "$TMP/w4.json" '.records == 5 and (.columns[] | select(.name == "review.words") | .quality.current_missing == 4 and .quality.current_mean == 2)' "numbers, booleans, tokens are missing"

# bad input: a 10 MB review is described, a 20 MB record rejected alone,
# invalid UTF-8 rejected with its line
big() { printf '{"model":"shop","version":"1","features":{"x":1,"review":"'; yes word | head -c "$1" | tr '\n' ' '; printf '"}}\n'; }
{ big 10485760; sed -n 1p "$T/cur.ndjson" | sed 's/@V@/1/'; } > "$TMP/big.ndjson"
curl -s -X POST --data-binary @"$TMP/big.ndjson" "$URL/api/v1/records" > "$TMP/b.json"
expect_jq "$TMP/b.json" '.accepted == 2 and .rejected == 0' "10 MB review accepted"
{ big 20971520; sed -n 2p "$T/cur.ndjson" | sed 's/@V@/1/'; } > "$TMP/huge.ndjson"
curl -s -X POST --data-binary @"$TMP/huge.ndjson" "$URL/api/v1/records" > "$TMP/h.json"
expect_jq "$TMP/h.json" '.accepted == 1 and .rejected == 1 and .errors[0].line == 1 and (.errors[0].message | test("limit"))' "20 MB record rejected alone"
printf '{"model":"shop","version":"1","features":{"x":1,"review":"bad \377 byte"}}\n' > "$TMP/u.ndjson"
curl -s -X POST --data-binary @"$TMP/u.ndjson" "$URL/api/v1/records" > "$TMP/u.json"
expect_jq "$TMP/u.json" '.accepted == 0 and .rejected == 1 and (.errors[0].message | test("invalid UTF-8"))' "invalid UTF-8 rejected"
curl -s -X POST "$URL$V/1/windows/close" > "$TMP/w5.json"
expect_jq "$TMP/w5.json" '.records == 3 and (.columns[] | select(.name == "review.chars") | .quality.current_max == 10485760) and (.columns[] | select(.name == "review.words") | .quality.current_max == 2097152)' "10 MB review's descriptors"

# opt-in samples: the redacted review under "texts", prompt and completion kept
register 4 '{"window_seconds": 86400, "columns": {"review": {"type": "text"}}, "text": {"samples": 2}}'
head -3 "$T/cur.ndjson" > "$TMP/three.ndjson"
post 4 "$TMP/three.ndjson" "$TMP/p5.json"
curl -s -X POST "$URL$V/4/windows/close" > /dev/null
curl -s "$URL$V/4/samples" > "$TMP/s.json"
expect_jq "$TMP/s.json" '(.windows[0].samples | length) == 2 and (.windows[0].samples[0] | .prompt == null and .completion == null and (.truncated | not) and (.texts.review | endswith("call [PHONE] please")) and .id == "c-0")' "samples: the redacted review"
if grep -q '555 0199' "$TMP/s.json"; then fail "samples: phone number not redacted"; else pass; fi
kill -0 "$PID" && pass || fail "daemon died"
finish
