#!/usr/bin/env bash
# GPU telemetry through NVML (issue 6, item 4) with a fake libnvidia-ml built
# here from tests/support/fake_nvml.c, loaded through the real dlopen path
# (MW_NVML_LIBRARY): every value the fake knows must come back exactly; a device
# whose calls fail is reported with the absent fields marked and counted; the
# process list is summed per pid over GPUs, grown past 64 entries on
# NVML_ERROR_INSUFFICIENT_SIZE, and read through the v1 call when v3/v2 are
# missing; no library, no GPU or a failing nvmlInit are one clear line and exit 3
# / 1 from bench_telemetry --nvml-dump, never a crash.
# On a machine with an NVIDIA GPU (nvidia-smi present), the real library is read
# once and compared with nvidia-smi --query-gpu.
source "$(dirname "$0")/lib.sh"
BENCH="$MW_BUILD/bench/bench_telemetry"
if ! [ -x "$BENCH" ]; then fail "no $BENCH: build the bench_telemetry target"; finish; exit; fi
CC=${CC:-cc}
if ! $CC -shared -fPIC -o "$TMP/libfake.so" "$MW_SRC/tests/support/fake_nvml.c" 2>"$TMP/cc.err" ||
   ! $CC -shared -fPIC -DFAKE_V1_ONLY -o "$TMP/libfake_v1.so" "$MW_SRC/tests/support/fake_nvml.c" 2>>"$TMP/cc.err"; then
  fail "cannot build the fake NVML: $(cat "$TMP/cc.err")"; finish; exit; fi

# expect_line FILE "key value" DESCRIPTION: a line exactly equal
expect_line() {
  if grep -qxF -- "$2" "$1"; then pass; else fail "$3: no line '$2' in: $(tr '\n' '|' < "$1")"; fi
}

dump() { # dump OUTFILE [env assignments...] -- [pids...]
  local out=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env MW_NVML_LIBRARY="$TMP/libfake.so" "${envs[@]}" "$BENCH" --nvml-dump "$@" > "$out" 2>&1
}

# 1. two devices, the second failing memory and temperature
dump "$TMP/d1" -- 4242 4343 999
R=$TMP/d1
for l in "open ok" "count 2" \
  "gpu0.name Fake GPU Alpha" "gpu0.uuid GPU-00000000-1111-2222-3333-444444444444" \
  "gpu0.util_compute_ratio 0.3700" "gpu0.util_memory_ratio 0.1200" \
  "gpu0.mem_used_bytes 5368709120" "gpu0.mem_total_bytes 85899345920" \
  "gpu0.temperature_celsius 41.0" "gpu0.power_watts 123.456" "gpu0.absent 0x0" \
  "gpu1.name Fake GPU Beta" "gpu1.uuid GPU-55555555-6666-7777-8888-999999999999" \
  "gpu1.util_compute_ratio 0.9900" "gpu1.util_memory_ratio 0.5000" \
  "gpu1.mem_used_bytes 0" "gpu1.power_watts 300.000" "gpu1.absent 0x18" \
  "procs ok" "procs.failed_devices 0" \
  "pid4242.gpu_mem_bytes 1610612736" "pid4343.gpu_mem_bytes 2147483648" "pid999.gpu_mem_bytes 0" \
  "errors_total 2"; do
  expect_line "$R" "$l" "fake NVML"
done

# 2. more processes than the first guess: the INSUFFICIENT_SIZE retry
dump "$TMP/d2" FAKE_NVML_MANY=1 -- 10000 10099 4242
expect_line "$TMP/d2" "pid10000.gpu_mem_bytes 1048576" "process list grown past 64"
expect_line "$TMP/d2" "pid10099.gpu_mem_bytes 1048576" "process list grown past 64 (last)"
expect_line "$TMP/d2" "pid4242.gpu_mem_bytes 1610612736" "process list grown, pid on two GPUs"

