#!/usr/bin/env bash
# calibration-table.sh OUT.tsv CROSS50 CROSS90 CURVES EXTRAPOLATION:
# the calibration table, one row per run:
#   mask model seed tokens_to_50 tokens_to_90 final_far_acc final_short_loss far_acc_2T
# tokens_to_N: the first crossing of N% far accuracy (t_cross of hybench fit
# emergence, nan when never); final_*: the run's last evaluation.
set -euo pipefail
out=$1 cross50=$2 cross90=$3 curves=$4 extrapolation=$5
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
# Join by (mask, model, seed), every input read by column name; rows in the
# order of the extrapolation table (one row per run, in the profile's run order).
awk -F'\t' -v OFS='\t' '
  FNR == 1 { file++; for (i = 1; i <= NF; i++) col[file, $i] = i; next }
  { key = $col[file, "mask"] SUBSEP $col[file, "model"] SUBSEP $col[file, "seed"] }
  file == 1 { c50[key] = $col[1, "t_cross"] }
  file == 2 { c90[key] = $col[2, "t_cross"] }
  file == 3 { far[key] = $col[3, "far_acc"]; loss[key] = $col[3, "short_loss"] }
  file == 4 { x2[key] = $col[4, "far_acc_2T"]; keys[++n] = key }
  END {
    print "mask", "model", "seed", "tokens_to_50", "tokens_to_90", "final_far_acc", "final_short_loss", "far_acc_2T"
    for (i = 1; i <= n; i++) { k = keys[i]; split(k, p, SUBSEP)
      print p[1], p[2], p[3], c50[k], c90[k], far[k], loss[k], x2[k] }
  }' "$cross50" "$cross90" "$curves" "$extrapolation" > "$tmp"
mv "$tmp" "$out"
trap - EXIT
