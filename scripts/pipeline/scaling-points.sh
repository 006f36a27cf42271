#!/usr/bin/env bash
# scaling-points.sh HYBENCH OUT.tsv RUN_DIR...: the E2 points table, one row
# per run RUNS/e2/HYBRID_dWIDTH/xMULT, from its final evaluation:
#   hybrid model_size token_multiplier n tokens loss short_loss far_acc
# model_size is dWIDTH; n the parameter count, the run's budget divided by
# its multiplier (scaling-run.sh set the budget to MULT x N); tokens the
# tokens actually trained (whole steps); token_multiplier = tokens / n as
# "<x>n" and loss the final LongPPL, the columns `hybench fit scaling
# --longppl` reads.
set -euo pipefail
hybench=$1 out=$2; shift 2   # HYBENCH: kept for the calling convention of the pipeline steps
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
printf 'hybrid\tmodel_size\ttoken_multiplier\tn\ttokens\tloss\tshort_loss\tfar_acc\n' > "$tmp"
for run in "$@"; do
  name=$(basename "$(dirname "$run")")           # HYBRID_dWIDTH
  mult=$(basename "$run"); mult=${mult#x}
  budget=$(sed -n 's/^tokens = //p' "$run/run.conf")
  if ! [[ "$mult" =~ ^[0-9]+$ && "$budget" =~ ^[0-9]+$ ]] || (( mult < 1 || budget % mult != 0 )); then
    echo "scaling-points.sh: $run/run.conf: tokens '$budget' is not a multiple of the run's multiplier '$mult'" >&2; exit 2
  fi
  n=$((budget / mult))
  awk -F'\t' -v OFS='\t' -v name="$name" -v n="$n" -v file="$run/evals.tsv" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["group"] == -1 && $c["tokens"] + 0 >= last { if ($c["tokens"] + 0 > last) { delete v; last = $c["tokens"] + 0 }
                                                    v[$c["metric"]] = $c["value"] }
    END {
      if (!("longppl" in v)) { print "scaling-points.sh: " file ": no longppl row" > "/dev/stderr"; exit 2 }
      hybrid = name; size = name; sub(/_d[0-9]+$/, "", hybrid); sub(/^.*_/, "", size)
      printf "%s\t%s\t%.6fn\t%d\t%d\t%s\t%s\t%s\n", hybrid, size, last / n, n, last, v["longppl"], v["short_loss"], v["far_acc"] }
  ' "$run/evals.tsv" >> "$tmp"
done
mv "$tmp" "$out"
