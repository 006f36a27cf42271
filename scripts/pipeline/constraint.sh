#!/usr/bin/env bash
# constraint.sh HYBENCH RUN_DIR SET R_LIST FAR DISTANCE OUT.tsv: the receptive-field
# constraint (claim C2) on the run's final checkpoint: the full-attention layers
# limited to r keys (layers F), and, when the model has efficient layers, every
# efficient layer limited (layers E), for each r in R_LIST.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hb=$1 run=$2 set=$3 rs=$4 far=$5 distance=$6 out=$7
tmpdir=$(mktemp -d); trap 'rm -rf "$tmpdir"' EXIT
kinds=F
[ "$(run_fields "$hb" "$run" efficient_layers)" = 1 ] && kinds="F E"
parts=()
for k in $kinds; do
  part="$tmpdir/$k.tsv"
  "$hb" eval --run "$run" --set "$set" --far "$far" --distance "$distance" --constrain "$k=$rs" --out "$part" > /dev/null
  parts+=("$part")
done
"$(dirname "$0")/concat-tsv.sh" "$out" "${parts[@]}"
