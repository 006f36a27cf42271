# Convergence figure (E1): short-context loss vs training tokens, one colour
# per model, one line per seed.
#   gnuplot -c plots/convergence.gp E1_CURVES.tsv OUT "MODELS" "SEEDS"
# E1_CURVES.tsv: scripts/collect-evals.sh's table, columns model, seed,
#   tokens, short_loss (nats/token), longppl, far_acc; "nan" = not evaluated.
# MODELS, SEEDS: space-separated values of the model and seed columns.
# Writes OUT.png and OUT.svg.
if (ARGC < 4) {
  print "usage: gnuplot -c plots/convergence.gp E1_CURVES.tsv OUT \"MODELS\" \"SEEDS\""
  exit status 2
}
IN = ARG1; OUT = ARG2; GROUPS = ARG3; SEEDS = ARG4
XCOL = "tokens"; YCOL = "short_loss"; GROUPCOL = "model"; SEEDCOL = "seed"
KEYTITLE = "model"
LOGX = 1
XLABEL = "training tokens (log scale)"
YLABEL = "short-context loss (nats/token)"
TITLE = "Short-context validation loss during training (one line per seed: " . SEEDS . ")"
load "plots/lib/curves.gp"
