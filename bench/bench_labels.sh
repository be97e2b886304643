#!/usr/bin/env bash
# Label joins in the daemon (issue #5 target: at least 500,000 labels/s): a
# running `modelwatch serve` (SQLite journal on) holds N predictions with ids
# (10 classes); the N labels are then POSTed to /api/v1/labels in batches of
# 50,000 over loopback, two clients at once, and the rate is N / wall time of
# the POSTs (parse + join + label journal + crediting the window). Side by
# side: Python json.loads of the same label lines and a dict join into a
# confusion matrix. Prints both and the ratio.
#
# usage: bench/bench_labels.sh [N]   (needs build/; N default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
. bench/lib.sh
mkdir -p "$TMP/p" "$TMP/l"
awk -v n="$N" 'BEGIN { srand(7);
  for (i = 0; i < n; i++) {
    c = int(rand() * 10); l = rand() < 0.8 ? c : int(rand() * 10);
    printf "{\"model\":\"bench\",\"version\":\"1\",\"id\":\"r%d\",\"features\":{\"x\":%.4f},\"prediction\":\"c%d\"}\n", i, rand(), c > "'"$TMP"'/preds.ndjson";
    printf "{\"model\":\"bench\",\"id\":\"r%d\",\"label\":\"c%d\"}\n", i, l > "'"$TMP"'/labels.ndjson" } }'
split -l 50000 "$TMP/preds.ndjson" "$TMP/p/"
split -l 50000 "$TMP/labels.ndjson" "$TMP/l/"
printf 'x\n' > "$TMP/ref.csv"; awk 'BEGIN { srand(3); for (i = 0; i < 1000; i++) printf "%.4f\n", rand() }' >> "$TMP/ref.csv"
bench_start_daemon
bench_register bench 1 '{"window_seconds": 86400, "task": "classification"}' "$TMP/ref.csv"
ls "$TMP/p/"* | xargs -P 2 -I{} curl -sf -X POST --data-binary @{} "$URL/api/v1/records" -o /dev/null
t0=$(date +%s.%N)
ls "$TMP/l/"* | xargs -P 2 -I{} curl -sf -X POST --data-binary @{} "$URL/api/v1/labels" -o /dev/null
t1=$(date +%s.%N)
labelled=$(curl -s "$URL/metrics" | sed -n 's/^modelwatch_labels_total{model="bench",version="1"} //p')
[ "$labelled" = "$N" ] || { echo "expected $N labels joined, the daemon says $labelled" >&2; exit 1; }
ours=$(echo "$N / ($t1 - $t0)" | bc)
accuracy=$(curl -s "$URL/metrics" | sed -n 's/^modelwatch_model_metric{model="bench",version="1",metric="accuracy"} //p')
peer=$(/usr/bin/python3 bench/peer_labels.py "$TMP/preds.ndjson" "$TMP/labels.ndjson")
echo "label joins: $N predictions waiting, $N labels in batches of 50,000, 2 clients, loopback"
echo "  modelwatch serve (parse + join + journal + window credit): $ours labels/s (accuracy $accuracy)"
echo "  python json.loads + dict join + confusion counts:          $peer labels/s"
echo "  ratio: $(echo "scale=1; $ours / $peer" | bc)x"
