#!/usr/bin/env bash
# `make slurm` against a real Slurm: a one-node cluster on this machine
# (scripts/slurm/local-cluster: munged, slurmctld, slurmd, all state under a
# temporary directory, stopped by PID on exit) runs a reduced profile (3 runs
# of 50k tokens) through the same entry point as a user; every run's done file
# exists and the tables equal, byte for byte, those of the same runs made by
# plain make; submitting again trains nothing. Then the pitfall: when the datasets' job fails, the array is
# cancelled and sbatch --wait says 0, yet submit must exit 1 (it checks the
# files). The scale profile's reduced form runs through it too (its curriculum
# inside each array task). Bad arguments give one line and exit 2.
# Needs root (slurmd runs jobs as their user; munged runs as munge); skips
# without it. Run from the repo root: tests/cli/slurm.sh.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: tests/cli/slurm.sh needs root to start munged, slurmctld and slurmd"; exit 0; fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  scripts/install-deps.sh >/dev/null 2>&1 || true
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "SKIP: tests/cli/slurm.sh: slurm-wlm and munge are missing and scripts/install-deps.sh could not install them"; exit 0
  fi
fi
work=$(mktemp -d)
chmod 755 "$work"    # munged (as munge) must reach its directory inside
cleanup() { scripts/slurm/local-cluster stop "$work/cluster" || true; rm -rf "$work"; }
trap cleanup EXIT
. "$(dirname "$0")/lib/expect.sh"

scripts/slurm/local-cluster start "$work/cluster"
export SLURM_CONF=$work/cluster/slurm.conf

# A reduced quick profile: ff, sf_w8 and sf_w64, seed 1, 50k tokens; its E1 tables.
reduced=(PROFILE=quick TOKENS=50k EVAL_EVERY=25k SEEDS=1 EXTRA_SEED_MODELS= EXTRA_SEEDS= ONE_SEED_MODELS=
         "E1_MODELS=ff sf_w8 sf_w64" E4_MODELS= E5_MODELS= E2_HYBRIDS=)
# The goals; e1_emergence.tsv's recipe also writes e1_emergence_summary.tsv.
goals="e1_curves.tsv e1_emergence.tsv"
tables="$goals e1_emergence_summary.tsv"
at() { # DIR: the reduced profile's paths under DIR
  echo "DATA=$1/data" "RUNS=$1/runs" "R=$1/tables"
}
goal() { local t out=""; for t in $goals; do out="$out $1/tables/$t"; done; echo "${out# }"; }

start=$(date +%s)
status=0
# shellcheck disable=SC2046  # at's words are VAR=value without spaces
make --no-print-directory slurm "${reduced[@]}" $(at "$work/slurm") SLURM_LOGS="$work/logs" SLURM_WAIT=1 \
  SLURM_GOAL="$(goal "$work/slurm")" > "$work/submit.out" 2>&1 || status=$?
slurm_s=$(($(date +%s) - start))
if [ "$status" -eq 0 ] && grep -q "all 3 runs done" "$work/submit.out"; then
  pass "make slurm: exit 0, 3 runs and the tables in ${slurm_s}s: $(tail -1 "$work/submit.out")"
else
  fail "make slurm: exit $status"; sed 's/^/    /' "$work/submit.out"; tail -n 5 "$work"/logs/*.log "$work"/cluster/log/*.log 2>/dev/null | sed 's/^/    /'
fi
# shellcheck disable=SC2046
mapfile -t runs < <(make -s --no-print-directory print-runs "${reduced[@]}" $(at "$work/slurm"))
n_done=0
for f in "${runs[@]}"; do [ -e "$f" ] && n_done=$((n_done + 1)); done
if [ "${#runs[@]}" = 3 ] && [ "$n_done" = 3 ]; then pass "every run's done file exists (3 of make print-runs)"
else fail "$n_done of ${#runs[@]} done files"; fi
n_logs=$(grep -l "slurm job: make .*/done" "$work"/logs/run-*.log 2>/dev/null | wc -l)
if [ "$n_logs" = 3 ]; then pass "one log per array task (3), in SLURM_LOGS"; else fail "$n_logs run logs with their make line"; fi

# shellcheck disable=SC2046
make --no-print-directory -j2 "${reduced[@]}" $(at "$work/plain") $(goal "$work/plain") > "$work/plain.out" 2>&1 \
  || { fail "plain make"; tail -n 20 "$work/plain.out"; }
