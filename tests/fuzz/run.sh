#!/bin/sh
# Builds the libFuzzer targets with clang (MW_FUZZ=ON) in the build directory $1
# (default build-fuzz) and runs each for $MW_FUZZ_SECONDS seconds (default 60)
# on a copy of its seed corpus. Exits non-zero when any target finds a crash,
# leak or timeout (the reproducer is left in the build directory).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-fuzz}
secs=${MW_FUZZ_SECONDS:-60}
CC=clang cmake -S "$src" -B "$build" -DMW_FUZZ=ON -DMW_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_csv fuzz_ndjson fuzz_numparse fuzz_record fuzz_journal fuzz_otlp fuzz_alert_expr fuzz_probe_answer -j"$(nproc)"
status=0
for t in csv ndjson numparse record journal otlp alert_expr probe_answer; do
  work="$build/fuzz-corpus-$t"
  mkdir -p "$work"
  cp -n "$src/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null || true
  echo "== fuzz_$t for ${secs}s"
  if ! (cd "$build" && "./tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=65536 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "fuzz-corpus-$t" \
        "$src/tests/fuzz/corpus/$t"); then
    echo "fuzz_$t FAILED (reproducer in $build)" >&2
    status=1
  fi
done
exit $status
