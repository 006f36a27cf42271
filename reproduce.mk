# The reproduction (issue 4): a graph of real files
#   bin/hybench -> results/data/*.tok -> results/runs/PROFILE/MODEL/sSEED/done
#   -> results/PROFILE/*.tsv (tables, fits) -> plots/out/PROFILE/*.png|svg
# Included by the Makefile. `make reproduce-quick` (CI) and `make
# reproduce-all` (the full profile, run with -j2) build everything of their
# profile; `make fig-laziness` (etc.) builds one figure of PROFILE (default
# quick), re-running only what is missing. Finished runs are not re-run: a
# run's target is its `done` file, and an interrupted run resumes.

PROFILE ?= quick
# PRECISION=bf16 trains every run with bf16 products (train --precision;
# include/hybench/dnn.h) into its own runs, tables and figures beside the fp32
# ones (results/runs/PROFILE-bf16, results/PROFILE-bf16, plots/out/PROFILE-bf16);
# `make check-results PRECISION=bf16` compares them with the fp32 reference
# (bench/precision-report.sh reads the outcome).
PRECISION ?= fp32
ifeq ($(filter fp32 bf16,$(PRECISION)),)
$(error PRECISION=$(PRECISION): must be fp32 or bf16)
endif
PTAG    := $(if $(filter bf16,$(PRECISION)),-bf16)
RUNS    := results/runs/$(PROFILE)$(PTAG)
R       := results/$(PROFILE)$(PTAG)
FIGS    := plots/out/$(PROFILE)$(PTAG)
DATA    := results/data
# Wall time of every run and table, appended to one log (scripts/pipeline/wall-times.sh).
TIMED   := scripts/pipeline/timed.sh $(R)/timings.log
# Every table gets its .meta sidecar (git revision, machine class, build) when it is made:
# check-results chooses bit-identity or band comparison from these.
META    := PRECISION=$(PRECISION) HB=$(HYBENCH) scripts/write-meta.sh

