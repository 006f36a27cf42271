# Convergence figure (E1): does every hybrid end where full attention ends?
# Short-context loss beside long-context ability, vs training tokens on a
# linear axis (the end of training is what convergence is about): (a) short
# loss, (b) LongPPL (log scale), (c) far retrieval accuracy. One colour per
# model (the same in every figure), one line per seed.
#   gnuplot -c plots/convergence.gp E1_CURVES.tsv OUT "MODELS" "SEEDS"
# E1_CURVES.tsv: the merged per-run tables of scripts/pipeline/collect-evals.sh, columns model, seed,
#   tokens, short_loss (nats/token), longppl, far_acc; "nan" = not evaluated.
# MODELS, SEEDS: space-separated values of the model and seed columns.
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/convergence.gp E1_CURVES.tsv OUT \"MODELS\" \"SEEDS\""
  exit status 2
}
IN = ARG1; OUT = ARG2; MODELS = ARG3; SEEDS = ARG4
load "plots/lib/common.gp"
WIDTH = 1000; HEIGHT = 1200
n_models = words(MODELS); n_seeds = words(SEEDS)
curve(m, s, c) = yif(is("model", m) && is("seed", s), c)

set format x FMT_TOKENS
set autoscale xfix
set offsets graph 0.01, graph 0.01, graph 0.03, graph 0.03

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  set multiplot layout 3,1 margins 0.09,0.82,0.05,0.93 spacing 0,0.07 \
      title "Short loss and long-context ability during training (one line per seed: " . SEEDS . ")"

  set title "(a) Short-context loss on the text tokens of the validation set"
  unset xlabel
  set key @KEY_RIGHT title "model"
  set ylabel "short-context loss (nats/token)"
  set yrange [1.4:3.0]
  plot for [i=1:n_models] keyentry with linespoints lt mlt(word(MODELS, i)) title word(MODELS, i), \
       for [i=1:n_models] for [j=1:n_seeds] IN using "tokens":(curve(word(MODELS, i), word(SEEDS, j), "short_loss")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.4 notitle

  set title "(b) LongPPL: perplexity of the answers with no copy of their value within 64 tokens"
  unset key
  set ylabel "LongPPL (log scale)"
  set autoscale y
  set logscale y; set format y "%g"
  plot for [i=1:n_models] for [j=1:n_seeds] IN using "tokens":(curve(word(MODELS, i), word(SEEDS, j), "longppl")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.4 notitle

  set title "(c) Far retrieval accuracy: share of those answers predicted (arg-max) correctly"
  set xlabel "training tokens"
  set ylabel "far accuracy (no copy within 64 tokens)"
  unset logscale y
  set yrange [-0.02:1.02]; set ytics 0, 0.2, 1
  plot for [i=1:n_models] for [j=1:n_seeds] IN using "tokens":(curve(word(MODELS, i), word(SEEDS, j), "far_acc")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.4 notitle
  unset multiplot
  set autoscale y; set ytics autofreq
}
