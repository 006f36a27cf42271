#!/usr/bin/env bash
# timed.sh LOG NAME COMMAND...: runs COMMAND and appends "NAME<TAB>seconds"
# (wall time) to LOG, whatever its exit status, which it passes on. The
# pipeline's runs and tables log here so REPRODUCE.md can state measured
# times per figure (scripts/pipeline/wall-times.sh sums them).
set -uo pipefail
log=$1 name=$2; shift 2
mkdir -p "$(dirname "$log")"
start=$(date +%s.%N)
"$@"
status=$?
printf '%s\t%.1f\t%s\n' "$name" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$([ $status -eq 0 ] && echo ok || echo "exit $status")" >> "$log"
exit $status