# 3. only the v1 process call
env MW_NVML_LIBRARY="$TMP/libfake_v1.so" "$BENCH" --nvml-dump 4242 4343 > "$TMP/d3" 2>&1
expect_line "$TMP/d3" "pid4242.gpu_mem_bytes 1610612736" "v1 process call"
expect_line "$TMP/d3" "pid4343.gpu_mem_bytes 2147483648" "v1 process call (2)"

# 4. device 1's handle fails: reported with every field absent, counted once
dump "$TMP/d4" FAKE_NVML_BAD_HANDLE=1 -- 4242
expect_line "$TMP/d4" "gpu1.absent 0x3f" "bad handle: all absent"
expect_line "$TMP/d4" "gpu0.absent 0x0" "bad handle: gpu0 still read"
expect_line "$TMP/d4" "procs.failed_devices 1" "bad handle: process list of gpu1 failed"
expect_line "$TMP/d4" "pid4242.gpu_mem_bytes 1073741824" "bad handle: gpu0's share only"
expect_line "$TMP/d4" "errors_total 2" "bad handle: one error in sample, one in processes"

# 5. no GPU, no library, failing init: one line, no crash
dump "$TMP/d5" FAKE_NVML_COUNT=0 --; rc=$?
[ "$rc" -eq 3 ] && pass || fail "no GPU: exit $rc, expected 3"
expect_line "$TMP/d5" "open not found" "no GPU status"
expect_contains "$TMP/d5" "NVML found no GPU" "no GPU message"
env MW_NVML_LIBRARY="$TMP/does-not-exist.so" "$BENCH" --nvml-dump > "$TMP/d6" 2>&1; rc=$?
[ "$rc" -eq 3 ] && pass || fail "no library: exit $rc, expected 3"
expect_contains "$TMP/d6" "NVML not loaded ($TMP/does-not-exist.so)" "no library message"
dump "$TMP/d7" FAKE_NVML_INIT_FAIL=1 --; rc=$?
[ "$rc" -eq 1 ] && pass || fail "init failure: exit $rc, expected 1"
expect_contains "$TMP/d7" "nvmlInit_v2 failed with NVML error 999" "init failure message"
# a library without the NVML symbols (libm)
env MW_NVML_LIBRARY=libm.so.6 "$BENCH" --nvml-dump > "$TMP/d8" 2>&1; rc=$?
[ "$rc" -eq 3 ] && pass || fail "not NVML: exit $rc, expected 3"
expect_contains "$TMP/d8" "lacks nvmlInit_v2" "not NVML message"

# 6. the real thing, where there is one
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  env -u MW_NVML_LIBRARY "$BENCH" --nvml-dump > "$TMP/real" 2>&1
  expect_line "$TMP/real" "open ok" "real NVML opens"
  nvidia-smi --query-gpu=index,uuid,name,memory.total,temperature.gpu --format=csv,noheader,nounits \
    > "$TMP/smi"
  while IFS=, read -r idx uuid name memtotal temp; do
    uuid=$(echo $uuid); name=$(echo $name); memtotal=$(echo $memtotal); temp=$(echo $temp)
    expect_line "$TMP/real" "gpu$idx.uuid $uuid" "real uuid of gpu$idx"
    expect_line "$TMP/real" "gpu$idx.name $name" "real name of gpu$idx"
    ours=$(sed -n "s/^gpu$idx.mem_total_bytes //p" "$TMP/real")
    [ -n "$ours" ] && [ $(( ours / 1048576 )) -eq "$memtotal" ] && pass ||
      fail "gpu$idx memory total: ours $ours bytes, nvidia-smi $memtotal MiB"
    t=$(sed -n "s/^gpu$idx.temperature_celsius \([0-9]*\).*/\1/p" "$TMP/real")
    [ -n "$t" ] && [ $(( t - temp )) -le 3 ] && [ $(( temp - t )) -le 3 ] && pass ||
      fail "gpu$idx temperature: ours $t, nvidia-smi $temp"
  done < "$TMP/smi"
fi
finish
