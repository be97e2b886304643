#!/usr/bin/env bash
# Text in the daemon: a reference with prompt and completion gives the
# baseline descriptor columns; records' prompts and completions are profiled
# and tested through them (window JSON values checked against hand-computed
# descriptors, metrics per descriptor feature); raw text never reaches the
# database (journal files and tables checked with a byte search); the
# opt-in sample store keeps at most N redacted examples per window; a kill -9
# and restart replays the same descriptors; invalid UTF-8, a 10 MB prompt and
# a 20 MB record are handled without losing the other records.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || { echo "sqlite3 not installed: skipped"; exit 0; }
V1=/api/v1/models/chat/versions/1
V2=/api/v1/models/chat/versions/2
DB="$TMP/mw.db"
trap 'kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT
start_daemon d --db "$DB" || { finish; exit 1; }

curl -s -X PUT "$URL$V1" -d '{"window_seconds": 3600}' > /dev/null
curl -s -X PUT "$URL$V2" -d '{"window_seconds": 3600, "text": {"samples": 2, "refusals": ["I cannot", "i am sorry"]}}' > "$TMP/v2.json"
expect_jq "$TMP/v2.json" '.config.text.samples == 2' "samples option registered"
expect_exit 0 "bad text option" -- curl -s -o "$TMP/bad.json" -X PUT "$URL/api/v1/models/chat/versions/9" -d '{"text": {"samples": 5000}}'
expect_jq "$TMP/bad.json" '.error.message | test("samples")' "bad text option: message names samples"

for i in $(seq 30); do
  printf '{"x": %d, "prompt": "question number %d about the weather", "completion": "The answer %d is sunny and warm today."}\n' "$i" "$i" "$i"
done > "$TMP/ref.ndjson"
for v in "$V1" "$V2"; do
  curl -s -X PUT -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/ref.ndjson" "$URL$v/reference" > "$TMP/ref.json"
done
expect_jq "$TMP/ref.json" '[.reference.columns[].name] | index("prompt.chars") != null and index("completion.refusal") != null and index("prompt") == null' "baseline has descriptor columns"

# four records, descriptors by hand:
#   prompt                                                       chars words emails ips cards phones repetition
#   Contact me at jane.doe@example.com or 192.168.1.20 please      57     7     1    1    0     0      0
#   My card is 4111 1111 1111 1111 and phone +44 20 7946 0958      57    13     0    0    1     1      0
#   hello world                                                    11     2     0    0    0     0      0
#   repeat repeat repeat repeat repeat                             34     5     0    0    0     0      2/3
#   completions: "I cannot share that." (refusal), {"ok": true} (JSON),
#   "Hello there, how can I help you today?", "I'm sorry, I can't do that." (refusal)
records() {
  printf '{"model":"chat","version":"%s","features":{"x":1},"prompt":"Contact me at jane.doe@example.com or 192.168.1.20 please","completion":"I cannot share that."}\n' "$1"
  printf '{"model":"chat","version":"%s","features":{"x":2},"prompt":"My card is 4111 1111 1111 1111 and phone +44 20 7946 0958","completion":"{\\"ok\\": true}"}\n' "$1"
  printf '{"model":"chat","version":"%s","features":{"x":3},"prompt":"hello world","completion":"Hello there, how can I help you today?"}\n' "$1"
  printf '{"model":"chat","version":"%s","features":{"x":4},"prompt":"repeat repeat repeat repeat repeat","completion":"I\x27m sorry, I can\x27t do that."}\n' "$1"
}
records 1 > "$TMP/r1.ndjson"
curl -s -X POST --data-binary @"$TMP/r1.ndjson" "$URL/api/v1/records" > "$TMP/p.json"
expect_jq "$TMP/p.json" '.accepted == 4 and .rejected == 0' "records accepted"

