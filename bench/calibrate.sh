#!/usr/bin/env bash
# Calibration of the experiment regime (issue 6, DESIGN.md section 8): trains
# the 2-layer regime models on one-hop facts in King James text under each
# loss mask, evaluates far retrieval along the way, and tabulates when far
# accuracy first exceeds 50% and 90%, per variant and seed.
#
# usage: bench/calibrate.sh OUTDIR
# environment (defaults in brackets):
#   SEEDS ["1 2 3 4 5"]  MASKS ["text+answers answers all"]
#   VARIANTS ["sf_w8 sf_w32 sf_w64"]  (models/<variant>.conf), run under every mask
#   EXTRA_VARIANTS ["ff sf_w8_nope"]  run under the first mask (the default) only
#   TOKENS [6M] budget per run; EVAL_EVERY [125k]; JOBS [2] runs at once (1 thread each)
# Finished runs (DIR/done) are not re-run, so the script can be resumed.
# Writes OUTDIR/curves.tsv (mask, model, seed, tokens, far_acc, short_loss),
# OUTDIR/cross50.tsv and cross90.tsv (hybench fit emergence, threshold form,
# with the logistic t50 as well), OUTDIR/extrapolation.tsv (far accuracy at
# 2T, evidence beyond 128 tokens) and OUTDIR/calibration.tsv, the table:
#   mask model seed tokens_to_50 tokens_to_90 final_far_acc final_short_loss wall_s far_acc_2T
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/calibrate.sh OUTDIR}
HB=${HB:-bin/hybench}
SEEDS=${SEEDS:-1 2 3 4 5}
MASKS=${MASKS:-text+answers answers all}
VARIANTS=${VARIANTS:-sf_w8 sf_w32 sf_w64}
EXTRA_VARIANTS=${EXTRA_VARIANTS-ff sf_w8_nope}
TOKENS=${TOKENS:-6M}
EVAL_EVERY=${EVAL_EVERY:-125k}
JOBS=${JOBS:-2}
mkdir -p "$OUT/data"

data() { # split seed spec out
  [ -f "$4.info" ] || $HB gen-data --spec "$3" --split "$1" --seed "$2" --out "$4"
}
data train 1 datasets/onehop_kjv.conf "$OUT/data/train.tok"
data val 2 datasets/onehop_kjv.conf "$OUT/data/val.tok"
data val 3 datasets/onehop_kjv_2t.conf "$OUT/data/val2t.tok"

# One line per run: mask variant seed. Seed-major, so that a partial run of
# the plan already compares every window under every mask.
first_mask=${MASKS%% *}
for s in $SEEDS; do
  for mask in $MASKS; do for v in $VARIANTS; do echo "$mask $v $s"; done; done
  for v in $EXTRA_VARIANTS; do echo "$first_mask $v $s"; done
done > "$OUT/plan.txt"
echo "calibrate: $(wc -l < "$OUT/plan.txt") runs of $TOKENS tokens, $JOBS at a time" >&2

run_one() { # mask variant seed
  local dir="$OUT/runs/$1/$2/s$3"
  [ -f "$dir/done" ] && return 0
  local resume=""
  [ -f "$dir/run.conf" ] && resume=--resume
  $HB train --model "models/$2.conf" --data "$OUT/data/train.tok" --seq-len 128 --batch 32 --tokens "$TOKENS" \
    --lr 3e-3 --warmup 50 --seed "$3" --threads 1 --loss-mask "$1" --eval-set "$OUT/data/val.tok" \
    --eval-every "$EVAL_EVERY" --eval-far 64 --out "$dir" --quiet $resume
  echo "calibrate: done $1 $2 s$3" >&2
}
export -f run_one
export OUT HB TOKENS EVAL_EVERY
xargs -P "$JOBS" -L 1 bash -c 'run_one "$0" "$1" "$2"' < "$OUT/plan.txt"

# Curves: the long evals.tsv of every run, reshaped to one row per evaluation.
{
  printf 'mask\tmodel\tseed\tdir\n'
  while read -r mask v s; do printf '%s\t%s\t%s\t%s\n' "$mask" "$v" "$s" "$OUT/runs/$mask/$v/s$s"; done < "$OUT/plan.txt"
} > "$OUT/manifest.tsv"
scripts/collect-evals.sh "$OUT/manifest.tsv" "$OUT/curves.tsv" far_acc short_loss

