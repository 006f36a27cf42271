/* Kernels shared by more than one mixer (private to src/mixers/). The element
 * functions (hb_sigmoidf, hb_softplusf, hb_silu_gate_backward) are inline in
 * include/hybench/layers.h, which the layer kernels use too.
 *
 * The head-wise gated RMSNorm of the L and G mixers (DESIGN.md section 3):
 *   on = RMSNorm_head(o; gain) = o * rstd * gain over each head's dh values,
 *   y  = on * silu(g).
 * Legend: R rows, H heads, dh head dim, HD = H*dh. o, y (R, HD); rstd (R*H);
 * gain (dh); the gate g is read from rows of gate_stride floats with head h at
 * columns h*dh (it lives inside a wider projection output). */
#ifndef HYBENCH_MIXERS_KERNELS_H
#define HYBENCH_MIXERS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/common.h"

/* Defines `size_t name(const Arg *a)`: the floats that views(cv, a) carves,
 * counted on a carver with a NULL base. Every mixer sizes its saved and
 * scratch buffers this way, so a size can never disagree with its layout. */
#define CARVED_FLOATS(name, views, Arg) \
  size_t name(const Arg *a) {           \
    HbCarver cv = {NULL, 0};            \
    views(&cv, a);                      \
    return cv.used;                     \
  }

/* y (R, HD) and rstd (R*H), the one kept for backward. */
void gated_rmsnorm_forward(float *y, float *rstd, const float *o, const float *gain, const float *gate,
                           int64_t gate_stride, int64_t R, int H, int dh);
/* y (R, HD) again from the saved rstd (R*H): backward rebuilds y rather than keeping it. */
void gated_rmsnorm_recompute(float *y, const float *o, const float *rstd, const float *gain, const float *gate,
                             int64_t gate_stride, int64_t R, int H, int dh);
/* From dy (R, HD): do_ (R, HD) overwritten; dgain (dh) added into; dgate written
 * in rows of dgate_stride floats (head h at columns h*dh); don (R, HD) scratch. */
void gated_rmsnorm_backward(float *do_, float *dgain, float *dgate, int64_t dgate_stride, float *don, const float *dy,
                            const float *o, const float *rstd, const float *gain, const float *gate,
                            int64_t gate_stride, int64_t R, int H, int dh);

/* Rows (B, T, stride) holding H heads side by side at columns col0 + h*dh
 * <-> head-major heads (B, H, Tp, dh), Tp >= T (a chunked layout's padded
 * length). Contiguous heads make the batched matmuls run at full speed
 * (strided views were several times slower). */
/* heads (B, H, Tp, dh) from rows; positions t >= T of each head are zeroed. */
void heads_from_rows(float *heads, const float *rows, int64_t stride, int64_t col0, int B, int T, int Tp, int H,
                     int dh);
/* rows (B, T, stride) columns col0 .. col0 + H*dh from heads; positions t >= T are dropped. */
void heads_to_rows(float *rows, int64_t stride, int64_t col0, const float *heads, int B, int T, int Tp, int H, int dh);

#endif
