# Gradient-influence figure (mechanism): how strongly the input at each
# distance back from the last token moves the model's outputs at the last
# positions (`hybench trace grad-influence`: the L2 norm of the gradient of
# the mean over the last N positions of the summed logits with respect to the
# input embedding, averaged over sequences), relative to its largest value,
# vs the distance. One colour per model, one line per seed.
#   gnuplot -c plots/gradient.gp MECH_GRADIENT.tsv OUT "MODELS" "SEEDS"
# MECH_GRADIENT.tsv: columns run, model, seed, tokens, distance, influence,
#   influence_rel, last, n_seqs; one row per distance. One checkpoint per
#   run (the lines join the rows of a model and seed in file order).
# MODELS, SEEDS: space-separated values of the model and seed columns.
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/gradient.gp MECH_GRADIENT.tsv OUT \"MODELS\" \"SEEDS\""
  exit status 2
}
IN = ARG1; OUT = ARG2; GROUPS = ARG3; SEEDS = ARG4
load "plots/lib/common.gp"
XCOL = "distance"; YCOL = "influence_rel"; GROUPCOL = "model"; SEEDCOL = "seed"
KEYTITLE = "model"
LOGY = 1
YTICS = TICS125_FRAC
XLABEL = "distance back from the last token (positions)"
YLABEL = "gradient influence / its largest value (log scale)"
TITLE = "Gradient influence of each input position on the outputs at the last positions (one line per seed: " . SEEDS . ")"
load "plots/lib/curves.gp"
