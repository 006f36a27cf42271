/* Mamba-2 (layer letter M), DESIGN.md section 3, one group:
 *   [z, xBC, dt] = u . Win^T;  xBC = silu(causal depthwise conv1d(xBC) + bias), kernel 4;
 *   xBC = [x (DI), B (N), C (N)];  dt = softplus(dt + dt_bias);
 *   a_t = exp(-dt_t exp(A_log_h));  S_t = a_t S_{t-1} + dt_t x_t B_t^T   (S: P x N per head);
 *   y_t = S_t C_t + D_h x_t;  y = RMSNorm(y * silu(z); norm) over all DI values;  out = y . Wout^T.
 * Conventions where DESIGN.md is silent, as in python/hybench/reference.py: in_proj output
 * order [z, xBC, dt]; head h = columns [h*P, (h+1)*P) of x; conv weight (CX, 1, 4) with tap 3
 * on the current position; RMSNorm eps 1e-5 (HB_RMS_EPS); softplus(x) = x above 20.
 *
 * Legend: B batch, T length, R = B*T rows, C d_model, DI = d_inner = expand*C, N state size,
 * P = mamba_head_dim, H = DI/P heads, CX = DI + 2N conv channels, Z = 2*DI + 2*N + H in_proj
 * width, K = 4 conv taps, Q chunk length, nc = ceil(T/Q) chunks per sequence, Tp = nc*Q the
 * padded length, NC = B*nc chunks. Bm, Cm are the SSM's B and C (to keep B the batch).
 *
 * Unlike the other mixers' cores, the chunked scan reads the conv output, dt and the
 * parameters A_log and D itself, so the unit of mamba2_forward / mamba2_backward is the whole
 * mixer: input u and the weights w in mamba2_ops's registration order (in_proj.weight,
 * conv1d.weight, conv1d.bias, dt_bias, A_log, D, norm.weight, out_proj.weight). */
#ifndef HYBENCH_MAMBA2_H
#define HYBENCH_MAMBA2_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/config.h"
#include "hybench/mixer.h"

/* The chunk the M mixer uses (timings in src/mixers/mamba2.c). */
#define MAMBA2_CHUNK 16

typedef struct {
  int B, T, C;     /* batch, length, d_model */
  int DI, N, P, H; /* d_inner, state size, head dim, heads */
  int CX, Z;       /* conv channels DI + 2N, in_proj width 2*DI + 2*N + H */
  int chunk;       /* Q */
  int nc, Tp;      /* chunks per sequence, padded length nc*Q */
  int64_t R, NC;   /* B*T rows, B*nc chunks */
} Mamba2Plan;

/* Sizes from the config's expand, state_size and mamba_head_dim and the call's B, T. */
void mamba2_plan(Mamba2Plan *p, const ModelConfig *cfg, int B, int T, int chunk);
/* Floats kept from forward to backward: the in_proj parts, the conv output, the SSM output,
 * the norm's rstd, dt, and the state entering each chunk (NC, DI, N). */
size_t mamba2_saved_floats(const Mamba2Plan *p);
size_t mamba2_scratch_floats(const Mamba2Plan *p);

/* out (R, C) += y; saved: see mamba2_saved_floats; u (R, C). */
void mamba2_forward(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                    const Mamba2Plan *p);
/* du (R, C) overwritten; g (the parameter gradients) added into; saved as left by
 * mamba2_forward; dy (R, C). */
void mamba2_backward(float *du, float *const *g, float *saved, float *scratch, const float *dy, const float *u,
                     const float *const *w, const Mamba2Plan *p);

/* The whole mixer in double with straightforward loops and the recurrence stepped one token
 * at a time (keeps every state: O(T * DI * N), for tests); shares no code with the fast
 * path. out (R, C) overwritten. */
void mamba2_reference_forward(double *out, const float *u, const float *const *w, const ModelConfig *cfg, int B, int T);
/* Backpropagation through time of the reference: du (R, C) overwritten, g added into. */
void mamba2_reference_backward(float *du, float *const *g, const float *dy, const float *u, const float *const *w,
                               const ModelConfig *cfg, int B, int T);

/* The M mixer: mamba2_forward / mamba2_backward at Q = MAMBA2_CHUNK. */
extern const MixerOps mamba2_ops;

#endif