for t in $tables; do
  if cmp -s "$work/slurm/tables/$t" "$work/plain/tables/$t"; then
    pass "$t: Slurm's equals plain make's ($(($(wc -l < "$work/plain/tables/$t") - 1)) rows)"
  else fail "$t differs between Slurm and plain make"; fi
done

# Submitting again is safe: no run is trained twice, the tables stay.
cp "$work/slurm/tables/e1_curves.tsv" "$work/curves.before"
status=0
# shellcheck disable=SC2046
scripts/slurm/submit "${reduced[@]}" $(at "$work/slurm") SLURM_LOGS="$work/logs" SLURM_WAIT=1 \
  SLURM_GOAL="$(goal "$work/slurm")" > "$work/again.out" 2>&1 || status=$?
if [ "$status" -eq 0 ] && grep -q "all 3 runs already done" "$work/again.out" && cmp -s "$work/curves.before" "$work/slurm/tables/e1_curves.tsv"; then
  pass "submitted again: no array, exit 0, tables unchanged"
else fail "submitted again: exit $status"; sed 's/^/    /' "$work/again.out"; fi

# The datasets' job fails (DATA cannot be created): Slurm cancels the array for
# its invalid dependency, sbatch --wait returns 0, but no run is done.
status=0
# shellcheck disable=SC2046
scripts/slurm/submit "${reduced[@]}" DATA=/proc/no/data RUNS="$work/bad/runs" R="$work/bad/tables" \
  SLURM_LOGS="$work/badlogs" SLURM_WAIT=1 SLURM_GOAL="$(goal "$work/bad")" > "$work/bad.out" 2>&1 || status=$?
if [ "$status" -eq 1 ] && grep -q "3 of 3 runs not done" "$work/bad.out"; then
  pass "failed datasets' job: submit exits 1: $(grep 'not done' "$work/bad.out")"
else fail "failed datasets' job: exit $status"; sed 's/^/    /' "$work/bad.out"; fi

# The scale profile's reduced form (tests/cli/lib/scale-reduced.sh) through the same entry point:
# each array task trains its run's warm stage (T 128) and then the run at T 1024 from it, the
# datasets' job makes the warm stage's data too, and the curves equal plain make's.
. "$(dirname "$0")/lib/scale-reduced.sh"
scale_reduced "$work/scale-slurm"
status=0
scripts/slurm/submit "${reduced[@]}" SLURM_LOGS="$work/scale-logs" SLURM_WAIT=1 \
  SLURM_GOAL="$work/scale-slurm/tables/e1_curves.tsv" > "$work/scale.out" 2>&1 || status=$?
n_runs=$(make -s --no-print-directory print-runs "${reduced[@]}" | wc -l)
n_warm=$(ls "$work"/scale-slurm/runs/warm/*/s1/done 2>/dev/null | wc -l)
if [ "$status" -eq 0 ] && grep -q "all $n_runs runs done" "$work/scale.out" && [ "$n_runs" = 5 ] && [ "$n_warm" = 4 ]; then
  pass "make slurm PROFILE=scale (reduced): $n_runs runs in one array, their 4 warm stages inside the tasks"
else fail "make slurm PROFILE=scale: exit $status, $n_runs runs, $n_warm warm stages"; sed 's/^/    /' "$work/scale.out" | tail -n 20; fi
scale_reduced "$work/scale-plain"
make --no-print-directory -j2 "${reduced[@]}" "$work/scale-plain/tables/e1_curves.tsv" > "$work/scale-plain.out" 2>&1 \
  || { fail "plain make of the scale profile"; tail -n 20 "$work/scale-plain.out"; }
if cmp -s "$work/scale-slurm/tables/e1_curves.tsv" "$work/scale-plain/tables/e1_curves.tsv"; then
  pass "scale profile: e1_curves.tsv of Slurm equals plain make's ($(($(wc -l < "$work/scale-plain/tables/e1_curves.tsv") - 1)) rows)"
else fail "scale profile: e1_curves.tsv differs between Slurm and plain make"; fi

expect_bad "an argument that is not VAR=value" "not VAR=value" "" -- scripts/slurm/submit PROFILE=quick --time=1
expect_bad "SLURM_CPUS not a number" "SLURM_CPUS" "" -- scripts/slurm/submit SLURM_CPUS=two
echo "total ${SECONDS}s"
finish