# ---- profiles ---------------------------------------------------------------
# Regime: DESIGN.md section 8, calibrated by PROFILE=calibration (REPRODUCE.md).
# Defaults a profile may change: far and near split by the nearest earlier copy
# of an answer's value (the fact, or an earlier answer of the same fact): far
# answers have no copy within the largest window compared (issue 14); the
# fact's distance is kept beside it (metrics far_acc_fact, longppl_fact).
# Checkpoints (train --ckpt-every): 4 per decade from 1% of the budget, then
# every EVAL_EVERY tokens. The curves' identifying columns and metrics.
DISTANCE     := nearest
CKPT_OPTS     = --ckpt-every $(EVAL_EVERY)
CURVE_IDS    := model seed
CURVE_METRICS := short_loss longppl far_acc answer_acc longppl_fact far_acc_fact
CAL_MASKS    :=
CAL_SHAPE    := 2-layer SF / FF models, T 128
# The toy regime's shape and data (DESIGN.md section 8); the scale profiles
# (issue 18) change them.
T          := 128
BATCH      := 32
FAR        := 64
LR         := 3e-3
WARMUP     := 50
ONEHOP_SPEC := datasets/onehop_kjv
NIAH_SPEC  := datasets/niah_kjv
DATASETS   := train val val2t val4t niah niah2t niah4t
# The model that short loss and LongPPL are relative to (e1_final), the
# receptive-field limits of the constraint (up to T), the x range of the NoPE
# figure (4T).
BASELINE   := ff
CONSTRAINT_R := 1,2,4,8,16,32,64,128
CONSTRAINT_SET := val
# Tables no claim or figure reads, kept as controls in the toy profiles: the
# heads and probes scored on every needle (near ones too).
NEEDLE_CONTROLS := on
NOPE_XMAX  := 512
# A curriculum over T (issue 18, PROFILE=scale): with WARM_TOKENS set, every
# run first trains WARM_TOKENS on the toy data at WARM_T (results/runs/
# PROFILE/warm/MODEL/sSEED), then its own budget at T from that run's final
# weights (train --init-from).
WARM_TOKENS :=
SCRATCH_MODELS :=
WT_GROUPS  :=
WARM_DATA  := results/data
WARM_T     := 128
WARM_BATCH := 32
WARM_FAR   := 64
# A profile sets the lists it uses; the others stay empty.
E1_MODELS := $(empty)
E4_MODELS := $(empty)
E5_MODELS := $(empty)
ONE_SEED_MODELS := $(empty)
EXTRA_SEED_MODELS := $(empty)
EXTRA_SEEDS := $(empty)
ALLTOK_MODELS := $(empty)
ALLTOK_SEEDS := $(empty)
E2_HYBRIDS := $(empty)
E2_WIDTHS := $(empty)
E2_MULTS := $(empty)
ifeq ($(PROFILE),quick)
# Seeds: check-results must tell a 30% later emergence from another machine's
# noise (issue 13). The band on a mean over n seeds is 2.5 x sd x sqrt(2 / n);
# ff's 90% crossing has a seed sd of 24% (10 seeds), so 10 seeds bring its
# smallest detectable shift to 31% (3 seeds: 63%); sf_w8's sd is 3%, and with
# 3 seeds it detects 13% (REPRODUCE.md, "On another CPU").
SEEDS      := 1 2 3
EXTRA_SEED_MODELS := ff
EXTRA_SEEDS := 4 5 6 7 8 9 10
TOKENS     := 5M
EVAL_EVERY := 250k
LOSS_MASK  := text+answers
E1_MODELS  := ff sf_w8 sf_w64 lf mf gf
E4_MODELS  := sf_w8 sf_w64
E5_MODELS  := sf_w8 sf_w8_nope
ONE_SEED_MODELS := lf mf gf
# E2 in quick: a smoke-sized grid of one hybrid (the pipeline end to end; its
# budgets end before retrieval emerges, so the fit says little about C1).
E2_HYBRIDS := ff
E2_WIDTHS  := 16 32 48
E2_MULTS   := 5 10 20
else ifeq ($(PROFILE),full)
# Seeds (pre-registered, REPRODUCE.md): 5 for the C3 window cells, so that an
# exact one-sided test on 5 vs 5 seeds can reach p < 0.05 (3 vs 3 cannot: its
# smallest p is 1/20); 5 for the NoPE pair for the same reason; 3 elsewhere.
SEEDS      := 1 2 3
TOKENS     := 8M
EVAL_EVERY := 250k
LOSS_MASK  := text+answers
E1_MODELS  := ff sf_w8 sf_w32 sf_w64 lf mf gf
E4_MODELS  := sf_w8 sf_w32 sf_w64
E5_MODELS  := sf_w8 sf_w8_nope sf_w64
EXTRA_SEED_MODELS := sf_w8 sf_w32 sf_w64 sf_w8_nope
EXTRA_SEEDS := 4 5
# The C3 window cells again under the all-token loss (the paper's), reported
# beside the default mask, never pooled: results/runs/full/alltok/, tables *_alltok.
ALLTOK_MODELS := sf_w8 sf_w64
ALLTOK_SEEDS := 1 2 3 4 5
# The scaling grid of full attention and the large window (the budget of the
# 5-seed window cells comes from dropping sf_w8's grid).
E2_HYBRIDS := ff sf_w64
E2_WIDTHS  := 32 48 64 80
E2_MULTS   := 10 20 40
else ifeq ($(PROFILE),long)
# Delay or stop (pre-registered P-C3-delay-or-stop, P-C1-converge): the window
# cells and full attention at three times the full budget, 3 seeds; evaluated
# and checkpointed every 500k tokens. Not part of reproduce-all (about 50 min
# of its own on 2 cores): make reproduce-long, resumable like every profile.
SEEDS      := 1 2 3
TOKENS     := 24M
EVAL_EVERY := 500k
LOSS_MASK  := text+answers
E1_MODELS  := ff sf_w8 sf_w32 sf_w64
E4_MODELS  := sf_w8 sf_w32 sf_w64
E5_MODELS  := ff sf_w8 sf_w32 sf_w64
else ifeq ($(PROFILE),calibration)
# The regime calibration (issue 6, DESIGN.md section 8; REPRODUCE.md): the
# window models under each loss mask, ff and the NoPE hybrid under the first
# mask only; 5 seeds of 6M tokens; far by the fact's own distance and train's
# default checkpoints, as when the committed reference was made. Its runs are
# RUNS/MASK/MODEL/sSEED. make reproduce-calibration (55 runs, ~1 h on 2 cores).
SEEDS      := 1 2 3 4 5
TOKENS     := 6M
EVAL_EVERY := 125k
LOSS_MASK  := text+answers
CAL_MASKS  := text+answers answers all
CAL_MODELS := sf_w8 sf_w32 sf_w64
CAL_EXTRA_MODELS := ff sf_w8_nope
DISTANCE   := evidence
CKPT_OPTS   =
CURVE_IDS  := mask=loss_mask model seed
CURVE_METRICS := far_acc short_loss
else ifneq ($(filter scale-calibration scale-calibration-kv,$(PROFILE)),)
# Issue 18, first step: does far retrieval emerge at T 1024 in a 4-layer d 128
# model (three efficient layers per full layer) within a budget a sitting
# allows? The calibration machinery with one mask; its own datasets
# (results/data/scale[-kv], datasets/onehop_kjv_1k*.conf) and model configs
# (models/scale_*.conf). Far = nearest copy beyond 256 tokens, the largest
# window of the planned profile (w/T = 1/4). Run with PRECISION=bf16.
# Round 2 (scale-calibration-kv): key-value facts instead, a small
# compositional planted vocabulary (keys and values of 2 tokens over 32 ids
# each) queried once at a distance drawn log-uniformly in 8..900 (24 facts per 1000 tokens: longer distances or more facts leave no room)
# (datasets/kv_kjv_1k*.conf, models/scale_kv_*.conf), 25M tokens.
SEEDS      := 1
TOKENS     := 30M
EVAL_EVERY := 1M
LOSS_MASK  := text+answers
CAL_MASKS  := text+answers
CAL_MODELS := scale_sssf_w16
CAL_EXTRA_MODELS := scale_ffff
CAL_SHAPE  := 4-layer SSSF w 16 / FFFF, d 128, T 1024
ifeq ($(PROFILE),scale-calibration-kv)
TOKENS     := 25M
CAL_MODELS := scale_kv_sssf_w16
CAL_EXTRA_MODELS := scale_kv_ffff
CAL_SHAPE  := 4-layer SSSF w 16 / FFFF, d 128, T 1024, key-value facts
endif
CKPT_OPTS   = --ckpt-every $(EVAL_EVERY)
CURVE_IDS  := mask=loss_mask model seed
CURVE_METRICS := far_acc short_loss answer_acc
T          := 1024
BATCH      := 8
FAR        := 256
WARMUP     := 100
DATA       := results/data/scale$(if $(filter scale-calibration-kv,$(PROFILE)),-kv)
ONEHOP_SPEC := $(if $(filter scale-calibration-kv,$(PROFILE)),datasets/kv_kjv_1k,datasets/onehop_kjv_1k)
DATASETS   := train val val2t
else ifeq ($(PROFILE),scale)
# The paper-shaped profile (issue 18; REPRODUCE.md, "The scale profile", where
# its design, seeds and claims were fixed before its runs): 4-layer d 128
# models, three efficient layers per full one with the full layer last (SSSF,
# LLLF, MMMF, GGGF) and first (FSSS, the placement variant), SFSF (1:1), and
# FFFF; SWA windows 16 / 64 / 256 = T/64, T/16, T/4 at T 1024; NoPE on the
# full layer of FSSS at the smallest and largest window. A curriculum over T
# (the third calibration round): each run first learns the toy task at T 128
# (WARM_TOKENS), then trains TOKENS at T 1024 on one-hop facts spread over the
# whole context (datasets/onehop16_kjv_1k.conf); scratch/ffff is the same
# budget at T 1024 without the warm stage. Far = nearest copy beyond 256, the
# largest window. Seeds: 5 for the cells that decide C3 and C4 (fsss_w16,
# fsss_w256, fsss_w16_nope), 3 for SSSF w 16 / w 256 and FFFF, 1 for the
# w-64 cells, SFSF, L/M/G and fsss_w256_nope (the 150-minute budget: the w-64
# cells went from 3 seeds to 1 after the first, unfinished reference run
# measured the analyses; REPRODUCE.md). Run with PRECISION=bf16.
SEEDS      := 1 2 3
EXTRA_SEED_MODELS := fsss_w16 fsss_w256 fsss_w16_nope
EXTRA_SEEDS := 4 5
# Budgets: the calibration's FFFF and FSSS w 16 reached 0.9 far accuracy at T
# 1024 within 0.36-0.51M tokens of the second stage; 2M (not the 3M first
# written) and 5 constraint limits (not 11) keep the profile near 150 minutes,
# as measured on the first warm stages (165-190 s each), before any T-1024 run.
TOKENS     := 2M
EVAL_EVERY := 500k
WARM_TOKENS := 4M
LOSS_MASK  := text+answers
E1_MODELS  := ffff sssf_w16 sssf_w64 sssf_w256 fsss_w16 fsss_w64 fsss_w256 sfsf_w16 lllf mmmf gggf
E4_MODELS  := sssf_w16 sssf_w64 sssf_w256 fsss_w16 fsss_w64 fsss_w256
E5_MODELS  := fsss_w16 fsss_w16_nope fsss_w256 fsss_w256_nope
ONE_SEED_MODELS := sssf_w64 fsss_w64 sfsf_w16 lllf mmmf gggf fsss_w256_nope
SCRATCH_MODELS := ffff
T          := 1024
BATCH      := 8
FAR        := 256
WARMUP     := 100
DATA       := results/data/scale16
ONEHOP_SPEC := datasets/onehop16_kjv_1k
NIAH_SPEC  := datasets/niah_kjv_1k
BASELINE   := ffff
CONSTRAINT_R := 1,8,64,256,1024
NOPE_XMAX  := 4096
# Cuts to the analyses for the 150-minute budget (fixed before the reference
# run; REPRODUCE.md, "The scale profile"): the constraint on a 64-sequence
# set of the validation design (valc), the 2T and 4T sets at 64 sequences and
# 4 needles per depth (datasets/*_2t.conf, *_4t.conf), no all-needle controls.
CONSTRAINT_SET := valc
DATASETS   += valc
NEEDLE_CONTROLS := off
# Eval's batch on the 2048- and 4096-token sets: 8 x 2048 and 2 x 4096 tokens
# keep attention's scores near those of the 32 x 1024 the runs evaluate at T.
EVAL_BATCH_2T := 8
EVAL_BATCH_4T := 2
# The w/T comparison (scripts/pipeline/window-delays.sh): the toy regime's
# window cells from the committed full-profile reference (T 128, 5 seeds), and
# this profile's, each as PLACEMENT:MODEL:WINDOW.
WT_GROUPS  := toy 128 results/reference/full ff SF:sf_w8:8 SF:sf_w32:32 SF:sf_w64:64 \
  -- scale $(T) $(R) $(BASELINE) SSSF:sssf_w16:16 SSSF:sssf_w64:64 SSSF:sssf_w256:256 \
  FSSS:fsss_w16:16 FSSS:fsss_w64:64 FSSS:fsss_w256:256
