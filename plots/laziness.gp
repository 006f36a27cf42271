# Laziness figure (E4): retrieval score of the best head (rank 1: the best
# head of the final checkpoint) at every checkpoint of a run, vs training
# tokens, both axes log (the uniform baseline is small). Top: attention mass
# from the query onto the needle; bottom: onto the needle plus the positions
# the efficient layers below can relay it to.
# One colour per model, one line per seed; thin dashed: the score of a
# uniform head (the uniform_* columns of the same rows).
#   gnuplot -c plots/laziness.gp E4_LAZINESS.tsv OUT "MODELS" "SEEDS"
# E4_LAZINESS.tsv: `hybench trace run` tables, columns run, model, seed,
#   tokens, layer, head, rank, score_needle, score_relay, uniform_needle,
#   uniform_relay, entropy, entropy_norm, qk_l2, qk_rel_l2, n_samples; one
#   row per (checkpoint, top head). Drawn: the rows with rank 1.
# MODELS, SEEDS: space-separated values of the model and seed columns.
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/laziness.gp E4_LAZINESS.tsv OUT \"MODELS\" \"SEEDS\""
  exit status 2
}
IN = ARG1; OUT = ARG2; MODELS = ARG3; SEEDS = ARG4
load "plots/lib/common.gp"
WIDTH = 1000; HEIGHT = 900
n_models = words(MODELS); n_seeds = words(SEEDS)
curve(m, s, c) = yif(is("rank", "1") && is("model", m) && is("seed", s), c)
PANEL_Y = "score_needle score_relay"
PANEL_U = "uniform_needle uniform_relay"
PANEL_TITLE = "(a) Needle: attention mass from the query token onto the needle|" . \
              "(b) Needle + relay: onto the needle and the positions the efficient layers below relay it to"
PANEL_YLABEL = "attention mass on the needle (log scale)|mass on needle + relay positions (log scale)"
part(s, k) = k == 1 ? s[1:strstrt(s, "|") - 1] : s[strstrt(s, "|") + 1:]

set logscale x
set autoscale xfix
eval "set xtics " . TICS125
set logscale y
eval "set ytics " . TICS125_FRAC
set autoscale yfix
set offsets graph 0.01, graph 0.01, graph 0.03, graph 0.03

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  set multiplot layout 2,1 @PANELS2 \
      title "Retrieval score of the rank-1 head of the full layer on needles more than 64 tokens back (one line per seed: " . SEEDS . ")"
  do for [k=1:2] {
    set title part(PANEL_TITLE, k)
    set ylabel part(PANEL_YLABEL, k)
    if (k == 1) {
      unset xlabel
      set key @KEY_RIGHT title "model"
    } else {
      set xlabel "training tokens (log scale)"
      unset key
    }
    plot for [i=1:n_models] keyentry with linespoints lt mlt(word(MODELS, i)) title word(MODELS, i), \
         keyentry with lines lc rgb INK lw 1 dt 2 title "uniform head", \
         for [i=1:n_models] for [j=1:n_seeds] IN \
             using "tokens":(curve(word(MODELS, i), word(SEEDS, j), word(PANEL_U, k))) \
             with lines lt mlt(word(MODELS, i)) lw 1 dt 2 notitle, \
         for [i=1:n_models] for [j=1:n_seeds] IN \
             using "tokens":(curve(word(MODELS, i), word(SEEDS, j), word(PANEL_Y, k))) \
             with linespoints lt mlt(word(MODELS, i)) pt 7 ps 0.6 notitle
  }
  unset multiplot
}
