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