else
$(error PROFILE must be quick, full, long, calibration, scale, scale-calibration or scale-calibration-kv, not '$(PROFILE)')
endif
ifeq ($(filter on off,$(NEEDLE_CONTROLS)),)
$(error NEEDLE_CONTROLS=$(NEEDLE_CONTROLS): must be on or off)
endif

# Every (model, seed) run of the profile; models in ONE_SEED_MODELS get seed 1
# only, those in EXTRA_SEED_MODELS also EXTRA_SEEDS.
seeds_of = $(if $(filter $(1),$(ONE_SEED_MODELS)),1,$(SEEDS) $(if $(filter $(1),$(EXTRA_SEED_MODELS)),$(EXTRA_SEEDS)))
ALL_SEEDS := $(SEEDS) $(EXTRA_SEEDS)
# The seeds some model of a list has, in numeric order (a figure's legend).
seeds_in = $(shell printf '%s\n' $(foreach m,$(1),$(call seeds_of,$(m))) | sort -nu)
runs_of  = $(foreach m,$(1),$(foreach s,$(call seeds_of,$(m)),$(RUNS)/$(m)/s$(s)))
ALL_MODELS := $(sort $(E1_MODELS) $(E4_MODELS) $(E5_MODELS))
ALL_RUNS   := $(call runs_of,$(ALL_MODELS))
ALLTOK_RUNS := $(foreach m,$(ALLTOK_MODELS),$(foreach s,$(ALLTOK_SEEDS),$(RUNS)/alltok/$(m)/s$(s)))
# Calibration: seed-major, so that a partial sweep already compares every
# window under every mask.
CAL_RUNS := $(foreach s,$(SEEDS),$(foreach k,$(CAL_MASKS),$(foreach m,$(CAL_MODELS),$(RUNS)/$(k)/$(m)/s$(s))) \
              $(foreach m,$(CAL_EXTRA_MODELS),$(RUNS)/$(firstword $(CAL_MASKS))/$(m)/s$(s)))

# ---- data -------------------------------------------------------------------
# name: spec, split, seed
spec_train := $(ONEHOP_SPEC).conf train 1
spec_val   := $(ONEHOP_SPEC).conf val 2
spec_val2t := $(ONEHOP_SPEC)_2t.conf val 3
spec_valc  := $(ONEHOP_SPEC)_c.conf val 8
spec_val4t := $(ONEHOP_SPEC)_4t.conf val 4
spec_niah  := $(NIAH_SPEC).conf test 5
spec_niah2t := $(NIAH_SPEC)_2t.conf test 6
spec_niah4t := $(NIAH_SPEC)_4t.conf test 7

# A pattern names its files precious only as the rule writes it (GNU make
# matches the rule's target pattern), so the E2 rule is listed on its own.
.PRECIOUS: $(DATA)/%.tok $(RUNS)/%/done $(RUNS)/e2/%/done $(RUNS)/warm/%/done $(RUNS)/scratch/%/done
.SECONDEXPANSION:

$(DATA)/%.tok: $(HYBENCH) $$(word 1,$$(spec_$$*))
	@mkdir -p $(DATA)
	$(HYBENCH) gen-data --spec $(word 1,$(spec_$*)) --split $(word 2,$(spec_$*)) --seed $(word 3,$(spec_$*)) --out $@

# The warm stage's data: the toy regime's, made as the toy profiles make it
# (when DATA is a subdirectory of WARM_DATA, make picks the rule above for DATA's
# files: the shorter stem).
ifneq ($(WARM_TOKENS),)
wspec_train := datasets/onehop_kjv.conf train 1
wspec_val   := datasets/onehop_kjv.conf val 2
.PRECIOUS: $(WARM_DATA)/%.tok
$(WARM_DATA)/%.tok: $(HYBENCH) $$(word 1,$$(wspec_$$*))
	@mkdir -p $(WARM_DATA)
	$(HYBENCH) gen-data --spec $(word 1,$(wspec_$*)) --split $(word 2,$(wspec_$*)) --seed $(word 3,$(wspec_$*)) --out $@
endif

# ---- training runs ----------------------------------------------------------
# results/runs/PROFILE/[MASKDIR/]MODEL/sSEED/done; one thread per run, so make
# -j2 runs two. MASKDIR names the loss mask when a run's differs from
# LOSS_MASK (alltok: all; calibration: the mask itself).
run_parts = $(subst /, ,$(1))
run_model = $(word $(words $(call run_parts,$(1))),x $(call run_parts,$(1)))
run_seed  = $(patsubst s%,%,$(lastword $(call run_parts,$(1))))
run_mask  = $(if $(filter 3,$(words $(call run_parts,$(1)))),$(patsubst alltok,all,$(firstword $(call run_parts,$(1)))),$(LOSS_MASK))

