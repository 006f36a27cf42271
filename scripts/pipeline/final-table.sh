#!/usr/bin/env bash
# final-table.sh CURVES.tsv BASELINE OUT.tsv: the final evaluation of each run
# (its largest token count), one row per (model, seed), with the model's
# short loss and LongPPL relative to the BASELINE model's mean over seeds:
#   model seed tokens short_loss longppl far_acc short_loss_rel longppl_rel longppl_fact far_acc_fact
# (far: by the distance the runs were evaluated with, nearest copy in the profiles;
# _fact: by the fact's own distance, for comparison; nan when the runs have none)
# Per-seed rows, so that claims average over seeds with their spread and the
# regression check has a seed spread for every cell.
set -euo pipefail
curves=$1 base=$2 out=$3
tmp="$out.tmp.$$"
awk -F'\t' -v OFS='\t' -v base="$base" '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { key = $c["model"] SUBSEP $c["seed"]
    if (!(key in last) || $c["tokens"] + 0 > last[key]) {
      last[key] = $c["tokens"] + 0; sl[key] = $c["short_loss"]; lp[key] = $c["longppl"]; fa[key] = $c["far_acc"]
      ff[key] = "far_acc_fact" in c ? $c["far_acc_fact"] : "nan"; lf[key] = "longppl_fact" in c ? $c["longppl_fact"] : "nan" } }
  END {
    for (k in last) { split(k, p, SUBSEP); if (p[1] == base) { bs += sl[k]; bl += lp[k]; nb++ } }
    print "model", "seed", "tokens", "short_loss", "longppl", "far_acc", "short_loss_rel", "longppl_rel", "longppl_fact", "far_acc_fact"
    for (k in last) { split(k, p, SUBSEP)
      printf "%s\t%s\t%d\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%s\t%s\n", p[1], p[2], last[k], sl[k], lp[k], fa[k],
        nb ? sl[k] / (bs / nb) : "nan", nb ? lp[k] / (bl / nb) : "nan", lf[k], ff[k] } }
' "$curves" | { read -r header; echo "$header"; sort -k1,1 -k2,2n; } > "$tmp"
mv "$tmp" "$out"
