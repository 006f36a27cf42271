#!/usr/bin/env bash
# scaling-summary.sh OUT.tsv FIT.tsv...: one row per hybrid from the outputs
# of `hybench fit scaling --longppl --validate` (named e2_fit_HYBRID.tsv):
#   hybrid b c alpha beta at_bound limit status r2 rmse n_fit val_r2 val_rmse n_val
# r2/rmse on the fitted sizes, val_* on the held-out largest size, both in
# log LongPPL.
set -euo pipefail
out=$1; shift
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
printf 'hybrid\tb\tc\talpha\tbeta\tat_bound\tlimit\tstatus\tr2\trmse\tn_fit\tval_r2\tval_rmse\tn_val\n' > "$tmp"
for fit in "$@"; do
  hybrid=$(basename "$fit" .tsv); hybrid=${hybrid#e2_fit_}
  awk -F'\t' -v OFS='\t' -v hybrid="$hybrid" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["kind"] == "fit" { f = $c["b"] OFS $c["c"] OFS $c["alpha"] OFS $c["beta"] OFS $c["at_bound"] OFS $c["limit"] OFS $c["status"] \
                             OFS $c["r2"] OFS $c["rmse"] OFS $c["n_points"] }
    $c["kind"] == "validation" { v = $c["r2"] OFS $c["rmse"] OFS $c["n_points"] }
    END { if (f == "") { print "scaling-summary.sh: " FILENAME ": no fit row" > "/dev/stderr"; exit 2 }
          print hybrid, f, (v == "" ? "nan" OFS "nan" OFS 0 : v) }' "$fit" >> "$tmp"
done
mv "$tmp" "$out"
