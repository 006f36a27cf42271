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
      for (int d = 0; d < dh; d++)
        hb_silu_gate_backward(&donrow[d], &dgrow[d], dyrow[d], orow[d] * s * gain[d], grow[d]);
    }
  /* on = RMSNorm_head(o): rows of dh (rmsnorm_backward adds into do_) */
  memset(do_, 0, (size_t)(R * HD) * sizeof(float));
  rmsnorm_backward(do_, dgain, don, o, rstd, gain, R * H, dh);
}

/* Both directions of heads_from_rows / heads_to_rows: the source is only read. */
static void copy_heads(float *heads, float *rows, int64_t stride, int64_t col0, int B, int T, int Tp, int H, int dh,
                       int to_rows) {
  size_t row_bytes = (size_t)dh * sizeof(float);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      float *head = heads + ((int64_t)b * H + h) * Tp * dh;
      for (int t = 0; t < T; t++) {
        float *row = rows + ((int64_t)b * T + t) * stride + col0 + (int64_t)h * dh;
        if (to_rows) memcpy(row, head + (int64_t)t * dh, row_bytes);
        else memcpy(head + (int64_t)t * dh, row, row_bytes);
      }
      if (!to_rows) memset(head + (int64_t)T * dh, 0, (size_t)(Tp - T) * row_bytes);
    }
}

void heads_from_rows(float *heads, const float *rows, int64_t stride, int64_t col0, int B, int T, int Tp, int H,
                     int dh) {
  copy_heads(heads, (float *)rows, stride, col0, B, T, Tp, H, dh, 0);
}

void heads_to_rows(float *rows, int64_t stride, int64_t col0, const float *heads, int B, int T, int Tp, int H, int dh) {
  copy_heads((float *)heads, rows, stride, col0, B, T, Tp, H, dh, 1);
}
