# Shared helpers for the shell integration tests: a temporary directory removed
# on exit, and assertions that print what was expected and what came instead.
set -uo pipefail
: "${MW_BIN:?MW_BIN must point to the modelwatch binary}"
: "${MW_SRC:?MW_SRC must point to the source tree}"
FIX="$MW_SRC/tests/fixtures"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
PASSES=0

pass() { PASSES=$((PASSES + 1)); }
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# expect_exit CODE DESCRIPTION -- command...
expect_exit() {
  local want=$1 what=$2; shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then pass; else
    fail "$what: exit $got, expected $want"; sed 's/^/  stderr: /' "$TMP/err" | head -5 >&2; fi
}

# expect_contains FILE TEXT DESCRIPTION
expect_contains() {
  if grep -qF -- "$2" "$1"; then pass; else fail "$3: '$2' not in $(basename "$1"): $(head -c 300 "$1")"; fi
}

# expect_jq FILE FILTER DESCRIPTION: the jq filter must print true
expect_jq() {
  local got
  got=$(jq -e "$2" "$1" 2>&1)
  if [ "$got" = "true" ]; then pass; else fail "$3: jq '$2' gave '$got'"; fi
}

finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

# start_daemon NAME [serve options...]: starts `modelwatch serve` on a free
# loopback port with its log in $TMP/NAME.log; sets PID and URL.
start_daemon() {
  local name=$1; shift
  "$MW_BIN" serve --listen 127.0.0.1:0 "$@" > "$TMP/$name.log" 2>&1 &
  PID=$!
  local i addr=""
  for i in $(seq 100); do
    addr=$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$TMP/$name.log" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$addr" ]; then fail "daemon $name did not start: $(cat "$TMP/$name.log")"; return 1; fi
  URL="http://$addr"
}

# free_port: a loopback TCP port nobody listens on now, chosen below the
# kernel's ephemeral range so that no outgoing connection of a test running in
# parallel can hold it (their local ports come from that range).
free_port() {
  local p low=32768
  read -r low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  [ "$low" -gt 11000 ] || low=32768
  for _ in $(seq 50); do
    p=$(( 10000 + RANDOM % (low - 10000) ))
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# start_on_free_port NAME READY_PATH COMMAND...: runs COMMAND in the background,
# every "@PORT@" in its arguments replaced by a free loopback port, with its
# log in $TMP/NAME.log, and waits until http://127.0.0.1:PORT/READY_PATH
# answers. If the port was taken between the choice and the bind, it tries
# again with another one. Sets SERVER_PID and SERVER_PORT; fails after 5 tries.
start_on_free_port() {
  local name=$1 ready=$2 try arg; shift 2
  for try in 1 2 3 4 5; do
    SERVER_PORT=$(free_port) || break
    local args=()
    for arg in "$@"; do args+=("${arg//@PORT@/$SERVER_PORT}"); done
    "${args[@]}" > "$TMP/$name.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 150); do
      curl -sf "http://127.0.0.1:$SERVER_PORT/$ready" > /dev/null && return 0
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    grep -qi "address already in use" "$TMP/$name.log" || break
  done
  fail "$name did not start: $(tail -3 "$TMP/$name.log")"
  return 1
}

# db_bytes DB: every byte the daemon keeps for database DB (the SQLite file,
# its WAL, and the journal files in DB-records/), for tests that look for
# what must never be stored.
db_bytes() {
  find "$1"* -type f -exec cat {} +
}

# journal_bytes DB: the daemon's journal files for database DB (frames of
# accepted batches, store_jfile.c); journal_frames DB: how many frames they
# hold (each starts with the magic "MWJF").
journal_bytes() {
  cat "$1"-records/*.mwj 2>/dev/null
}
journal_frames() {
  journal_bytes "$1" | grep -a -o MWJF | wc -l
}
