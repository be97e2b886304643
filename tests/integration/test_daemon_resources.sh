#!/usr/bin/env bash
# Resources in the daemon (issue #6, items 2-5): the daemon's own process and a
# watched one (by name, found again after it restarts with a new pid; by pid,
# counted as an error once it is gone), host CPU, memory, load and the database
# file system, sampled off the ingestion path; valid for promtool; no GPU
# metrics without NVML (one log line, no error).
. "$(dirname "$0")/lib.sh"
SLEEPER=""
trap 'kill $PID $SLEEPER 2>/dev/null; rm -rf "$TMP"' EXIT
cp /bin/sleep "$TMP/mwwatched"        # a process name of our own
"$TMP/mwwatched" 300 &
SLEEPER=$!
printf 'resources:\n  interval_seconds: 0.2\n  watch_processes: [mwwatched]\n  watch_pids: [%s]\n' "$SLEEPER" > "$TMP/r.yaml"
MW_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 start_daemon r --config "$TMP/r.yaml" --db "$TMP/r.db" || { finish; exit 1; }
sleep 1
curl -s "$URL/metrics" > "$TMP/m1.txt"
self="modelwatch:$PID"
expect_contains "$TMP/m1.txt" "modelwatch_process_resident_memory_bytes{target=\"$self\"}" "own process"
expect_contains "$TMP/m1.txt" "modelwatch_process_resident_memory_bytes{target=\"mwwatched:$SLEEPER\"}" "watched process"
expect_contains "$TMP/m1.txt" "modelwatch_process_cpu_seconds_total{target=\"$self\",mode=\"user\"}" "cpu by mode"
expect_contains "$TMP/m1.txt" 'modelwatch_host_cpu_seconds_total{mode="idle"}' "host cpu"
expect_contains "$TMP/m1.txt" 'modelwatch_host_memory_used_ratio ' "host memory"
expect_contains "$TMP/m1.txt" 'modelwatch_host_load1 ' "load"
expect_contains "$TMP/m1.txt" "modelwatch_host_filesystem_avail_bytes{path=\"$TMP/r.db\"}" "db file system"
if grep -q '^modelwatch_gpu_' "$TMP/m1.txt"; then fail "GPU metrics without NVML"; else pass; fi
expect_contains "$TMP/r.log" "no GPU metrics" "one log line without NVML"
rss=$(sed -n "s/^modelwatch_process_resident_memory_bytes{target=\"mwwatched:$SLEEPER\"} //p" "$TMP/m1.txt")
want=$(( $(awk '{print $2}' /proc/$SLEEPER/statm) * $(getconf PAGESIZE) ))
[ "$rss" = "$want" ] && pass || fail "resident memory $rss, /proc/PID/statm says $want"
if command -v promtool >/dev/null; then
  promtool check metrics < "$TMP/m1.txt" > "$TMP/pt.txt" 2>&1 && pass || fail "promtool: $(head -3 "$TMP/pt.txt")"
fi
# the watched process restarts: found again under its new pid; the old pid is an error
kill "$SLEEPER"; wait "$SLEEPER" 2>/dev/null
"$TMP/mwwatched" 300 &
OLD=$SLEEPER; SLEEPER=$!
sleep 1
curl -s "$URL/metrics" > "$TMP/m2.txt"
expect_contains "$TMP/m2.txt" "target=\"mwwatched:$SLEEPER\"" "restarted process found again"
if grep -q "target=\"mwwatched:$OLD\"" "$TMP/m2.txt"; then fail "old pid still reported"; else pass; fi
errs=$(sed -n 's/^modelwatch_resource_sample_errors_total //p' "$TMP/m2.txt")
[ "${errs:-0}" -ge 1 ] && pass || fail "a vanished pid is counted ($errs)"
kill "$PID"; wait "$PID" 2>/dev/null
# GPUs through NVML: a fake libnvidia-ml built here, loaded through the same dlopen path
if cc -shared -fPIC -o "$TMP/libfake-nvml.so" "$MW_SRC/tests/support/fake_nvml.c" 2>"$TMP/cc.txt"; then
  MW_NVML_LIBRARY="$TMP/libfake-nvml.so" start_daemon g --config "$TMP/r.yaml" --db "$TMP/g.db" || { finish; exit 1; }
  sleep 1
  curl -s "$URL/metrics" > "$TMP/m3.txt"
  G='gpu="0",uuid="GPU-00000000-1111-2222-3333-444444444444",name="Fake GPU Alpha"'
  expect_contains "$TMP/m3.txt" "modelwatch_gpu_utilization_ratio{$G} 0.37" "gpu utilisation"
  expect_contains "$TMP/m3.txt" "modelwatch_gpu_memory_used_bytes{$G} 5368709120" "gpu memory used"
  expect_contains "$TMP/m3.txt" "modelwatch_gpu_memory_used_ratio{$G} 0.0625" "gpu memory ratio"
  expect_contains "$TMP/m3.txt" "modelwatch_gpu_temperature_celsius{$G} 41" "gpu temperature"
  expect_contains "$TMP/m3.txt" "modelwatch_gpu_power_watts{$G} 123.456" "gpu power"
  # the second fake GPU's memory and temperature calls fail: left out, counted
  if grep -q 'modelwatch_gpu_memory_used_bytes{gpu="1"' "$TMP/m3.txt"; then fail "failed field reported"; else pass; fi
  expect_contains "$TMP/m3.txt" 'modelwatch_gpu_power_watts{gpu="1"' "other fields of a partly failing GPU"
  if command -v promtool >/dev/null; then
    promtool check metrics < "$TMP/m3.txt" > "$TMP/pt3.txt" 2>&1 && pass || fail "promtool: $(head -3 "$TMP/pt3.txt")"
  fi
else
  fail "cannot build the fake NVML library: $(head -3 "$TMP/cc.txt")"
fi
finish
