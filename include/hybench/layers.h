/* Layer kernels, forward and backward side by side (llm.c style).
 * Legend: B = batch, T = sequence length, C = d_model, V = vocab,
 * H = heads, dh = head dim, Hm = MLP hidden width, R = B*T rows.
 * Backward functions ADD into parameter gradients (zeroed once per step) and
 * OVERWRITE activation gradients unless stated otherwise. */
#ifndef HYBENCH_LAYERS_H
#define HYBENCH_LAYERS_H

#include <math.h>
#include <stdint.h>

#define HB_RMS_EPS 1e-5f

/* exp(x) for float, written so loops over it vectorise (libm's expf is one
 * call per element without -ffast-math, which we do not use). Branch-free:
 * x is clamped to [-87.3, 88.3] (so exp never returns 0 or inf: the tails
 * give 1.2e-38 and 2.2e38, harmless in softmax and sigmoid), reduced as
 * x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for exactness), exp(r)
 * from its degree-6 Taylor polynomial (truncation < 2e-7 relative), and 2^n
 * from the exponent bits. */
static inline float hb_expf(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  float n = __builtin_rintf(x * 1.44269504088896341f); /* rint, not round: it vectorises */
  float r = x - n * 0.693145751953125f;
  r = r - n * 1.428606765330187045e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  union {
    int32_t i;
    float f;
  } scale;
  scale.i = ((int32_t)n + 127) << 23;
  return p * scale.f;
}

/* The element functions every layer and mixer shares, inline so that the loops
 * calling them vectorise. sigmoid uses hb_expf; softplus is PyTorch's (beta 1,
 * threshold 20) on libm's expf and log1pf. */
static inline float hb_sigmoidf(float x) { return 1.0f / (1.0f + hb_expf(-x)); }
static inline float hb_softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

/* One element of the backward of y = a * silu(g), the gate of the L, M and G
 * mixers: da = dy * silu(g) (written dy * g * sigmoid(g)) and
 * dg = dy * a * silu'(g). */
static inline void hb_silu_gate_backward(float *da, float *dg, float dy, float a, float g) {
  float sg = hb_sigmoidf(g);
  *da = dy * g * sg;
  *dg = dy * a * sg * (1.0f + g * (1.0f - sg));
}

/* x (R, C) = E[tokens] */
void embedding_forward(float *x, const int32_t *tokens, const float *E, int64_t R, int C);
/* dE (V, C) += scatter of dx (R, C); sequential so the sum order is fixed. */
void embedding_backward(float *dE, const float *dx, const int32_t *tokens, int64_t R, int C);

/* y (R, C) = x / sqrt(mean(x^2) + eps) * g; rstd (R) is kept for backward. */
void rmsnorm_forward(float *y, float *rstd, const float *x, const float *g, int64_t R, int C);
/* dx (R, C) += (adds: dx is the residual stream's gradient); dg (C) += */
void rmsnorm_backward(float *dx, float *dg, const float *dy, const float *x, const float *rstd, const float *g,
                      int64_t R, int C);

/* act (R, Hm) = silu(gu[:, :Hm]) * gu[:, Hm:], gu (R, 2*Hm) = [gate | up] */
void swiglu_forward(float *act, const float *gu, int64_t R, int Hm);
/* dgu (R, 2*Hm) from dact (R, Hm) */
void swiglu_backward(float *dgu, const float *dact, const float *gu, int64_t R, int Hm);

/* y (n) = silu(x) = x * sigmoid(x); backward dx (n) = dy * silu'(x) (overwrites dx). */
void silu_forward(float *y, const float *x, int64_t n);
void silu_backward(float *dx, const float *dy, const float *x, int64_t n);

/* Causal depthwise conv1d over time, PyTorch layout: weight (Cc, 1, K) with
 * w[c*K + K-1] multiplying the current position, i.e.
 *   y[b, t, c] = bias[c] + sum_k w[c, k] * x[b, t - (K-1) + k, c]
 * with x = 0 before t = 0. x, y (B, T, Cc); bias (Cc) or NULL. */
void conv1d_causal_forward(float *y, const float *x, const float *w, const float *bias, int B, int T, int Cc, int K);
/* dx (B, T, Cc) overwritten; dw (Cc, K) and dbias (Cc, may be NULL) added into. */
void conv1d_causal_backward(float *dx, float *dw, float *dbias, const float *dy, const float *x, const float *w,
                            int B, int T, int Cc, int K);

/* RoPE tables, rotate-half convention, base 10000: cos, sin (T, dh/2) with
 * angle t * 10000^(-2i/dh). Element i pairs with i + dh/2. */
typedef struct {
  int T, half;
  float *cos, *sin; /* (T, dh/2) */
} RopeTable;
void rope_table_build(RopeTable *rt, int T, int dh);
void rope_table_free(RopeTable *rt);
/* In place on one head's rows x (T, dh): forward rotates by +angle, inverse by -angle. */
void rope_rotate(float *x, const RopeTable *rt, int T, int dh, int inverse);

/* Softmax cross-entropy over V classes for R rows. targets[r] < 0 means the
 * row does not count. Writes probs-minus-onehot scaled by 1/n_counted into
 * dlogits (R, V) (zero rows for rows that do not count) when dlogits != NULL,
 * and per-row losses (R) when row_loss != NULL (0 for rows that do not count).
 * Returns the mean loss over counted rows (0 when none count). */
double crossentropy_forward_backward(float *dlogits, float *row_loss, const float *logits,
                                     const int32_t *targets, int64_t R, int V);

#endif
