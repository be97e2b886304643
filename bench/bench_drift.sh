#!/usr/bin/env bash
# Drift benchmark (issue #2): `modelwatch drift` end to end (read both CSV
# files, auto tests, JSON report) against a pandas + scipy script doing the same
# tests, on ROWS (default 1,000,000) reference and current rows of 10 numeric
# and 2 categorical columns. Prints medians of RUNS runs, peak RSS, the ratio,
# and checks that both give the same answers.
#
# usage: bench/bench_drift.sh [ROWS] [RUNS]      (needs a build in ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
RUNS=${2:-5}
BIN=${MW_BIN:-build/modelwatch}
DATA=bench/data/drift-$ROWS
OUT=bench/out
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
[ -f "$DATA/current.csv" ] || /usr/bin/python3 bench/gen_drift_data.py "$DATA" "$ROWS"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# one timed run: prints "seconds peak_kib"
timed() { /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" > "$OUT/last.json"; cat "$OUT/time.txt"; }

: > "$OUT/ours.txt"; : > "$OUT/peer.txt"
for i in $(seq "$RUNS"); do
  timed "$BIN" drift --reference "$DATA/reference.csv" --current "$DATA/current.csv" --format json >> "$OUT/ours.txt"
done
cp "$OUT/last.json" "$OUT/ours.json"
PEER_RUNS=$(( RUNS < 3 ? RUNS : 3 ))
for i in $(seq "$PEER_RUNS"); do
  timed /usr/bin/python3 bench/peer_drift.py "$DATA/reference.csv" "$DATA/current.csv" >> "$OUT/peer.txt"
done
cp "$OUT/last.json" "$OUT/peer.json"

ours_s=$(cut -d' ' -f1 "$OUT/ours.txt" | median); ours_kb=$(cut -d' ' -f2 "$OUT/ours.txt" | median)
peer_s=$(cut -d' ' -f1 "$OUT/peer.txt" | median); peer_kb=$(cut -d' ' -f2 "$OUT/peer.txt" | median)
echo "drift benchmark: $ROWS reference + $ROWS current rows, 10 numeric + 2 categorical columns"
printf "  modelwatch drift : median %6.2f s  peak RSS %5.0f MiB  (%d runs: %s)\n" "$ours_s" "$(echo "$ours_kb/1024" | bc -l)" "$RUNS" "$(cut -d' ' -f1 "$OUT/ours.txt" | tr '\n' ' ')"
printf "  pandas + scipy   : median %6.2f s  peak RSS %5.0f MiB  (%d runs: %s)\n" "$peer_s" "$(echo "$peer_kb/1024" | bc -l)" "$PEER_RUNS" "$(cut -d' ' -f1 "$OUT/peer.txt" | tr '\n' ' ')"
printf "  ratio (peer / modelwatch): %.1fx faster, %.1fx less memory\n" "$(echo "$peer_s/$ours_s" | bc -l)" "$(echo "$peer_kb/$ours_kb" | bc -l)"
/usr/bin/python3 bench/compare_drift_json.py "$OUT/ours.json" "$OUT/peer.json"
