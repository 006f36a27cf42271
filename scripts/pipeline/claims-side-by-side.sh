#!/usr/bin/env bash
# claims-side-by-side.sh TOY_CLAIMS.tsv SCALE_CLAIMS.tsv OUT.md: the verdicts of
# two profiles' claims (the claims.tsv `make check-results` writes, columns of
# `hybench check --out`) side by side, grouped by the paper's claim (C1-C4) and
# the w/T question (WT): one markdown table per group, each row a claim with its
# verdict, the measured comparison, the numbers behind each side and the test's
# statistic and p. For REPRODUCE.md's toy-vs-scale sections (issue 18).
set -euo pipefail
usage="usage: claims-side-by-side.sh TOY_CLAIMS.tsv SCALE_CLAIMS.tsv OUT.md"
case "${1:-}" in -h|--help) echo "$usage"; exit 0 ;; esac
[ $# -eq 3 ] || { echo "$usage" >&2; exit 2; }
toy=$1 scale=$2 out=$3
for f in "$toy" "$scale"; do [ -r "$f" ] || { echo "claims-side-by-side.sh: $f: cannot read" >&2; exit 2; }; done
tmp=$(mktemp "$out.XXXXXX"); trap 'rm -f "$tmp"' EXIT
awk -F'\t' -v toy="$toy" '
  FNR == 1 {
    delete c
    for (i = 1; i <= NF; i++) c[$i] = i
    split("id holds left op threshold n_left n_right test statistic p", need, " ")
    for (k in need) if (!(need[k] in c)) { print FILENAME ": no column " need[k] > "/dev/stderr"; bad = 1; exit 2 }
    regime = FILENAME == toy ? "toy" : "scale"
    next
  }
  function family(id,   parts, n, i) {
    n = split(id, parts, "-")
    for (i = 1; i <= n; i++) if (parts[i] ~ /^C[0-9]$/ || parts[i] == "WT") return parts[i]
    return ""
  }
  function g(name) { return $(c[name]) }
  {
    f = family(g("id")); if (f == "") next
    test = g("test") == "-" ? "-" : sprintf("%s %s, p %.3g", g("test"), g("statistic"), g("p"))
    row[f] = row[f] sprintf("| %s | %s | %s | %.4g %s %.4g | %s v %s | %s |\n", regime, g("id"), g("holds"),
                            g("left"), g("op"), g("threshold"), g("n_left"), g("n_right"), test)
    if (!(f in seen)) { seen[f] = 1; order[++n_fam] = f }
  }
  END {
    if (bad) exit 2
    for (i = 1; i <= n_fam; i++) {
      f = order[i]
      printf "#### %s\n\n| regime | claim | verdict | measured (left op threshold) | n | test |\n|---|---|---|---|---|---|\n%s\n", f, row[f]
    }
  }' "$toy" "$scale" > "$tmp"
mv "$tmp" "$out"
trap - EXIT
