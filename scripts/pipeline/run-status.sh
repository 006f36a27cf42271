#!/usr/bin/env bash
# run-status.sh HYBENCH RUN_DIR OUT.tsv COLUMN...: the named columns of
# `hybench run info` for one run (the rows of runs.tsv: whether each run is
# done or diverged, and how far it got). Written atomically.
set -euo pipefail
hb=$1 run=$2 out=$3; shift 3
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
"$hb" run info --run "$run" | awk -F'\t' -v OFS='\t' -v want="$*" '
  NR == 1 { n = split(want, w, " "); for (i = 1; i <= NF; i++) c[$i] = i
            for (k = 1; k <= n; k++) if (!(w[k] in c)) { print "run-status.sh: run info has no column " w[k] > "/dev/stderr"; exit 2 } }
  { line = ""; for (k = 1; k <= n; k++) line = line (k > 1 ? OFS : "") (NR == 1 ? w[k] : $c[w[k]]); print line }' > "$tmp"
mv "$tmp" "$out"
trap - EXIT