TRAIN_OPTS = --data $(DATA)/train.tok --seq-len $(T) --batch $(BATCH) --lr $(LR) --warmup $(WARMUP) --threads 1 \
  --eval-set $(DATA)/val.tok --eval-far $(FAR) --eval-distance $(DISTANCE) --quiet $(if $(PTAG),--precision $(PRECISION))

# A run that diverges (train exits 3, RUN/diverged instead of RUN/done) is not
# an error of the graph: its evaluations up to the divergence stay in the
# tables and runs.tsv marks it; every later make asks train again, which
# answers exit 3 at once without training.
DIVERGED_OK = || test $$? -eq 3

# With a warm stage, the run starts from its warm run's final checkpoint.
warm_done = $(if $(WARM_TOKENS),$(RUNS)/warm/$(1)/done)
warm_init = $(if $(WARM_TOKENS),--init-from "$$(. scripts/pipeline/lib.sh && run_fields $(HYBENCH) $(RUNS)/warm/$(1) final_ckpt)" )

$(RUNS)/%/done: $(HYBENCH) models/$$(call run_model,$$*).conf $(DATA)/train.tok $(DATA)/val.tok $$(call warm_done,$$*)
	$(TIMED) run/$* $(HYBENCH) train --model models/$(call run_model,$*).conf --tokens $(TOKENS) --seed $(call run_seed,$*) \
	  --eval-every $(EVAL_EVERY) $(CKPT_OPTS) $(TRAIN_OPTS) --loss-mask $(call run_mask,$*) --out $(RUNS)/$* \
	  $(call warm_init,$*)$(if $(wildcard $(RUNS)/$*/run.conf),--resume) $(DIVERGED_OK)

# The warm stage: the toy regime's data and shape (DESIGN.md section 8), the
# profile's model; evaluated on the toy validation set (far = nearest copy
# beyond WARM_FAR) at the same checkpoints as the profile's runs.
$(RUNS)/warm/%/done: $(HYBENCH) models/$$(call run_model,$$*).conf $(WARM_DATA)/train.tok $(WARM_DATA)/val.tok
	$(TIMED) run/warm/$* $(HYBENCH) train --model models/$(call run_model,$*).conf --tokens $(WARM_TOKENS) --seed $(call run_seed,$*) \
	  --eval-every $(EVAL_EVERY) --ckpt-every $(EVAL_EVERY) --data $(WARM_DATA)/train.tok --seq-len $(WARM_T) --batch $(WARM_BATCH) \
	  --lr $(LR) --warmup 50 --threads 1 --eval-set $(WARM_DATA)/val.tok --eval-far $(WARM_FAR) --eval-distance nearest --quiet \
	  $(if $(PTAG),--precision $(PRECISION)) --loss-mask $(LOSS_MASK) --out $(RUNS)/warm/$* \
	  $(if $(wildcard $(RUNS)/warm/$*/run.conf),--resume) $(DIVERGED_OK)

# The control of a curriculum: the same budget at T without the warm stage
# (results/runs/PROFILE/scratch/MODEL/sSEED).
$(RUNS)/scratch/%/done: $(HYBENCH) models/$$(call run_model,$$*).conf $(DATA)/train.tok $(DATA)/val.tok
	$(TIMED) run/scratch/$* $(HYBENCH) train --model models/$(call run_model,$*).conf --tokens $(TOKENS) --seed $(call run_seed,$*) \
	  --eval-every $(EVAL_EVERY) $(CKPT_OPTS) $(TRAIN_OPTS) --loss-mask $(LOSS_MASK) --out $(RUNS)/scratch/$* \
	  $(if $(wildcard $(RUNS)/scratch/$*/run.conf),--resume) $(DIVERGED_OK)

# ---- E2 scaling grid: results/runs/PROFILE/e2/HYBRID_dWIDTH/xMULT/done ------
# One run per (hybrid, width, multiplier), seed 1, D = MULT x N tokens (train
# --tokens-per-param) with its own full LR schedule; evaluated at its checkpoints. The grid's model configs
# are derived from models/HYBRID.conf (hybench scale-model).
E2_CONF  := results/models
E2_SIZES := $(addprefix d,$(E2_WIDTHS))
E2_RUNS  := $(foreach h,$(E2_HYBRIDS),$(foreach w,$(E2_WIDTHS),$(foreach x,$(E2_MULTS),$(RUNS)/e2/$(h)_d$(w)/x$(x))))
e2_width = $(lastword $(subst _d, ,$(1)))
e2_base  = $(patsubst %_d$(call e2_width,$(1)),%,$(1))

.PRECIOUS: $(E2_CONF)/%.conf
$(E2_CONF)/%.conf: $(HYBENCH) models/$$(call e2_base,$$*).conf
	@mkdir -p $(E2_CONF)
	$(HYBENCH) scale-model --model models/$(call e2_base,$*).conf --width $(call e2_width,$*) --out $@

$(RUNS)/e2/%/done: $(HYBENCH) $(E2_CONF)/$$(call run_model,$$*).conf $(DATA)/train.tok $(DATA)/val.tok
	$(TIMED) run/e2/$* $(HYBENCH) train --model $(E2_CONF)/$(call run_model,$*).conf \
	  --tokens-per-param $(patsubst x%,%,$(call run_seed,$*)) --seed 1 $(TRAIN_OPTS) --loss-mask $(LOSS_MASK) --out $(RUNS)/e2/$* \
	  $(if $(wildcard $(RUNS)/e2/$*/run.conf),--resume) $(DIVERGED_OK)

# ---- per-run analyses: RUN/analysis/NAME.tsv -------------------------------
# One file per (run, analysis), so make skips, resumes and parallelises them
# run by run; RUN is any run directory of the profile (MODEL/sSEED,
# alltok/MODEL/sSEED, e2/HYBRID_dWIDTH/xMULT). A table is the merge of its
# runs' files (merge_table below). A new analysis over runs is one pattern
# rule here and one merge_table line.
AN_DEPS = $(RUNS)/%/done $(HYBENCH)

# evals.tsv of the run, wide: model seed tokens METRIC... (e1_curves).
$(RUNS)/%/analysis/curves.tsv: $(AN_DEPS) scripts/pipeline/collect-evals.sh scripts/pipeline/lib.sh
	@mkdir -p $(@D)
	$(TIMED) an/curves/$* scripts/pipeline/collect-evals.sh $(HYBENCH) $(RUNS)/$* $@ "$(CURVE_IDS)" $(CURVE_METRICS)

