# Large-Window Laziness across scales (issue 18): how much later than full
# attention far retrieval emerges, against the window relative to the context
# (left) and against the window itself (right), both axes log2. One colour per
# regime (toy T 128, scale T 1024); filled circles: runs that crossed; open
# triangles: runs that never crossed within their budget (the delay is a lower
# bound). Lines: the least-squares fit of log2(delay) per regime (solid) and
# pooled (black, dashed), from hybench fit trend; each panel's title gives the
# pooled slope with its standard error and the residual sd: the axis with the
# smaller residual sd orders the delays better.
#   gnuplot -c plots/window-ratio.gp DELAYS.tsv FIT_RATIO.tsv FIT_WINDOW.tsv OUT MEASURE "SCALES"
# DELAYS.tsv: scripts/pipeline/window-delays.sh (columns scale, window,
#   w_over_T, measure, censored, delay); MEASURE: e1 or e4 (its rows are drawn);
# FIT_*.tsv: hybench fit trend --out of those rows, x = w_over_T and x = window
#   (columns group, intercept, slope, slope_se, resid_sd, n, n_censored);
# SCALES: the scale names, in legend order. Writes OUT.png and OUT.svg.
if (ARGC < 6) {
  print "usage: gnuplot -c plots/window-ratio.gp DELAYS.tsv FIT_RATIO.tsv FIT_WINDOW.tsv OUT MEASURE \"SCALES\""
  exit status 2
}
IN = ARG1; FIT_R = ARG2; FIT_W = ARG3; OUT = ARG4; MEASURE = ARG5; SCALES = ARG6
load "plots/lib/common.gp"
n_scales = words(SCALES)
WIDTH = 1200; HEIGHT = 560

# Each regime's fitted line (and the pooled one, last): intercept and slope of log2(delay).
# FIT's number in column COL of the row whose group is G, into FITVAL (NaN when
# the fit has no such row or no number there: a regime with no delays).
FITVAL = NaN
fit_value(FIT, G, COL) = sprintf('undefine STATS_records; stats "%s" using (is("group", "%s") ? column("%s") : NaN) nooutput; FITVAL = exists("STATS_records") && STATS_records > 0 ? STATS_max : NaN', FIT, G, COL)
array A_R[n_scales + 1]; array B_R[n_scales + 1]; array A_W[n_scales + 1]; array B_W[n_scales + 1]
do for [i = 1:n_scales + 1] {
  g = i <= n_scales ? word(SCALES, i) : "all"
  eval fit_value(FIT_R, g, "intercept"); A_R[i] = FITVAL
  eval fit_value(FIT_R, g, "slope"); B_R[i] = FITVAL
  eval fit_value(FIT_W, g, "intercept"); A_W[i] = FITVAL
  eval fit_value(FIT_W, g, "slope"); B_W[i] = FITVAL
}
eval fit_value(FIT_R, "all", "slope_se"); SE_R = FITVAL
eval fit_value(FIT_R, "all", "resid_sd"); SD_R = FITVAL
eval fit_value(FIT_W, "all", "slope_se"); SE_W = FITVAL
eval fit_value(FIT_W, "all", "resid_sd"); SD_W = FITVAL
eval fit_value(FIT_R, "all", "n"); N_ALL = FITVAL == FITVAL ? FITVAL : 0
eval fit_value(FIT_R, "all", "n_censored"); N_CENS = FITVAL == FITVAL ? FITVAL : 0

line(a, b, x) = 2 ** (a + b * log(x) / log(2))
pt_of(s, cens, xcol) = yif(is("scale", s) && is("measure", MEASURE) && column("censored") == cens, "delay")
MEASURE_TEXT = MEASURE eq "e1" ? "far accuracy (nearest copy beyond the largest window) first crossing 0.9" \
                               : "rank-1 full-layer head's needle score crossing 0.5 for good"

set logscale x 2; set logscale y 2
set ytics (0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16) format "%g"
set offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08
set ylabel "delay: tokens to emerge / full attention's (log2)"
set key top left title "regime; marker" font ",10"

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  set multiplot layout 1,2 title sprintf("Emergence delay of SWA hybrids vs full attention: %s\n%d runs (%d never crossed: lower bounds). Which axis orders the delays: w/T (left) or w (right)?", \
      MEASURE_TEXT, N_ALL, N_CENS)
  set xlabel "window / training context  w/T (log2)"
  set xtics ("1/64" 1.0/64, "1/32" 1.0/32, "1/16" 1.0/16, "1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1)
  set title sprintf("pooled slope %.2f +- %.2f, residual sd %.2f (log2 units)", B_R[n_scales + 1], SE_R, SD_R)
  plot for [i=1:n_scales] keyentry with linespoints lt i pt 7 title word(SCALES, i), \
       keyentry with points lc rgb INK pt 7 title "crossed", \
       keyentry with points lc rgb INK pt 8 ps 1.3 title "never crossed (lower bound)", \
       keyentry with lines lc rgb INK dt 2 lw 1.5 title "pooled fit", \
       for [i=1:n_scales] IN using "w_over_T":(pt_of(word(SCALES, i), 0, "w_over_T")) with points lt i pt 7 notitle, \
       for [i=1:n_scales] IN using "w_over_T":(pt_of(word(SCALES, i), 1, "w_over_T")) with points lt i pt 8 ps 1.3 notitle, \
       for [i=1:n_scales] [1.0/64:1] line(A_R[i], B_R[i], x) with lines lt i lw 1.5 notitle, \
       [1.0/64:1] line(A_R[n_scales + 1], B_R[n_scales + 1], x) with lines lc rgb INK dt 2 lw 1.5 notitle
  set xlabel "window w in tokens (log2)"
  set xtics (4, 8, 16, 32, 64, 128, 256, 512)
  set title sprintf("pooled slope %.2f +- %.2f, residual sd %.2f (log2 units)", B_W[n_scales + 1], SE_W, SD_W)
  unset key
  plot for [i=1:n_scales] IN using "window":(pt_of(word(SCALES, i), 0, "window")) with points lt i pt 7 notitle, \
       for [i=1:n_scales] IN using "window":(pt_of(word(SCALES, i), 1, "window")) with points lt i pt 8 ps 1.3 notitle, \
       for [i=1:n_scales] [4:512] line(A_W[i], B_W[i], x) with lines lt i lw 1.5 notitle, \
       [4:512] line(A_W[n_scales + 1], B_W[n_scales + 1], x) with lines lc rgb INK dt 2 lw 1.5 notitle
  unset multiplot
  set key top left
}
