#!/usr/bin/env bash
# final-table.sh CURVES.tsv BASELINE OUT.tsv: per model, the final evaluation
# of each run (its largest token count), averaged over seeds with the spread
# (sd over seeds; 0 for one seed), and relative to the BASELINE model:
#   model n_seeds tokens short_loss short_loss_sd longppl longppl_sd far_acc far_acc_sd
#   short_loss_rel longppl_rel   (model / baseline)
set -euo pipefail
curves=$1 base=$2 out=$3
tmp="$out.tmp.$$"
awk -F'\t' -v OFS='\t' -v base="$base" '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { key = $c["model"] SUBSEP $c["seed"]
    if (!(key in last) || $c["tokens"] + 0 > last[key]) {
      last[key] = $c["tokens"] + 0; sl[key] = $c["short_loss"]; lp[key] = $c["longppl"]; fa[key] = $c["far_acc"] } }
  END {
    for (k in last) { split(k, p, SUBSEP); m = p[1]; if (!(m in n)) order[++nm] = m
      n[m]++; tok[m] = last[k]
      s1[m] += sl[k]; s2[m] += sl[k] * sl[k]; l1[m] += lp[k]; l2[m] += lp[k] * lp[k]; f1[m] += fa[k]; f2[m] += fa[k] * fa[k] }
    print "model", "n_seeds", "tokens", "short_loss", "short_loss_sd", "longppl", "longppl_sd", "far_acc", "far_acc_sd",
          "short_loss_rel", "longppl_rel"
    for (i = 1; i <= nm; i++) { m = order[i]
      ms = s1[m] / n[m]; ml = l1[m] / n[m]; mf = f1[m] / n[m]
      bs = s1[base] / n[base]; bl = l1[base] / n[base]
      printf "%s\t%d\t%d\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\n", m, n[m], tok[m],
        ms, sd(s1[m], s2[m], n[m]), ml, sd(l1[m], l2[m], n[m]), mf, sd(f1[m], f2[m], n[m]),
        (base in n) ? ms / bs : "nan", (base in n) ? ml / bl : "nan" } }
  function sd(a, b, k,   v) { if (k < 2) return 0; v = (b - a * a / k) / (k - 1); return v > 0 ? sqrt(v) : 0 }
' "$curves" | { read -r header; echo "$header"; sort; } > "$tmp"
mv "$tmp" "$out"
