/* Gated DeltaNet (layer letter G): the recurrence of src/mixers/gdn.c,
 * exported for tests/test_mixer_gdn.c. The mixer itself is gdn_ops
 * (include/hybench/mixer.h). Legend: B batch, T length, R = B*T rows,
 * H heads, dh head dim, HD = H*dh.
 *
 * The recurrence, per head (S: dv x dk, dk = dv = dh):
 *   S_t = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,  o_t = S_t q_t
 * with inputs qkv (R, 3HD) = [q | k | v] (q, k already L2-normalised, q
 * scaled), la = log alpha (R, H) and beta (R, H); output o (R, HD). */
#ifndef HYBENCH_GDN_H
#define HYBENCH_GDN_H

#include <stddef.h>

/* The chunk length L of the fast path. */
extern const int gdn_chunk_len;

/* Plain sequential loops, double-precision state (the reference). Backward
 * overwrites dqkv (R, 3HD), dla and dbeta (R, H) from dout (R, HD). */
void gdn_reference_forward(float *o, const float *qkv, const float *la, const float *beta, int B, int T, int H,
                           int dh);
void gdn_reference_backward(float *dqkv, float *dla, float *dbeta, const float *dout, const float *qkv,
                            const float *la, const float *beta, int B, int T, int H, int dh);

/* The chunked fast path the mixer uses; saved is kept from forward to backward. */
size_t gdn_core_saved_floats(int B, int T, int H, int dh);
size_t gdn_core_scratch_floats(int B, int T, int H, int dh);
void gdn_chunked_forward(float *o, float *saved, float *scratch, const float *qkv, const float *la, const float *beta,
                         int B, int T, int H, int dh);
void gdn_chunked_backward(float *dqkv, float *dla, float *dbeta, float *saved, float *scratch, const float *dout,
                          int B, int T, int H, int dh);

#endif
