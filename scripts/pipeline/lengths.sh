#!/usr/bin/env bash
# lengths.sh HYBENCH RUN_DIR DISTANCE OUT.tsv SET:FAR[:BATCH]...: the run's final
# checkpoint evaluated on sets of several lengths (claim C4: NoPE on the full
# layers and length extrapolation), answers farther back than FAR counting as
# far (the profile passes the training context T for sets longer than T:
# evidence beyond what training ever showed; 64 for sets of length T). DISTANCE
# (evidence or nearest, hybench eval --distance) says distance to what. BATCH,
# when given, is eval's --batch for that set: attention's scores grow with
# batch x length^2, so the scale profile's 4096-token sets need a smaller one
# than eval's default (32 x 4096 tokens took 15 GB and were killed).
# Rows: model seed length set metric group value n (set: the file's name
# without .tok; length: its sequence length).
set -euo pipefail
hb=$1 run=$2 distance=$3 out=$4; shift 4
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
printf 'model\tseed\tlength\tset\tmetric\tgroup\tvalue\tn\n' > "$tmp"
for item in "$@"; do
  IFS=: read -r set far batch <<< "$item"
  "$hb" eval --run "$run" --set "$set" --far "$far" --distance "$distance" ${batch:+--batch "$batch"} |
    awk -F'\t' -v OFS='\t' -v name="$(basename "$set" .tok)" '
      NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      { print $c["model"], $c["seed"], $c["seq_len"], name, $c["metric"], $c["group"], $c["value"], $c["n"] }' >> "$tmp"
done
mv "$tmp" "$out"
trap - EXIT
