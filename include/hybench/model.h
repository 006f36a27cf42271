/* The hybrid language model of DESIGN.md section 3: parameters, gradients and
 * activations live in arenas sized from one table; forward is a flat loop
 * with one switch on the layer kind, backward mirrors it.
 * Legend: B batch, T length, R = B*T rows, C d_model, V vocab, H heads,
 * dh head dim, HD = H*dh, Hm MLP hidden, L layers. */
#ifndef HYBENCH_MODEL_H
#define HYBENCH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/mixer.h"
#include "hybench/config.h"
#include "hybench/layers.h"
#include "hybench/tensorio.h"

#define HB_MAX_PARAMS (8 + 16 * HB_MAX_LAYERS)

typedef struct {
  char name[96];       /* checkpoint tensor name (DESIGN.md section 3) */
  int ndim;
  int64_t shape[4];
  size_t offset;       /* floats into the arena */
  size_t numel;
  int decay;           /* AdamW weight decay applies: matrices only */
  InitKind init;
  int layer;           /* -1 for tok_emb, norm_f, lm_head */
  int mixer_index;     /* position in its mixer's parameter list, else -1 */
} ParamSpec;

/* Views into a parameter-shaped arena (weights, gradients, or Adam moments).
 * Gate and up are adjacent so they form one (2*Hm, C) matrix and one GEMM;
 * mix[k] is the layer's mixer parameter k (see the mixer's file). */
typedef struct {
  float *norm1;  /* (C) */
  float *norm2;  /* (C) */
  float *wgu;    /* (2*Hm, C) = [Wgate; Wup] */
  float *wdown;  /* (C, Hm) */
  float *mix[HB_MAX_MIXER_PARAMS];
} LayerView;

typedef struct {
  float *tok_emb; /* (V, C) */
  float *norm_f;  /* (C) */
  float *lm_head; /* (V, C); == tok_emb when tied */
  LayerView layer[HB_MAX_LAYERS];
} ParamView;

typedef struct {
  float *x;      /* (R, C) the layer's input (residual stream) */
  float *ln1;    /* (R, C) */
  float *rstd1;  /* (R) */
  float *saved;  /* the mixer's saved activations */
  float *h;      /* (R, C) residual after the mixer */
  float *ln2;    /* (R, C) */
  float *rstd2;  /* (R) */
  float *gu;     /* (R, 2*Hm) */
  float *act;    /* (R, Hm) */
} LayerActs;

typedef struct {
  LayerActs layer[HB_MAX_LAYERS];
  float *x_final; /* (R, C) output of the last layer */
  float *lnf;     /* (R, C) */
  float *rstdf;   /* (R) */
  float *logits;  /* (R, V) */
  float *dlogits; /* (R, V) */
  /* backward scratch */
  float *dx;      /* (R, C) running gradient of the residual stream */
  float *dln;     /* (R, C) */
  float *dgu;     /* (R, 2*Hm) */
  float *dact;    /* (R, Hm) */
  float *mix_scratch; /* shared by every layer's mixer */
} Activations;

typedef struct {
  ModelConfig cfg;
  ParamSpec params[HB_MAX_PARAMS];
  int n_params;
  size_t n_floats;     /* parameter count */
  float *param_mem;    /* (n_floats) */
  float *grad_mem;     /* (n_floats) */
  ParamView w, g;
  /* Per-layer inference-time window limit (0 = as configured): the
   * receptive-field constraint of the mechanism analyses. */
  int window_limit[HB_MAX_LAYERS];
  /* activations, sized for (B, T) by model_prepare */
  int B, T;
  MixerShape shape[HB_MAX_LAYERS];
  const MixerOps *mixer[HB_MAX_LAYERS];
  Activations a;
  float *act_mem;
  size_t act_floats;
  RopeTable rope;
  const int32_t *tokens; /* (B, T) the inputs of the last forward */
  int has_targets;
} Model;

/* Builds the parameter table and arenas (weights zero; see model_init_params). */
/* N, the number of parameters (floats) of a model of this config, without building it. */
size_t model_param_count(const ModelConfig *cfg);
void model_create(Model *m, const ModelConfig *cfg);
void model_free(Model *m);
/* Matrices ~ N(0, init_std^2) from stream 1 of `seed`, RMSNorm gains = 1. */
void model_init_params(Model *m, uint64_t seed);
/* A view of any parameter-shaped arena (gradients, Adam moments). */
ParamView model_view(const Model *m, float *arena);
const ParamSpec *model_find_param(const Model *m, const char *name);

/* Forward over inputs (B, T). With targets (B, T) (negative = not counted),
 * returns the mean cross-entropy and keeps dlogits for model_backward;
 * without, returns 0. Logits stay in m->a.logits (B*T, V). */
double model_forward(Model *m, const int32_t *inputs, const int32_t *targets, int B, int T);
/* Bytes of the activations a (B, T) forward allocates (attention keeps B x H x
 * T^2 / 2 probabilities per full layer: 15 GB at B 32, T 4096). */
size_t model_activation_bytes(Model *m, int B, int T);
/* The analyses' batch: `batch`, or fewer sequences so that a forward at
 * length T keeps its activations within MODEL_ANALYSIS_BYTES (at least 1).
 * Results do not depend on the batch beyond fp32 summation order. */
#define MODEL_ANALYSIS_BYTES ((size_t)2 << 30)
int model_analysis_batch(Model *m, int T, int batch);
/* Adds d(mean loss)/d(param) into m->grad_mem. Needs a forward with targets,
 * or an output gradient set through model_output_grad. */
void model_backward(Model *m);
/* Backward from a gradient of the caller's choosing (analyses): after a
 * forward, returns the zeroed buffer (B*T, V) of d(objective)/d(logits) to
 * fill; model_backward then propagates it (it replaces the loss gradient). */
float *model_output_grad(Model *m);
/* After model_backward: d(objective)/d(embedding output), (B*T, C), i.e. the
 * gradient with respect to each position's input embedding E[token]. */
const float *model_embedding_grad(const Model *m);
void model_zero_grad(Model *m);

/* Checkpoints (safetensors, DESIGN.md section 3 names, config in metadata). */
void model_save(const Model *m, const char *path);
/* Tensors naming an arena of parameter shape: "<prefix><param name>", in
 * table order, appended at ts[0..n_params); names are allocated into
 * `names` (n_params x 128 chars). */
void model_arena_tensors(const Model *m, const float *arena, const char *prefix, HbStTensor *ts, char *names);
/* Writes an arena of parameter shape (e.g. gradients) under the parameter names. */
void model_save_arena(const Model *m, const float *arena, const char *path, const char *const *meta_keys,
                      const char *const *meta_values, int n_meta);
/* Loads a checkpoint: the model is rebuilt from its metadata config. */
void model_load(Model *m, const char *path);
/* Reads every parameter-named tensor of `st` into an arena of parameter
 * shape, checking presence, dtype and shape (used for optimizer state too). */
void model_read_arena(const Model *m, float *arena, const HbSafetensors *st, const char *prefix);
/* Fails with an input error when `st` holds a tensor that is not
 * "<prefix><param name>" for one of the given prefixes. */
void model_check_no_extra(const Model *m, const HbSafetensors *st, const char *const *prefixes, int n_prefixes);

#endif
