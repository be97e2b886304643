#!/usr/bin/env bash
# The README's "test" command: installs what is missing, builds with -Werror,
# and runs every test (unit and integration) through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
cd build
ctest --output-on-failure -j"$(nproc)"
