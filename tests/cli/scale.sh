#!/usr/bin/env bash
# The scale profile (issue 18) end to end in a reduced form, so its path stays
# working: PROFILE=scale with tiny budgets, seed 1, FFFF, FSSS w 16 / w 256 and
# the NoPE hybrid, into a scratch directory. Every table and figure of the
# profile comes out (warm stage, curriculum, scratch control, emergence, heads,
# constraint, NoPE lengths, probes, the w/T delays and fits); each run at T 1024
# starts from its own warm run's final weights and the control from none; a
# second make has nothing to do; `hybench check` decides the scale claims from
# the fresh tables (their verdicts at these budgets mean nothing), and `make
# claims-side-by-side` sets them beside the toy verdicts.
# Run from the repo root: tests/cli/scale.sh (uses bin/hybench).
set -euo pipefail
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib/expect.sh"
HB=${HB:-bin/hybench}
[ -x "$HB" ] || { echo "no $HB (make bin/hybench)"; exit 1; }

. "$(dirname "$0")/lib/scale-reduced.sh"
scale_reduced "$work"
start=$(date +%s)
if make --no-print-directory -j2 "${reduced[@]}" reproduce > "$work/make.out" 2>&1; then
  pass "make reproduce PROFILE=scale (reduced): $(( $(date +%s) - start )) s"
else
  fail "make reproduce PROFILE=scale (reduced)"; tail -n 30 "$work/make.out" | sed 's/^/    /'
fi

missing=""
for t in e1_curves e1_emergence e1_final e3_constraint e4_laziness e4_emergence e5_nope mech_probe mech_gradient \
         warm_curves scratch_curves runs wt_delays wt_fit_ratio_e1 wt_fit_window_e1 wt_fit_ratio_e4 wt_fit_window_e4; do
  [ -s "$work/tables/$t.tsv" ] && [ -s "$work/tables/$t.tsv.meta" ] || missing="$missing $t"
done
for f in emergence convergence constraint laziness entropy nope gradient probing window-ratio_e1 window-ratio_e4; do
  [ -s "$work/figs/$f.png" ] && [ -s "$work/figs/$f.svg" ] || missing="$missing $f.png|svg"
done
[ -z "$missing" ] && pass "every table (with .meta) and figure of the profile" || fail "missing:$missing"
n_timed=$(grep -c '^run/' "$work/tables/timings.log" || true)
grep -q 'wall time of every run and table' "$work/make.out" && [ "$n_timed" -ge 9 ] \
  && [ "$(grep -c '^run/' "$work/make.out")" = "$n_timed" ] \
  && pass "make reproduce prints the wall time of every run ($n_timed timed)" \
  || fail "wall times: $n_timed runs in the timings log, not all printed"

# The profile evaluates the 2T / 4T sets in batches of 8 / 2 (memory); the rows
# must be those of eval's default batch, to fp32 summation order (1e-5).
d="$work/data"
scripts/pipeline/lengths.sh "$HB" "$work/runs/fsss_w16_nope/s1" nearest "$work/lengths-b32.tsv" \
  "$d/val.tok:256" "$d/val2t.tok:1024" "$d/val4t.tok:1024" "$d/niah.tok:256" "$d/niah2t.tok:1024" "$d/niah4t.tok:1024"
if close=$(tsv_close "$work/lengths-b32.tsv" "$work/runs/fsss_w16_nope/s1/analysis/lengths.tsv" 1e-5); then
  pass "lengths.sh: the 2T / 4T sets in batches of 8 / 2 give the rows of one batch of 32: $close"
else
  fail "lengths.sh: batch changes the rows: $close"
fi

. scripts/pipeline/lib.sh
col() { run_fields "$HB" "$1" "$2"; }
curriculum_ok=1
for m in ffff fsss_w16 fsss_w256 fsss_w16_nope; do
  want=$(col "$work/runs/warm/$m/s1" final_ckpt)
  [ "$(col "$work/runs/$m/s1" init_from)" = "$want" ] && [ "$(col "$work/runs/warm/$m/s1" seq_len)" = 128 ] \
    && [ "$(col "$work/runs/$m/s1" seq_len)" = 1024 ] && [ "$(col "$work/runs/warm/$m/s1" init_from)" = - ] || curriculum_ok=0
done
[ "$curriculum_ok" = 1 ] && [ "$(col "$work/runs/scratch/ffff/s1" init_from)" = - ] \
  && pass "each T-1024 run starts from its warm run's final checkpoint (T 128); the control from its seed" \
  || fail "curriculum: init_from / seq_len not as the profile says"

# The w/T delays: the toy reference's 3 window cells x 5 seeds x 2 measures;
# this run's FFFF never crossed in 64k tokens, so its cells are left out, and said so.
n_toy=$(awk -F'\t' 'NR > 1 && $1 == "toy"' "$work/tables/wt_delays.tsv" | wc -l)
[ "$n_toy" = 30 ] && grep -q "window-delays.sh: scale fsss_w16 e1: 1 rows left out, the baseline never crossed" "$work/make.out" \
  && pass "wt_delays.tsv: 30 toy rows; the scale rows left out (FFFF never crossed), and said" \
  || fail "wt_delays.tsv: $n_toy toy rows"

