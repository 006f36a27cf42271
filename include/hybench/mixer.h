/* The token-mixer interface: every layer letter (F, S, L, M, G) is one
 * MixerOps in its own file under src/mixers/, with its forward and backward
 * side by side. The model owns the arenas; a mixer sees only its own
 * parameters (in the order it registered them), its saved activations and a
 * shared scratch buffer.
 *
 * Contract: forward maps u (B*T, C) = RMSNorm(x; norm1) to y (B*T, C), the
 * mixer's output INCLUDING its output projection, and ADDS y into `out`,
 * which holds the residual stream x (so the last projection can accumulate
 * in place). backward gets dy (B*T, C), OVERWRITES du (B*T, C) and ADDS into
 * its parameter gradients.
 *
 * One layout for every mixer: src/mixers/X.c with include/hybench/X.h, X one
 * of attention (F, S), lightning (L), mamba2 (M), gdn (G):
 *   XPlan              every size of one call: dims, the chunk length, derived
 *                      counts. Built by x_plan(&p, dims..., chunk), never read
 *                      from a global; X_CHUNK is the chunk the mixer uses,
 *                      tests pass others. (Attention: AttnPlan, and its query
 *                      block comes from the window, not an argument.)
 *   x_saved_floats(&p)    floats kept from forward to backward
 *   x_scratch_floats(&p)  floats of scratch, free between calls
 *   x_forward(out, saved, scratch, inputs..., &p)
 *   x_backward(dinputs..., saved, scratch, dout, [inputs...], &p)
 *   x_reference_forward / x_reference_backward: plain loops, for the tests
 *   x_ops              the MixerOps below, wrapping x_forward / x_backward
 * x_forward is the sequence-mixing core: attention, lightning and gdn take the
 * projected q, k, v (and gates) and x_ops adds projections, conv, norms and
 * gate; Mamba-2's scan reads its conv output and parameters itself, so
 * mamba2_forward is the whole mixer (u and w, as x_ops's forward).
 * Inside X.c: x_ops's functions are static x_mixer_<field>, with
 * x_plan_of(&p, shape) the plan of a MixerShape; buffers are named views
 * (XSaved, XScratch; XMixerSaved, XMixerScratch around the core) carved by one
 * x_..._views function each with hb_carve (common.h), whose count with a NULL
 * base is the size (CARVED_FLOATS, src/mixers/kernels.h); the state entering
 * each chunk is `state`. Kernels two
 * mixers share are in src/mixers/kernels.h and include/hybench/layers.h. */
#ifndef HYBENCH_MIXER_H
#define HYBENCH_MIXER_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/config.h"
#include "hybench/layers.h"
#include "hybench/rng.h"

#define HB_MAX_MIXER_PARAMS 16

typedef enum {
  INIT_NORMAL, /* N(0, init_std^2): projection matrices */
  INIT_ONES,   /* norm gains */
  INIT_ZEROS,
  INIT_MIXER,  /* the mixer's init_custom fills it (A_log, dt_bias, conv, ...) */
} InitKind;

/* What a mixer registers: one tensor of its layer, named
 * "layers.{i}.<prefix>.<suffix>" in checkpoints. */
typedef struct {
  const char *suffix; /* e.g. "q_proj.weight" */
  int ndim;
  int64_t shape[4];
  InitKind init;
  int decay; /* AdamW weight decay applies (projection matrices) */
} MixerParamSpec;

/* Everything a mixer needs to know about the current call. */
typedef struct {
  const ModelConfig *cfg;
  int layer;
  char kind;        /* the layer letter */
  int B, T;
  int window;       /* keys each query sees (F: T; S: min(window, T)); recurrent layers:
                       0, or an inference-time limit on the context (analyses; see
                       mixer_context_limited below) */
  int rope;         /* RoPE on q and k (attention kinds) */
  const RopeTable *rope_table;
} MixerShape;

typedef struct {
  char letter;
  const char *prefix; /* checkpoint name component: "attn", "lightning", "mamba2", "gdn" */
  /* Fills specs[0..n) for this config; returns n (<= HB_MAX_MIXER_PARAMS). */
  int (*param_specs)(MixerParamSpec *specs, const ModelConfig *cfg);
  /* Fills the INIT_MIXER parameters; w[k] is parameter k. May be NULL when none. */
  void (*init_custom)(float *const *w, const ModelConfig *cfg, HbRng *rng);
  size_t (*saved_floats)(const MixerShape *s);   /* kept from forward to backward */
  size_t (*scratch_floats)(const MixerShape *s); /* shared by all layers, free between calls */
  /* out (B*T, C) += y; saved (saved_floats); u (B*T, C); w: parameters */
  void (*forward)(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                  const MixerShape *s);
  /* du (B*T, C) overwritten; g: parameter gradients (added into); dy (B*T, C) */
  void (*backward)(float *du, float *const *g, float *saved, float *scratch, const float *dy, const float *u,
                   const float *const *w, const MixerShape *s);
} MixerOps;

/* The MixerOps of mixer X (layout above): its static functions x_mixer_<field>.
 * init_custom is a function or NULL (no INIT_MIXER parameters). */
#define HB_MIXER_OPS(layer_letter, checkpoint_prefix, x, init_fn)                                                \
  {                                                                                                            \
    .letter = layer_letter, .prefix = checkpoint_prefix, .param_specs = x##_mixer_param_specs,                 \
    .init_custom = init_fn, .saved_floats = x##_mixer_saved_floats, .scratch_floats = x##_mixer_scratch_floats, \
    .forward = x##_mixer_forward, .backward = x##_mixer_backward,                                              \
  }

/* The mixer of a layer letter; NULL when the engine does not implement it. */
const MixerOps *mixer_ops(char letter);

/* Inference-time context limit of a recurrent layer (L, M, G), the
 * receptive-field constraint of the mechanism analyses: with MixerShape.window
 * = r, 0 < r < T, the output at t is the layer's output had the sequence begun
 * at t - r + 1, i.e. a function of its inputs u at t - r + 1 .. t only (state
 * and convolution buffers start from zero there) -- the same rule as an S
 * layer's window (r inputs, the current one included). It is a TRUNCATION of
 * the context at every position, not a state reset every r tokens (which would
 * leave position t a context of 1 .. r inputs depending on t mod r). Forward
 * only: training never limits a recurrent layer. r >= T (or 0) is no limit. */
static inline int mixer_context_limited(const MixerShape *s) { return s->window > 0 && s->window < s->T; }
/* The limited forward, for any mixer whose own forward has no window: out (B*T,
 * C) += y. Rows t < r come from one ordinary forward (their whole prefix fits
 * the window); every later row is the last row of an ordinary forward over its
 * own window u[t-r+1 .. t], windows batched as rows of a (G, r) call. Cost
 * O(T * r) per sequence; buffers for the windows are allocated per call.
 * saved and scratch are sized for s as the mixer reports them. */
void mixer_limited_forward(const MixerOps *ops, float *out, float *saved, float *scratch, const float *u,
                           const float *const *w, const MixerShape *s);

#endif
