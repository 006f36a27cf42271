#!/usr/bin/env bash
# scaling-point.sh HYBENCH RUN_DIR OUT.tsv: one point of the E2 table from the
# run's final evaluation (a run of the grid RUNS/e2/HYBRID_dWIDTH/xMULT):
#   hybrid model_size token_multiplier n tokens loss short_loss far_acc
# hybrid and model_size (dWIDTH) from the model's name HYBRID_dWIDTH; n its
# parameter count; tokens the tokens actually trained (whole steps);
# token_multiplier = tokens / n as "<x>n" and loss the final LongPPL, the
# columns `hybench fit scaling --longppl` reads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hb=$1 run=$2 out=$3
IFS=$'\t' read -r name n <<< "$(run_fields "$hb" "$run" model params)"
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
printf 'hybrid\tmodel_size\ttoken_multiplier\tn\ttokens\tloss\tshort_loss\tfar_acc\n' > "$tmp"
awk -F'\t' -v OFS='\t' -v name="$name" -v n="$n" -v file="$run/evals.tsv" '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  $c["group"] == -1 && $c["tokens"] + 0 >= last { if ($c["tokens"] + 0 > last) { delete v; last = $c["tokens"] + 0 }
                                                  v[$c["metric"]] = $c["value"] }
  END {
    if (!("longppl" in v)) { print "scaling-point.sh: " file ": no longppl row" > "/dev/stderr"; exit 2 }
    if (name !~ /_d[0-9]+$/) { print "scaling-point.sh: " file ": model " name " is not HYBRID_dWIDTH" > "/dev/stderr"; exit 2 }
    hybrid = name; size = name; sub(/_d[0-9]+$/, "", hybrid); sub(/^.*_/, "", size)
    printf "%s\t%s\t%.6fn\t%d\t%d\t%s\t%s\t%s\n", hybrid, size, last / n, n, last, v["longppl"], v["short_loss"], v["far_acc"] }
' "$run/evals.tsv" >> "$tmp"
mv "$tmp" "$out"
trap - EXIT
