#!/usr/bin/env bash
# run-status.sh HYBENCH RUN_DIR OUT.tsv COLUMN...: the named columns of
# `hybench run info` for one run (the rows of runs.tsv: whether each run is
# done or diverged, and how far it got). Written atomically.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hb=$1 run=$2 out=$3; shift 3
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
"$hb" run info --run "$run" | tsv_select "$@" > "$tmp"
mv "$tmp" "$out"
trap - EXIT
