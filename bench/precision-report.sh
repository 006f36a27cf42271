#!/usr/bin/env bash
# Does bf16 training give the fp32 results? (issue 16 part 3)
#   bench/precision-report.sh [PROFILE]      (default quick)
# Needs the fp32 reference (results/reference/PROFILE) and the profile made in
# bf16: `make reproduce-PROFILE PRECISION=bf16` (results/PROFILE-bf16).
# Prints, and writes to results/PROFILE-bf16/precision_report.txt:
#  1. `make check-results PRECISION=bf16`: the claims on the bf16 tables and
#     every table against the fp32 reference in stat mode (inside the seed
#     bands of include/hybench/check.h); its exit status is the report's.
#  2. Claim verdicts side by side: fp32 reference against bf16, with the
#     left-hand numbers and p values.
#  3. Curves (e1_curves): for each model, metric and checkpoint, the seed means
#     in both precisions and whether they agree within the seed spread, decided
#     before the bf16 runs: |mean_bf16 - mean_fp32| <= 2 x sqrt(sd_fp32^2 /
#     n_fp32 + sd_bf16^2 / n_bf16) (a two-sample 95% band), the sd floored at
#     1e-3 so that seeds agreeing exactly (accuracy 0 or 1) do not demand bit
#     equality. Models with one seed have no spread: their differences are
#     printed, not judged. Identical distributions put about 95% of the
#     checkpoints inside the band.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-quick}
ref=results/reference/$profile fresh=results/$profile-bf16
for d in "$ref" "$fresh"; do
  [ -f "$d/e1_curves.tsv" ] || { echo "precision-report: $d/e1_curves.tsv: missing (make reproduce-$profile PRECISION=bf16 first)" >&2; exit 2; }
done
out=$fresh/precision_report.txt
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
status=0
{
  echo "# bf16 ($fresh) against the fp32 reference ($ref), profile $profile"
  echo
  echo "## 1. make check-results PROFILE=$profile PRECISION=bf16"
  make --no-print-directory check-results PROFILE="$profile" PRECISION=bf16 2>&1 || status=$?
  echo "check-results exit status: $status"
  echo
  echo "## 2. claim verdicts"
  awk -F'\t' 'FNR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next}
    FNR == NR {v[$c["id"]] = $c["holds"]; l[$c["id"]] = $c["left"]; p[$c["id"]] = $c["p"]; next}
    ($c["id"] in v) {same += v[$c["id"]] == $c["holds"]; n++
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $c["id"], v[$c["id"]], $c["holds"], l[$c["id"]], $c["left"], p[$c["id"]], $c["p"]}
    END {printf "verdicts the same: %d of %d\n", same, n > "/dev/stderr"}' \
    "$ref/claims.tsv" "$fresh/claims.tsv" 2> "$tmp.n" | { printf 'id\tfp32\tbf16\tleft_fp32\tleft_bf16\tp_fp32\tp_bf16\n'; cat; } | column -t -s $'\t'
  cat "$tmp.n" && rm -f "$tmp.n"
  echo
  echo "## 3. curves (e1_curves): seed means per checkpoint, agreement within the seed spread"
  awk -F'\t' -v metrics="short_loss far_acc answer_acc longppl" '
    FNR == 1 {file++; for (i = 1; i <= NF; i++) c[$i] = i; next}
    {
      nm = split(metrics, m, " ")
      for (j = 1; j <= nm; j++) {
        k = $c["model"] SUBSEP $c["tokens"] SUBSEP m[j] SUBSEP file
        x = $c[m[j]]; n[k]++; s[k] += x; ss[k] += x * x
        cell[$c["model"] SUBSEP m[j]] = 1; toks[$c["model"] SUBSEP $c["tokens"]] = 1
      }
    }
    END {
      printf "model\tmetric\tseeds_fp32\tseeds_bf16\tcheckpoints\tagree\tfinal_fp32\tfinal_bf16\tworst_z\n"
      for (mc in cell) {
        split(mc, a, SUBSEP); model = a[1]; metric = a[2]
        cnt = 0; ok = 0; worst = 0; last = -1
        for (mt in toks) {
          split(mt, b, SUBSEP); if (b[1] != model) continue
          k1 = model SUBSEP b[2] SUBSEP metric SUBSEP 1; k2 = model SUBSEP b[2] SUBSEP metric SUBSEP 2
          if (!(k1 in n) || !(k2 in n)) continue
          m1 = s[k1] / n[k1]; m2 = s[k2] / n[k2]
          if (b[2] + 0 > last) {last = b[2] + 0; f1 = m1; f2 = m2; n1 = n[k1]; n2 = n[k2]}
          if (n[k1] < 2 || n[k2] < 2) continue
          v1 = (ss[k1] - n[k1] * m1 * m1) / (n[k1] - 1); v2 = (ss[k2] - n[k2] * m2 * m2) / (n[k2] - 1)
          if (v1 < 1e-6) v1 = 1e-6; if (v2 < 1e-6) v2 = 1e-6
          z = (m2 - m1) / sqrt(v1 / n[k1] + v2 / n[k2]); if (z < 0) z = -z
          cnt++; ok += z <= 2; if (z > worst) worst = z
        }
        if (cnt) printf "%s\t%s\t%d\t%d\t%d\t%d (%.0f%%)\t%.4g\t%.4g\t%.2f\n", model, metric, n1, n2, cnt, ok, 100 * ok / cnt, f1, f2, worst
        else printf "%s\t%s\t%d\t%d\t-\tone seed: not judged\t%.4g\t%.4g\t-\n", model, metric, n1, n2, f1, f2
      }
    }' "$ref/e1_curves.tsv" "$fresh/e1_curves.tsv" | { IFS= read -r h; echo "$h"; sort; } | column -t -s $'\t'
} > "$tmp"
mv "$tmp" "$out"
cat "$out"
exit "$status"
