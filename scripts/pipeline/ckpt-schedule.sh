#!/usr/bin/env bash
# ckpt-schedule.sh TOKENS EVERY: the checkpoint token counts of a profile's
# runs, comma-separated: 4 per decade from 1% of TOKENS (train's default, for
# the log-scale start of every curve) and every EVERY tokens (the evaluation
# interval, so checkpoints add no evaluation rows of their own). The dense
# part lets the trace of retrieval heads (E4) put several checkpoints on the
# rise of a head's score, which a logistic fit needs. TOKENS, EVERY: counts
# with an optional k/M suffix.
set -euo pipefail
count() {
  case "$1" in
    *[kK]) awk -v v="${1%?}" 'BEGIN { printf "%d", v * 1e3 }' ;;
    *M)    awk -v v="${1%?}" 'BEGIN { printf "%d", v * 1e6 }' ;;
    *)     echo "$1" ;;
  esac
}
tokens=$(count "$1") every=$(count "$2")
if ! [[ "$tokens" =~ ^[0-9]+$ && "$every" =~ ^[0-9]+$ ]] || (( tokens < 1 || every < 1 )); then
  echo "ckpt-schedule.sh: '$1' and '$2' must be positive token counts (e.g. 8M 250k)" >&2; exit 2
fi
awk -v n="$tokens" -v e="$every" 'BEGIN {
  for (k = 8; k >= 1; k--) printf "%d,", n * 10 ^ (-k / 4)
  for (t = e; t < n; t += e) printf "%d,", t
  printf "%d\n", n }'
