#!/usr/bin/env bash
# The README's "run" command: installs what is missing, builds, and runs the
# main job on embedded defaults: the daemon with SQLite (./modelwatch-demo.db)
# on 127.0.0.1:9750, with a demo model and traffic that drifts after 25 s.
# Extra arguments go to `modelwatch demo` (e.g. --duration 60).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
exec build/modelwatch demo "$@"
