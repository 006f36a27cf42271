#!/usr/bin/env bash
# The quick reproduction profile end to end, as `make test` runs it in CI:
# every run, table and figure of PROFILE=quick (finished runs are reused),
# then check-results: the paper's claims with their measured numbers, and no
# regression against results/reference/quick (see scripts/check-results.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
make --no-print-directory -j2 PROFILE=quick reproduce
scripts/check-results.sh quick
echo "reproduce-quick + check-results: $(( $(date +%s) - start )) s"
