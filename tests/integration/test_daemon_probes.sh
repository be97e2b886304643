#!/usr/bin/env bash
# Golden-prompt probes end to end against tests/support/fake_openai (an
# OpenAI-compatible server on loopback): a streaming set where 3 of 4 prompts
# pass (pass ratio 0.75, time to first token above the server's delay, tokens
# from the usage chunk), a non-streaming set with an API key from the
# environment (sent, never shown or stored), and sets whose endpoint hangs,
# stalls, answers garbage, 500, a cut stream, 5 MiB, or does not exist: each
# failure counted under its reason. An alert rule on the pass ratio fires;
# the runs are stored and served; `modelwatch probes` shows them; the daemon
# keeps ingesting while a probe hangs and stops promptly with one in flight;
# bad configurations are refused naming the place.
. "$(dirname "$0")/lib.sh"
: "${MW_FAKE_OPENAI:?MW_FAKE_OPENAI must point to the fake_openai test server}"
FAKE_PID=""
trap 'kill $PID $FAKE_PID 2>/dev/null; rm -rf "$TMP"' EXIT

"$MW_FAKE_OPENAI" --ttft-ms 300 --delay-ms 10 --api-key sekrit-key-123 > "$TMP/fake.out" 2>&1 &
FAKE_PID=$!
for _ in $(seq 50); do grep -q '^port' "$TMP/fake.out" && break; sleep 0.1; done
FAKE=http://127.0.0.1:$(awk '/^port/ {print $2}' "$TMP/fake.out")
DEAD=http://127.0.0.1:$(free_port)
export MW_TEST_PROBE_KEY=sekrit-key-123

# set NAME MODEL [extra keys...]: one probe set with one prompt that passes when answered
set_yaml() {
  local name=$1 model=$2; shift 2
  printf '  - name: %s\n    url: %s\n    model: %s\n    api_key_env: MW_TEST_PROBE_KEY\n    interval: 1h\n' "$name" "${URL_OF:-$FAKE}" "$model"
  for kv in "$@"; do printf '    %s\n' "$kv"; done
  printf '    prompts:\n      - {id: q, prompt: "say hello there", expect: {type: contains, value: hello}}\n'
}

cat > "$TMP/mw.yml" <<YAML
db: $TMP/mw.db
alerting: {evaluation_interval: 1s}
rules:
  - name: ProbeFailing
    expr: modelwatch_probe_pass_ratio{probe_set="smoke"} < 0.9
    labels: {severity: warning}
    annotations: {summary: "{{ \$labels.probe_set }} passes {{ \$value }}"}
probes:
  - name: smoke
    url: $FAKE/v1
    model: tiny
    api_key_env: MW_TEST_PROBE_KEY
    stream: true
    interval: 1h
    timeout: 5s
    max_tokens: 32
    prompts:
      - {id: capital, prompt: "say Paris", expect: {type: exact, value: Paris}}
      - {id: sentence, prompt: "say The capital is Paris.", expect: {type: contains, value: paris, ignore_case: true}}
      - id: json
        messages: [{role: system, content: "You answer in JSON."}, {role: user, content: 'say {"a": 1}'}]
        expect: {type: json}
      - {id: digits, prompt: "what is six times seven", expect: {type: regex, value: "^[0-9]+\$"}}
$(set_yaml plain tiny "stream: false" "timeout: 5s")
$(set_yaml nousage tiny "stream: true" "include_usage: false" "timeout: 5s")
$(set_yaml nokey tiny "timeout: 5s" | sed '/api_key_env/d')
$(set_yaml hang hang "timeout: 1s")
$(set_yaml stall stall "stream: true" "timeout: 20s" "stall_timeout: 1s")
$(set_yaml garbage garbage "timeout: 5s")
$(set_yaml garbage_stream garbage "stream: true" "timeout: 5s")
$(set_yaml err500 error500 "timeout: 5s")
$(set_yaml truncated truncated "stream: true" "timeout: 5s")
$(set_yaml truncated_body truncated "timeout: 5s")
$(set_yaml big big "timeout: 5s")
$(URL_OF=$DEAD set_yaml dead tiny "timeout: 2s")
$(set_yaml hang_long hang "timeout: 60s")
YAML
start_daemon d --config "$TMP/mw.yml" || { finish; exit 1; }

