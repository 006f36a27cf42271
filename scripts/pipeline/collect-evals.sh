#!/usr/bin/env bash
# collect-evals.sh HYBENCH RUN_DIR OUT.tsv "IDS" METRIC...: the run's evals.tsv
# (long: one row per metric) reshaped wide, one row per evaluation:
#   ID... tokens METRIC...
# IDS: identifying columns from `hybench run info`, each NAME or NAME=COLUMN
# (e.g. "model seed", or "mask=loss_mask model seed"). Only the summary rows (group -1) of
# each metric are taken ("nan" where a metric is missing); an evaluation at 0
# tokens is dropped (a fit in log tokens cannot use it). Written atomically.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hb=$1 run=$2 out=$3 ids=$4; shift 4
[ $# -ge 1 ] || { echo "collect-evals.sh: name at least one metric" >&2; exit 2; }
names="" cols=()
for id in $ids; do names+="${id%%=*}"$'\t' cols+=("${id#*=}"); done
values="$(run_fields "$hb" "$run" "${cols[@]}")"$'\t'
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
awk -F'\t' -v OFS='\t' -v metrics="$*" -v names="$names" -v ids="$values" -v file="$run/evals.tsv" '
  BEGIN { n_metrics = split(metrics, want, " ")
          line = names "tokens"
          for (m = 1; m <= n_metrics; m++) line = line OFS want[m]
          print line }
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
            for (k = split("tokens metric group value", need, " "); k > 0; k--)
              if (!(need[k] in c)) { print "collect-evals.sh: " file ": no column " need[k] > "/dev/stderr"; exit 2 }
            next }
  $c["group"] != -1 { next }
  { t = $c["tokens"]; if (!(t in seen)) { seen[t] = 1; order[++n] = t }
    value[t, $c["metric"]] = $c["value"] }
  END { if (NR == 0) { print "collect-evals.sh: " file ": missing or empty" > "/dev/stderr"; exit 2 }
        for (k = 1; k <= n; k++) {
          t = order[k]; if (t == 0) continue
          line = ids t
          for (m = 1; m <= n_metrics; m++) line = line OFS ((t, want[m]) in value ? value[t, want[m]] : "nan")
          print line } }
' "$run/evals.tsv" > "$tmp"
mv "$tmp" "$out"
trap - EXIT
