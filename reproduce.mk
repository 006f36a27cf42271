# The reproduction (issue 4): a graph of real files
#   bin/hybench -> results/data/*.tok -> results/runs/PROFILE/MODEL/sSEED/done
#   -> results/PROFILE/*.tsv (tables, fits) -> plots/out/PROFILE/*.png|svg
# Included by the Makefile. `make reproduce-quick` (CI) and `make
# reproduce-all` (the full profile, run with -j2) build everything of their
# profile; `make fig-laziness` (etc.) builds one figure of PROFILE (default
# quick), re-running only what is missing. Finished runs are not re-run: a
# run's target is its `done` file, and an interrupted run resumes.

PROFILE ?= quick
RUNS    := results/runs/$(PROFILE)
R       := results/$(PROFILE)
FIGS    := plots/out/$(PROFILE)
DATA    := results/data

# ---- profiles ---------------------------------------------------------------
# Regime: DESIGN.md section 8, calibrated by bench/calibrate.sh (REPRODUCE.md).
ifeq ($(PROFILE),quick)
SEEDS      := 1 2
TOKENS     := 5M
EVAL_EVERY := 250k
LOSS_MASK  := text+answers
E1_MODELS  := ff sf_w8 sf_w64 lf mf gf
E4_MODELS  := sf_w8 sf_w64
E5_MODELS  := sf_w8 sf_w8_nope
ONE_SEED_MODELS := lf mf gf
else ifeq ($(PROFILE),full)
SEEDS      := 1 2 3
TOKENS     := 8M
EVAL_EVERY := 250k
LOSS_MASK  := text+answers
E1_MODELS  := ff sf_w8 sf_w32 sf_w64 lf mf gf
E4_MODELS  := sf_w8 sf_w32 sf_w64
E5_MODELS  := sf_w8 sf_w8_nope sf_w64 sf_w64_nope
ONE_SEED_MODELS :=
else
$(error PROFILE must be quick or full, not '$(PROFILE)')
endif
T          := 128
BATCH      := 32
FAR        := 64
CONSTRAINT_R := 1,2,4,8,16,32,64,128

# Every (model, seed) run of the profile; models in ONE_SEED_MODELS get seed 1 only.
seeds_of = $(if $(filter $(1),$(ONE_SEED_MODELS)),1,$(SEEDS))
runs_of  = $(foreach m,$(1),$(foreach s,$(call seeds_of,$(m)),$(RUNS)/$(m)/s$(s)))
ALL_MODELS := $(sort $(E1_MODELS) $(E4_MODELS) $(E5_MODELS))
ALL_RUNS   := $(call runs_of,$(ALL_MODELS))

# ---- data -------------------------------------------------------------------
# name: spec, split, seed
DATASETS := train val val2t val4t niah niah2t niah4t
spec_train := datasets/onehop_kjv.conf train 1
spec_val   := datasets/onehop_kjv.conf val 2
spec_val2t := datasets/onehop_kjv_2t.conf val 3
spec_val4t := datasets/onehop_kjv_4t.conf val 4
spec_niah  := datasets/niah_kjv.conf test 5
spec_niah2t := datasets/niah_kjv_2t.conf test 6
spec_niah4t := datasets/niah_kjv_4t.conf test 7

.PRECIOUS: $(DATA)/%.tok $(RUNS)/%/done
.SECONDEXPANSION:

$(DATA)/%.tok: $(HYBENCH) $$(word 1,$$(spec_$$*))
	@mkdir -p $(DATA)
	$(HYBENCH) gen-data --spec $(word 1,$(spec_$*)) --split $(word 2,$(spec_$*)) --seed $(word 3,$(spec_$*)) --out $@

# ---- training runs ----------------------------------------------------------
# results/runs/PROFILE/MODEL/sSEED/done; one thread per run, so make -j2 runs two.
run_model = $(word 1,$(subst /, ,$(1)))
run_seed  = $(patsubst s%,%,$(word 2,$(subst /, ,$(1))))

$(RUNS)/%/done: $(HYBENCH) models/$$(call run_model,$$*).conf $(DATA)/train.tok $(DATA)/val.tok
	$(HYBENCH) train --model models/$(call run_model,$*).conf --data $(DATA)/train.tok --seq-len $(T) \
	  --batch $(BATCH) --tokens $(TOKENS) --lr 3e-3 --warmup 50 --seed $(call run_seed,$*) --threads 1 \
	  --loss-mask $(LOSS_MASK) --eval-set $(DATA)/val.tok --eval-every $(EVAL_EVERY) --eval-far $(FAR) \
	  --out $(RUNS)/$* --quiet $(if $(wildcard $(RUNS)/$*/run.conf),--resume)

# ---- tables -----------------------------------------------------------------
TABLES := $(R)/e1_curves.tsv $(R)/e1_emergence.tsv $(R)/e1_final.tsv $(R)/e3_constraint.tsv \
          $(R)/e4_laziness.tsv $(R)/e4_emergence.tsv $(R)/e5_nope.tsv $(R)/mech_gradient.tsv $(R)/mech_probe.tsv

$(R)/e1_curves.tsv: $(addsuffix /done,$(call runs_of,$(E1_MODELS))) scripts/collect-evals.sh | $(R)
	scripts/pipeline/manifest.sh $(RUNS) "$(foreach m,$(E1_MODELS),$(m):$(call seeds_of,$(m)))" > $@.manifest
	scripts/collect-evals.sh $@.manifest $@ short_loss longppl far_acc answer_acc
	rm -f $@.manifest

