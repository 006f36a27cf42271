/* Mechanism analyses (DESIGN.md section 5) on this project's checkpoints:
 * retrieval heads and their entropy and Q/K drift over training, the
 * receptive-field constraint, gradient influence by distance and layer-wise
 * probes. The CLI is src/cli/cmd_trace.c (trace heads | run | grad-influence),
 * src/cli/cmd_probe.c and `hybench eval --constrain`; every table starts with the
 * identifying columns run, model, seed, tokens (ANALYSIS_ID_COLS).
 * Legend: B batch, T length, C d_model, V vocab, L layers, H heads, dh head
 * dim, n samples, K classes. Layers are numbered from 0 as in checkpoints. */
#ifndef HYBENCH_ANALYSIS_H
#define HYBENCH_ANALYSIS_H

#include <stdint.h>

#include "hybench/dataset.h"
#include "hybench/model.h"
#include "hybench/tsv.h"

/* ---------- checkpoints and runs (src/analysis/ckpt.c) ---------- */

typedef struct {
  char ckpt[1024];  /* the checkpoint file */
  char run[1024];   /* its run directory (RUN/checkpoints/tokN.safetensors), or "-" */
  char model[64];   /* the model config's name */
  long seed;        /* the run's seed; -1 outside a run */
  long tokens;      /* training tokens of the checkpoint (its __metadata__), -1 when unknown */
  int train_len;    /* seq_len the run trained at; 0 outside a run */
} CkptInfo;

/* Loads a checkpoint (model_load) and describes it. A checkpoint inside a run
 * directory must hold the run's model (run.conf's model.* lines): otherwise an
 * input error, "checkpoint of another model". */
void analysis_load_ckpt(Model *m, CkptInfo *info, const char *path);
/* The checkpoint an analysis command reads: --ckpt F, or the final one of
 * --run DIR; an input error naming `command` unless exactly one is given.
 * Caller frees. ANALYSIS_CKPT_OPTIONS are the two option rows. */
char *analysis_ckpt_of(const char *ckpt, const char *run, const char *command);
#define ANALYSIS_CKPT_OPTIONS(ckpt, run)                                                                  \
  {"ckpt", HB_OPT_STR, &(ckpt), "checkpoint (.safetensors)", 0},                                       \
  {"run", HB_OPT_STR, &(run), "run directory of hybench train: its final checkpoint (instead of --ckpt)", 0}
/* The NIAH (or probe) set's length against the training length: an input
 * error naming the set when T > train_len unless allow_extrapolation; a note
 * on stderr when the training length is unknown (a checkpoint outside a run). */
void analysis_check_length(const CkptInfo *info, int T, const char *set_path, int allow_extrapolation);
#define ANALYSIS_N_ID_COLS 4
extern const char *const ANALYSIS_ID_COLS[ANALYSIS_N_ID_COLS]; /* run, model, seed, tokens */
void analysis_put_ids(HbTsvWriter *w, const CkptInfo *info);

/* ---------- needle samples (src/analysis/needles.c) ---------- */

/* The answers of one dependency kind of a dataset as analysis samples. A
 * sample is (sequence, query, needle, class): the query token at `query` is
 * the input whose next token is the answer (deps.tsv pos - 1); the needle is
 * the evidence token (deps.tsv evidence: the one-token fact F(k, v)); its
 * class is the answer's value v. */
typedef struct {
  int T;
  long n_seqs;      /* sequences holding at least one sample */
  int32_t *tokens;  /* (n_seqs, T) model inputs */
  long n;           /* samples */
  int32_t *seq;     /* (n) row of tokens */
  int32_t *query;   /* (n) */
  int32_t *needle;  /* (n) */
  int32_t *cls;     /* (n) */
  int n_classes;    /* K = largest class + 1 */
} NeedleSet;

/* Input error naming the set when it holds no answer of this kind. */
/* Only the answers whose needle lies more than min_distance tokens back
 * (0: all): far-only measures beyond the largest window compared (issue 14).
 * An input error when none is left. */
void needle_set_from_dataset(NeedleSet *ns, const Dataset *ds, DepKind kind, int min_distance);
void needle_set_free(NeedleSet *ns);

/* ---------- retrieval heads (src/analysis/heads.c) ---------- */

/* Per (layer, head) of the attention layers, means over the samples:
 *   score_needle   attention mass of the query on the needle token (the
 *                  paper's retrieval score)
 *   score_relay    mass on the needle and the `reach` positions after it,
 *                  where the efficient layers below can have relayed it
 *                  (DESIGN.md section 8): reach = sum over the layers below of
 *                  w - 1 per S layer of window w, and unbounded (T) once an L,
 *                  M or G layer is below; F layers below add nothing
 *   uniform_*      the same masses for a head that spreads its attention
 *                  uniformly over its visible keys (the baselines)
 * and, over the last `last_n` query positions of every sequence,
 *   entropy        -sum p log p over the visible keys (nats)
 *   entropy_norm   entropy / log(number of visible keys) (queries that see
 *                  one key only are left out): 1 = uniform, 0 = one key.
 * Entries of non-attention layers are NaN. */
