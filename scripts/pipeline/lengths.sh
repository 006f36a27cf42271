#!/usr/bin/env bash
# lengths.sh HYBENCH T DISTANCE OUT.tsv "SET..." RUN_DIR...: each run's final
# checkpoint evaluated on sets of several lengths (claim C4: NoPE on the full
# layers and length extrapolation). "Far" is the training context T on longer
# sets (evidence beyond what training ever showed), 64 on sets of length T;
# DISTANCE (evidence or nearest, hybench eval --distance) says distance to what.
# Rows: model seed length set metric group value n.
set -euo pipefail
hb=$1 T=$2 distance=$3 out=$4 sets=$5; shift 5
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
printf 'model\tseed\tlength\tset\tmetric\tgroup\tvalue\tn\n' > "$tmp"
for run in "$@"; do
  ck=$(ls "$run"/checkpoints/tok*[0-9].safetensors | sort | tail -1)
  model=$(awk -F' *= *' '$1 == "model.name" {print $2}' "$run/run.conf")
  seed=$(awk -F' *= *' '$1 == "seed" {print $2}' "$run/run.conf")
  for set in $sets; do
    length=$(awk -F' *= *' '$1 == "seq_len" {print $2}' "$set.info")
    far=64; [ "$length" -gt "$T" ] && far=$T
    $hb eval --ckpt "$ck" --set "$set" --far "$far" --distance "$distance" | tail -n +2 |
      awk -F'\t' -v OFS='\t' -v m="$model" -v s="$seed" -v L="$length" -v set="$(basename "$set" .tok)" \
        '{print m, s, L, set, $3, $4, $5, $6}' >> "$tmp"
  done
done
mv "$tmp" "$out"
trap - EXIT