# window-delays.sh on tables made up for it: baseline ff crossed at 1M and 3M
# (mean 2M); sf_w8 seed 1 at 3M, seed 2 never (budget 8M); its head at 2M, and
# in seed 2 already at the first checkpoint (250k: at_first, a crossing, not censored).
mkdir -p "$work/fake"
printf 'model\tseed\tt_cross\tcross_status\tt_cross_cens\nff\t1\t1000000\tcrossed\t1000000\nff\t2\t3000000\tcrossed\t3000000\nsf_w8\t1\t3000000\tcrossed\t3000000\nsf_w8\t2\tnan\tnever\t8000000\n' \
  > "$work/fake/e1_emergence.tsv"
printf 'model\tseed\tt_cross\tcross_status\tt_cross_cens\nsf_w8\t1\t2000000\tcrossed\t2000000\nsf_w8\t2\t250000\tat_first\t250000\n' > "$work/fake/e4_emergence.tsv"
scripts/pipeline/window-delays.sh "$work/fake/d.tsv" toy 128 "$work/fake" ff SF:sf_w8:8
got=$(tail -n +2 "$work/fake/d.tsv" | cut -f1-2,5-8,10,12 | tr '\t\n' ' |')
want="toy 128 8 0.0625 1 e1 0 1.5|toy 128 8 0.0625 2 e1 1 4|toy 128 8 0.0625 1 e4 0 1|toy 128 8 0.0625 2 e4 0 0.125|"
[ "$got" = "$want" ] && pass "window-delays.sh: delays against the baseline's mean crossing, censoring kept" \
  || fail "window-delays.sh: got '$got', want '$want'"
expect_bad "window-delays.sh: a cell without its window" "not PLACEMENT:MODEL:WINDOW" "$work/fake/bad.tsv" -- \
  scripts/pipeline/window-delays.sh "$work/fake/bad.tsv" toy 128 "$work/fake" ff SF:sf_w8

# Make re-runs nothing: no table or figure (nor a run under them) is out of date.
# (make[N]: under make test, where this runs one level down.)
make --no-print-directory -n "${reduced[@]}" tables figures | grep -vE '^make(\[[0-9]+\])?: Nothing to be done' > "$work/todo" || true
todo=$(wc -l < "$work/todo")
[ "$todo" = 0 ] && pass "a second make has nothing to do" \
  || { fail "a second make would run $todo commands"; head -n 5 "$work/todo" | cut -c1-200 | sed 's/^/    /'; }

# The claims that the reduced tables hold cells for (the others name models it did not train).
awk -F'\t' '/^#/ || $1 == "id" || $1 ~ /^S-(C3-emergence|C3-head|C4-nope|C4-cost|WT-ratio|WT-ratio-heads|WT-slope)$/' \
  results/claims.tsv > "$work/claims.tsv"
status=0
"$HB" check --fresh "$work/tables" --claims "$work/claims.tsv" --profile scale --out "$work/scale-claims.tsv" \
  > "$work/check.out" 2>&1 || status=$?
if [ "$status" -eq 0 ] && grep -q '^S-C3-emergence ' "$work/check.out" && grep -q '^S-WT-ratio ' "$work/check.out" \
   && ! grep -E '^S-(C3-emergence|C4-nope|WT-ratio) ' "$work/check.out" | grep -q 'not decided by'; then
  pass "hybench check decides the scale claims from the fresh tables"
else fail "hybench check --profile scale: exit $status"; sed 's/^/    /' "$work/check.out" | head -40; fi

# The toy and scale verdicts side by side: one table per claim group, rows of both regimes.
# (make check-results writes the profile's claims.tsv; here the check above did.)
cp "$work/scale-claims.tsv" "$work/tables/claims.tsv"
sbs="$work/tables/claims_toy_vs_scale.md"
if make --no-print-directory "${reduced[@]}" claims-side-by-side > "$work/sbs.out" 2>&1 \
   && grep -q '^| toy | P-C3-emergence | ' "$sbs" && grep -q '^| scale | S-C3-emergence | ' "$sbs" \
   && grep -q '^#### WT' "$sbs" && grep -Eq '^\| scale \| S-C3-emergence \| [a-z_]+ \| .* \| mannwhitney ([-0-9.e+]+|nan), p ' "$sbs"; then
  pass "make claims-side-by-side: toy and scale verdicts per claim, with the test statistic ($(grep -c '^| ' "$sbs") rows)"
else
  fail "make claims-side-by-side"; cat "$work/sbs.out" "$sbs" 2>/dev/null | head -n 20 | sed 's/^/    /'
fi
expect_bad "claims-side-by-side.sh: a claims table without its columns" "no column" "$work/bad-sbs.md" -- \
  scripts/pipeline/claims-side-by-side.sh "$work/tables/e1_final.tsv" "$work/scale-claims.tsv" "$work/bad-sbs.md"
finish
