# Constraint figure (E3): LongPPL when layers may see only their last r keys
# at inference, vs r. Solid: the full-attention layers constrained (layers F);
# dashed: every efficient layer constrained (layers E). One colour per model.
#   gnuplot -c plots/constraint.gp E3_CONSTRAINT.tsv OUT "MODELS" ["SEEDS"]
# E3_CONSTRAINT.tsv: columns run, model, seed, tokens, ckpt, set, layers
#   (F | E), r, metric, group, value, n; one row per metric. Drawn: the rows
#   with metric longppl and group -1, value vs r.
# MODELS: space-separated values of the model column. SEEDS (optional): of
#   the seed column, one line per seed; without it every row of a model and
#   layer set is one line, so give SEEDS when the table has several seeds.
#   The table should hold one checkpoint per run (the lines join rows in
#   file order).
# Writes OUT.png and OUT.svg.
if (ARGC < 3) {
  print "usage: gnuplot -c plots/constraint.gp E3_CONSTRAINT.tsv OUT \"MODELS\" [\"SEEDS\"]"
  exit status 2
}
IN = ARG1; OUT = ARG2; MODELS = ARG3
SEEDS = (ARGC >= 4) ? ARG4 : ""
load "plots/lib/common.gp"
n_models = words(MODELS)
n_seeds = (SEEDS eq "") ? 1 : words(SEEDS)
LAYERS = "F E"
seed_ok(j) = SEEDS eq "" || is("seed", word(SEEDS, j))
curve(m, l, j) = yif(is("metric", "longppl") && is("group", "-1") && is("model", m) && is("layers", l) && seed_ok(j), "value")

set logscale x 2
set xtics 2 format "%g"
set offsets graph 0.02, graph 0.02, graph 0.04, graph 0.04
set logscale y
set autoscale fix
set format y "%g"
set xlabel "r: keys each constrained layer may attend to at inference (log scale)"
set ylabel "LongPPL (log scale)"
set title "LongPPL when layers see only their last r keys" . (SEEDS eq "" ? "" : " (one line per seed: " . SEEDS . ")")
set key outside right top title "model; constrained layers"

do for [FMT in "png svg"] {
  call "plots/lib/output.gp" FMT
  plot for [i=1:n_models] keyentry with linespoints lt mlt(word(MODELS, i)) title word(MODELS, i), \
       keyentry with lines lc rgb INK lw 1.5 dt solid title "F: " . "full-attention layers", \
       keyentry with lines lc rgb INK lw 1.5 dt 2 title "E: " . "every efficient layer", \
       for [i=1:n_models] for [k=1:2] for [j=1:n_seeds] IN \
           using "r":(curve(word(MODELS, i), word(LAYERS, k), j)) \
           with linespoints lt mlt(word(MODELS, i)) dt k pt (k == 1 ? 7 : 6) ps 0.9 notitle
}