# poll PATH FILE FILTER: GETs PATH into FILE until the jq FILTER holds (20 s at most)
poll() {
  for _ in $(seq 100); do
    curl -s "$URL$1" > "$2"
    jq -e "$3" "$2" > /dev/null && return
    sleep 0.2
  done
}

# every set but hang_long has run once (hang_long is hanging for a minute)
poll /api/v1/probes "$TMP/probes.json" '[.probe_sets[] | select(.name != "hang_long") | .runs >= 1] | all'
expect_jq "$TMP/probes.json" '[.probe_sets[] | select(.name != "hang_long") | .runs] | all(. == 1)' "every set ran once within 20 s"
expect_jq "$TMP/probes.json" '(.probe_sets | length) == 14' "14 probe sets listed"

# ---- the streaming set: 3 of 4 pass ----
jq '.probe_sets[] | select(.name == "smoke") | .last_run' "$TMP/probes.json" > "$TMP/smoke.json"
expect_jq "$TMP/smoke.json" '.prompts == 4 and .passed == 3 and .pass_ratio == 0.75' "smoke: 3 of 4 pass"
expect_jq "$TMP/smoke.json" '.failures == {"mismatch": 1}' "smoke: one mismatch"
expect_jq "$TMP/smoke.json" '[.results[] | select(.passed | not) | .id] == ["digits"]' "smoke: digits is the one that fails"
expect_jq "$TMP/smoke.json" '.results[3].detail == "expected regex \"^[0-9]+$\", got \"I do not know.\""' "smoke: mismatch detail says what came"
# prompt_tokens: words of the messages (2, 5, 4 + 3, 5); completion_tokens: 4-byte pieces (2, 6, 2, 4)
expect_jq "$TMP/smoke.json" '[.results[] | .input_tokens] == [2, 5, 7, 5] and [.results[] | .output_tokens] == [2, 6, 2, 4]' "smoke: tokens per prompt from the usage chunk"
expect_jq "$TMP/smoke.json" '.tokens == {"input": 19, "output": 14}' "smoke: token totals"
expect_jq "$TMP/smoke.json" '[.results[] | .ttft_seconds > 0.3 and .ttft_seconds < 2] | all' "smoke: ttft above the server's 300 ms"
expect_jq "$TMP/smoke.json" '([.results[] | .latency_seconds >= .ttft_seconds] | all) and .ttft_seconds.mean > 0.3' "smoke: latency >= ttft, mean ttft > 0.3"
expect_jq "$TMP/smoke.json" '[.results[] | .finish_reason] | all(. == "stop")' "smoke: finish reasons"

# ---- the API key: sent, never shown, logged or stored ----
expect_jq "$TMP/probes.json" '.probe_sets[] | select(.name == "plain") | .last_run.passed == 1 and .api_key_env == "MW_TEST_PROBE_KEY"' "plain: passes with the key from the environment"
expect_jq "$TMP/probes.json" '.probe_sets[] | select(.name == "plain") | .last_run.results[0] | .ttft_seconds == null and .input_tokens == 3 and .output_tokens == 3' "plain: non-streaming usage, no ttft"
expect_jq "$TMP/probes.json" '.probe_sets[] | select(.name == "nousage") | .last_run | .passed == 1 and .results[0].input_tokens == null and .results[0].ttft_seconds > 0.3 and .tokens.input == 0' "nousage: no usage chunk asked for, none counted"
expect_jq "$TMP/probes.json" '.probe_sets[] | select(.name == "nokey") | .last_run.results[0] | .reason == "http_status" and .http_status == 401' "nokey: 401 counted as http_status"
if grep -q sekrit-key "$TMP/probes.json" "$TMP/d.log" "$TMP"/mw.db*; then fail "the API key shows in the API, the log or the database"; else pass; fi