for level in 50 90; do
  $HB fit emergence --in "$OUT/curves.tsv" --y far_acc --x tokens --group mask,model,seed --seed-col seed \
    --threshold "0.$level" --out "$OUT/cross$level.tsv" --summary-out "$OUT/cross${level}_summary.tsv" > /dev/null
done

# Extrapolation: the final checkpoint at 2T, far = evidence beyond 128 tokens.
{
  printf 'mask\tmodel\tseed\tfar_acc_2T\n'
  while read -r mask v s; do
    ck=$(ls "$OUT/runs/$mask/$v/s$s"/checkpoints/tok*[0-9].safetensors | sort | tail -1)
    acc=$($HB eval --ckpt "$ck" --set "$OUT/data/val2t.tok" --far 128 | awk -F'\t' '$3 == "far_acc" {print $5}')
    printf '%s\t%s\t%s\t%s\n' "$mask" "$v" "$s" "$acc"
  done < "$OUT/plan.txt"
} > "$OUT/extrapolation.tsv"

# The table: join crossings, final values, wall time and extrapolation by (mask, model, seed).
awk -F'\t' -v OFS='\t' '
  FNR == 1 { file++; for (i = 1; i <= NF; i++) col[file, $i] = i; next }
  { key = $col[file, "mask"] SUBSEP $col[file, "model"] SUBSEP $col[file, "seed"] }
  file == 1 { c50[key] = $col[1, "t_cross"] }
  file == 2 { c90[key] = $col[2, "t_cross"] }
  file == 3 { last[key] = $col[3, "tokens"]; far[key] = $col[3, "far_acc"]; loss[key] = $col[3, "short_loss"] }
  file == 4 { x2[key] = $col[4, "far_acc_2T"]; keys[++n] = key }
  END {
    print "mask", "model", "seed", "tokens_to_50", "tokens_to_90", "final_far_acc", "final_short_loss", "wall_s", "far_acc_2T"
    for (i = 1; i <= n; i++) { k = keys[i]; split(k, p, SUBSEP)
      print p[1], p[2], p[3], c50[k], c90[k], far[k], loss[k], wall[k] == "" ? "nan" : wall[k], x2[k] }
  }' "$OUT/cross50.tsv" "$OUT/cross90.tsv" "$OUT/curves.tsv" "$OUT/extrapolation.tsv" > "$OUT/calibration.tsv.tmp"
# Wall time from each run's metrics.tsv (elapsed_s of its last row).
{
  head -1 "$OUT/calibration.tsv.tmp"
  tail -n +2 "$OUT/calibration.tsv.tmp" | while IFS=$'\t' read -r mask v s c50 c90 far loss wall x2; do
    wall=$(awk -F'\t' 'END {print $7}' "$OUT/runs/$mask/$v/s$s/metrics.tsv")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mask" "$v" "$s" "$c50" "$c90" "$far" "$loss" "$wall" "$x2"
  done
} > "$OUT/calibration.tsv"
rm -f "$OUT/calibration.tsv.tmp"
column -t -s $'\t' "$OUT/calibration.tsv"

# Summary per (mask, model): seeds, how many crossed 50% / 90%, and the median
# (min, max) tokens to cross over the seeds that did; "nan" when none did.
awk -F'\t' -v OFS='\t' '
  NR == 1 { next }
  { k = $1 SUBSEP $2; if (!(k in n)) order[++nk] = k; n[k]++
    if ($4 != "nan") c50[k] = c50[k] " " $4; if ($5 != "nan") c90[k] = c90[k] " " $5
    far[k] += $6; loss[k] += $7 }
  function stats(list,   v, m, i, j, t) { m = split(list, v, " ")
    if (m == 0) return "0\tnan\tnan\tnan"
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return m "\t" (m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2) "\t" v[1] "\t" v[m] }
  END { print "mask", "model", "n_seeds", "n_crossed_50", "median_to_50", "min_to_50", "max_to_50",
              "n_crossed_90", "median_to_90", "min_to_90", "max_to_90", "mean_final_far_acc", "mean_final_short_loss"
    for (i = 1; i <= nk; i++) { k = order[i]; split(k, p, SUBSEP)
      print p[1], p[2], n[k], stats(c50[k]), stats(c90[k]), far[k] / n[k], loss[k] / n[k] } }
' "$OUT/calibration.tsv" > "$OUT/calibration_summary.tsv"
column -t -s $'\t' "$OUT/calibration_summary.tsv"