# The receptive-field constraint (claim C2): F layers, and E layers when the model has some.
$(RUNS)/%/analysis/constraint.tsv: $(AN_DEPS) $(DATA)/$(CONSTRAINT_SET).tok scripts/pipeline/constraint.sh scripts/pipeline/lib.sh
	@mkdir -p $(@D)
	$(TIMED) an/constraint/$* scripts/pipeline/constraint.sh $(HYBENCH) $(RUNS)/$* $(DATA)/$(CONSTRAINT_SET).tok $(CONSTRAINT_R) $(FAR) $(DISTANCE) $@

# The rank-1..4 heads of the full layer followed over every checkpoint, scored
# on the NIAH needles beyond the largest window (heads_far) or on all of them.
$(RUNS)/%/analysis/heads_far.tsv: $(AN_DEPS) $(DATA)/niah.tok
	@mkdir -p $(@D)
	$(TIMED) an/heads_far/$* $(HYBENCH) trace run --run $(RUNS)/$* --niah $(DATA)/niah.tok --min-distance $(FAR) --out $@ > /dev/null
$(RUNS)/%/analysis/heads_all.tsv: $(AN_DEPS) $(DATA)/niah.tok
	@mkdir -p $(@D)
	$(TIMED) an/heads_all/$* $(HYBENCH) trace run --run $(RUNS)/$* --niah $(DATA)/niah.tok --min-distance 0 --out $@ > /dev/null

# Sets of several lengths (claim C4); far = 64 at length T, T beyond it; eval's
# batch at 2T and 4T when the profile sets EVAL_BATCH_2T / EVAL_BATCH_4T
# (args_2t, args_4t: FAR[:BATCH] of those sets, for lengths.sh).
args_2t := $(T)$(EVAL_BATCH_2T:%=:%)
args_4t := $(T)$(EVAL_BATCH_4T:%=:%)
LENGTH_SETS := $(DATA)/val.tok:$(FAR) $(DATA)/val2t.tok:$(args_2t) $(DATA)/val4t.tok:$(args_4t) \
               $(DATA)/niah.tok:$(FAR) $(DATA)/niah2t.tok:$(args_2t) $(DATA)/niah4t.tok:$(args_4t)
$(RUNS)/%/analysis/lengths.tsv: $(AN_DEPS) $(foreach s,$(LENGTH_SETS),$(firstword $(subst :, ,$(s)))) scripts/pipeline/lengths.sh
	@mkdir -p $(@D)
	$(TIMED) an/lengths/$* scripts/pipeline/lengths.sh $(HYBENCH) $(RUNS)/$* $(DISTANCE) $@ $(LENGTH_SETS)

$(RUNS)/%/analysis/grad_influence.tsv: $(AN_DEPS) $(DATA)/val.tok
	@mkdir -p $(@D)
	$(TIMED) an/grad_influence/$* $(HYBENCH) trace grad-influence --run $(RUNS)/$* --data $(DATA)/val.tok --out $@ > /dev/null

# Linear probes after each layer: on the needles beyond the largest window, and on every needle.
$(RUNS)/%/analysis/probe_far.tsv: $(AN_DEPS) $(DATA)/niah.tok
	@mkdir -p $(@D)
	$(TIMED) an/probe_far/$* $(HYBENCH) probe --run $(RUNS)/$* --set $(DATA)/niah.tok --min-distance $(FAR) --out $@ > /dev/null
$(RUNS)/%/analysis/probe_all.tsv: $(AN_DEPS) $(DATA)/niah.tok
	@mkdir -p $(@D)
	$(TIMED) an/probe_all/$* $(HYBENCH) probe --run $(RUNS)/$* --set $(DATA)/niah.tok --out $@ > /dev/null

# The run itself: model, seed, budget, how far it got, done or diverged (runs.tsv).
RUN_STATUS_COLS := run model seed pattern tokens final_tokens done diverged
$(RUNS)/%/analysis/status.tsv: $(AN_DEPS) scripts/pipeline/run-status.sh scripts/pipeline/lib.sh
	@mkdir -p $(@D)
	scripts/pipeline/run-status.sh $(HYBENCH) $(RUNS)/$* $@ $(RUN_STATUS_COLS)

# One E2 point per grid run: its final evaluation, with the parameter count.
$(RUNS)/%/analysis/scaling_point.tsv: $(AN_DEPS) scripts/pipeline/scaling-point.sh scripts/pipeline/lib.sh
	@mkdir -p $(@D)
	$(TIMED) an/scaling_point/$* scripts/pipeline/scaling-point.sh $(HYBENCH) $(RUNS)/$* $@

.PRECIOUS: $(RUNS)/%/analysis/curves.tsv $(RUNS)/%/analysis/constraint.tsv $(RUNS)/%/analysis/heads_far.tsv \
  $(RUNS)/%/analysis/heads_all.tsv $(RUNS)/%/analysis/lengths.tsv $(RUNS)/%/analysis/grad_influence.tsv \
  $(RUNS)/%/analysis/probe_far.tsv $(RUNS)/%/analysis/probe_all.tsv $(RUNS)/%/analysis/scaling_point.tsv \
  $(RUNS)/%/analysis/status.tsv

# ---- tables -----------------------------------------------------------------
# $(call rows_where,COLUMN,VALUE,IN,OUT): the header and the rows of the TSV IN
# whose COLUMN (by name) equals VALUE, into OUT; exit 2 if IN has no COLUMN.
rows_where = awk -F'\t' -v col='$(1)' -v val='$(2)' 'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; \
  if (!(col in c)) { print FILENAME ": no column " col > "/dev/stderr"; exit 2 } print; next } $$c[col] == val' $(3) > $(4)

# $(call merge_table,TABLE,ANALYSIS,RUN_DIRS): results/PROFILE/TABLE.tsv, the
# rows of RUN/analysis/ANALYSIS.tsv of every run in RUN_DIRS, in that order.
define merge_table
$(R)/$(1).tsv: $(addsuffix /analysis/$(2).tsv,$(3)) scripts/pipeline/concat-tsv.sh | $(R)
	$$(TIMED) $$(@F) scripts/pipeline/concat-tsv.sh $$@ $(addsuffix /analysis/$(2).tsv,$(3))
	$$(META) $$@
endef

