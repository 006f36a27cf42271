#!/usr/bin/env bash
# `make check-results`: (1) claims: evaluates results/claims.tsv on the fresh
# tables of PROFILE, prints every claim with its measured numbers and whether
# it holds, writes results/PROFILE/claims.tsv; (2) regression: compares every
# table of results/reference/PROFILE/ with the fresh one, cell by cell
# (identifying cells exactly, numbers within the tolerances of
# results/reference/tolerances.tsv). Fails on a regression, and on a claim
# that held in the reference run but does not hold now; a claim that does
# not hold in either is reported, not hidden, and does not fail the check.
#   scripts/check-results.sh PROFILE
set -euo pipefail
profile=${1:?usage: scripts/check-results.sh PROFILE}
fresh=results/$profile ref=results/reference/$profile
[ -d "$fresh" ] || { echo "check-results: $fresh: no tables (run make reproduce-$profile first)" >&2; exit 2; }

# value TABLE:FILTERS:COLUMN -> "mean n" over the matching rows of $fresh/TABLE (or a literal number)
value() {
  local ref=$1
  if [[ "$ref" =~ ^-?[0-9.eE+-]+$ ]]; then echo "$ref 1"; return; fi
  IFS=: read -r table filters column <<< "$ref"
  awk -F'\t' -v filters="$filters" -v column="$column" -v file="$fresh/$table" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i
              n_f = split(filters, f, ","); for (k = 1; k <= n_f; k++) { split(f[k], kv, "="); fk[k] = kv[1]; fv[k] = kv[2]
                if (!(kv[1] in col)) { print "check-results: " file ": no column " kv[1] > "/dev/stderr"; exit 2 } }
              if (!(column in col)) { print "check-results: " file ": no column " column > "/dev/stderr"; exit 2 }
              next }
    { rows[NR] = $0 }
    END {
      # "max" filters keep the rows where that column is largest among the rows matching the others.
      for (r in rows) { split(rows[r], c, "\t"); ok = 1
        for (k = 1; k <= n_f; k++) if (fv[k] != "max" && c[col[fk[k]]] != fv[k]) ok = 0
        if (ok) { cand[r] = 1; for (k = 1; k <= n_f; k++) if (fv[k] == "max" && (!(k in mx) || c[col[fk[k]]] + 0 > mx[k])) mx[k] = c[col[fk[k]]] + 0 } }
      s = 0; n = 0
      for (r in cand) { split(rows[r], c, "\t"); ok = 1
        for (k = 1; k <= n_f; k++) if (fv[k] == "max" && c[col[fk[k]]] + 0 != mx[k]) ok = 0
        if (ok && c[col[column]] != "nan") { s += c[col[column]]; n++ } }
      if (n == 0) print "nan 0"; else printf "%.9g %d\n", s / n, n
    }' "$fresh/$table"
}

status=0
out="$fresh/claims.tsv"; tmp="$out.tmp.$$"
printf 'id\tleft\tn_left\top\tthreshold\tright\tn_right\tholds\tclaim\n' > "$tmp"
echo "== claims ($profile)"
grep -v '^#' results/claims.tsv | tail -n +2 | while IFS=$'\t' read -r id claim left op right margin factor; do
  read -r lv ln <<< "$(value "$left")"
  read -r rv rn <<< "$(value "$right")"
  read -r mv _ <<< "$(value "$margin")"   # a number, or a cell (e.g. the seed spread)
  th=$(awk -v r="$rv" -v f="$factor" -v m="$mv" 'BEGIN { if (r == "nan" || m == "nan") print "nan"; else printf "%.9g", r * f + m }')
  holds=$(awk -v l="$lv" -v t="$th" -v op="$op" 'BEGIN {
    if (l == "nan" || t == "nan" || l == "" || t == "") { print "unknown"; exit }
    print ((op == "<" && l + 0 < t + 0) || (op == ">" && l + 0 > t + 0)) ? "holds" : "does_not_hold" }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$lv" "$ln" "$op" "$th" "$rv" "$rn" "$holds" "$claim" >> "$tmp"
  printf '%-26s %-14s %s %s %s (right %s, n %s/%s)  %s\n' "$id" "$holds" "$lv" "$op" "$th" "$rv" "$ln" "$rn" "$claim"
done
mv "$tmp" "$out"

if [ -d "$ref" ]; then
  echo "== claims that held in the reference run"
  while IFS=$'\t' read -r id _ _ _ _ _ _ holds _; do
    [ "$holds" = holds ] || continue
    now=$(awk -F'\t' -v id="$id" '$1 == id {print $8}' "$out")
    if [ "$now" != holds ]; then echo "REGRESSION claim $id: held in $ref, now $now"; status=1; fi
  done < <(tail -n +2 "$ref/claims.tsv")
  echo "== tables vs $ref"
  for reftab in "$ref"/*.tsv; do
    name=$(basename "$reftab")
    [ "$name" = claims.tsv ] && continue
    if [ ! -f "$fresh/$name" ]; then echo "REGRESSION $name: missing"; status=1; continue; fi
    if ! awk -F'\t' -v name="$name" -v tolfile=results/reference/tolerances.tsv '
      BEGIN { while ((getline l < tolfile) > 0) { if (l ~ /^#/ || l ~ /^table/) continue; split(l, t, "\t")
                tol_rel[t[1], t[2]] = t[3]; tol_abs[t[1], t[2]] = t[4] } }
      FNR == 1 && NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; nf = NF; next }
      FNR == NR { refrow[FNR] = $0; nref = FNR; next }
      FNR == 1 { if (NF != nf) { print "REGRESSION " name ": columns changed"; bad = 1; exit } next }
      { if (!(FNR in refrow)) { print "REGRESSION " name ": extra row " FNR; bad = 1; exit }
        split(refrow[FNR], r, "\t")
        for (i = 1; i <= NF; i++) {
          a = r[i]; b = $i; if (a == b) continue
          if (a !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ || b !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) {
            report("REGRESSION " name " row " FNR " column " h[i] ": " a " -> " b); continue }
          rel = (name, h[i]) in tol_rel ? tol_rel[name, h[i]] : ((name, "*") in tol_rel ? tol_rel[name, "*"] : tol_rel["*", "*"])
          abs_ = (name, h[i]) in tol_abs ? tol_abs[name, h[i]] : ((name, "*") in tol_abs ? tol_abs[name, "*"] : tol_abs["*", "*"])
          d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a)
          if (d > abs_ + rel * m) report("REGRESSION " name " row " FNR " column " h[i] ": " a " -> " b " (tolerance rel " rel ", abs " abs_ ")") } }
      # The first 10 differing cells of a table, then their count: a changed table is one finding.
      function report(msg) { bad++; if (bad <= 10) print msg }
      END { if (bad > 10) print "REGRESSION " name ": " bad - 10 " more cells differ"
            if (FNR < nref && !bad) { print "REGRESSION " name ": " nref - FNR " rows missing"; bad = 1 } exit bad > 0 }
    ' "$reftab" "$fresh/$name"; then status=1; else echo "ok   $name"; fi
  done
else
  echo "== no reference in $ref: claims reported, nothing to regress against"
fi
[ "$status" -eq 0 ] && echo "check-results ($profile): no regression" || echo "check-results ($profile): REGRESSIONS"
exit "$status"
