#!/usr/bin/env bash
# Telemetry sampling cost (issue 6, item 5): one sample of everything without
# GPUs (host CPU/memory/load/file system + this process) by modelwatch
# (bench_telemetry, CPU time over N samples) against psutil's cpu_percent() +
# virtual_memory() + Process().memory_info() per call (bench/peer_telemetry.py).
# Target: <= 50 µs of CPU per sample; the ratio says how many times cheaper.
#
# usage: bench/bench_telemetry.sh [N]     (needs a build: BUILD=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
BIN=${BUILD:-build}/bench/bench_telemetry
[ -x "$BIN" ] || { echo "build first: cmake --build ${BUILD:-build} --target bench_telemetry" >&2; exit 1; }
OURS=$("$BIN" "$N")
PEER=$(/usr/bin/python3 bench/peer_telemetry.py "$N")
ours=$(sed -n 's/^cpu_us_per_sample //p' <<<"$OURS")
peer=$(sed -n 's/^cpu_us_per_call //p' <<<"$PEER")
echo "telemetry sample cost, $N samples, CPU time"
echo "$OURS" | sed 's/^/  modelwatch /'
echo "$PEER" | sed 's/^/  psutil     /'
awk -v o="$ours" -v p="$peer" 'BEGIN {
  printf "  modelwatch %.1f us vs psutil %.1f us per sample: %.1fx cheaper; target <= 50 us: %s\n",
    o, p, p / o, (o <= 50 ? "met" : "NOT MET") }'
