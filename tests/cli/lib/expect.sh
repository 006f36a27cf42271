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

# tsv_close A B TOL: the two TSVs have the same rows and text fields and every
# numeric field agrees to TOL relative (of max(1, |a|, |b|)); prints the
# largest difference found. Bit-identity across batch sizes holds on some CPUs
# only: oneDNN picks its blocking by shape, so the summation order can change.
tsv_close() {
  awk -F'\t' -v tol="$3" '
    function num(x) { return x ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
    function abs(x) { return x < 0 ? -x : x }
    NR == FNR { a[FNR] = $0; n = FNR; next }
    { m = FNR; na = split(a[FNR], f, "\t")
      if (na != NF) { bad = "row " FNR ": field count"; exit }
      for (i = 1; i <= NF; i++) {
        if (f[i] == $i) continue
        if (!num(f[i]) || !num($i)) { bad = "row " FNR " field " i ": " f[i] " vs " $i; exit }
        s = abs(f[i]) > abs($i) ? abs(f[i]) : abs($i); if (s < 1) s = 1
        d = abs(f[i] - $i) / s; if (d > worst) worst = d
      } }
    END { if (!bad && m != n) bad = "row counts " n " vs " m
          if (!bad && worst > tol) bad = "relative difference " worst " above " tol
          printf "largest relative difference %g", worst; if (bad) printf " (%s)", bad; print ""
          exit bad ? 1 : 0 }' "$1" "$2"
}
