# Probing figure (mechanism): test accuracy of a linear probe (`hybench
# probe`) that reads the needle's class from the residual stream at the
# answer's query token, per layer: x = l is the input of layer l (0: the
# embeddings), x = L the last layer's output. Solid with filled points: the
# probe; dashed with open points: the same probe trained on shuffled labels
# (control); thin grey: chance (1 / classes). One colour per model, one line
# per seed.
#   gnuplot -c plots/probing.gp MECH_PROBE.tsv OUT "MODELS" "SEEDS"
# MECH_PROBE.tsv: columns run, model, seed, tokens, layer, acc_test,
#   acc_train, acc_shuffled, chance, majority, n_train, n_test, n_classes,
#   lambda, iters, status, iters_shuffled, status_shuffled; one row per
#   layer. One checkpoint per run (the lines join the rows of a model and
#   seed in file order).
# MODELS, SEEDS: space-separated values of the model and seed columns.
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/probing.gp MECH_PROBE.tsv OUT \"MODELS\" \"SEEDS\""
  exit status 2
}
IN = ARG1; OUT = ARG2; MODELS = ARG3; SEEDS = ARG4
load "plots/lib/common.gp"
n_models = words(MODELS); n_seeds = words(SEEDS)
curve(m, s, c) = yif(is("model", m) && is("seed", s), c)

set xlabel "layer l: probe on the input of layer l (0 = embeddings; the last = the final layer's output)"
set ylabel "probe test accuracy (needle's class)"
set title "Linear probes for the needle's class along the residual stream, needles more than 64 tokens back (one line per seed: " . SEEDS . ")"
set xtics 1
set autoscale xfix
set offsets 0.15, 0.15, 0, 0
set yrange [-0.02:1.02]; set ytics 0, 0.2, 1
set key outside right top title "model; line style"

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  plot for [i=1:n_models] keyentry with linespoints lt mlt(word(MODELS, i)) title word(MODELS, i), \
       keyentry with linespoints lc rgb INK lw 1.5 pt 7 title "probe", \
       keyentry with linespoints lc rgb INK lw 1 dt 2 pt 6 title "shuffled labels", \
       keyentry with lines lc rgb GREY lw 1 title "chance", \
       for [i=1:n_models] for [j=1:n_seeds] IN using "layer":(curve(word(MODELS, i), word(SEEDS, j), "chance")) \
           with lines lc rgb GREY lw 1 notitle, \
       for [i=1:n_models] for [j=1:n_seeds] IN using "layer":(curve(word(MODELS, i), word(SEEDS, j), "acc_shuffled")) \
           with linespoints lt mlt(word(MODELS, i)) lw 1 dt 2 pt 6 ps 1 notitle, \
       for [i=1:n_models] for [j=1:n_seeds] IN using "layer":(curve(word(MODELS, i), word(SEEDS, j), "acc_test")) \
           with linespoints lt mlt(word(MODELS, i)) pt 7 ps 1 notitle
}
