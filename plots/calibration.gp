# Calibration figure (issue 6): far retrieval accuracy vs training tokens for
# one loss mask, one colour per model, one line per seed.
#   gnuplot -c plots/calibration.gp CURVES.tsv OUT MASK "MODELS" "SEEDS"
# CURVES.tsv: the calibration profile's curves.tsv (mask, model, seed, tokens, far_acc, ...;
#   make reproduce-calibration).
IN = ARG1; OUT = ARG2; FILTERCOL = "mask"; FILTERVAL = ARG3; GROUPS = ARG4; SEEDS = ARG5
XCOL = "tokens"; YCOL = "far_acc"; GROUPCOL = "model"; SEEDCOL = "seed"
XLABEL = "training tokens"
YLABEL = "far retrieval accuracy (evidence > 64 tokens back)"
TITLE = "2-layer SF / FF models, one-hop facts in KJV text, loss mask: " . FILTERVAL
YMIN = 0; YMAX = 1
load "plots/lib/curves.gp"
