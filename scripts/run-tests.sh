#!/usr/bin/env bash
# Runs each test command given (executables or scripts; "--" separators are
# ignored), prints PASS/FAIL per test with its time, and ends with the plain
# closing line "N passed, N failed". Exits non-zero when any test failed.
# Output of a failing test is shown in full; of a passing one, its last lines.
set -u
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
passed=0; failed=0; failures=()
log=$(mktemp); trap 'rm -f "$log"' EXIT
for t in "$@"; do
  [ "$t" = "--" ] && continue
  [ -e "$t" ] || continue
  start=$(date +%s.%N)
  if "$t" >"$log" 2>&1; then
    passed=$((passed + 1)); status=PASS
    tail -n 3 "$log" | sed 's/^/    /'
  else
    failed=$((failed + 1)); status=FAIL; failures+=("$t")
    sed 's/^/    /' "$log"
  fi
  printf '%s %s (%ss)\n' "$status" "$t" "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')"
done
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
