#!/usr/bin/env bash
# Process and host telemetry against psutil 5.9 (Debian python3-psutil, run with
# /usr/bin/python3) on the same process at the same moment (issue 6):
#   - an idle target (it spun for 0.3 s, then sleeps): resident and virtual
#     memory, threads, open fds, io counters exact; CPU seconds within one clock
#     tick; start time within a second (psutil uses the integer btime)
#   - a busy target: ours is read between two psutil reads, so it must lie
#     between them, give or take one tick
#   - the host: memory used percent within 0.1 point, total memory exact,
#     CPU count, load averages, disk_usage('/') total exact
#   - a pid that does not exist: exit 3 and "no process"
# Uses build/bench/bench_telemetry --json PID.
source "$(dirname "$0")/lib.sh"
BENCH="$MW_BUILD/bench/bench_telemetry"
PY=/usr/bin/python3
if ! [ -x "$BENCH" ]; then fail "no $BENCH: build the bench_telemetry target"; finish; exit; fi
if ! $PY -c 'import psutil' 2>/dev/null; then echo "SKIP: psutil not installed for $PY"; exit 0; fi

cat > "$TMP/cmp.py" <<'EOF'
import json, os, subprocess, sys, time, psutil
bench, idle_pid, busy_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tick = 1.0 / os.sysconf("SC_CLK_TCK")
fails = 0
def check(ok, what):
    global fails
    if not ok:
        fails += 1
        print("FAIL:", what, file=sys.stderr)
def ours(pid):
    return json.loads(subprocess.run([bench, "--json", str(pid)], check=True,
                                     capture_output=True, text=True).stdout)

# idle target: nothing changes between the two reads
p = psutil.Process(idle_pid)
o = ours(idle_pid)
with p.oneshot():
    mi, ct, nt, nf, io = p.memory_info(), p.cpu_times(), p.num_threads(), p.num_fds(), p.io_counters()
    name, create = p.name(), p.create_time()
check(o["pid"] == idle_pid, "pid %r" % o["pid"])
check(o["name"] == name, "name %r vs psutil %r" % (o["name"], name))
check(o["resident_bytes"] == mi.rss, "rss %d vs psutil %d" % (o["resident_bytes"], mi.rss))
check(o["virtual_bytes"] == mi.vms, "vms %d vs psutil %d" % (o["virtual_bytes"], mi.vms))
check(abs(o["cpu_user_seconds"] - ct.user) <= tick + 1e-9, "user %f vs psutil %f" % (o["cpu_user_seconds"], ct.user))
check(abs(o["cpu_system_seconds"] - ct.system) <= tick + 1e-9, "system %f vs psutil %f" % (o["cpu_system_seconds"], ct.system))
check(o["cpu_user_seconds"] + o["cpu_system_seconds"] >= 0.2, "the idle target spun 0.3 s: %f" % (o["cpu_user_seconds"] + o["cpu_system_seconds"]))
check(o["threads"] == nt, "threads %d vs psutil %d" % (o["threads"], nt))
check(o["open_fds"] == nf, "fds %d vs psutil %d" % (o["open_fds"], nf))
check(not o["io_absent"], "io absent")
check(o["read_bytes"] == io.read_bytes and o["write_bytes"] == io.write_bytes, "io bytes %r vs %r" % ((o["read_bytes"], o["write_bytes"]), io))
check(o["read_chars"] == io.read_chars and o["write_chars"] == io.write_chars, "io chars %r vs %r" % ((o["read_chars"], o["write_chars"]), io))
check(abs(o["start_time"] - create) < 1.0, "start time %f vs psutil %f" % (o["start_time"], create))

# busy target: psutil, ours, psutil
q = psutil.Process(busy_pid)
for _ in range(5):
    a = q.cpu_times(); ma = q.memory_info().rss
    o = ours(busy_pid)
    b = q.cpu_times(); mb = q.memory_info().rss
    for f in ("user", "system"):
        v = o["cpu_%s_seconds" % f]
        lo, hi = getattr(a, f), getattr(b, f)
        check(lo - tick - 1e-9 <= v <= hi + tick + 1e-9, "busy %s %f not within [%f, %f]" % (f, v, lo, hi))
    check(o["resident_bytes"] in (ma, mb) or min(ma, mb) <= o["resident_bytes"] <= max(ma, mb),
          "busy rss %d not within psutil %d..%d" % (o["resident_bytes"], ma, mb))

# host, read between two psutil reads
for _ in range(3):
    v1 = psutil.virtual_memory()
    o = ours(os.getpid())["host"]
    v2 = psutil.virtual_memory()
    pct = o["mem_used_ratio"] * 100
    check(min(v1.percent, v2.percent) - 0.1 <= pct <= max(v1.percent, v2.percent) + 0.1,
          "memory used %.3f%% vs psutil %.1f%%..%.1f%%" % (pct, v1.percent, v2.percent))
    check(o["mem_total_bytes"] == v1.total, "memory total %d vs %d" % (o["mem_total_bytes"], v1.total))
    check(abs(o["mem_used_bytes"] - (v1.total - v1.available)) < 64 << 20, "used bytes %d vs %d" % (o["mem_used_bytes"], v1.total - v1.available))
check(o["cpus"] == psutil.cpu_count(), "cpus %d vs %d" % (o["cpus"], psutil.cpu_count()))
la = os.getloadavg()
check(abs(o["load1"] - la[0]) < 0.5 and abs(o["load15"] - la[2]) < 0.1, "load %r vs %r" % ((o["load1"], o["load15"]), la))
check(abs(o["boot_time"] - psutil.boot_time()) < 1.0, "boot time %f vs %f" % (o["boot_time"], psutil.boot_time()))
du = psutil.disk_usage("/")
check(o["fs_total_bytes"] == du.total, "fs total %d vs %d" % (o["fs_total_bytes"], du.total))
check(abs(o["fs_avail_bytes"] - du.free) < 256 << 20, "fs avail %d vs psutil free %d" % (o["fs_avail_bytes"], du.free))
ct = psutil.cpu_times()
check(abs(o["cpu_idle_seconds"] - ct.idle) < 5 and abs(o["cpu_user_seconds"] - ct.user) < 5, "host cpu times %r vs %r" % (o, ct))
print("checks done, %d failed" % fails)
sys.exit(1 if fails else 0)
EOF

export TMP
# idle target: spins 0.3 s of CPU, writes a file, then sleeps
$PY -c '
import time, os
t = time.process_time()
while time.process_time() - t < 0.3: pass
open(os.environ["TMP"] + "/idle.txt", "w").write("x" * 100000)
print("ready", flush=True)
time.sleep(60)' > "$TMP/idle.out" 2>&1 &
IDLE=$!
# busy target: spins the whole time
$PY -c 'while True: pass' &
BUSY=$!
for _ in $(seq 100); do grep -q ready "$TMP/idle.out" 2>/dev/null && break; sleep 0.05; done
sleep 0.2
if $PY "$TMP/cmp.py" "$BENCH" "$IDLE" "$BUSY" > "$TMP/cmp.out" 2>&1; then pass; else
  fail "telemetry differs from psutil:"; sed 's/^/  /' "$TMP/cmp.out" >&2; fi
kill "$IDLE" "$BUSY" 2>/dev/null
wait "$IDLE" "$BUSY" 2>/dev/null

# a pid that does not exist: exit 3 and a sentence
expect_exit 3 "missing pid" -- "$BENCH" --json 99999999
expect_contains "$TMP/err" "no process with id 99999999" "missing pid message"
finish