typedef struct {
  int L, H;
  char kind[HB_MAX_LAYERS];  /* layer letters */
  int window[HB_MAX_LAYERS]; /* keys a query sees at length T (attention layers) */
  int reach[HB_MAX_LAYERS];
  double *score_needle, *score_relay, *uniform_needle, *uniform_relay; /* (L, H) */
  double *entropy, *entropy_norm;                                      /* (L, H) */
  long n_samples;
  long n_entropy;  /* queries in the entropy means, per head */
} HeadStats;

int heads_relay_reach(const ModelConfig *cfg, int layer, int T);
void heads_measure(HeadStats *hs, Model *m, const NeedleSet *ns, int last_n, int batch);
void heads_free(HeadStats *hs);
/* The heads of the layers whose letter is in kinds (attention letters F, S;
 * index layer * H + head), best first by score_needle or (by_relay)
 * score_relay, ties in layer-head order; returns their number. */
int heads_rank(int *order, const HeadStats *hs, const char *kinds, int by_relay);
/* Q/K weight distance of one head between two checkpoints of a model: rows
 * [h*dh, (h+1)*dh) of the layer's q_proj and k_proj; l2 = sqrt(sum of squared
 * differences over both), rel_l2 = l2 / the norm of ref's rows. */
void heads_qk_distance(double *l2, double *rel_l2, const Model *m, const Model *ref, int layer, int head);

/* ---------- gradient influence (src/analysis/influence.c) ---------- */

/* infl (T): for each distance d = T - 1 - i from the last token, the mean over
 * sequences of || d f / d x_0[i] ||_2, where x_0[i] is the input embedding at
 * position i and f = mean over the last `last` positions of the logits summed
 * over the vocabulary. tokens (n_seqs, T). */
void influence_measure(double *infl, Model *m, const int32_t *tokens, long n_seqs, int T, int last, int batch);

/* ---------- probes (src/analysis/probe.c) ---------- */

/* The residual stream at every sample's query position: X (L+1, n, C), where
 * probe layer l < L is the input of layer l (l = 0: the embedding) and l = L
 * the output of the last layer (before the final norm). */
void probe_features(float *X, Model *m, const NeedleSet *ns, int batch);

typedef struct {
  double acc_train, acc_test;
  double loss;       /* final objective */
  int iters, status; /* GSL minimiser iterations and status (GSL_SUCCESS = 0) */
} ProbeResult;

/* Multinomial logistic regression (softmax over K classes, weights (K, d) and
 * biases (K)) on X (n, d) standardised with the training rows' mean and
 * standard deviation, minimising mean cross-entropy + lambda/2 * ||W||^2 (the
 * biases are not penalised) with GSL's BFGS2 from zero. train (n): 1 = a
 * training row, 0 = a test row; y (n) in [0, K). */
void probe_fit(ProbeResult *r, const float *X, const int32_t *y, const uint8_t *train, long n, int d, int K,
               double lambda, int max_iter);

/* ---------- receptive-field constraint (src/analysis/constrain.c) ---------- */

/* "KINDS=r1,r2,...": KINDS is one or more layer letters (F S L M G), E (every
 * efficient layer: S L M G) or A (all layers); each r >= 1. */
#define CONSTRAIN_MAX_R 64
typedef struct {
  char label[16]; /* KINDS as given */
  char kinds[8];  /* the layer letters it names */
  int n_r;
  int r[CONSTRAIN_MAX_R];
} ConstrainSpec;

void constrain_parse(ConstrainSpec *c, const char *text, const char *where);
/* Limits every layer whose letter is in kinds to r keys (m->window_limit;
 * the others unlimited); input error naming `where` when the model has no such
 * layer. Returns the number of limited layers. */
int constrain_apply(Model *m, const char *kinds, int r, const char *where);
void constrain_clear(Model *m);
/* `hybench eval --constrain SPEC`: the metrics of eval.h once per r of SPEC,
 * as rows "run model seed tokens ckpt set layers r metric group value n"
 * (layers: SPEC's KINDS) into out, or stdout when out is NULL; `distance` (evidence or
 * nearest) decides which answers are far (dataset_split_by). */
void constrain_eval(const char *ckpt, const char *set, const char *distance, const char *spec_text, int far, int batch,
                    const char *out);

#endif
