#!/usr/bin/env bash
# snapshot-reference.sh PROFILE: makes the fresh run of PROFILE the committed
# reference: results/PROFILE/*.tsv (tables, fits, claims) with .meta sidecars
# into results/reference/PROFILE/, the PNG figures into its figures/. Run
# after `make reproduce-PROFILE` and `make check-results`; `make reference`.
# Builds the new reference beside the old one and swaps it in whole.
set -euo pipefail
profile=${1:?usage: scripts/pipeline/snapshot-reference.sh PROFILE}
fresh=results/$profile figs=plots/out/$profile ref=results/reference/$profile
[ -f "$fresh/claims.tsv" ] || { echo "snapshot-reference.sh: $fresh/claims.tsv: missing (run make check-results PROFILE=$profile first)" >&2; exit 2; }
new="$ref.tmp.$$"
rm -rf "$new"; mkdir -p "$new/figures"
# Each table keeps the sidecar written when it was made (the machine class and
# revision that made it: check-results picks bit or stat mode from these).
for t in "$fresh"/*.tsv; do
  [ -f "$t.meta" ] || { echo "snapshot-reference.sh: $t.meta: missing (remake the table)" >&2; rm -rf "$new"; exit 2; }
  cp "$t" "$t.meta" "$new/"
done
cp "$figs"/*.png "$new/figures/"
# The measured wall time of each run and table (scripts/pipeline/timed.sh), when logged.
[ -f "$fresh/timings.log" ] && cp "$fresh/timings.log" "$new/"
rm -rf "$ref.old"
[ -d "$ref" ] && mv "$ref" "$ref.old"
mv "$new" "$ref"
rm -rf "$ref.old"
echo "reference $ref: $(ls "$ref"/*.tsv | wc -l) tables, $(ls "$ref"/figures/*.png | wc -l) figures"
