# Shared by the per-figure scripts: one curve per (group, seed) of a TSV
# table, columns selected by header name, groups coloured, seeds as
# separate lines of the same colour. The calling script sets, before `load`:
#   IN, OUT       input table, output path without extension
#   XCOL, YCOL    column names for x and y
#   GROUPCOL      column whose values are the groups; GROUPS: space-separated values
#   SEEDCOL       column of the seed; SEEDS: space-separated values
#   XLABEL, YLABEL, TITLE
# and optionally LOGX = 1, LOGY = 1, YMIN, YMAX, and FILTERCOL / FILTERVAL
# to keep only the rows whose column FILTERCOL equals FILTERVAL.
# Writes OUT.png (pngcairo) and OUT.svg. Computes nothing: selection only.
set datafile separator "\t"
set datafile missing "nan"
set termoption noenhanced
if (XCOL eq "tokens") { set format x "%.1s%c" }
set key outside right top box opaque
set grid
set xlabel XLABEL
set ylabel YLABEL
set title TITLE noenhanced
if (exists("LOGX") && LOGX) { set logscale x }
if (exists("LOGY") && LOGY) { set logscale y }
if (exists("YMIN") && exists("YMAX")) { set yrange [YMIN:YMAX] }
if (!exists("FILTERCOL")) { FILTERCOL = ""; FILTERVAL = "" }
keep(dummy) = FILTERCOL eq "" || strcol(FILTERCOL) eq FILTERVAL
select(g, s) = (keep(0) && strcol(GROUPCOL) eq g && strcol(SEEDCOL) eq s) ? column(YCOL) : NaN
n_groups = words(GROUPS)
n_seeds = words(SEEDS)
PLOT = "plot for [i=1:n_groups] for [j=1:n_seeds] IN using XCOL:(select(word(GROUPS, i), word(SEEDS, j))) " . \
       "with linespoints lt i pt 7 ps 0.4 lw 1.5 title (j == 1 ? word(GROUPS, i) : '')"
set terminal pngcairo size 1000,600 font "sans,11" noenhanced
set output OUT . ".png"
eval PLOT
set terminal svg size 1000,600 font "sans,11" noenhanced
set output OUT . ".svg"
eval PLOT