# ---- misbehaving endpoints: one reason each ----
reason() { jq -r --arg s "$1" '.probe_sets[] | select(.name == $s) | .last_run.results[0].reason' "$TMP/probes.json"; }
detail() { jq -r --arg s "$1" '.probe_sets[] | select(.name == $s) | .last_run.results[0].detail' "$TMP/probes.json"; }
for pair in hang:timeout stall:timeout garbage:invalid_response garbage_stream:invalid_response \
            err500:http_status truncated:truncated truncated_body:truncated big:too_large dead:connect; do
  set=${pair%%:*} want=${pair#*:}
  got=$(reason "$set")
  [ "$got" = "$want" ] && pass || fail "$set: reason $got, expected $want ($(detail "$set"))"
done
case "$(detail hang)" in "no complete answer within 1s (timeout)") pass ;; *) fail "hang detail: $(detail hang)" ;; esac
case "$(detail stall)" in "no data for 1s (stall_timeout)") pass ;; *) fail "stall detail: $(detail stall)" ;; esac
case "$(detail err500)" in "HTTP status 500: "*"the model crashed"*) pass ;; *) fail "err500 detail: $(detail err500)" ;; esac
case "$(detail garbage)" in *"the answer began: <html>oops</html>"*) pass ;; *) fail "garbage detail: $(detail garbage)" ;; esac
case "$(detail truncated)" in "the stream ended without data: [DONE]") pass ;; *) fail "truncated detail: $(detail truncated)" ;; esac

# ---- metrics ----
curl -s "$URL/metrics" > "$TMP/metrics"
expect_contains "$TMP/metrics" 'modelwatch_probe_pass_ratio{probe_set="smoke"} 0.75' "pass ratio gauge"
expect_contains "$TMP/metrics" 'modelwatch_probe_runs_total{probe_set="smoke"} 1' "runs counter"
expect_contains "$TMP/metrics" 'modelwatch_probe_passed{probe_set="smoke",prompt="digits"} 0' "per-prompt gauge"
expect_contains "$TMP/metrics" 'modelwatch_probe_failures_total{probe_set="smoke",prompt="digits",reason="mismatch"} 1' "failure counter"
expect_contains "$TMP/metrics" 'modelwatch_probe_failures_total{probe_set="hang",prompt="q",reason="timeout"} 1' "timeout counted"
expect_contains "$TMP/metrics" 'modelwatch_probe_failures_total{probe_set="big",prompt="q",reason="too_large"} 1' "too_large counted"
expect_contains "$TMP/metrics" 'modelwatch_probe_tokens_total{probe_set="smoke",type="input"} 19' "input tokens"
expect_contains "$TMP/metrics" 'modelwatch_probe_tokens_total{probe_set="smoke",type="output"} 14' "output tokens"
expect_contains "$TMP/metrics" 'modelwatch_probe_ttft_seconds_count{probe_set="smoke"} 4' "ttft histogram"
expect_contains "$TMP/metrics" 'modelwatch_probe_ttft_seconds_bucket{probe_set="smoke",le="0.25"} 0' "no ttft under 250 ms"
expect_contains "$TMP/metrics" 'modelwatch_probe_latency_seconds_count{probe_set="smoke"} 4' "latency histogram"
ttft=$(sed -n 's/^modelwatch_probe_run_ttft_seconds{probe_set="smoke",stat="mean"} //p' "$TMP/metrics")
awk -v t="$ttft" 'BEGIN { exit !(t > 0.3 && t < 2) }' && pass || fail "run ttft mean $ttft"
if command -v promtool > /dev/null; then
  promtool check metrics < "$TMP/metrics" > "$TMP/promtool.txt" 2>&1 && pass ||
    { grep -q probe "$TMP/promtool.txt" && fail "promtool on the probe metrics: $(grep probe "$TMP/promtool.txt" | head -3)" || pass; }
fi

# ---- the alert rule on the pass ratio fires ----
poll /api/v1/alerts "$TMP/alerts.json" '.alerts[] | select(.rule == "ProbeFailing" and .state == "firing")'
expect_jq "$TMP/alerts.json" '.alerts[] | select(.rule == "ProbeFailing") | .state == "firing" and .labels.probe_set == "smoke" and .annotations.summary == "smoke passes 0.75"' "ProbeFailing fires on the pass ratio"

