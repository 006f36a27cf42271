#!/usr/bin/env bash
# `hybench check` (make check-results) on small fixture tables, then on the
# committed quick reference:
#  - claims: one that holds, one that does not (both reported, exit 0), one of
#    one run per side (its flip a note in stat mode, a failure in bit mode), a cell
#    that matches no row and a reference claim missing from the claims table
#    (exit 2, one line), a changed verdict (exit 1) unless the reference marks
#    the claim marginal and the mode is stat;
#  - modes: sidecars of one machine class -> bit (any changed cell fails);
#    of another class -> stat (a cell inside its band passes, outside fails);
#  - a column the band rule does not know: exit 2;
#  - the acceptance case: a reference table with one cell moved by 3 seed
#    spreads fails on another machine class, one moved by 0.1 spread passes;
#  - power: each model's mean 90% crossing moved 35% later fails.
set -euo pipefail
HB=${HB:-bin/hybench}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib/expect.sh"

ref=$work/ref fresh=$work/fresh
mkdir -p "$ref"
# Two models x 3 seeds. Seed sd of a's far_acc at 2000: sd(0.60, 0.70, 0.80) = 0.1.
printf 'model\tseed\ttokens\tshort_loss\tfar_acc\n' > "$ref/t.tsv"
printf 'a\t%s\t1000\t2.00\t0.10\n' 1 2 3 >> "$ref/t.tsv"
printf 'a\t1\t2000\t1.70\t0.60\na\t2\t2000\t1.72\t0.70\na\t3\t2000\t1.74\t0.80\n' >> "$ref/t.tsv"
printf 'b\t1\t2000\t1.80\t0.31\nb\t2\t2000\t1.81\t0.32\nb\t3\t2000\t1.79\t0.30\n' >> "$ref/t.tsv"
printf 'c\t1\t2000\t1.90\t0.60\n' >> "$ref/t.tsv"   # one seed: no spread
meta() { # file cpu_model
  printf 'table = t.tsv\ncompiler = gcc 12.2.0\nhybench_build_flags = -O3\ncpu_vendor = GenuineIntel\ncpu_family = 6\ncpu_model = %s\ncpu_stepping = 2\nonednn_isa = avx512_core_amx\n' "$2" > "$1"
}
meta "$ref/t.tsv.meta" 207
{
  printf 'id\tclaim\tleft\top\tright\tmargin\tfactor\tprofiles\ttest\n'
  printf 'A-retrieves\ta retrieves (holds)\tt.tsv:model=a,tokens=max:far_acc\t>\t0.5\t0\t1\tall\t-\n'
  printf 'B-retrieves\tb retrieves (does not hold)\tt.tsv:model=b,tokens=max:far_acc\t>\t0.9\t0\t1\tall\t-\n'
  printf 'A-beats-B\ta above b by 0.3 (marginal: margin 0.08 < spread 0.1)\tt.tsv:model=a,tokens=2000:far_acc\t>\tt.tsv:model=b,tokens=2000:far_acc\t0.3\t1\tall\tmannwhitney\n'
  printf 'C-retrieves\tc retrieves (one run per side)\tt.tsv:model=c,tokens=2000:far_acc\t>\t0.5\t0\t1\tall\t-\n'
  printf 'Full-only\tdecided by another profile only\tt.tsv:model=zz:far_acc\t>\t0\t0\t1\tfull\t-\n'
} > "$work/claims.tsv"
"$HB" check --fresh "$ref" --claims "$work/claims.tsv" --profile quick > "$work/out" || { cat "$work/out"; fail "claims on the reference"; }
if grep -q "^A-retrieves  *holds" "$work/out" && grep -q "^B-retrieves  *does_not_hold" "$work/out" \
   && grep -q "^A-beats-B .*MARGINAL.*Mann-Whitney U 9, p 0.05" "$work/out" && grep -q "^Full-only  *n/a" "$work/out"; then
  pass "claims: holds, does_not_hold, marginal and another profile's claim reported"
else cat "$work/out"; fail "claims verdicts"; fi

