# Settings and helpers shared by every figure script; `load` it first.
#
# Tables are TSV with a header row; columns are selected by header name.
# A cell "nan" and a row that a selection rejects are both NaN to gnuplot,
# and `set datafile missing NaN` makes gnuplot skip such points while a line
# joins its neighbours: the rows of one curve need not be contiguous (the
# long tables interleave metrics, heads, models), and a missing value leaves
# no marker (linespoints) rather than a break in the line.
#
# Colours: every model has one colour in every figure and profile, its
# linetype mlt(model) = its position in MODEL_ORDER (Okabe-Ito colours,
# readable by colour-blind readers; no yellow; then brown, purple and olive);
# a model not in the list is dark grey. Lists that are not models (sizes,
# calibration groups) use linetype i for their i-th word.
# Point types: seedpt(j) marks the j-th seed where seeds are drawn as points
# (open shapes, so that seeds with equal values stay visible).
#
# Helpers, for `using` expressions (selection only, nothing computed):
#   is(c, v)        the string in column c equals v
#   yif(cond, c)    column c where cond holds, NaN elsewhere
# Tics: `eval "set xtics " . TICS125` puts 1-2-5 tics (1k 2k 5k 10k ... 1T)
# on a log axis of token counts; `eval "set ytics " . TICS125_FRAC` 1-2-5
# tics on a log axis of fractions (1e-5 .. 1); FMT_TOKENS labels a linear
# axis of token counts (1.5M).
set datafile separator "\t"
set datafile missing NaN
set encoding utf8

set linetype 1 lc rgb "#0072B2" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 2 lc rgb "#D55E00" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 3 lc rgb "#009E73" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 4 lc rgb "#CC79A7" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 5 lc rgb "#E69F00" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 6 lc rgb "#56B4E9" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 7 lc rgb "#8C564B" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 8 lc rgb "#6A3D9A" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 9 lc rgb "#999933" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 10 lc rgb "#444444" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 11 lc rgb "#117733" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 12 lc rgb "#882255" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 13 lc rgb "#88CCEE" lw 1.5 pt 7 ps 0.6 dt solid
set linetype 14 lc rgb "#DDCC77" lw 1.5 pt 7 ps 0.6 dt solid
set linetype cycle 14
# A model keeps its colour in every figure: the toy profiles' models, and the
# scale profile's (issue 18), which never share a figure with them.
MODEL_ORDER = "ff sf_w8 sf_w32 sf_w64 lf mf gf sf_w8_nope sf_w64_nope"
MODEL_ORDER_SCALE = "ffff sssf_w16 sssf_w64 sssf_w256 fsss_w16 fsss_w64 fsss_w256 lllf mmmf gggf sfsf_w16 fsss_w16_nope fsss_w256_nope"
model_pos(m) = sum [j=1:words(MODEL_ORDER)] (word(MODEL_ORDER, j) eq m ? j : 0)
scale_pos(m) = sum [j=1:words(MODEL_ORDER_SCALE)] (word(MODEL_ORDER_SCALE, j) eq m ? j : 0)
mlt(m) = model_pos(m) > 0 ? model_pos(m) : scale_pos(m) > 0 ? (scale_pos(m) == 10 ? 14 : scale_pos(m)) : 10
GREY = "#808080"
# Legend entries that explain a line style or marker (not a model) are drawn
# in INK, a colour no model line uses.
INK = "#000000"

array SEEDPT[8] = [6, 4, 8, 12, 10, 14, 2, 1]
seedpt(j) = SEEDPT[(j - 1) % 8 + 1]

is(c, v) = strcol(c) eq v
yif(cond, c) = cond ? column(c) : NaN

TICS125 = '("1k" 1e3, "2k" 2e3, "5k" 5e3, "10k" 1e4, "20k" 2e4, "50k" 5e4, ' . \
          '"100k" 1e5, "200k" 2e5, "500k" 5e5, "1M" 1e6, "2M" 2e6, "5M" 5e6, ' . \
          '"10M" 1e7, "20M" 2e7, "50M" 5e7, "100M" 1e8, "200M" 2e8, "500M" 5e8, ' . \
          '"1G" 1e9, "2G" 2e9, "5G" 5e9, "10G" 1e10, "20G" 2e10, "50G" 5e10, ' . \
          '"100G" 1e11, "200G" 2e11, "500G" 5e11, "1T" 1e12)'
TICS125_FRAC = '(1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 0.001, 0.002, 0.005, ' . \
               '0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1) format "%g"'
FMT_TOKENS = "%.1s%c"

set grid back lt 1 lc rgb "#dddddd" lw 0.8, lt 1 lc rgb "#eeeeee" lw 0.5
set border lw 1
set key box opaque Left reverse samplen 2.5 spacing 1.1 width 1

# Two panels stacked with the same plot width, room on the right for the
# legend of the top panel:
#   set multiplot layout 2,1 @PANELS2 title "..."
#   set key @KEY_RIGHT title "model"      (top panel; `unset key` below)
PANELS2 = "margins 0.09,0.78,0.07,0.92 spacing 0,0.09"
KEY_RIGHT = "at screen 0.99, graph 1 right top"
