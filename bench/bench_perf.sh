#!/usr/bin/env bash
# Performance-metric benchmark (issue #5): modelwatch's metrics (bench_perf)
# and scikit-learn's (bench/peer_perf.py) on the same arrays in the same run,
# file parsing excluded: N (default 1,000,000) labels of 10 classes for
# precision_recall_fscore_support(average='macro'), confusion_matrix and
# accuracy_score; N binary labels and scores for roc_auc_score,
# average_precision_score and log_loss. Prints both best-of times, the ratio
# (target >= 20x) and whether the values agree within 1e-12.
# roc_auc_score_threads: ours on every core (the caller's runner) against the
# same sklearn time.
#
# usage: bench/bench_perf.sh [N] [RUNS]     (needs a build: BUILD=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${2:-5}
BIN=${BUILD:-build}/bench/bench_perf
[ -x "$BIN" ] || { echo "build first: cmake --build ${BUILD:-build} --target bench_perf" >&2; exit 1; }
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
"$BIN" --write "$DATA" "$N"
"$BIN" "$DATA" "$RUNS" > "$DATA/ours.txt"
/usr/bin/python3 bench/peer_perf.py "$DATA" "$(( RUNS < 3 ? RUNS : 3 ))" > "$DATA/peer.txt"
echo "performance metrics: $N records (10 classes / binary), best of $RUNS (sklearn: best of $(( RUNS < 3 ? RUNS : 3 )))"
printf "  %-40s %12s %12s %9s  %s\n" metric "modelwatch" "sklearn" ratio "agree"
# ROC AUC on every core (ours) against sklearn's one thread, as its own line
awk '$1 == "roc_auc_score" { $1 = "roc_auc_score_threads"; print }' "$DATA/peer.txt" > "$DATA/extra.txt"
cat "$DATA/extra.txt" >> "$DATA/peer.txt"
join <(sort "$DATA/ours.txt") <(sort "$DATA/peer.txt") | while read -r name ts vs tp vp; do
  awk -v n="$name" -v ts="$ts" -v tp="$tp" -v vs="$vs" -v vp="$vp" 'BEGIN {
    d = vs - vp; if (d < 0) d = -d
    printf "  %-40s %10.2f ms %10.2f ms %8.0fx  %s\n", n, ts * 1000, tp * 1000, tp / ts, (d <= 1e-12 ? "yes" : "NO (" vs " vs " vp ")") }'
done
