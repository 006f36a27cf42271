# Entropy figure (E4): the rank-1 head (the best retrieval head of the final
# checkpoint) at every checkpoint of a run, vs training tokens (log scale).
# Top: its attention entropy over the last queries divided by the log of the
# visible keys (1 = uniform attention); bottom: the L2 distance of its Q/K
# weight rows to those of the final checkpoint, relative to the final rows'
# norm (0 at the final checkpoint). One colour per model, one line per seed.
#   gnuplot -c plots/entropy.gp E4_LAZINESS.tsv OUT "MODELS" "SEEDS"
# E4_LAZINESS.tsv: `hybench trace run` tables, columns run, model, seed,
#   tokens, layer, head, rank, score_needle, score_relay, uniform_needle,
#   uniform_relay, entropy, entropy_norm, qk_l2, qk_rel_l2, n_samples; one
#   row per (checkpoint, top head). Drawn: the rows with rank 1.
# MODELS, SEEDS: space-separated values of the model and seed columns.
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/entropy.gp E4_LAZINESS.tsv OUT \"MODELS\" \"SEEDS\""
  exit status 2
}
IN = ARG1; OUT = ARG2; MODELS = ARG3; SEEDS = ARG4
load "plots/lib/common.gp"
WIDTH = 1000; HEIGHT = 900
n_models = words(MODELS); n_seeds = words(SEEDS)
curve(m, s, c) = yif(is("rank", "1") && is("model", m) && is("seed", s), c)

set logscale x
set autoscale xfix
eval "set xtics " . TICS125
set offsets graph 0.01, graph 0.01, 0, 0

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  set multiplot layout 2,1 @PANELS2 \
      title "Attention entropy and Q/K weights of the rank-1 head (needles more than 64 tokens back) (one line per seed: " . SEEDS . ")"

  set title "(a) Normalised attention entropy: entropy / log(visible keys); 1 = uniform attention"
  unset xlabel
  set ylabel "normalised attention entropy"
  set yrange [-0.02:1.02]; set ytics 0, 0.2, 1
  set key @KEY_RIGHT title "model"
  plot for [i=1:n_models] keyentry with linespoints lt mlt(word(MODELS, i)) title word(MODELS, i), \
       for [i=1:n_models] for [j=1:n_seeds] IN using "tokens":(curve(word(MODELS, i), word(SEEDS, j), "entropy_norm")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.6 notitle

  set title "(b) Q/K weights of the head: L2 distance to the final checkpoint / L2 norm at the final checkpoint"
  set xlabel "training tokens (log scale)"
  set ylabel "relative Q/K distance to final"
  set autoscale yfix; set ytics autofreq
  set offsets graph 0.01, graph 0.01, graph 0.04, graph 0.04
  unset key
  plot for [i=1:n_models] for [j=1:n_seeds] IN using "tokens":(curve(word(MODELS, i), word(SEEDS, j), "qk_rel_l2")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.6 notitle
  set offsets graph 0.01, graph 0.01, 0, 0
  unset multiplot
}