controls := $(filter on,$(NEEDLE_CONTROLS))
ifneq ($(PROFILE),calibration)
TABLES := $(R)/e1_curves.tsv $(R)/e1_emergence.tsv $(R)/e1_final.tsv $(R)/e3_constraint.tsv \
          $(R)/e4_laziness.tsv $(if $(controls),$(R)/e4_laziness_all_needles.tsv) $(R)/e4_emergence.tsv $(R)/e5_nope.tsv \
          $(R)/mech_gradient.tsv $(R)/mech_probe.tsv $(if $(controls),$(R)/mech_probe_all_needles.tsv) \
          $(if $(E2_HYBRIDS),$(R)/e2_points.tsv $(R)/e2_scaling.tsv $(foreach h,$(E2_HYBRIDS),$(R)/e2_step_$(h).tsv)) \
          $(if $(ALLTOK_MODELS),$(R)/e1_curves_alltok.tsv $(R)/e1_emergence_alltok.tsv \
            $(R)/e4_laziness_alltok.tsv $(R)/e4_emergence_alltok.tsv)
endif

# The emergence tables of one set of runs, $(1) the tables' suffix ("" or
# _alltok), $(2) the run directories of E1, $(3) those traced for E4.
#
# e1_curves: every evaluation of every run. e1_emergence: the emergence point
# of far retrieval per run (logistic fit) and the first crossing of 0.9. A rise
# smaller than 0.3 is not timed: far accuracy climbs early to a no-retrieval
# plateau of up to ~0.27 (guessing among the values seen, DESIGN.md section 8),
# and that climb is not retrieval emerging.
#
# e4_laziness: the rank-1..4 heads of the full layer followed over every
# checkpoint, scored on the NIAH needles beyond the largest window (FAR): the
# far-needle head (a head that reads only the needles a w-64 window cannot reach
# scores up to 1 here, but 96/176 on all needles). e4_emergence: per run, the
# crossing of 0.5 by the rank-1 head's needle score after which it stays above
# (a head formed: with large windows the score can rise and fall again). The
# relay score is in e4_laziness and the figure; its uniform baseline grows with
# the window (0.37 at w = 64), so a fixed threshold on it would favour large windows.
define emergence_tables
$(call merge_table,e1_curves$(1),curves,$(2))
$(call merge_table,e4_laziness$(1),heads_far,$(3))

$(R)/e1_emergence$(1).tsv: $(R)/e1_curves$(1).tsv $(HYBENCH) | $(R)
	$$(TIMED) $$(@F) $(HYBENCH) fit emergence --in $$< --y far_acc --group model,seed --seed-col seed --threshold 0.9 --min-rise 0.3 \
	  --out $$@ --summary-out $(R)/e1_emergence$(1)_summary.tsv > /dev/null
	$$(META) $$@ && $$(META) $(R)/e1_emergence$(1)_summary.tsv

$(R)/e4_emergence$(1).tsv: $(R)/e4_laziness$(1).tsv $(HYBENCH) | $(R)
	$$(call rows_where,rank,1,$$<,$$@.rank1.tsv)
	$$(TIMED) $$(@F) $(HYBENCH) fit emergence --in $$@.rank1.tsv --y score_needle --group model,seed --seed-col seed --threshold 0.5 --sustained \
	  --out $$@ --summary-out $(R)/e4_emergence$(1)_summary.tsv > /dev/null
	rm -f $$@.rank1.tsv
	$$(META) $$@ && $$(META) $(R)/e4_emergence$(1)_summary.tsv
endef

$(eval $(call emergence_tables,,$(call runs_of,$(E1_MODELS)),$(call runs_of,$(E4_MODELS))))
$(eval $(call emergence_tables,_alltok,$(ALLTOK_RUNS),$(ALLTOK_RUNS)))

# The mechanism analyses run on seed 1 of every E1 model.
SEED1_RUNS := $(foreach m,$(E1_MODELS),$(RUNS)/$(m)/s1)
# The same heads scored on every needle (near ones too), with n_samples, for comparison.
$(eval $(call merge_table,e4_laziness_all_needles,heads_all,$(call runs_of,$(E4_MODELS))))
$(eval $(call merge_table,e3_constraint,constraint,$(SEED1_RUNS)))
$(eval $(call merge_table,e5_nope,lengths,$(call runs_of,$(E5_MODELS))))
$(eval $(call merge_table,mech_gradient,grad_influence,$(SEED1_RUNS)))
$(eval $(call merge_table,mech_probe,probe_far,$(SEED1_RUNS)))
$(eval $(call merge_table,mech_probe_all_needles,probe_all,$(SEED1_RUNS)))
$(eval $(call merge_table,e2_points,scaling_point,$(E2_RUNS)))

$(R)/e1_final.tsv: $(R)/e1_curves.tsv scripts/pipeline/final-table.sh | $(R)
	$(TIMED) $(@F) scripts/pipeline/final-table.sh $< $(BASELINE) $@
	$(META) $@

# E2: the points (above), the paper's no_constant fit of log(LongPPL) per hybrid
# with the largest width held out (its report in e2_fit_HYBRID.txt), the summary.
$(R)/e2_fit_%.tsv: $(R)/e2_points.tsv $(HYBENCH)
	$(call rows_where,hybrid,$*,$<,$@.points.tsv)
	$(TIMED) $(@F) $(HYBENCH) fit scaling --in $@.points.tsv --formula no_constant --longppl --validate --out $@ > $(R)/e2_fit_$*.txt
	rm -f $@.points.tsv
	$(META) $@

# Beside the power law, the logistic-step law (hybench fit step, include/hybench/fit.h):
# LongPPL switches on as a step whose midpoint moves with model size.
$(R)/e2_step_%.tsv: $(R)/e2_points.tsv $(HYBENCH)
	$(call rows_where,hybrid,$*,$<,$@.points.tsv)
	$(TIMED) $(@F) $(HYBENCH) fit step --in $@.points.tsv --validate --out $@ > $(R)/e2_step_$*.txt
	rm -f $@.points.tsv
	$(META) $@

$(R)/e2_scaling.tsv: $(foreach h,$(E2_HYBRIDS),$(R)/e2_fit_$(h).tsv) scripts/pipeline/scaling-summary.sh
	scripts/pipeline/scaling-summary.sh $@ $(filter %.tsv,$^)
	$(META) $@

# ---- the calibration (PROFILE=calibration) -----------------------------------
# curves: every evaluation of every run (mask, model, seed); cross50/cross90:
# the first crossing of 50% / 90% far accuracy per run (hybench fit emergence);
# extrapolation: far accuracy at 2T; calibration: one row per run, and its
# summary per (mask, model).
$(RUNS)/%/analysis/extrapolation.tsv: $(AN_DEPS) $(DATA)/val2t.tok scripts/pipeline/extrapolation.sh scripts/pipeline/lib.sh
	@mkdir -p $(@D)
	$(TIMED) an/extrapolation/$* scripts/pipeline/extrapolation.sh $(HYBENCH) $(RUNS)/$* $(DATA)/val2t.tok $(T) $(DISTANCE) $@
