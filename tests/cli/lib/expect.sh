# Shared by the CLI tests (source it after setting $work, a scratch dir).
# expect_bad DESCRIPTION NEEDLE OUTPUT -- command...
#   The command must exit 2, print exactly ONE line on stderr containing
#   NEEDLE, and leave nothing matching OUTPUT* (final or temporary file).
# pass / fail print a line and count; finish prints "N passed, N failed" and
# returns non-zero when anything failed.
failures=0; cases=0

fail() { failures=$((failures + 1)); cases=$((cases + 1)); echo "FAIL $*"; }
pass() { cases=$((cases + 1)); echo "ok   $*"; }

expect_bad() {
  local what=$1 needle=$2 output=$3; shift 4
  local status=0
  "$@" >"$work/stdout" 2>"$work/stderr" || status=$?
  local lines; lines=$(wc -l < "$work/stderr")
  local problem=""
  [ "$status" -eq 2 ] || problem="exit $status (want 2)"
  [ "$lines" -eq 1 ] || problem="$problem; $lines stderr lines (want 1)"
  grep -qF -- "$needle" "$work/stderr" || problem="$problem; stderr lacks '$needle'"
  if [ -n "$output" ] && compgen -G "$output*" >/dev/null; then problem="$problem; left $(compgen -G "$output*" | head -1)"; fi
  if [ -n "$problem" ]; then
    fail "$what: $problem"; sed 's/^/    stderr: /' "$work/stderr"
  else
    pass "$what: $(cat "$work/stderr")"
  fi
}

finish() {
  echo "$((cases - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
