#!/usr/bin/env bash
# trace-runs.sh HYBENCH NIAH MIN_DISTANCE OUT.tsv RUN_DIR...: `hybench trace run`
# on every run (top heads of the final checkpoint followed over all
# checkpoints, scored on the needles farther back than MIN_DISTANCE, 0: all),
# concatenated: the table of the Large-Window Laziness figure (claim C3).
set -euo pipefail
hb=$1 niah=$2 min_distance=$3 out=$4; shift 4
tmpdir=$(mktemp -d); trap 'rm -rf "$tmpdir"' EXIT
parts=()
for run in "$@"; do
  part="$tmpdir/${#parts[@]}.tsv"
  $hb trace run --run "$run" --niah "$niah" --min-distance "$min_distance" --out "$part" > /dev/null
  parts+=("$part")
done
"$(dirname "$0")/concat-tsv.sh" "$out" "${parts[@]}"
