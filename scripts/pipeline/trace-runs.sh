#!/usr/bin/env bash
# trace-runs.sh HYBENCH NIAH OUT.tsv RUN_DIR...: `hybench trace run` on every
# run (top heads of the final checkpoint followed over all checkpoints),
# concatenated: the table of the Large-Window Laziness figure (claim C3).
set -euo pipefail
hb=$1 niah=$2 out=$3; shift 3
tmpdir=$(mktemp -d); trap 'rm -rf "$tmpdir"' EXIT
parts=()
for run in "$@"; do
  part="$tmpdir/${#parts[@]}.tsv"
  $hb trace run --run "$run" --niah "$niah" --out "$part" > /dev/null
  parts+=("$part")
done
"$(dirname "$0")/concat-tsv.sh" "$out" "${parts[@]}"
