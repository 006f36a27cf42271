# Shared by the per-figure scripts: one curve per (group, seed) of a TSV
# table, columns selected by header name, groups coloured, seeds as
# separate lines of the same colour. The calling script sets, before `load`:
#   IN, OUT       input table, output path without extension
#   XCOL, YCOL    column names for x and y
#   GROUPCOL      column whose values are the groups; GROUPS: space-separated values
#   SEEDCOL       column of the seed; SEEDS: space-separated values
#   XLABEL, YLABEL, TITLE
# and optionally LOGX = 1, LOGY = 1, YMIN, YMAX, FILTERCOL / FILTERVAL to
# keep only the rows whose column FILTERCOL equals FILTERVAL (FILTERCOL2 /
# FILTERVAL2 likewise), KEYTITLE (default GROUPCOL), YTICS (the argument of
# `set ytics`), WIDTH / HEIGHT.
# The legend names every group of GROUPS (a group without rows draws
# nothing); seeds share their group's colour. With XCOL "tokens" the x tics
# read 1M, 2M (log: 1-2-5 steps).
# Writes OUT.png (pngcairo) and OUT.svg. Computes nothing: selection only.
load "plots/lib/common.gp"
if (!exists("FILTERCOL")) { FILTERCOL = ""; FILTERVAL = "" }
if (!exists("FILTERCOL2")) { FILTERCOL2 = ""; FILTERVAL2 = "" }
if (!exists("KEYTITLE")) { KEYTITLE = GROUPCOL }
keep(dummy) = (FILTERCOL eq "" || is(FILTERCOL, FILTERVAL)) && (FILTERCOL2 eq "" || is(FILTERCOL2, FILTERVAL2))
select(g, s) = yif(keep(0) && is(GROUPCOL, g) && is(SEEDCOL, s), YCOL)
n_groups = words(GROUPS)
n_seeds = words(SEEDS)

set key outside right top title KEYTITLE
set xlabel XLABEL
set ylabel YLABEL
set title TITLE
if (exists("LOGX") && LOGX) {
  set logscale x
  if (XCOL eq "tokens") { eval "set xtics " . TICS125 }
} else {
  if (XCOL eq "tokens") { set format x FMT_TOKENS }
}
set autoscale xfix
set offsets graph 0.01, graph 0.01, 0, 0
if (exists("LOGY") && LOGY) {
  set logscale y; set format y "%g"
  set autoscale yfix; set offsets graph 0.01, graph 0.01, graph 0.03, graph 0.03
}
if (exists("YMIN") && exists("YMAX")) { set yrange [YMIN:YMAX] }
if (exists("YTICS")) { eval "set ytics " . YTICS }

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  plot for [i=1:n_groups] keyentry with linespoints lt i title word(GROUPS, i), \
       for [i=1:n_groups] for [j=1:n_seeds] IN using XCOL:(select(word(GROUPS, i), word(SEEDS, j))) \
           with linespoints lt i pt 7 ps 0.4 notitle
}
