/* Causal softmax attention for F (full) and S (sliding-window) layers.
 *
 * Window semantics, stated once for the whole project: a layer with window W
 * lets the query at position t see keys j with t - W < j <= t, i.e. W keys
 * including itself. F is the case W = T.
 *
 * Blocked form: queries are cut into blocks of `bs` positions; block b (queries
 * t0 = b*bs .. t0+bs-1) reads the `span` keys ks .. ks+span-1 with
 * ks = t0 + bs - span, span = bs + W - 1 (or T when one block covers T). Keys
 * outside [0, T) are zero-filled and masked. Every block is the same shape, so
 * the scores of all (batch, head, block) triples are ONE batched oneDNN matmul:
 * cost O(T * (bs + W)) per head, i.e. O(T * W) for S, never a masked O(T^2).
 *
 * Causal groups (W = T, T > ATTN_CAUSAL_GROUP): full attention skips the
 * keys above the diagonal. Queries are cut into groups of G rows; group g
 * reads keys 0 .. (g+1)G - 1 straight out of the head buffers (strided
 * matmuls, no copies), one batched matmul over (batch, head) per group, so
 * about half the T^2 work is never done. */
#ifndef HYBENCH_ATTENTION_H
#define HYBENCH_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/layers.h"
#include "hybench/mixer.h"

typedef struct {
  int B, T, H, dh;
  int window; /* W: keys each query sees, W <= T */
  int rope;   /* rotate q and k */
  int bs, nb, span;
  int64_t n_blocks; /* B * H * nb */
  int causal;       /* causal groups of bs rows (see above); span is then T */
} AttnPlan;

void attention_plan(AttnPlan *p, int B, int T, int H, int dh, int window, int rope);
/* Floats the layer keeps between forward and backward:
 * q, k, v (B, H, T, dh) each, then probs (n_blocks, bs, span). */
size_t attention_saved_floats(const AttnPlan *p);
/* Floats of scratch shared by all layers (gathered blocks and their grads). */
size_t attention_scratch_floats(const AttnPlan *p);

/* out (B, T, H*dh); saved: see attention_saved_floats; scratch: scratch floats;
 * qkv (B, T, 3*H*dh) = [q | k | v] from the fused projection. */
void attention_forward(float *out, float *saved, float *scratch, const float *qkv, const AttnPlan *p,
                       const RopeTable *rope);
/* dqkv (B, T, 3*H*dh) overwritten; saved as left by attention_forward;
 * dout (B, T, H*dh). */
void attention_backward(float *dqkv, float *saved, float *scratch, const float *dout, const AttnPlan *p,
                        const RopeTable *rope);

/* Plain reference (double accumulation, explicit band mask, O(T^2)): the
 * same math as attention_forward on the same qkv layout. For tests. */
void attention_reference_forward(float *out, const float *qkv, int B, int T, int H, int dh, int window,
                                 const RopeTable *rope);

/* Per-(batch, head) attention probabilities of query t over all keys, dense
 * (B, H, T, T), reconstructed from the saved blocks. For analyses and tests. */
void attention_dense_probs(float *dense, const float *saved, const AttnPlan *p);
/* One query's row of the same: row (T) = probabilities of query t of (batch b,
 * head h) over keys 0..T-1, zero where not visible. For analyses. */
void attention_probs_row(float *row, const float *saved, const AttnPlan *p, int b, int h, int t);
/* The window rule itself (t - W < j <= t): whether query t sees key j. */
int attention_key_visible(const AttnPlan *p, int64_t t, int64_t j);

/* The attention tensors inside an F or S mixer's saved buffer (as its forward
 * left them: att (B*T, HD), then attention_forward's saved tensors), with the
 * plan the mixer used for shape s. For analyses. */
const float *attention_mixer_saved(AttnPlan *p, const float *mixer_saved, const MixerShape *s);

/* The F and S mixers: attention_forward / attention_backward between the fused
 * q, k, v projection and the output projection; the window comes with the shape. */
extern const MixerOps attention_full_ops, attention_sliding_ops;

/* Seconds inside attention (all of it / its batched matmuls) since the last reset. */
double attention_seconds(void);
double attention_matmul_seconds(void);
void attention_reset_timer(void);

#endif
