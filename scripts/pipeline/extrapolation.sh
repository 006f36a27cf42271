#!/usr/bin/env bash
# extrapolation.sh HYBENCH RUN_DIR SET FAR DISTANCE OUT.tsv: far accuracy of the
# run's final checkpoint on a longer SET, answers farther back than FAR (the
# training context: evidence beyond what training showed) counting as far:
#   mask model seed far_acc_2T
# (the calibration's extrapolation column; mask = the run's loss mask).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hb=$1 run=$2 set=$3 far=$4 distance=$5 out=$6
mask=$(run_fields "$hb" "$run" loss_mask)
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
printf 'mask\tmodel\tseed\tfar_acc_2T\n' > "$tmp"
"$hb" eval --run "$run" --set "$set" --far "$far" --distance "$distance" |
  awk -F'\t' -v OFS='\t' -v mask="$mask" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["metric"] == "far_acc" && $c["group"] == -1 { print mask, $c["model"], $c["seed"], $c["value"] }' >> "$tmp"
[ "$(wc -l < "$tmp")" = 2 ] || { echo "extrapolation.sh: $run: no far_acc row on $set" >&2; exit 2; }
mv "$tmp" "$out"
trap - EXIT
