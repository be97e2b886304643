#!/usr/bin/env bash
# The README's "run" command: installs what is missing, builds, and runs the
# main job on embedded defaults. Today that is the batch drift report on the
# bundled example data (the live daemon, `modelwatch serve`, is issue #3).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
echo
echo "== modelwatch drift --reference examples/reference.csv --current examples/current.csv"
build/modelwatch drift --reference examples/reference.csv --current examples/current.csv || true
build/modelwatch drift --reference examples/reference.csv --current examples/current.csv \
  --format html -o drift-report.html
echo
echo "HTML report written to $(pwd)/drift-report.html"
