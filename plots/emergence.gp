# Emergence figure (E1): long-context ability during training. Top: LongPPL
# (log scale) vs training tokens; bottom: far retrieval accuracy vs training
# tokens. One colour per model, one line per seed.
#   gnuplot -c plots/emergence.gp E1_CURVES.tsv OUT "MODELS" "SEEDS"
# E1_CURVES.tsv: the merged per-run tables of scripts/pipeline/collect-evals.sh, columns model, seed,
#   tokens, short_loss, longppl, far_acc; "nan" = not evaluated.
# MODELS, SEEDS: space-separated values of the model and seed columns.
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/emergence.gp E1_CURVES.tsv OUT \"MODELS\" \"SEEDS\""
  exit status 2
}
IN = ARG1; OUT = ARG2; MODELS = ARG3; SEEDS = ARG4
load "plots/lib/common.gp"
WIDTH = 1000; HEIGHT = 900
n_models = words(MODELS); n_seeds = words(SEEDS)
curve(m, s, c) = yif(is("model", m) && is("seed", s), c)

set logscale x
set autoscale xfix
set offsets graph 0.01, graph 0.01, graph 0.03, graph 0.03
eval "set xtics " . TICS125

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  set multiplot layout 2,1 @PANELS2 \
      title "Long-context ability during training (one line per seed: " . SEEDS . ")"

  set title "(a) LongPPL: perplexity of the answers with no copy of their value within 64 tokens"
  unset xlabel
  set key @KEY_RIGHT title "model"
  set ylabel "LongPPL (log scale)"
  set logscale y; set format y "%g"
  set autoscale yfix
  plot for [i=1:n_models] keyentry with linespoints lt mlt(word(MODELS, i)) title word(MODELS, i), \
       for [i=1:n_models] for [j=1:n_seeds] IN using "tokens":(curve(word(MODELS, i), word(SEEDS, j), "longppl")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.4 notitle

  set title "(b) Far retrieval accuracy: share of those answers predicted (arg-max) correctly"
  set xlabel "training tokens (log scale)"
  set ylabel "far accuracy (no copy within 64 tokens)"
  unset key
  unset logscale y
  set yrange [-0.02:1.02]; set ytics 0, 0.2, 1
  plot for [i=1:n_models] for [j=1:n_seeds] IN using "tokens":(curve(word(MODELS, i), word(SEEDS, j), "far_acc")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.4 notitle
  unset multiplot
}
