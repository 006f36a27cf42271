/* Kernels shared by the mixers: see src/mixers/kernels.h. */
#include "kernels.h"

#include <string.h>

#include "hybench/layers.h"

void gated_rmsnorm_forward(float *y, float *rstd, const float *o, const float *gain, const float *gate,
                           int64_t gate_stride, int64_t R, int H, int dh) {
  /* rmsnorm_forward gives rstd; y is then rebuilt by the one formula backward also uses */
  rmsnorm_forward(y, rstd, o, gain, R * H, dh);
  gated_rmsnorm_recompute(y, o, rstd, gain, gate, gate_stride, R, H, dh);
}

void gated_rmsnorm_recompute(float *y, const float *o, const float *rstd, const float *gain, const float *gate,
                             int64_t gate_stride, int64_t R, int H, int dh) {
  int64_t HD = (int64_t)H * dh;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++)
    for (int h = 0; h < H; h++) {
      const float *orow = o + r * HD + (int64_t)h * dh, *grow = gate + r * gate_stride + (int64_t)h * dh;
      float *yrow = y + r * HD + (int64_t)h * dh, s = rstd[r * H + h];
#pragma omp simd
      for (int d = 0; d < dh; d++) {
        float on = orow[d] * s * gain[d], g = grow[d];
        yrow[d] = on * g * hb_sigmoidf(g);
      }
    }
}

void gated_rmsnorm_backward(float *do_, float *dgain, float *dgate, int64_t dgate_stride, float *don, const float *dy,
                            const float *o, const float *rstd, const float *gain, const float *gate,
                            int64_t gate_stride, int64_t R, int H, int dh) {
  int64_t HD = (int64_t)H * dh;
  /* y = on * silu(g) */
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++)
    for (int h = 0; h < H; h++) {
      int64_t e0 = r * HD + (int64_t)h * dh;
      const float *orow = o + e0, *dyrow = dy + e0, *grow = gate + r * gate_stride + (int64_t)h * dh;
      float *donrow = don + e0, *dgrow = dgate + r * dgate_stride + (int64_t)h * dh, s = rstd[r * H + h];
#pragma omp simd
      for (int d = 0; d < dh; d++) hb_silu_gate_backward(&donrow[d], &dgrow[d], dyrow[d], orow[d] * s * gain[d], grow[d]);
    }
  /* on = RMSNorm_head(o): rows of dh (rmsnorm_backward adds into do_) */
  memset(do_, 0, (size_t)(R * HD) * sizeof(float));
  rmsnorm_backward(do_, dgain, don, o, rstd, gain, R * H, dh);
}
