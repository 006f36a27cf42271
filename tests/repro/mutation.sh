#!/usr/bin/env bash
# Teeth of check-results: a real defect, injected through the test-only switch
# HB_TEST_MUTATE=lr_scale=0.5 (the peak learning rate halved; src/cli/cmd_train.c),
# in the quick profile's E1 runs of sf_w8 (3 seeds, 5M tokens).
# Their E1 tables must FAIL the band check against results/reference/quick
# (stat mode, forced: the mode another machine class gets) and name the cells
# that moved; the unmutated quick run's same tables must PASS the same check.
# Runs after tests/repro/quick.sh in `make test` (it reuses results/quick).
set -euo pipefail
cd "$(dirname "$0")/../.."
HB=${HB:-bin/hybench}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
start=$(date +%s)
models="sf_w8"
tables="e1_curves.tsv,e1_final.tsv,e1_emergence.tsv,e1_emergence_summary.tsv"
targets() { echo "$1/e1_curves.tsv $1/e1_final.tsv $1/e1_emergence.tsv"; }
check() { # fresh_dir
  "$HB" check --fresh "$1" --ref results/reference/quick --mode stat --tables "$tables" --only "model=${models// /|}" --max-print 5
}

echo "== unmutated: the quick profile's tables (made by make if missing)"
make --no-print-directory -j2 PROFILE=quick $(targets results/quick) >/dev/null
status=0; check results/quick > "$work/control.log" || status=$?
cat "$work/control.log"
[ "$status" -eq 0 ] || { echo "FAIL: the unmutated run does not pass the band check (exit $status)"; exit 1; }

echo "== mutant: HB_TEST_MUTATE=lr_scale=0.5, runs of $models"
HB_TEST_MUTATE=lr_scale=0.5 make --no-print-directory -j2 PROFILE=quick E1_MODELS="$models" \
  RUNS="$work/runs" R="$work/tables" $(targets "$work/tables") > "$work/make.log" 2>&1 \
  || { cat "$work/make.log"; echo "FAIL: the mutant pipeline did not run"; exit 1; }
grep -c "TEST MUTATION" "$work/make.log" | sed 's/^/  runs that warned of the mutation: /'
status=0; check "$work/tables" > "$work/mutant.log" || status=$?
cat "$work/mutant.log"
[ "$status" -eq 1 ] || { echo "FAIL: check on the mutant exited $status, want 1 (a regression)"; exit 1; }
grep -q "^REGRESSION e1_" "$work/mutant.log" || { echo "FAIL: no REGRESSION line names an E1 cell"; exit 1; }
echo "== emergence (90% far accuracy) of the mutant vs the reference, tokens"
for m in $models; do
  ref=$(awk -F'\t' -v m="$m" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["model"] == m { print $c["t_cross_mean"] }' results/reference/quick/e1_emergence_summary.tsv)
  mut=$(awk -F'\t' -v m="$m" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["model"] == m { print $c["t_cross_mean"] }' "$work/tables/e1_emergence_summary.tsv")
  echo "  $m: reference $ref, mutant $mut"
done
echo "mutation test: the defect fails check-results, the unmutated run passes ($(( $(date +%s) - start )) s)"
