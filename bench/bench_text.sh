#!/usr/bin/env bash
# Text descriptors (issue #9 targets: at least 200 MB/s per core and at least
# 20x a Python implementation of the same descriptors): SIZE_MB of mixed-
# language text, one value per line, described by modelwatch on one thread
# and by Python (string methods and re) over the same file; prints both, the
# checksums (texts, words, e-mails, refusals, JSON) and the ratio.
#
# usage: bench/bench_text.sh [SIZE_MB]   (needs build/; default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-100}
DATA=bench/data/text-$SIZE.txt
mkdir -p bench/data
[ -f "$DATA" ] || /usr/bin/python3 bench/gen_text_data.py "$DATA" "$SIZE"
ours=$(build/bench/bench_text "$DATA")
peer=$(/usr/bin/python3 bench/peer_text.py "$DATA")
echo "text descriptors over $(du -m "$DATA" | cut -f1) MB, one thread"
echo "  modelwatch: $ours"
echo "  python:     $peer"
echo "  ratio: $(echo "scale=1; ${ours%% MB/s*} / ${peer%% MB/s*}" | bc)x"
