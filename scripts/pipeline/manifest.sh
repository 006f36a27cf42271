#!/usr/bin/env bash
# manifest.sh RUNS "model:s1 s2 ... model:..." -> a collect-evals manifest
# (model, seed, dir) on stdout, one row per run directory RUNS/model/sSEED.
set -euo pipefail
runs=$1
printf 'model\tseed\tdir\n'
# The argument is "m1:1 2 m2:1 2": split on the model names.
echo "$2" | tr ' ' '\n' | awk -v runs="$runs" -v OFS='\t' '
  /:/ { split($0, a, ":"); model = a[1]; if (a[2] != "") print model, a[2], runs "/" model "/s" a[2]; next }
  NF { print model, $0, runs "/" model "/s" $0 }'
