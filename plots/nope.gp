# NoPE figure (E5): length extrapolation. Top: far retrieval accuracy vs the
# context length evaluated (log2 axis, tics at the lengths in the table);
# bottom: NIAH accuracy vs needle depth at one length. One colour per model
# (e.g. sf_w8: RoPE in the full-attention layers, sf_w8_nope: NoPE there);
# one point type per seed; a line joins the lengths of one (model, seed, set
# family): solid the validation sets, dashed the NIAH sets.
#   gnuplot -c plots/nope.gp E5_NOPE.tsv OUT "MODELS" "SEEDS" NIAH_LENGTH
# E5_NOPE.tsv: columns model, seed, length, set, metric, group, value, n;
#   metric far_acc / longppl / short_loss (group -1) or niah_acc (group =
#   the needle's depth in percent). Drawn: far_acc rows with group -1 (top)
#   and niah_acc rows with length NIAH_LENGTH (bottom).
# MODELS, SEEDS: space-separated values of the model and seed columns;
# NIAH_LENGTH: a value of the length column (usually the longest).
# Writes OUT.png and OUT.svg.
if (ARGC < 5) {
  print "usage: gnuplot -c plots/nope.gp E5_NOPE.tsv OUT \"MODELS\" \"SEEDS\" NIAH_LENGTH"
  exit status 2
}
IN = ARG1; OUT = ARG2; MODELS = ARG3; SEEDS = ARG4; NIAH_LENGTH = ARG5
load "plots/lib/common.gp"
WIDTH = 1000; HEIGHT = 900
n_models = words(MODELS); n_seeds = words(SEEDS)
# The validation family (val, val2t, ...) and the NIAH family (niah, niah2t, ...)
# are separate lines: a line joins the lengths of one (model, seed, family).
family(f) = strlen(strcol("set")) >= strlen(f) && strcol("set")[1:strlen(f)] eq f
far(m, s, f) = yif(is("metric", "far_acc") && is("group", "-1") && is("model", m) && is("seed", s) && family(f), "value")
niah(m, s) = yif(is("metric", "niah_acc") && is("length", NIAH_LENGTH) && is("model", m) && is("seed", s), "value")

set yrange [-0.02:1.02]; set ytics 0, 0.2, 1

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  set multiplot layout 2,1 margins 0.09,0.78,0.07,0.92 spacing 0,0.13 \
      title "Length extrapolation (one line per seed: " . SEEDS . ")"

  set title "(a) Far retrieval accuracy vs the context length evaluated"
  set xlabel "context length evaluated (tokens, log scale)"
  set ylabel "far retrieval accuracy"
  set logscale x 2
  set xtics () format "%g"
  set offsets graph 0.04, graph 0.04, 0, 0
  set key @KEY_RIGHT title "model; seed"
  plot for [i=1:n_models] keyentry with lines lt mlt(word(MODELS, i)) title word(MODELS, i), \
       for [j=1:n_seeds] keyentry with points lc rgb INK pt seedpt(j) ps 1.4 title "seed " . word(SEEDS, j), \
       keyentry with lines lc rgb INK lw 1 dt solid title "validation set", \
       keyentry with lines lc rgb INK lw 1 dt 2 title "NIAH (one fact)", \
       for [i=1:n_models] for [j=1:n_seeds] IN \
           using "length":(far(word(MODELS, i), word(SEEDS, j), "val")):xtic(strcol("length")) \
           with linespoints lt mlt(word(MODELS, i)) lw 1 pt seedpt(j) ps 1.4 notitle, \
       for [i=1:n_models] for [j=1:n_seeds] IN \
           using "length":(far(word(MODELS, i), word(SEEDS, j), "niah")) \
           with linespoints lt mlt(word(MODELS, i)) lw 1 dt 2 pt seedpt(j) ps 1.4 notitle

  set title "(b) NIAH accuracy vs needle depth at length " . NIAH_LENGTH
  set xlabel "needle depth (% of the context)"
  set ylabel "NIAH accuracy"
  unset logscale x
  set xrange [-3:103]
  set xtics 0, 10, 100 format "%g"
  set offsets 0, 0, 0, 0
  unset key
  plot for [i=1:n_models] for [j=1:n_seeds] IN using "group":(niah(word(MODELS, i), word(SEEDS, j))) \
           with linespoints lt mlt(word(MODELS, i)) lw 1 pt seedpt(j) ps 1.4 notitle
  set autoscale x
  unset multiplot
}
