#!/usr/bin/env bash
# Reshapes the long evals.tsv of many runs into one wide table, one row per
# (run, evaluation): the run's identifying columns, tokens, then the metrics.
#   scripts/collect-evals.sh MANIFEST.tsv OUT.tsv METRIC...
# MANIFEST.tsv: a header row of identifying column names ending in `dir`,
# then one row per run (dir = the run directory holding evals.tsv). Only the
# summary rows (group -1) of each metric are taken; an evaluation at 0 tokens
# is dropped (a fit in log tokens cannot use it). Written atomically.
set -euo pipefail
manifest=${1:?usage: collect-evals.sh MANIFEST.tsv OUT.tsv METRIC...}
out=${2:?usage: collect-evals.sh MANIFEST.tsv OUT.tsv METRIC...}
shift 2
[ $# -ge 1 ] || { echo "collect-evals.sh: name at least one metric" >&2; exit 2; }
metrics="$*"
tmp="$out.tmp.$$"
awk -F'\t' -v OFS='\t' -v metrics="$metrics" -v manifest="$manifest" '
  BEGIN {
    n_metrics = split(metrics, want, " ")
    if ((getline header < manifest) <= 0) { print "collect-evals.sh: " manifest ": empty" > "/dev/stderr"; exit 2 }
    n_cols = split(header, names, "\t")
    if (names[n_cols] != "dir") { print "collect-evals.sh: " manifest ": last column must be dir" > "/dev/stderr"; exit 2 }
    line = ""
    for (i = 1; i < n_cols; i++) line = line names[i] OFS
    line = line "tokens"
    for (m = 1; m <= n_metrics; m++) line = line OFS want[m]
    print line
    while ((getline row < manifest) > 0) {
      split(row, cell, "\t")
      dir = cell[n_cols]; file = dir "/evals.tsv"; ids = ""
      for (i = 1; i < n_cols; i++) ids = ids cell[i] OFS
      delete value; delete seen; n = 0
      if ((getline e < file) <= 0) { print "collect-evals.sh: " file ": missing or empty" > "/dev/stderr"; exit 2 }
      while ((getline e < file) > 0) {
        split(e, f, "\t")  # step tokens set metric group value n
        if (f[5] != -1) continue
        if (!(f[2] in seen)) { seen[f[2]] = 1; order[++n] = f[2] }
        value[f[2], f[4]] = f[6]
      }
      close(file)
      for (k = 1; k <= n; k++) {
        t = order[k]; if (t == 0) continue
        line = ids t
        for (m = 1; m <= n_metrics; m++) line = line OFS ((t, want[m]) in value ? value[t, want[m]] : "nan")
        print line
      }
    }
  }' > "$tmp"
mv "$tmp" "$out"