# ---- a run on request, stored runs, the CLI ----
status=$(curl -s -o "$TMP/run.json" -w '%{http_code}' -X POST "$URL/api/v1/probes/smoke/run")
[ "$status" = 202 ] && pass || fail "POST run answered $status"
poll /api/v1/probes/smoke "$TMP/smoke_set.json" '.runs == 2'
expect_jq "$TMP/smoke_set.json" '.runs == 2' "a second run on request"
curl -s "$URL/api/v1/probes/smoke/runs?limit=5" > "$TMP/runs.json"
expect_jq "$TMP/runs.json" '(.runs | length) == 2 and .runs[0].end >= .runs[1].end and ([.runs[].passed] == [3, 3])' "two stored runs, newest first"
curl -s "$URL/api/v1/probes/smoke/runs?limit=1" > "$TMP/runs1.json"
expect_jq "$TMP/runs1.json" '(.runs | length) == 1' "limit honoured"
expect_exit 3 "modelwatch probes: a failing last run" -- "$MW_BIN" probes --url "$URL"
expect_contains "$TMP/out" "smoke" "CLI lists the set"
expect_contains "$TMP/out" "3/4" "CLI shows the passed prompts"
expect_contains "$TMP/out" "digits: mismatch: expected regex" "CLI shows the failure"
expect_contains "$TMP/out" "hang_long" "CLI lists a set without a run"
expect_exit 0 "modelwatch probes --set plain: passing" -- "$MW_BIN" probes --url "$URL" --set plain
expect_contains "$TMP/out" "1/1" "CLI shows the runs of a set"
expect_exit 3 "modelwatch probes --set smoke --format json" -- "$MW_BIN" probes --url "$URL" --set smoke --runs 1 --format json
expect_jq "$TMP/out" '(.runs | length) == 1' "CLI JSON is the API's answer"
expect_exit 1 "modelwatch probes --set nosuch" -- "$MW_BIN" probes --url "$URL" --set nosuch
expect_exit 2 "modelwatch probes --runs 0" -- "$MW_BIN" probes --runs 0

# ---- API errors ----
code() { curl -s -o "$TMP/err.json" -w '%{http_code}' "$@"; }
[ "$(code "$URL/api/v1/probes/nosuch/runs")" = 404 ] && pass || fail "unknown set: not 404"
[ "$(code "$URL/api/v1/probes/smoke/runs?limit=0")" = 400 ] && pass || fail "limit=0: not 400"
[ "$(code -X DELETE "$URL/api/v1/probes/smoke")" = 405 ] && pass || fail "DELETE: not 405"
[ "$(code "$URL/api/v1/probes/smoke/run")" = 405 ] && pass || fail "GET run: not 405"
[ "$(code "$URL/api/v1/probes/smoke/other")" = 404 ] && pass || fail "unknown endpoint: not 404"

# ---- ingestion is not held up by the hanging probe ----
V=/api/v1/models/fraud/versions/3
curl -s -X PUT "$URL$V" -d '{"window_seconds": 3600}' > /dev/null
curl -s -X PUT -H 'Content-Type: text/csv' --data-binary @"$FIX/drift/ref.csv" "$URL$V/reference" > /dev/null
t0=$(date +%s.%N)
curl -s -X POST --data-binary @"$FIX/drift/cur.ndjson" "$URL/api/v1/records" > "$TMP/ingest.json"
t1=$(date +%s.%N)
expect_jq "$TMP/ingest.json" '.accepted > 0 and .rejected == 0' "records accepted while a probe hangs"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2) }' && pass || fail "ingestion took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
curl -s "$URL/api/v1/probes/hang_long" > "$TMP/hang_long.json"
expect_jq "$TMP/hang_long.json" '.runs == 0 and .last_run == null' "hang_long still in flight"

# ---- prompt shutdown with a probe request in flight ----
t0=$(date +%s.%N)
kill -TERM "$PID"
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
t1=$(date +%s.%N)
if kill -0 "$PID" 2>/dev/null; then fail "the daemon did not stop within 5 s"; kill -9 "$PID"; else pass; fi
wait "$PID"; rc=$?
[ "$rc" = 0 ] && pass || fail "daemon exit status $rc"
stop_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "stopped in $stop_s s with a probe request in flight"
awk -v s="$stop_s" 'BEGIN { exit !(s < 3) }' && pass || fail "stopping took $stop_s s"

