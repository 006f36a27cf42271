#!/usr/bin/env bash
# scaling-run.sh HYBENCH MODEL.conf MULT DIR [train options...]: one point of
# the E2 grid, trained on MULT tokens per parameter (D = MULT * N, the
# paper's token_multiplier) with its own full LR schedule. N is the model's
# parameter count as `hybench init` reports it. Pass --resume among the train
# options to continue an interrupted run (the Makefile does when DIR/run.conf
# exists).
set -euo pipefail
hybench=$1 conf=$2 mult=$3 dir=$4; shift 4
if ! [[ "$mult" =~ ^[0-9]+$ ]] || (( mult < 1 )); then
  echo "scaling-run.sh: token multiplier '$mult' must be a positive integer" >&2; exit 2
fi
n=$("$(dirname "$0")/param-count.sh" "$hybench" "$conf")
"$hybench" train --model "$conf" --tokens $((mult * n)) --out "$dir" "$@"
