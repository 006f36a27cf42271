#!/usr/bin/env bash
# window-delays.sh OUT.tsv GROUP [-- GROUP ...]: how much later than full
# attention far retrieval emerges, per SWA window and seed, across scales
# (issue 18: does laziness depend on the window w or on w / T?).
#
# GROUP = SCALE T TABLES BASELINE CELL...
#   SCALE     a name for the regime (toy, scale)
#   T         its training context
#   TABLES    the directory holding its e1_emergence.tsv and e4_emergence.tsv
#             (hybench fit emergence per run: model, seed, t_cross_cens,
#             cross_status)
#   BASELINE  the full-attention model of that regime
#   CELL      PLACEMENT:MODEL:WINDOW, one per SWA model (e.g. SF:sf_w8:8)
#
# OUT, one row per (scale, model, seed, measure):
#   scale T placement model window w_over_T seed measure t censored baseline_t delay
# measure e1: the first crossing of 0.9 far accuracy (e1_emergence.tsv);
#         e4: the rank-1 full-layer head's sustained crossing of 0.5 on the far
#             NIAH needles (e4_emergence.tsv).
# t is t_cross_cens (a run that never crossed counts at its budget, censored = 1;
# one already above the threshold at its first checkpoint, cross_status at_first,
# crossed by then: t is that checkpoint, censored = 0).
# baseline_t is the mean e1 crossing of BASELINE over its seeds that crossed
# (the baseline has no traced heads, so both measures are relative to its
# retrieval emergence); delay = t / baseline_t. Rows whose baseline never
# crossed are left out (no delay can be formed): the count is printed.
set -euo pipefail
out=${1:?usage: window-delays.sh OUT.tsv SCALE T TABLES BASELINE CELL... [-- ...]}
shift
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

. "$(dirname "$0")/lib.sh"

# columns TSV NAME...: those columns (by header name) of TSV, tab-separated, no header.
columns() {
  local tsv=$1; shift
  [ -r "$tsv" ] || { echo "window-delays.sh: $tsv: cannot read" >&2; exit 2; }
  TSV_FILE=$tsv tsv_select "$@" < "$tsv" | tail -n +2
}

emit_group() { # SCALE T TABLES BASELINE CELL...
  local scale=$1 T=$2 tables=$3 base=$4; shift 4
  local base_t
  base_t=$(columns "$tables/e1_emergence.tsv" model t_cross cross_status |
    awk -F'\t' -v m="$base" '$1 == m && $3 == "crossed" { s += $2; n++ } END { if (n) printf "%.9g", s / n; else print "nan" }')
  local cell placement model window measure table
  for cell in "$@"; do
    IFS=: read -r placement model window <<< "$cell"
    [ -n "$window" ] || { echo "window-delays.sh: cell '$cell' is not PLACEMENT:MODEL:WINDOW" >&2; exit 2; }
    for measure in e1 e4; do
      table="$tables/${measure}_emergence.tsv"
      columns "$table" model seed t_cross_cens cross_status |
        awk -F'\t' -v OFS='\t' -v scale="$scale" -v T="$T" -v p="$placement" -v m="$model" -v w="$window" \
            -v meas="$measure" -v bt="$base_t" '
          $1 == m { cens = $4 == "crossed" || $4 == "at_first" ? 0 : 1
                    if (bt == "nan") { skipped++; next }
                    printf "%s\t%s\t%s\t%s\t%s\t%.9g\t%s\t%s\t%.9g\t%d\t%s\t%.9g\n", scale, T, p, m, w, w / T, $2, meas, $3, cens, bt, $3 / bt }
          END { if (skipped) printf "window-delays.sh: %s %s %s: %d rows left out, the baseline never crossed\n", scale, m, meas, skipped > "/dev/stderr" }'
    done
  done
}

{
  printf 'scale\tT\tplacement\tmodel\twindow\tw_over_T\tseed\tmeasure\tt\tcensored\tbaseline_t\tdelay\n'
  group=()
  for arg in "$@" --; do
    if [ "$arg" = -- ]; then
      [ "${#group[@]}" -ge 5 ] || { echo "window-delays.sh: a group needs SCALE T TABLES BASELINE and a cell" >&2; exit 2; }
      emit_group "${group[@]}"
      group=()
    else group+=("$arg"); fi
  done
} > "$tmp"
mv "$tmp" "$out"
trap - EXIT