# ---- after a restart: the stored runs are there, the interrupted one is not ----
cat > "$TMP/mw2.yml" <<YAML
db: $TMP/mw.db
probes:
$(set_yaml smoke hang "timeout: 60s")
$(set_yaml hang_long hang "timeout: 60s")
YAML
start_daemon d2 --config "$TMP/mw2.yml" || { finish; exit 1; }
curl -s "$URL/api/v1/probes/smoke/runs" > "$TMP/runs_after.json"
expect_jq "$TMP/runs_after.json" '[.runs[].passed] == [3, 3] and .runs[0].probe_set == "smoke"' "stored runs kept across a restart"
curl -s "$URL/api/v1/probes/hang_long/runs" > "$TMP/hang_after.json"
expect_jq "$TMP/hang_after.json" '.runs == []' "the run cut short by the stop was not stored"
kill -TERM "$PID"; wait "$PID"

# ---- bad configurations: refused, naming the place ----
bad_config() { # DESCRIPTION EXPECTED-TEXT YAML
  printf 'db: %s/bad.db\n%s\n' "$TMP" "$3" > "$TMP/bad.yml"
  expect_exit 1 "$1" -- "$MW_BIN" serve --listen 127.0.0.1:0 --config "$TMP/bad.yml"
  expect_contains "$TMP/err" "$2" "$1: message"
}
P="probes: [{name: s, url: $FAKE, model: m, prompts: [{id: q, prompt: hi, expect:"
bad_config "unknown expectation" 'probes[0] (s).prompts[0] (q).expect.type: expected exact, contains, regex or json' "$P {type: fuzzy, value: x}}]}]"
bad_config "bad regex" 'probes[0] (s).prompts[0] (q).expect.value: not a usable regular expression' "$P {type: regex, value: '(a)\\1'}}]}]"
bad_config "json with a value" 'unknown or misplaced key "value"' "$P {type: json, value: x}}]}]"
bad_config "missing expectation" 'probes[0] (s).prompts[0] (q).expect: required' "probes: [{name: s, url: $FAKE, model: m, prompts: [{id: q, prompt: hi}]}]"
bad_config "unknown key" 'probes[0] (s): bad or unknown key "intervall"' "probes: [{name: s, url: $FAKE, model: m, intervall: 5s, prompts: [{id: q, prompt: hi, expect: {type: json}}]}]"
bad_config "bad URL" 'probes[0] (s): bad or unknown key "url"' "probes: [{name: s, url: ftp://x, model: m, prompts: [{id: q, prompt: hi, expect: {type: json}}]}]"
bad_config "duplicate prompt id" '"q" appears twice' "$P {type: json}}, {id: q, prompt: hi, expect: {type: json}}]}]"
bad_config "duplicate set" 'the name "s" appears twice' "probes: [{name: s, url: $FAKE, model: m, prompts: [{id: q, prompt: hi, expect: {type: json}}]}, {name: s, url: $FAKE, model: m, prompts: [{id: q, prompt: hi, expect: {type: json}}]}]"
bad_config "bad role" 'messages[0]: expected {role: system|developer|user|assistant' "probes: [{name: s, url: $FAKE, model: m, prompts: [{id: q, messages: [{role: robot, content: hi}], expect: {type: json}}]}]"
bad_config "stall longer than timeout" 'stall_timeout: must not be longer than timeout' "probes: [{name: s, url: $FAKE, model: m, timeout: 2s, stall_timeout: 5s, prompts: [{id: q, prompt: hi, expect: {type: json}}]}]"
bad_config "bad set name" 'probes[0] (a b).name: required: 1 to 64 characters' "probes: [{name: 'a b', url: $FAKE, model: m, prompts: [{id: q, prompt: hi, expect: {type: json}}]}]"
bad_config "unset key variable" 'api_key_env: the environment variable MW_TEST_NO_SUCH_KEY is not set' "probes: [{name: s, url: $FAKE, model: m, api_key_env: MW_TEST_NO_SUCH_KEY, prompts: [{id: q, prompt: hi, expect: {type: json}}]}]"
finish
