#!/usr/bin/env bash
# wall-times.sh PROFILE: sums results/PROFILE/timings.log (written by
# scripts/pipeline/timed.sh during `make reproduce`) into a table on stdout:
#   item n seconds
# one row per model's training runs (run/MODEL, run/e2/HYBRID_dWIDTH: all
# seeds or budgets; seconds of one core each, two run side by side under
# make -j2), one per per-run analysis (an/NAME: all runs), then one per
# table and figure. A step timed more than once (an
# interrupted, resumed run) counts every attempt.
set -euo pipefail
profile=${1:?usage: scripts/pipeline/wall-times.sh PROFILE}
log=results/$profile/timings.log
[ -f "$log" ] || { echo "wall-times.sh: $log: missing (run make reproduce PROFILE=$profile)" >&2; exit 2; }
awk -F'\t' -v OFS='\t' '
  { item = $1
    if (item ~ /^run\//) sub(/\/[^\/]+$/, "", item)   # run/MODEL/sSEED -> run/MODEL
    if (item ~ /^an\//) { split(item, part, "/"); item = part[1] "/" part[2] }   # an/NAME/RUN -> an/NAME
    if (!(item in n)) order[++k] = item
    n[item]++; s[item] += $2 }
  END { print "item", "n", "seconds"
        for (i = 1; i <= k; i++) printf "%s\t%d\t%.1f\n", order[i], n[order[i]], s[order[i]] }' "$log"
