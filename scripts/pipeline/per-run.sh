#!/usr/bin/env bash
# per-run.sh "COMMAND" OUT.tsv RUN_DIR...: runs COMMAND --ckpt <the run's
# final checkpoint> --out <tmp> for every run and concatenates the tables.
set -euo pipefail
cmd=$1 out=$2; shift 2
tmpdir=$(mktemp -d); trap 'rm -rf "$tmpdir"' EXIT
parts=()
for run in "$@"; do
  ck=$(ls "$run"/checkpoints/tok*[0-9].safetensors | sort | tail -1)
  part="$tmpdir/${#parts[@]}.tsv"
  $cmd --ckpt "$ck" --out "$part" > /dev/null
  parts+=("$part")
done
"$(dirname "$0")/concat-tsv.sh" "$out" "${parts[@]}"
