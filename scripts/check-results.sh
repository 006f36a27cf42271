#!/usr/bin/env bash
# `make check-results`: the paper's claims (results/claims.tsv) evaluated on
# the fresh tables of PROFILE, written to results/PROFILE/claims.tsv with its
# .meta sidecar, and every table of results/reference/PROFILE compared with
# its fresh counterpart by `hybench check`: bit-identical on the reference's
# machine class, inside the seed-spread bands on any other machine
# (include/hybench/check.h states the rule; `hybench check --print-bands`).
# Fails on a regression or a changed claim verdict; a claim that does not hold
# in either run is reported, not hidden, and does not fail the check.
#   [FRESH=DIR] [PRECISION=P] scripts/check-results.sh PROFILE [extra hybench check options]
# FRESH: the fresh tables (default results/PROFILE; results/PROFILE-bf16 for
# PRECISION=bf16, compared with results/reference/PROFILE-bf16 when it exists,
# else with the fp32 reference, whose sidecars then differ in precision, so
# the comparison is by bands).
set -euo pipefail
profile=${1:?usage: scripts/check-results.sh PROFILE [hybench check options]}
shift
HB=${HB:-bin/hybench}
fresh=${FRESH:-results/$profile}
# The reference of the fresh tables' own precision when there is one
# (results/reference/PROFILE-bf16), else the profile's fp32 reference.
ref=results/reference/$(basename "$fresh")
[ -d "$ref" ] || ref=results/reference/$profile
[ -d "$fresh" ] || { echo "check-results: $fresh: no tables (run make reproduce-$profile first)" >&2; exit 2; }
refopt=()
if [ -d "$ref" ]; then refopt=(--ref "$ref"); else echo "== no reference in $ref: claims reported, nothing to regress against"; fi
status=0
"$HB" check --fresh "$fresh" --claims results/claims.tsv --profile "$profile" "${refopt[@]}" "$@" || status=$?
[ -f "$fresh/claims.tsv" ] && PRECISION=${PRECISION:-fp32} HB=$HB scripts/write-meta.sh "$fresh/claims.tsv"
exit "$status"