fresh_copy() { rm -rf "$fresh"; cp -r "$ref" "$fresh"; meta "$fresh/t.tsv.meta" "$1"; }
set_cell() { # row(1-based data row) column value
  awk -F'\t' -v OFS='\t' -v r="$1" -v col="$2" -v v="$3" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
    NR == r + 1 { $c[col] = v } { print }' "$fresh/t.tsv" > "$fresh/t.tsv.new" && mv "$fresh/t.tsv.new" "$fresh/t.tsv"
}
run_check() { "$HB" check --fresh "$fresh" --ref "$ref" --claims "$work/claims.tsv" --profile quick "$@"; }
expect_exit() { # description want_status needle -- command
  local what=$1 want=$2 needle=$3; shift 4
  local status=0; "$@" > "$work/out" 2>&1 || status=$?
  if [ "$status" -eq "$want" ] && grep -q -- "$needle" "$work/out"; then pass "$what: $(grep -m1 -- "$needle" "$work/out")"
  else sed 's/^/    /' "$work/out"; fail "$what: exit $status (want $want), needle '$needle'"; fi
}

fresh_copy 207
expect_exit "same class, same cells: bit mode passes" 0 "t.tsv: bit mode" -- run_check
set_cell 5 far_acc 0.700000001
expect_exit "same class, one cell changed in the 9th digit: bit mode fails" 1 "REGRESSION t.tsv \[model=a seed=2 tokens=2000\] column far_acc" -- run_check

fresh_copy 143
set_cell 5 far_acc 0.71   # 0.1 seed spread
expect_exit "another class, a cell moved by 0.1 spread: stat mode passes" 0 "t.tsv: stat mode (cpu_model 207 vs 143)" -- run_check
set_cell 5 far_acc 1.0    # 3 seed spreads
expect_exit "another class, a cell moved by 3 spreads: stat mode fails and names it" 1 "REGRESSION t.tsv \[model=a seed=2 tokens=2000\] column far_acc: 0.70 -> 1.0: 1.20 bands" -- run_check
fresh_copy 143
set_cell 7 short_loss 1.84   # b's short loss: seed sd 0.01 = the loss floor; 0.04 = 1.6 bands
expect_exit "another class, a loss 4 floors away: fails" 1 "column short_loss: 1.80 -> 1.84" -- run_check

fresh_copy 143
for r in 4 5 6; do set_cell $r far_acc 0.55; done   # a's far accuracy now fails A-beats-B (marginal in the reference)
expect_exit "stat mode: a claim the reference marks marginal may flip" 0 "note claim A-beats-B" -- run_check
fresh_copy 143
for r in 7 8 9; do set_cell $r far_acc 0.95; done   # b now retrieves: B-retrieves flips, not marginal
expect_exit "stat mode: a non-marginal claim that flips fails" 1 "REGRESSION claim B-retrieves: does_not_hold in the reference, holds now" -- run_check
fresh_copy 143
set_cell 10 far_acc 0.20   # c (one seed) no longer retrieves: another draw on another class
expect_exit "stat mode: a claim of one run per side that flips is a note, its cell reported" 0 "note claim C-retrieves: holds in the reference, does_not_hold now; one run per side" -- run_check
fresh_copy 207
set_cell 10 far_acc 0.20
expect_exit "bit mode: the same flip fails" 1 "REGRESSION t.tsv \[model=c seed=1 tokens=2000\] column far_acc" -- run_check

fresh_copy 207
{ cat "$work/claims.tsv"; printf 'Typo\tcell matches no row\tt.tsv:model=zz:far_acc\t>\t0.5\t0\t1\tall\t-\n'; } > "$work/claims_typo.tsv"
expect_bad "a claim whose cell matches no row" "claims_typo.tsv:7 (row 6), column left: 't.tsv:model=zz:far_acc' matches no row" "" -- \
  "$HB" check --fresh "$fresh" --claims "$work/claims_typo.tsv" --profile quick --out "$work/c.tsv"
grep -v '^B-retrieves' "$work/claims.tsv" > "$work/claims_dropped.tsv"
expect_bad "a reference claim missing from the claims table" "claim B-retrieves of the reference is missing" "" -- \
  "$HB" check --fresh "$fresh" --ref "$ref" --claims "$work/claims_dropped.tsv" --profile quick --out "$work/c.tsv"
sed '2s/\t[^\t]*$/\tnope/; 1s/\tfar_acc$/\tfar_acc_x/' "$fresh/t.tsv" > "$work/t.tsv"; cp "$work/t.tsv" "$fresh/t.tsv"
cp "$fresh/t.tsv" "$ref/u.tsv"; cp "$fresh/t.tsv" "$fresh/u.tsv"
expect_bad "a column without a kind" "column far_acc_x has no kind" "" -- \
  "$HB" check --fresh "$fresh" --ref "$ref" --tables u.tsv