# Emergence point of far retrieval per run (logistic fit; threshold form at 0.5 and 0.9 is in REPRODUCE.md's table).
$(R)/e1_emergence.tsv: $(R)/e1_curves.tsv $(HYBENCH) | $(R)
	$(HYBENCH) fit emergence --in $< --y far_acc --group model,seed --seed-col seed --threshold 0.9 \
	  --out $@ --summary-out $(R)/e1_emergence_summary.tsv > /dev/null

$(R)/e1_final.tsv: $(R)/e1_curves.tsv scripts/pipeline/final-table.sh | $(R)
	scripts/pipeline/final-table.sh $< ff $@

$(R)/e3_constraint.tsv: $(addsuffix /done,$(call runs_of,$(E1_MODELS))) $(DATA)/val.tok | $(R)
	scripts/pipeline/constraint.sh $(HYBENCH) $(DATA)/val.tok $(CONSTRAINT_R) $(FAR) $@ \
	  $(foreach m,$(E1_MODELS),$(RUNS)/$(m)/s1)

$(R)/e4_laziness.tsv: $(addsuffix /done,$(call runs_of,$(E4_MODELS))) $(DATA)/niah.tok | $(R)
	scripts/pipeline/trace-runs.sh $(HYBENCH) $(DATA)/niah.tok $@ $(call runs_of,$(E4_MODELS))

# Emergence of the rank-1 head's retrieval score on the needle (the paper's
# definition) per run. The relay score is in e4_laziness.tsv and the figure;
# its uniform baseline grows with the window (0.37 at w = 64), so a fixed
# threshold on it would favour large windows.
$(R)/e4_emergence.tsv: $(R)/e4_laziness.tsv $(HYBENCH) | $(R)
	awk -F'\t' 'NR == 1 || $$7 == 1' $< > $@.rank1.tsv
	$(HYBENCH) fit emergence --in $@.rank1.tsv --y score_needle --group model,seed --seed-col seed --threshold 0.5 \
	  --out $@ --summary-out $(R)/e4_emergence_summary.tsv > /dev/null
	rm -f $@.rank1.tsv

$(R)/e5_nope.tsv: $(addsuffix /done,$(call runs_of,$(E5_MODELS))) $(addprefix $(DATA)/,val.tok val2t.tok val4t.tok niah.tok niah2t.tok niah4t.tok) | $(R)
	scripts/pipeline/lengths.sh $(HYBENCH) $(T) $@ "$(DATA)/val.tok $(DATA)/val2t.tok $(DATA)/val4t.tok $(DATA)/niah.tok $(DATA)/niah2t.tok $(DATA)/niah4t.tok" \
	  $(call runs_of,$(E5_MODELS))

$(R)/mech_gradient.tsv: $(addsuffix /done,$(call runs_of,$(E1_MODELS))) $(DATA)/val.tok | $(R)
	scripts/pipeline/per-run.sh "$(HYBENCH) trace grad-influence --data $(DATA)/val.tok" $@ \
	  $(foreach m,$(E1_MODELS),$(RUNS)/$(m)/s1)

$(R)/mech_probe.tsv: $(addsuffix /done,$(call runs_of,$(E1_MODELS))) $(DATA)/niah.tok | $(R)
	scripts/pipeline/per-run.sh "$(HYBENCH) probe --set $(DATA)/niah.tok" $@ $(foreach m,$(E1_MODELS),$(RUNS)/$(m)/s1)

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
fig_args_emergence    = "$(E1_MODELS)" "$(SEEDS)"
fig_args_convergence  = "$(E1_MODELS)" "$(SEEDS)"
fig_args_constraint   = "$(E1_MODELS)"
fig_args_laziness     = "$(E4_MODELS)" "$(SEEDS)"
fig_args_entropy      = "$(E4_MODELS)" "$(SEEDS)"
fig_args_nope         = "$(E5_MODELS)" "$(SEEDS)" 512
fig_args_gradient     = "$(E1_MODELS)" "1"
fig_args_probing      = "$(E1_MODELS)" "1"

$(FIGS)/%.png: plots/%.gp plots/lib/curves.gp $(R)/$$(fig_input_$$*).tsv
	@mkdir -p $(FIGS)
	gnuplot -c plots/$*.gp $(R)/$(fig_input_$*).tsv $(FIGS)/$* $(fig_args_$*)

.PHONY: reproduce reproduce-quick reproduce-all tables figures $(addprefix fig-,$(FIGURES))
reproduce: $(TABLES) $(FIGURES:%=$(FIGS)/%.png)
	@echo "reproduce ($(PROFILE)): tables in $(R), figures in $(FIGS)"
tables: $(TABLES)
figures: $(FIGURES:%=$(FIGS)/%.png)
$(foreach f,$(FIGURES),$(eval fig-$(f): $(FIGS)/$(f).png))

reproduce-quick:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory -j2 PROFILE=quick reproduce
reproduce-all:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory -j2 PROFILE=full reproduce

# Claims as inequalities with the measured numbers, and regression against
# results/reference/PROFILE (scripts/check-results.sh says what fails).
.PHONY: check-results
check-results:
	scripts/check-results.sh $(PROFILE)
