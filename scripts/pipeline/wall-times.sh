#!/usr/bin/env bash
# wall-times.sh [--each] PROFILE|LOG: sums results/PROFILE/timings.log, or the
# timings log LOG (an existing file), written by scripts/pipeline/timed.sh
# during `make reproduce`, into a table on stdout:
#   item n seconds
# By default one row per model's training runs (run/MODEL, run/e2/HYBRID_dWIDTH,
# run/warm/MODEL: all seeds or budgets; seconds of one core each, two run side
# by side under make -j2), one per per-run analysis (an/NAME: all runs), then
# one per table and figure. With --each, one row per step as logged (every
# run and seed on its own line; n = how many times it was timed). A step
# timed more than once (an interrupted, resumed run) counts every attempt.
set -euo pipefail
usage='usage: scripts/pipeline/wall-times.sh [--each] PROFILE|LOG'
each=0
case ${1:-} in
  --each) each=1; shift ;;
  -h|--help) echo "$usage"; exit 0 ;;
  -*) echo "wall-times.sh: unknown option '$1'; $usage" >&2; exit 2 ;;
esac
profile=${1:?$usage}
log=results/$profile/timings.log
[ -f "$profile" ] && log=$profile
[ -f "$log" ] || { echo "wall-times.sh: $log: missing (run make reproduce PROFILE=$profile)" >&2; exit 2; }
awk -F'\t' -v OFS='\t' -v each="$each" '
  { item = $1
    if (!each && item ~ /^run\//) sub(/\/[^\/]+$/, "", item)   # run/MODEL/sSEED -> run/MODEL
    if (!each && item ~ /^an\//) { split(item, part, "/"); item = part[1] "/" part[2] }   # an/NAME/RUN -> an/NAME
    if (!(item in n)) order[++k] = item
    n[item]++; s[item] += $2 }
  END { print "item", "n", "seconds"
        for (i = 1; i <= k; i++) printf "%s\t%d\t%.1f\n", order[i], n[order[i]], s[order[i]] }' "$log"
