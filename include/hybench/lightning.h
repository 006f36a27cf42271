/* Lightning linear attention (layer letter L), the recurrence at its core.
 * DESIGN.md section 3, per head h with the fixed decay lambda_h = 1 - 2^-(5+h),
 * h = 0 .. H-1, and state S (dh, dh):
 *
 *     S_t = lambda_h S_{t-1} + k_t^T v_t,   o_t = q_t S_t,   S_{-1} = 0
 *
 * (q, k already through silu; no 1/sqrt(dh) scaling: the per-head RMSNorm
 * that follows makes o's scale irrelevant). The mixer around it (projections,
 * norm, gate) is lightning_ops in src/mixers/lightning.c.
 *
 * Chunked form: positions are cut into chunks of `chunk`; with i, j the
 * offsets inside chunk c and S_c the state before chunk c,
 *
 *     O_c   = (Q_c K_c^T . D) V_c + diag(lambda^(i+1)) Q_c S_c,   D_ij = lambda^(i-j) [j <= i]
 *     S_c+1 = lambda^chunk S_c + (diag(lambda^(chunk-1-j)) K_c)^T V_c
 *
 * Every product is ONE batched oneDNN matmul over all (batch, head, chunk)
 * triples; only the scan S_c -> S_c+1 (dh^2 per chunk) is a loop. Cost
 * O(T (chunk + dh) dh) per head; the layer keeps the state entering each chunk
 * (T/chunk states of dh^2), which the backward pass reads.
 * Legend: B batch, T length, H heads, dh head dim, HD = H*dh, Cs chunk,
 * nc = ceil(T / Cs) chunks, Tp = nc*Cs padded length, N = B*H*nc. */
#ifndef HYBENCH_LIGHTNING_H
#define HYBENCH_LIGHTNING_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/mixer.h"

/* The chunk the L mixer uses (timings in src/mixers/lightning.c). */
#define LIGHTNING_CHUNK 32

typedef struct {
  int B, T, H, dh;
  int chunk;        /* Cs */
  int nc;           /* chunks per sequence */
  int Tp;           /* nc * Cs: padded length (padding rows are zero) */
  int64_t n_chunks; /* N = B * H * nc */
} LightningPlan;

void lightning_plan(LightningPlan *p, int B, int T, int H, int dh, int chunk);
/* lambda_h = 1 - 2^-(5+h), in double. */
double lightning_decay(int h);
/* Floats kept from forward to backward: the state entering each chunk, S_c
 * (B, H, nc, dh, dh). */
size_t lightning_saved_floats(const LightningPlan *p);
/* Scratch of lightning_forward and lightning_backward (the larger of the two). */
size_t lightning_scratch_floats(const LightningPlan *p);

/* o (B, T, HD) overwritten; saved: see lightning_saved_floats; qkv (B, T,
 * 3*HD) = [q | k | v], q and k after silu. */
void lightning_forward(float *o, float *saved, float *scratch, const float *qkv, const LightningPlan *p);
/* dqkv (B, T, 3*HD) overwritten; saved as left by forward; dout (B, T, HD). */
void lightning_backward(float *dqkv, const float *saved, float *scratch, const float *dout, const float *qkv,
                        const LightningPlan *p);

/* Plain sequential recurrence, double accumulation, O(dh^2) memory: the same
 * math on the same layouts. For tests. */
void lightning_reference_forward(float *o, const float *qkv, int B, int T, int H, int dh);
/* Back-propagation through time: dq_t = S_t dO_t in a forward sweep, then
 * dS (the gradient of S_t) = lambda dS + q_t^T dO_t in a backward sweep with
 * dk_t = dS v_t, dv_t = k_t^T dS. */
void lightning_reference_backward(float *dqkv, const float *dout, const float *qkv, int B, int T, int H, int dh);

/* The L mixer: lightning_forward / lightning_backward at Cs = LIGHTNING_CHUNK. */
extern const MixerOps lightning_ops;

#endif
