#!/usr/bin/env bash
# constraint.sh HYBENCH SET R_LIST FAR DISTANCE OUT.tsv RUN_DIR...: the receptive-field
# constraint (claim C2) on each run's final checkpoint: the full-attention
# layers limited to r keys (layers F), and every efficient layer limited
# (layers E, for models that have efficient layers), for each r in R_LIST.
set -euo pipefail
hb=$1 set=$2 rs=$3 far=$4 distance=$5 out=$6; shift 6
tmpdir=$(mktemp -d); trap 'rm -rf "$tmpdir"' EXIT
parts=()
for run in "$@"; do
  ck=$(ls "$run"/checkpoints/tok*[0-9].safetensors | sort | tail -1)
  pattern=$(awk -F' *= *' '$1 == "model.pattern" {print $2}' "$run/run.conf")
  kinds=F
  [ -n "$(echo "$pattern" | tr -d F)" ] && kinds="F E"
  for k in $kinds; do
    part="$tmpdir/${#parts[@]}.tsv"
    $hb eval --ckpt "$ck" --set "$set" --far "$far" --distance "$distance" --constrain "$k=$rs" --out "$part" > /dev/null
    parts+=("$part")
  done
done
"$(dirname "$0")/concat-tsv.sh" "$out" "${parts[@]}"
