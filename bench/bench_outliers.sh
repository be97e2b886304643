#!/usr/bin/env bash
# Outlier detection, modelwatch vs scikit-learn on the same data in the same run:
#   Isolation Forest (100 trees, max_samples 256) fit on 100k x 20 and scoring
#   100k x 20; the live single-record path; exact LOF (k = 20) scoring 20k x 20
#   against a 20k reference, with the largest relative difference of the scores.
# Targets (issue #4): forest >= 2,000,000 rows/s and fit < 50 ms, live < 2 us
# per record, LOF >= 20x scikit-learn with exact results.
# usage: bench/bench_outliers.sh [BUILD_DIR]   (N_IF, N_LOF, D, THREADS override)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N_IF=${N_IF:-100000}
N_LOF=${N_LOF:-20000}
D=${D:-20}
THREADS=${THREADS:-$(nproc)}
BIN=$BUILD/bench/bench_outliers
[ -x "$BIN" ] || { echo "build first: cmake --build $BUILD --target bench_outliers" >&2; exit 1; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

/usr/bin/python3 "$SRC/bench/peer_outliers.py" gen "$DIR" "$N_IF" "$N_LOF" "$D"
"$BIN" "$DIR" "$THREADS" > "$DIR/mw.txt"
/usr/bin/python3 "$SRC/bench/peer_outliers.py" run "$DIR" > "$DIR/sk.txt"
cat "$DIR/mw.txt" "$DIR/sk.txt"
/usr/bin/python3 - "$DIR/mw.txt" "$DIR/sk.txt" "$THREADS" <<'EOF'
import sys
v = {}
for p in sys.argv[1:3]:
    for line in open(p):
        k, x = line.split()
        v[k] = float(x)
t = sys.argv[3]
print()
print("forest fit:      %.1f ms trees on %s threads, %.1f ms on 1 (sklearn %.0f ms, %.0fx); %.1f ms with medians and threshold on %s threads (%.1fx)" % (
    v["iforest_fit_s"] * 1e3, t, v["iforest_fit_s_1thread"] * 1e3, v["sk_iforest_fit_s"] * 1e3,
    v["sk_iforest_fit_s"] / v["iforest_fit_s"],
    v["iforest_pipeline_fit_s"] * 1e3, t, v["sk_iforest_fit_s"] / v["iforest_pipeline_fit_s"]))
for th in ("1thread", t + "threads"):
    r = v["iforest_rows_per_s_" + th]
    print("forest scoring:  %.2fM rows/s on %s (sklearn %.0fk rows/s, %.0fx)" % (
        r / 1e6, th, v["sk_iforest_rows_per_s"] / 1e3, r / v["sk_iforest_rows_per_s"]))
print("forest live:     %.2f us/record (sklearn %.0f us, %.0fx)" % (
    v["iforest_live_us_per_record"], v["sk_iforest_live_us_per_record"],
    v["sk_iforest_live_us_per_record"] / v["iforest_live_us_per_record"]))
for th in ("1thread", t + "threads"):
    s = v["lof_score_s_" + th]
    print("LOF scoring:     %.3f s on %s (sklearn %.2f s, %.1fx); max rel diff %.2g" % (
        s, th, v["sk_lof_score_s"], v["sk_lof_score_s"] / s, v["lof_max_rel_diff"]))
print("LOF fit:         %.3f s on 1 thread, %.3f s on %s (sklearn %.2f s)" % (
    v["lof_fit_s_1thread"], v["lof_fit_s_" + t + "threads"], t, v["sk_lof_fit_s"]))
EOF
