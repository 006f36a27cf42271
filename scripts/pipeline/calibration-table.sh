#!/usr/bin/env bash
# calibration-table.sh HYBENCH OUT.tsv SUMMARY.tsv CROSS50 CROSS90 CURVES EXTRAPOLATION RUN_DIR...:
# the calibration table, one row per run (in RUN_DIR order):
#   mask model seed tokens_to_50 tokens_to_90 final_far_acc final_short_loss wall_s far_acc_2T
# tokens_to_N: the first crossing of N% far accuracy (t_cross of hybench fit
# emergence, nan when never); final_*: the run's last evaluation; wall_s: its
# training time (`hybench run info` elapsed_s). SUMMARY, per (mask, model):
# seeds, how many crossed 50% / 90%, the median (min, max) tokens to cross over
# the seeds that did ("nan" when none did), and the mean final values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hb=$1 out=$2 summary=$3 cross50=$4 cross90=$5 curves=$6 extrapolation=$7; shift 7
tmp="$out.tmp.$$" walls="$out.walls.$$"; trap 'rm -f "$tmp" "$walls" "$summary.tmp.$$"' EXIT
printf 'mask\tmodel\tseed\twall_s\n' > "$walls"
for run in "$@"; do
  "$hb" run info --run "$run" | awk -F'\t' -v OFS='\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print $c["loss_mask"], $c["model"], $c["seed"], $c["elapsed_s"] }' >> "$walls"
done
# Join by (mask, model, seed), every input read by column name; rows in run order.
awk -F'\t' -v OFS='\t' '
  FNR == 1 { file++; for (i = 1; i <= NF; i++) col[file, $i] = i; next }
  { key = $col[file, "mask"] SUBSEP $col[file, "model"] SUBSEP $col[file, "seed"] }
  file == 1 { c50[key] = $col[1, "t_cross"] }
  file == 2 { c90[key] = $col[2, "t_cross"] }
  file == 3 { far[key] = $col[3, "far_acc"]; loss[key] = $col[3, "short_loss"] }
  file == 4 { x2[key] = $col[4, "far_acc_2T"] }
  file == 5 { wall[key] = $col[5, "wall_s"]; keys[++n] = key }
  END {
    print "mask", "model", "seed", "tokens_to_50", "tokens_to_90", "final_far_acc", "final_short_loss", "wall_s", "far_acc_2T"
    for (i = 1; i <= n; i++) { k = keys[i]; split(k, p, SUBSEP)
      print p[1], p[2], p[3], c50[k], c90[k], far[k], loss[k], wall[k], x2[k] }
  }' "$cross50" "$cross90" "$curves" "$extrapolation" "$walls" > "$tmp"
awk -F'\t' -v OFS='\t' '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { k = $c["mask"] SUBSEP $c["model"]; if (!(k in n)) order[++nk] = k; n[k]++
    if ($c["tokens_to_50"] != "nan") c50[k] = c50[k] " " $c["tokens_to_50"]
    if ($c["tokens_to_90"] != "nan") c90[k] = c90[k] " " $c["tokens_to_90"]
    far[k] += $c["final_far_acc"]; loss[k] += $c["final_short_loss"] }
  function stats(list,   v, m, i, j, t) { m = split(list, v, " ")
    if (m == 0) return "0\tnan\tnan\tnan"
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return m "\t" (m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2) "\t" v[1] "\t" v[m] }
  END { print "mask", "model", "n_seeds", "n_crossed_50", "median_to_50", "min_to_50", "max_to_50",
              "n_crossed_90", "median_to_90", "min_to_90", "max_to_90", "mean_final_far_acc", "mean_final_short_loss"
    for (i = 1; i <= nk; i++) { k = order[i]; split(k, p, SUBSEP)
      print p[1], p[2], n[k], stats(c50[k]), stats(c90[k]), far[k] / n[k], loss[k] / n[k] } }
' "$tmp" > "$summary.tmp.$$"
mv "$tmp" "$out"
mv "$summary.tmp.$$" "$summary"
rm -f "$walls"
trap - EXIT
