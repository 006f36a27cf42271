# Scaling figure: measured LongPPL (points) and the scaling fit's prediction
# (lines, through the predictions at the measured points) vs training tokens
# D, both axes log. One colour per model size; filled circles and solid
# lines: the sizes the fit used; open squares and dashed lines: held-out
# sizes (validation).
#   gnuplot -c plots/scaling.gp FIT.tsv OUT HYBRID "SIZES"
# FIT.tsv: `hybench fit scaling --longppl --out` (see src/cli/cmd_fit.c); drawn:
#   the point rows (kind train_point / validation_point), columns
#   model_size, d, actual_ppl, predicted_ppl.
# HYBRID: the hybrid's name, for the title. SIZES: space-separated values of
#   the model_size column (e.g. "S1 S2 S3 S4").
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/scaling.gp FIT.tsv OUT HYBRID \"SIZES\""
  exit status 2
}
IN = ARG1; OUT = ARG2; HYBRID = ARG3; SIZES = ARG4
load "plots/lib/common.gp"
n_sizes = words(SIZES)
KINDS = "train_point validation_point"
pts(sz, k, c) = yif(is("kind", word(KINDS, k)) && is("model_size", sz), c)

set logscale x; set logscale y
eval "set xtics " . TICS125
set ytics (1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 40, 50, 70, 100, 150, 200, 300, 500, 700, 1000, \
           1500, 2000, 3000, 5000, 7000, 10000) format "%g"
set autoscale fix
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
set xlabel "training tokens D (log scale)"
set ylabel "LongPPL (log scale)"
set title "LongPPL scaling of " . HYBRID . ": measured (points) and the fitted scaling law (lines)"
set key outside right top title "model size; style"

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  plot for [i=1:n_sizes] keyentry with lines lt i title word(SIZES, i), \
       keyentry with points lc rgb INK pt 7 ps 1.2 title "measured, fitted size", \
       keyentry with points lc rgb INK pt 4 ps 1.4 title "measured, held-out size", \
       keyentry with lines lc rgb INK lw 1.5 title "fit", \
       keyentry with lines lc rgb INK lw 1.5 dt 2 title "fit (held-out size)", \
       for [i=1:n_sizes] for [k=1:2] IN using "d":(pts(word(SIZES, i), k, "predicted_ppl")) \
           with lines lt i lw 1.5 dt k notitle, \
       for [i=1:n_sizes] for [k=1:2] IN using "d":(pts(word(SIZES, i), k, "actual_ppl")) \
           with points lt i pt (k == 1 ? 7 : 4) ps (k == 1 ? 1.2 : 1.4) notitle
}
