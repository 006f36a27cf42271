# Calibration figure (issue 6): far retrieval accuracy vs training tokens for
# one loss mask, one colour per model, one line per seed.
#   gnuplot -c plots/calibration.gp CURVES.tsv OUT MASK "MODELS" "SEEDS" ["FAR" "SHAPE"]
# CURVES.tsv: the calibration profile's curves.tsv (mask, model, seed, tokens, far_acc, ...;
#   make reproduce-calibration). FAR: what "far" means, in words (default "evidence > 64",
#   the toy regime's); SHAPE: the models and context, for the title.
IN = ARG1; OUT = ARG2; FILTERCOL = "mask"; FILTERVAL = ARG3; GROUPS = ARG4; SEEDS = ARG5
FAR = (ARGC >= 6) ? ARG6 : "evidence > 64"
SHAPE = (ARGC >= 7) ? ARG7 : "2-layer SF / FF models, T 128"
XCOL = "tokens"; YCOL = "far_acc"; GROUPCOL = "model"; SEEDCOL = "seed"
XLABEL = "training tokens"
YLABEL = "far retrieval accuracy (" . FAR . " tokens back)"
TITLE = SHAPE . ", one-hop facts in KJV text, loss mask: " . FILTERVAL
YMIN = 0; YMAX = 1
load "plots/lib/curves.gp"