.PRECIOUS: $(RUNS)/%/analysis/extrapolation.tsv

ifneq ($(filter calibration scale-calibration scale-calibration-kv,$(PROFILE)),)
$(eval $(call merge_table,curves,curves,$(CAL_RUNS)))
$(eval $(call merge_table,extrapolation,extrapolation,$(CAL_RUNS)))

$(R)/cross%.tsv: $(R)/curves.tsv $(HYBENCH) | $(R)
	$(TIMED) $(@F) $(HYBENCH) fit emergence --in $< --y far_acc --x tokens --group mask,model,seed --seed-col seed \
	  --threshold 0.$* --out $@ --summary-out $(R)/cross$*_summary.tsv > /dev/null
	$(META) $@ && $(META) $(R)/cross$*_summary.tsv

$(R)/calibration.tsv: $(R)/cross50.tsv $(R)/cross90.tsv $(R)/curves.tsv $(R)/extrapolation.tsv \
    scripts/pipeline/calibration-table.sh
	$(TIMED) $(@F) scripts/pipeline/calibration-table.sh $@ $(R)/cross50.tsv $(R)/cross90.tsv $(R)/curves.tsv $(R)/extrapolation.tsv
	$(META) $@

# Per (mask, model): count, mean, sd, median, min and max over the seeds of
# each column (hybench fit seeds; crossings: over the seeds that crossed).
$(R)/calibration_summary.tsv: $(R)/calibration.tsv $(HYBENCH)
	$(TIMED) $(@F) $(HYBENCH) fit seeds --in $< --group mask,model \
	  --cols tokens_to_50,tokens_to_90,final_far_acc,final_short_loss,far_acc_2T --out $@ > /dev/null
	$(META) $@

TABLES := $(R)/curves.tsv $(R)/cross50.tsv $(R)/cross90.tsv $(R)/extrapolation.tsv $(R)/calibration.tsv \
          $(R)/calibration_summary.tsv
endif

$(R):
	mkdir -p $@

# ---- figures ----------------------------------------------------------------
FIGURES := emergence convergence constraint laziness entropy nope gradient probing

fig_input_emergence   := e1_curves
fig_input_convergence := e1_curves
fig_input_constraint  := e3_constraint
fig_input_laziness    := e4_laziness
fig_input_entropy     := e4_laziness
fig_input_nope        := e5_nope
fig_input_gradient    := mech_gradient
fig_input_probing     := mech_probe
fig_args_emergence    = "$(E1_MODELS)" "$(call seeds_in,$(E1_MODELS))"
fig_args_convergence  = "$(E1_MODELS)" "$(call seeds_in,$(E1_MODELS))"
fig_args_constraint   = "$(E1_MODELS)"
fig_args_laziness     = "$(E4_MODELS)" "$(call seeds_in,$(E4_MODELS))"
fig_args_entropy      = "$(E4_MODELS)" "$(call seeds_in,$(E4_MODELS))"
fig_args_nope         = "$(E5_MODELS)" "$(call seeds_in,$(E5_MODELS))" $(NOPE_XMAX)
fig_args_gradient     = "$(E1_MODELS)" "1"
fig_args_probing      = "$(E1_MODELS)" "1"

$(FIGS)/%.png: plots/%.gp plots/lib/common.gp plots/lib/curves.gp $(R)/$$(fig_input_$$*).tsv
	@mkdir -p $(FIGS)
	$(TIMED) $(@F) gnuplot -c plots/$*.gp $(R)/$(fig_input_$*).tsv $(FIGS)/$* $(fig_args_$*)

# E2: one figure per hybrid (plots/scaling.gp), fig-scaling draws them all.
SCALING_FIGS := $(foreach h,$(E2_HYBRIDS),$(FIGS)/scaling_$(h).png)
$(FIGS)/scaling_%.png: plots/scaling.gp plots/lib/common.gp $(R)/e2_fit_%.tsv
	@mkdir -p $(FIGS)
	$(TIMED) $(@F) gnuplot -c plots/scaling.gp $(R)/e2_fit_$*.tsv $(FIGS)/scaling_$* $* "$(E2_SIZES)"

# The calibration: one figure per loss mask (calibration_text_answers, ...).
cal_mask = $(subst _,+,$(1))
CAL_FIGS := $(foreach k,$(CAL_MASKS),$(FIGS)/calibration_$(subst +,_,$(k)).png)
$(FIGS)/calibration_%.png: plots/calibration.gp plots/lib/common.gp plots/lib/curves.gp $(R)/curves.tsv
	@mkdir -p $(FIGS)
	$(TIMED) $(@F) gnuplot -c plots/calibration.gp $(R)/curves.tsv $(FIGS)/calibration_$* $(call cal_mask,$*) \
	  "$(CAL_MODELS) $(if $(filter $(call cal_mask,$*),$(firstword $(CAL_MASKS))),$(CAL_EXTRA_MODELS))" "$(SEEDS)" \
	  "$(if $(filter nearest,$(DISTANCE)),nearest copy,evidence) > $(FAR)" "$(CAL_SHAPE)"

ifneq ($(filter calibration scale-calibration scale-calibration-kv,$(PROFILE)),)
ALL_FIGS := $(CAL_FIGS)
else
ALL_FIGS := $(FIGURES:%=$(FIGS)/%.png) $(SCALING_FIGS)
endif
# Every run of the profile with its status (done, diverged, how far it got).
# The warm runs are not in print-runs: each is built by its run's own job.
SCRATCH_RUNS = $(foreach m,$(SCRATCH_MODELS),$(RUNS)/scratch/$(m)/s1)
PROFILE_RUNS = $(ALL_RUNS) $(ALLTOK_RUNS) $(E2_RUNS) $(CAL_RUNS) $(SCRATCH_RUNS)
WARM_RUNS = $(if $(WARM_TOKENS),$(patsubst $(RUNS)/%,$(RUNS)/warm/%,$(ALL_RUNS)))
$(eval $(call merge_table,runs,status,$(PROFILE_RUNS) $(WARM_RUNS)))
TABLES += $(R)/runs.tsv
# The warm stage's evaluations (toy validation set, T = WARM_T) and the
# control trained without it.
ifneq ($(WARM_TOKENS),)
$(eval $(call merge_table,warm_curves,curves,$(WARM_RUNS)))
TABLES += $(R)/warm_curves.tsv
endif
ifneq ($(SCRATCH_MODELS),)
$(eval $(call merge_table,scratch_curves,curves,$(SCRATCH_RUNS)))
TABLES += $(R)/scratch_curves.tsv
endif

