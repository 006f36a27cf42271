/* Gated DeltaNet (layer letter G), the recurrence at its core; the mixer
 * around it (projections, conv, L2 norms, gates, norm) is gdn_ops in
 * src/mixers/gdn.c, which also has the chunked form's derivation.
 * Legend: B batch, T length, R = B*T rows, H heads, dh head dim, HD = H*dh,
 * L chunk length, nc = ceil(T / L) chunks, BH = B*H, NB = nc*BH blocks.
 *
 * The recurrence, per head (S: dv x dk, dk = dv = dh):
 *   S_t = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,  o_t = S_t q_t
 * with inputs qkv (R, 3HD) = [q | k | v] (q, k already L2-normalised, q
 * scaled), la = log alpha (R, H) and beta (R, H); output o (R, HD). */
#ifndef HYBENCH_GDN_H
#define HYBENCH_GDN_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/mixer.h"

/* The chunk the G mixer uses (timings in src/mixers/gdn.c). */
#define GDN_CHUNK 16
/* Largest chunk gdn_plan accepts (a per-block sum in backward lives on the stack). */
#define GDN_MAX_CHUNK 256

typedef struct {
  int B, T, H, dh;
  int chunk;      /* L */
  int nc;         /* chunks per sequence */
  int64_t BH, NB; /* B*H heads, nc*BH blocks */
} GdnPlan;

void gdn_plan(GdnPlan *p, int B, int T, int H, int dh, int chunk);
/* Floats kept from forward to backward: q, k, v (NB, L, dh), la, beta (NB, L)
 * in blocks, and the state entering each chunk (NB, dk, dv). */
size_t gdn_saved_floats(const GdnPlan *p);
size_t gdn_scratch_floats(const GdnPlan *p);

/* The chunked fast path. o (R, HD) overwritten; saved: see gdn_saved_floats. */
void gdn_forward(float *o, float *saved, float *scratch, const float *qkv, const float *la, const float *beta,
                 const GdnPlan *p);
/* dqkv (R, 3HD), dla and dbeta (R, H) overwritten; saved as left by
 * gdn_forward; dout (R, HD). */
void gdn_backward(float *dqkv, float *dla, float *dbeta, float *saved, float *scratch, const float *dout,
                  const GdnPlan *p);

/* Plain sequential loops, double-precision state (the reference), the same
 * layouts. Backward overwrites dqkv, dla and dbeta from dout. */
void gdn_reference_forward(float *o, const float *qkv, const float *la, const float *beta, int B, int T, int H,
                           int dh);
void gdn_reference_backward(float *dqkv, float *dla, float *dbeta, const float *dout, const float *qkv,
                            const float *la, const float *beta, int B, int T, int H, int dh);

/* The G mixer: gdn_forward / gdn_backward at L = GDN_CHUNK. */
extern const MixerOps gdn_ops;

#endif
