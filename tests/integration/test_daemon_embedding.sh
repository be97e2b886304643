#!/usr/bin/env bash
# Embedding drift in the daemon (issue #9): a reference with "embedding"
# arrays (NDJSON) or prefix columns (CSV, embedding.column) fixes the
# dimension; each window's record embeddings are tested at close (MMD with a
# permutation p-value, domain classifier AUC, largest mean shifts), in the
# window result and the metrics. A same-distribution window does not drift, a
# shifted one does; embeddings of the wrong dimension are left out and
# counted while the rest of the record counts; the journal replays open
# windows after a restart with the same statistic.
. "$(dirname "$0")/lib.sh"
D=$FIX/embedding
V=/api/v1/models/emb/versions/1
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
# records without "ts" (arrival time): every window is the open one, closed by the API
nots() { sed 's/"ts": [0-9.e+-]*, //' "$@"; }
start_daemon e1 --db "$TMP/e.db" || { finish; exit 1; }

# ---- configuration errors ----
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT "$URL$V" -d '{"embedding": {"samples": 1}}')
[ "$code" = 400 ] && grep -q 'samples' "$TMP/body" && pass || fail "bad samples: $code $(cat "$TMP/body")"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT "$URL$V" -d '{"embedding": {"colum": "x"}}')
[ "$code" = 400 ] && grep -q 'colum' "$TMP/body" && pass || fail "unknown key: $code $(cat "$TMP/body")"

# ---- NDJSON reference with embedding arrays ----
curl -s -X PUT "$URL$V" -d '{"window_seconds": 3600, "embedding": {"permutations": 100, "seed": 3}}' > /dev/null
code=$(curl -s -o "$TMP/ref.json" -w '%{http_code}' -X PUT -H 'Content-Type: application/x-ndjson' --data-binary @"$D/ref.ndjson" "$URL$V/reference")
[ "$code" = 200 ] && pass || fail "reference upload: $code $(cat "$TMP/ref.json")"
expect_jq "$TMP/ref.json" '[.. | strings | select(test("embedding\\["))] | length == 0' "embedding columns are not features"
expect_jq "$TMP/ref.json" '.embedding=={"column":"embedding","dim":8,"sample":300,"reference_vectors":300,"reference_invalid":0}' "described"

# window 1: same distribution, plus two records with a wrong dimension
{
  nots "$D/rec_same.ndjson"
  echo '{"model":"emb","version":"1","features":{"amount":100},"embedding":[1,2,3]}'
  echo '{"model":"emb","version":"1","features":{"amount":101},"embedding":[1,2,3,4,5,6,7,8,9]}'
  echo '{"model":"emb","version":"1","features":{"amount":102}}'
} > "$TMP/w1.ndjson"
curl -s -X POST --data-binary @"$TMP/w1.ndjson" "$URL/api/v1/records" > "$TMP/post1.json"
expect_jq "$TMP/post1.json" '.accepted==203 and .rejected==0 and .embeddings_rejected==2' "bad embeddings do not reject the records"
expect_jq "$TMP/post1.json" '.warnings[0].line==201 and (.warnings[0].message|test("has 3 numbers, the reference.s dimension is 8"))' "warning names the line and the dimensions"
curl -s -X POST "$URL$V/windows/close" > "$TMP/w1.json"
expect_jq "$TMP/w1.json" '.records==203 and .embeddings[0].name=="embedding" and .embeddings[0].dim==8' "window has the embedding"
expect_jq "$TMP/w1.json" '.embeddings[0]|.n_ref==300 and .n_cur==200 and .cur_invalid==2 and .cur_missing==1 and .tested' "counts"
expect_jq "$TMP/w1.json" '.embeddings[0]|(.drifted|not) and .mmd.p_value>=0.05 and .classifier.auc<0.55' "same distribution: no drift"
expect_jq "$TMP/w1.json" '.embedding_drift==false and (.columns|map(.name)==["amount"])' "amount still tested"