# the open window's journal holds descriptors, not text
journal_frames "$DB" > "$TMP/n"
expect_contains "$TMP/n" "1" "journal row written"
journal_bytes "$DB" > "$TMP/j.txt"
expect_contains "$TMP/j.txt" 'mwtext1 57,57,7,' "journal keeps encoded descriptors"
raw_absent() { # $1 what, then patterns: none of them in the database files
  local what=$1 p; shift
  for p in "$@"; do
    if db_bytes "$DB" | grep -a -q -e "$p"; then fail "$what: \"$p\" found in the database"; else pass; fi
  done
}
PII=('jane.doe' 'example.com' '192.168' '4111 1111' '7946')
raw_absent "open window" "${PII[@]}" 'hello world' 'repeat repeat' 'share that'

check_window() { # $1 file, $2 what
  expect_jq "$1" '[.columns[] | {key: .name, value: .quality.current_mean}] | from_entries | .["prompt.chars"] == 39.75 and .["prompt.words"] == 6.75 and .["prompt.emails"] == 0.25 and .["prompt.ips"] == 0.25 and .["prompt.cards"] == 0.25 and .["prompt.phones"] == 0.25 and ((.["prompt.repetition"] - 1/6)|fabs) < 1e-15 and .["completion.refusal"] == 0.5 and .["completion.json_valid"] == 0.25 and .["completion.empty"] == 0' "$2: descriptor means"
  expect_jq "$1" '.columns[] | select(.name == "completion.refusal") | .drift.drifted and .quality.current_missing == 0' "$2: refusals drift"
}
curl -s -X POST "$URL$V1/windows/close" > "$TMP/w1.json"
check_window "$TMP/w1.json" "window"
expect_jq "$TMP/w1.json" '.columns[] | select(.name == "prompt.script") | .type == "categorical"' "script is categorical"
curl -s "$URL$V1/windows" > "$TMP/ws.json"
expect_jq "$TMP/ws.json" '.windows[0].columns | map(.name) | index("completion.chars") != null' "stored window result"
curl -s "$URL/metrics" > "$TMP/m.txt"
expect_contains "$TMP/m.txt" 'modelwatch_feature_drifted{model="chat",version="1",feature="completion.refusal"} 1' "refusal drift metric"
expect_contains "$TMP/m.txt" 'modelwatch_feature_missing_ratio{model="chat",version="1",feature="prompt.chars"} 0' "descriptor quality metric"

# samples: off by default, nothing stored
sqlite3 "$DB" "SELECT count(*) FROM text_samples" > "$TMP/n"
expect_contains "$TMP/n" "0" "no samples without the option"
curl -s "$URL$V1/samples" > "$TMP/s1.json"
expect_jq "$TMP/s1.json" '.windows == []' "samples endpoint empty"
raw_absent "closed window" "${PII[@]}" 'hello world' 'repeat repeat' 'share that'

# samples on: at most 2 per window, redacted
records 2 > "$TMP/r2.ndjson"
curl -s -X POST --data-binary @"$TMP/r2.ndjson" "$URL/api/v1/records" > /dev/null
curl -s -X POST "$URL$V2/windows/close" > "$TMP/w2.json"
expect_jq "$TMP/w2.json" '.columns[] | select(.name == "completion.refusal") | .quality.current_mean == 0.25' "version refusal phrases"
curl -s "$URL$V2/samples" > "$TMP/s2.json"
expect_jq "$TMP/s2.json" '(.windows | length) == 1 and (.windows[0].samples | length) == 2' "two samples kept"
expect_jq "$TMP/s2.json" '.windows[0].samples[0].prompt == "Contact me at [EMAIL] or [IP] please" and .windows[0].samples[1].prompt == "My card is [CARD] and phone [PHONE]" and .windows[0].samples[1].completion == "{\"ok\": true}" and (.windows[0].samples[0].truncated | not)' "samples redacted"
start=$(jq '.windows[0].window_start' "$TMP/s2.json")
curl -s "$URL$V2/samples?window=$start" > "$TMP/s3.json"
expect_jq "$TMP/s3.json" '(.windows | length) == 1 and .windows[0].window_start == '"$start" "samples of one window"
curl -s "$URL$V2/samples?window=12" > "$TMP/s4.json"
expect_jq "$TMP/s4.json" '.windows == []' "no samples for another window"
curl -s "$URL$V2/samples?window=abc" > "$TMP/s5.json"
expect_jq "$TMP/s5.json" '.error.code == "invalid_request"' "bad window parameter"
sqlite3 "$DB" "SELECT count(*) FROM text_samples" > "$TMP/n"
expect_contains "$TMP/n" "1" "one window of samples stored"
# only the two examples' text, redacted: personal data and the other records' text absent
raw_absent "samples stored" "${PII[@]}" 'hello world' 'repeat repeat'

