# Shared by tests/cli/scale.sh and tests/cli/slurm.sh: the scale profile
# (issue 18) in a reduced form. Source it, then
#   scale_reduced DIR   sets the array `reduced`: make arguments for PROFILE=scale
#                       with tiny budgets, seed 1, FFFF, FSSS w 16 / w 256 and the
#                       NoPE hybrid, the profile's datasets at a fraction of their
#                       size (the same generator settings but n_train / n_val /
#                       niah_per_depth, written under DIR/specs) and every output
#                       (data, runs, tables, figures) under DIR.
# 8 steps of 8192 tokens at T 1024 give the emergence fits their points.
scale_reduced() {
  local dir=$1 f
  mkdir -p "$dir/specs"
  for f in datasets/onehop16_kjv_1k*.conf datasets/niah_kjv_1k*.conf; do
    sed -e 's/^n_train = 40000/n_train = 400/' -e 's/^n_val = .*/n_val = 8/' -e 's/^n_test = .*/n_test = 8/' \
        -e 's/^niah_per_depth = .*/niah_per_depth = 1/' "$f" > "$dir/specs/$(basename "$f")"
  done
  reduced=(PROFILE=scale TOKENS=64k WARM_TOKENS=32k EVAL_EVERY=16k SEEDS=1 EXTRA_SEEDS= EXTRA_SEED_MODELS=
           ONE_SEED_MODELS= "E1_MODELS=ffff fsss_w16 fsss_w256" "E4_MODELS=fsss_w16 fsss_w256"
           "E5_MODELS=fsss_w16 fsss_w16_nope" SCRATCH_MODELS=ffff CONSTRAINT_R=1,8,1024
           ONEHOP_SPEC="$dir/specs/onehop16_kjv_1k" NIAH_SPEC="$dir/specs/niah_kjv_1k"
           DATA="$dir/data" WARM_DATA="$dir/warm" RUNS="$dir/runs" R="$dir/tables" FIGS="$dir/figs")
}