# window 2: shifted dimensions 2 and 5
nots "$D/rec_moved.ndjson" > "$TMP/w2.ndjson"
curl -s -X POST --data-binary @"$TMP/w2.ndjson" "$URL/api/v1/records" > "$TMP/post2.json"
expect_jq "$TMP/post2.json" '.accepted==200 and (has("warnings")|not)' "window 2 accepted"
curl -s -X POST "$URL$V/windows/close" > "$TMP/w2.json"
expect_jq "$TMP/w2.json" '.embeddings[0]|.drifted and .mmd.drifted and .mmd.p_value<0.05 and .classifier.auc>0.6 and .classifier.drifted' "shifted window drifts"
expect_jq "$TMP/w2.json" '[.embeddings[0].top_shifts[0:2][].dim]==[2,5]' "largest shifts: dims 2 and 5"
expect_jq "$TMP/w2.json" '.embedding_drift==true' "window flag"
curl -s "$URL/metrics" > "$TMP/metrics.txt"
expect_contains "$TMP/metrics.txt" 'modelwatch_embedding_drifted{model="emb",version="1",embedding="embedding"} 1' "drifted gauge"
expect_contains "$TMP/metrics.txt" 'modelwatch_embedding_drift_statistic{model="emb",version="1",embedding="embedding",test="mmd"}' "mmd statistic"
expect_contains "$TMP/metrics.txt" 'modelwatch_embedding_drift_statistic{model="emb",version="1",embedding="embedding",test="classifier"}' "classifier auc"
expect_contains "$TMP/metrics.txt" "modelwatch_embedding_drift_p_value{model=\"emb\",version=\"1\",embedding=\"embedding\",test=\"mmd\"} $(jq -r .embeddings[0].mmd.p_value "$TMP/w2.json" | sed 's/0*$//')" "p-value gauge"
expect_contains "$TMP/metrics.txt" 'modelwatch_embedding_rejected_total{model="emb",version="1",reason="dimension"} 2' "rejections counted"
if command -v promtool >/dev/null; then
  promtool check metrics < "$TMP/metrics.txt" > "$TMP/pt.txt" 2>&1 && pass || fail "promtool: $(head -3 "$TMP/pt.txt")"
fi

# ---- restart: the baseline sample and an open window (journal) come back ----
curl -s -X POST --data-binary @"$TMP/w2.ndjson" "$URL/api/v1/records" > /dev/null
kill "$PID"; wait "$PID" 2>/dev/null
start_daemon e2 --db "$TMP/e.db" || { finish; exit 1; }
curl -s -X POST "$URL$V/windows/close" > "$TMP/w3.json"
expect_jq "$TMP/w3.json" '.embeddings[0]|.n_cur==200 and .n_ref==300 and .drifted' "replayed window drifts"
expect_jq "$TMP/w3.json" ".embeddings[0].mmd.statistic == $(jq .embeddings[0].mmd.statistic "$TMP/w2.json")" "same vectors, same statistic"

# ---- CSV reference with prefix columns ----
V2=/api/v1/models/emb/versions/2
curl -s -X PUT "$URL$V2" -d '{"window_seconds": 3600, "embedding": {"column": "emb_", "samples": 150}}' > /dev/null
code=$(curl -s -o "$TMP/ref2.json" -w '%{http_code}' -X PUT -H 'Content-Type: text/csv' --data-binary @"$D/ref.csv" "$URL$V2/reference")
[ "$code" = 200 ] && pass || fail "csv reference: $code $(cat "$TMP/ref2.json")"
nots "$D/rec_moved.ndjson" | sed 's/"version": "1"/"version": "2"/' > "$TMP/v2.ndjson"
curl -s -X POST --data-binary @"$TMP/v2.ndjson" "$URL/api/v1/records" > "$TMP/post3.json"
expect_jq "$TMP/post3.json" '.accepted==200' "version 2 records"
curl -s -X POST "$URL$V2/windows/close" > "$TMP/v2w.json"
expect_jq "$TMP/v2w.json" '.embeddings[0]|.dim==8 and .n_ref==150 and .n_cur==150 and .drifted' "csv prefix, bounded samples, drift"
V3=/api/v1/models/emb/versions/3
curl -s -X PUT "$URL$V3" -d '{"embedding": {"column": "vec_"}}' > /dev/null
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT -H 'Content-Type: text/csv' --data-binary @"$D/ref.csv" "$URL$V3/reference")
[ "$code" = 400 ] && grep -q 'vec_' "$TMP/body" && pass || fail "missing embedding column: $code $(cat "$TMP/body")"
# other NDJSON arrays stay out of the features, as before
V4=/api/v1/models/emb/versions/4
curl -s -X PUT "$URL$V4" -d '{}' > /dev/null
sed 's/^{/{"tags": [1, 2], /' "$D/ref.ndjson" > "$TMP/ref4.ndjson"
curl -s -X PUT -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/ref4.ndjson" "$URL$V4/reference" > "$TMP/ref4.json"
expect_jq "$TMP/ref4.json" '([.. | strings | select(test("tags|embedding\\["))] | length == 0) and ([.. | strings | select(. == "amount")] | length > 0)' "tags array ignored, amount kept"
finish