# kill -9 with an open window: the journal replays the same descriptors
curl -s -X POST --data-binary @"$TMP/r1.ndjson" "$URL/api/v1/records" > /dev/null
kill -9 "$PID"
wait "$PID" 2> /dev/null
start_daemon d2 --db "$DB" || { finish; exit 1; }
curl -s -X POST "$URL$V1/windows/close" > "$TMP/w3.json"
check_window "$TMP/w3.json" "after restart"

# bad input: invalid UTF-8 is rejected with its line; the rest is accepted
{ printf '{"model":"chat","version":"1","prompt":"bad \377 byte"}\n'; sed -n 3p "$TMP/r1.ndjson"; } > "$TMP/bad.ndjson"
curl -s -X POST --data-binary @"$TMP/bad.ndjson" "$URL/api/v1/records" > "$TMP/b.json"
expect_jq "$TMP/b.json" '.accepted == 1 and .rejected == 1 and .errors[0].line == 1 and (.errors[0].message | test("invalid UTF-8"))' "invalid UTF-8 rejected alone"
curl -s "$URL/metrics" > "$TMP/m.txt"
expect_contains "$TMP/m.txt" 'modelwatch_records_rejected_total{model="",version="",reason="invalid_record"} 1' "invalid record counted"
# a 10 MB prompt is described; a 20 MB record is over the record limit (16 MiB)
big() { printf '{"model":"chat","version":"1","prompt":"'; yes word | head -c "$1" | tr '\n' ' '; printf '"}\n'; }
{ big 10485760; sed -n 3p "$TMP/r1.ndjson"; } > "$TMP/big.ndjson"
curl -s -X POST --data-binary @"$TMP/big.ndjson" "$URL/api/v1/records" > "$TMP/b.json"
expect_jq "$TMP/b.json" '.accepted == 2 and .rejected == 0' "10 MB prompt accepted"
{ big 20971520; sed -n 3p "$TMP/r1.ndjson"; } > "$TMP/huge.ndjson"
curl -s -X POST --data-binary @"$TMP/huge.ndjson" "$URL/api/v1/records" > "$TMP/h.json"
expect_jq "$TMP/h.json" '.accepted == 1 and .rejected == 1 and (.errors[0].message | test("limit"))' "20 MB record rejected alone"
sed 's/"version":"1"/"version":"2"/' "$TMP/big.ndjson" > "$TMP/big2.ndjson"
curl -s -X POST --data-binary @"$TMP/big2.ndjson" "$URL/api/v1/records" > /dev/null
curl -s -X POST "$URL$V2/windows/close" > /dev/null
curl -s "$URL$V2/samples?limit=1" > "$TMP/s6.json"
expect_jq "$TMP/s6.json" '.windows[0].samples[0] | .truncated and (.prompt | length) <= 4096 and (.prompt | startswith("word word")) and (.completion == null)' "a 10 MB prompt's sample is cut to 4 KiB"
curl -s -X POST "$URL$V1/windows/close" > "$TMP/w4.json"
expect_jq "$TMP/w4.json" '.records == 4 and (.columns[] | select(.name == "prompt.chars") | .quality.current_max == 10485760) and (.columns[] | select(.name == "prompt.words") | .quality.current_max == 2097152)' "10 MB prompt's descriptors"
kill -0 "$PID" && pass || fail "daemon died"
finish