# ---- laziness against w / T (PROFILE=scale, WT_GROUPS) -------------------------
# wt_delays: per window cell, seed and measure (e1: far accuracy crossing 0.9;
# e4: the rank-1 head forming), tokens to emerge / full attention's, for both
# regimes. wt_fit_AXIS_MEASURE: log2(delay) against log2(w/T) (ratio) or
# log2(w) (window), per regime and pooled (hybench fit trend; never-crossed
# runs are lower bounds, counted in n_censored). The pooled fit with the smaller
# residual sd is the axis that orders the delays better.
ifneq ($(WT_GROUPS),)
WT_TABLES := $(R)/wt_delays.tsv $(foreach m,e1 e4,$(foreach a,ratio window,$(R)/wt_fit_$(a)_$(m).tsv))
$(R)/wt_delays.tsv: $(R)/e1_emergence.tsv $(R)/e4_emergence.tsv results/reference/full/e1_emergence.tsv \
    results/reference/full/e4_emergence.tsv scripts/pipeline/window-delays.sh | $(R)
	$(TIMED) $(@F) scripts/pipeline/window-delays.sh $@ $(WT_GROUPS)
	$(META) $@
# $(R)/wt_fit_AXIS_MEASURE.tsv: AXIS ratio (x = w_over_T) or window (x = window).
wt_x_ratio  := w_over_T
wt_x_window := window
wt_axis     = $(firstword $(subst _, ,$(1)))
wt_measure  = $(lastword $(subst _, ,$(1)))
$(R)/wt_fit_%.tsv: $(R)/wt_delays.tsv $(HYBENCH)
	$(call rows_where,measure,$(call wt_measure,$*),$<,$@.rows.tsv)
	$(TIMED) $(@F) $(HYBENCH) fit trend --in $@.rows.tsv --x $(wt_x_$(call wt_axis,$*)) --log2-x --y delay --log2-y \
	  --group scale --censored censored --out $@ > $(R)/wt_fit_$*.txt
	rm -f $@.rows.tsv
	$(META) $@
TABLES += $(WT_TABLES)
WT_FIGS := $(FIGS)/window-ratio_e1.png $(FIGS)/window-ratio_e4.png
$(FIGS)/window-ratio_%.png: plots/window-ratio.gp plots/lib/common.gp $(R)/wt_delays.tsv $(R)/wt_fit_ratio_%.tsv $(R)/wt_fit_window_%.tsv
	@mkdir -p $(FIGS)
	$(TIMED) $(@F) gnuplot -c plots/window-ratio.gp $(R)/wt_delays.tsv $(R)/wt_fit_ratio_$*.tsv $(R)/wt_fit_window_$*.tsv \
	  $(FIGS)/window-ratio_$* $* "toy scale"
ALL_FIGS += $(WT_FIGS)
.PHONY: fig-window-ratio
fig-window-ratio: $(WT_FIGS)

# The toy and scale verdicts side by side, per claim (REPRODUCE.md): the toy's
# from the committed full-profile reference, the scale's from `make
# check-results`, which writes $(R)/claims.tsv.
TOY_CLAIMS := results/reference/full/claims.tsv
.PHONY: claims-side-by-side
claims-side-by-side: $(R)/claims_toy_vs_scale.md
$(R)/claims_toy_vs_scale.md: $(TOY_CLAIMS) $(R)/claims.tsv scripts/pipeline/claims-side-by-side.sh
	scripts/pipeline/claims-side-by-side.sh $(TOY_CLAIMS) $(R)/claims.tsv $@
$(R)/claims.tsv:
	@echo "$@: no claims yet: run make check-results PROFILE=$(PROFILE) PRECISION=$(PRECISION) first" >&2; exit 2
endif

.PHONY: reproduce reproduce-quick reproduce-all reproduce-long reproduce-calibration reproduce-scale reproduce-scale-calibration reproduce-scale-calibration-kv tables figures fig-scaling $(addprefix fig-,$(FIGURES))
reproduce: $(TABLES) $(ALL_FIGS)
	@if [ -f $(R)/timings.log ]; then \
	  echo "reproduce ($(PROFILE)): wall time of every run and table (seconds, one core each; $(R)/timings.log):"; \
	  scripts/pipeline/wall-times.sh --each $(R)/timings.log; fi
	@echo "reproduce ($(PROFILE)): tables in $(R), figures in $(FIGS)"
tables: $(TABLES)
figures: $(ALL_FIGS)
$(foreach f,$(FIGURES),$(eval fig-$(f): $(FIGS)/$(f).png))
fig-scaling: $(SCALING_FIGS)

reproduce-quick:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory -j2 PROFILE=quick reproduce
reproduce-all:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory -j2 PROFILE=full reproduce
reproduce-long:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory -j2 PROFILE=long reproduce
reproduce-calibration:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory -j2 PROFILE=calibration reproduce
reproduce-scale reproduce-scale-calibration reproduce-scale-calibration-kv:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory -j2 PROFILE=$(@:reproduce-%=%) reproduce

# The training runs of PROFILE, one `done` target per line. They are
# independent of each other (each needs only bin/hybench, its model config and
# the data), so a scheduler can build each as its own job (`make TARGET
# PROFILE=...`) and then `make reproduce` builds the rest from the finished runs.
.PHONY: print-runs
print-runs:
	@printf '%s\n' $(addsuffix /done,$(PROFILE_RUNS))

# Claims as inequalities with the measured numbers, and regression against
# results/reference/PROFILE: bit-identical on the reference's machine class,
# inside the seed-spread bands elsewhere (hybench check, include/hybench/check.h).
.PHONY: check-results
check-results: $(HYBENCH)
	FRESH=$(R) PRECISION=$(PRECISION) scripts/check-results.sh $(PROFILE)

# Make this profile's fresh tables and figures the committed reference.
.PHONY: reference
# With PRECISION=bf16 it becomes results/reference/PROFILE-bf16, which
# check-results then prefers to the fp32 reference for that precision.
reference:
	scripts/pipeline/snapshot-reference.sh $(PROFILE)$(PTAG)

# ---- Slurm -------------------------------------------------------------------
# make slurm PROFILE=P [SLURM_PARTITION=..] [SLURM_TIME=..] [SLURM_CPUS=..]
# [PORTABLE=1] [SLURM_WAIT=1] [VAR=value ...]: the datasets, then every run of
# print-runs as one job array, then the tables and figures, each job a make of
# this graph with the same command-line variables (scripts/slurm/submit;
# README.md, "Running on a Slurm cluster"). `data` is the datasets' job.
.PHONY: slurm data
slurm:
	@scripts/slurm/submit $(MAKEOVERRIDES)
data: $(DATASETS:%=$(DATA)/%.tok) $(if $(WARM_TOKENS),$(WARM_DATA)/train.tok $(WARM_DATA)/val.tok)