rm -f "$ref/u.tsv"
expect_bad "an unknown mode" "--mode: 'fuzzy'" "" -- "$HB" check --fresh "$fresh" --mode fuzzy

# ---- the acceptance case on the committed quick reference ------------------
qref=results/reference/quick
rm -rf "$fresh"; mkdir -p "$fresh"; cp "$qref"/*.tsv "$fresh/"
for t in "$fresh"/*.tsv; do meta "$t.meta" 999; done   # a machine class no reference has
# The e1_final short-loss cell with the widest seed spread (2 seeds: sd = |a - b| / sqrt 2).
read -r model seed value spread < <(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { v[$c["model"], $c["seed"]] = $c["short_loss"]; models[$c["model"]] = 1 }
  END { for (m in models) if ((m, 1) in v && (m, 2) in v) { d = v[m, 1] - v[m, 2]; if (d < 0) d = -d
          if (d > best) { best = d; bm = m; x = v[m, 1] } }
        printf "%s 1 %s %.9g\n", bm, x, best / sqrt(2) }' "$qref/e1_final.tsv")
move_cell() { # factor: set that cell to value + factor x spread
  awk -F'\t' -v OFS='\t' -v m="$model" -v s="$seed" -v nv="$(awk -v x="$value" -v f="$1" -v sp="$spread" 'BEGIN { printf "%.9g", x + f * sp }')" \
    'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR > 1 && $c["model"] == m && $c["seed"] == s { $c["short_loss"] = nv } { print }' \
    "$qref/e1_final.tsv" > "$fresh/e1_final.tsv"
}
echo "  cell: e1_final.tsv model=$model seed=$seed short_loss $value, seed spread $spread"
move_cell 0.1
expect_exit "quick reference, one cell moved by 0.1 seed spread, another class: passes" 0 "ok   e1_final.tsv: stat mode" -- \
  "$HB" check --fresh "$fresh" --ref "$qref" --tables e1_final.tsv
move_cell 3
expect_exit "quick reference, one cell moved by 3 seed spreads, another class: fails" 1 "REGRESSION e1_final.tsv \[model=$model seed=$seed tokens=[0-9]*\] column short_loss" -- \
  "$HB" check --fresh "$fresh" --ref "$qref" --tables e1_final.tsv

# Power: a 35% later emergence (the mean 90% crossing of a model with at least
# two crossing seeds, x1.35) must fail on another machine class. The smallest
# shift the quick profile detects is 13% for sf_w8 (3 seeds, sd 2%: the floor)
# and 31% for ff (10 seeds, sd 24%); REPRODUCE.md, "On another CPU".
models=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["n_cross"] >= 2 { print $c["model"] }' "$qref/e1_emergence_summary.tsv")
[ -n "$models" ] || fail "no model of the quick reference crossed 90% in two seeds"
for m in $models; do
  awk -F'\t' -v OFS='\t' -v m="$m" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
    NR > 1 && $c["model"] == m { $c["t_cross_mean"] = sprintf("%.9g", $c["t_cross_mean"] * 1.35) } { print }' \
    "$qref/e1_emergence_summary.tsv" > "$fresh/e1_emergence_summary.tsv"
  expect_exit "quick reference: $m's 90% crossing 35% later fails" 1 "REGRESSION e1_emergence_summary.tsv \[model=$m .*column t_cross_mean" -- \
    "$HB" check --fresh "$fresh" --ref "$qref" --tables e1_emergence_summary.tsv
done

# The calibration's claims evaluate on its committed tables (REPRODUCE.md, headline table).
if "$HB" check --fresh results/reference/calibration --claims results/claims.tsv --profile calibration --out "$work/cal.tsv" > "$work/cal.txt" \
   && grep -q "^CAL-C3-emergence-all .*Mann-Whitney" "$work/cal.txt"; then pass "calibration claims: $(grep -c '^CAL-' "$work/cal.txt") evaluated"
else cat "$work/cal.txt"; fail "calibration claims"; fi

# Every committed reference compares with itself: each column of each table has
# a kind in the band rule (an unlisted column is a hard error, exit 2: the scale
# reference's wt_* tables once were), and bit mode finds no difference.
for ref in results/reference/*/; do
  ref=${ref%/}
  [ -f "$ref/claims.tsv" ] || continue
  expect_exit "$ref against itself: every column has a kind, no regression" 0 "check: no regression" -- \
    "$HB" check --fresh "$ref" --ref "$ref"
done

finish
