#include "hybench/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"

void embedding_forward(float *x, const int32_t *tokens, const float *E, int64_t R, int C) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) memcpy(x + r * C, E + (int64_t)tokens[r] * C, (size_t)C * sizeof(float));
}

void embedding_backward(float *dE, const float *dx, const int32_t *tokens, int64_t R, int C) {
  for (int64_t r = 0; r < R; r++) {
    float *dst = dE + (int64_t)tokens[r] * C;
    const float *src = dx + r * C;
    for (int c = 0; c < C; c++) dst[c] += src[c];
  }
}

void rmsnorm_forward(float *y, float *rstd, const float *x, const float *g, int64_t R, int C) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float *xr = x + r * C;
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int c = 0; c < C; c++) ss += xr[c] * xr[c];
    float s = 1.0f / sqrtf(ss / (float)C + HB_RMS_EPS);
    rstd[r] = s;
    float *yr = y + r * C;
    for (int c = 0; c < C; c++) yr[c] = xr[c] * s * g[c];
  }
}

/* Rows are cut into this many fixed chunks for the gain gradient: each chunk
 * sums its rows in order, then the chunks are added in order, so dg is the
 * same for any thread count while every pass reads rows contiguously. */
#define RMS_DG_CHUNKS 16

void rmsnorm_backward(float *dx, float *dg, const float *dy, const float *x, const float *rstd, const float *g,
                      int64_t R, int C) {
  float *partial = hb_calloc((size_t)RMS_DG_CHUNKS * C, sizeof(float));
  /* dx = s * g*dy - s^3/C * x * sum(x * g*dy), s = rstd. */
#pragma omp parallel for schedule(static)
  for (int chunk = 0; chunk < RMS_DG_CHUNKS; chunk++) {
    int64_t r0 = R * chunk / RMS_DG_CHUNKS, r1 = R * (chunk + 1) / RMS_DG_CHUNKS;
    float *pg = partial + (size_t)chunk * C;
    for (int64_t r = r0; r < r1; r++) {
      const float *xr = x + r * C, *dyr = dy + r * C;
      float s = rstd[r], dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int c = 0; c < C; c++) dot += xr[c] * g[c] * dyr[c];
      float k = s * s * s * dot / (float)C;
      float *dxr = dx + r * C;
#pragma omp simd
      for (int c = 0; c < C; c++) {
        dxr[c] += s * g[c] * dyr[c] - k * xr[c];
        pg[c] += dyr[c] * xr[c] * s;
      }
    }
  }
  for (int chunk = 0; chunk < RMS_DG_CHUNKS; chunk++)
    for (int c = 0; c < C; c++) dg[c] += partial[(size_t)chunk * C + c];
  free(partial);
}

void swiglu_forward(float *act, const float *gu, int64_t R, int Hm) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float *gate = gu + r * 2 * Hm, *up = gate + Hm;
    float *a = act + r * Hm;
#pragma omp simd
    for (int j = 0; j < Hm; j++) a[j] = gate[j] * hb_sigmoidf(gate[j]) * up[j];
  }
}

void swiglu_backward(float *dgu, const float *dact, const float *gu, int64_t R, int Hm) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float *gate = gu + r * 2 * Hm, *up = gate + Hm, *da = dact + r * Hm;
    float *dgate = dgu + r * 2 * Hm, *dup = dgate + Hm;
#pragma omp simd
    for (int j = 0; j < Hm; j++) {
      float sg = hb_sigmoidf(gate[j]);
      float silu = gate[j] * sg;
      dup[j] = da[j] * silu;
      dgate[j] = da[j] * up[j] * sg * (1.0f + gate[j] * (1.0f - sg));
    }
  }
}

void silu_forward(float *y, const float *x, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * hb_sigmoidf(x[i]);
}

void silu_backward(float *dx, const float *dy, const float *x, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float sg = hb_sigmoidf(x[i]);
    dx[i] = dy[i] * sg * (1.0f + x[i] * (1.0f - sg));
  }
}

void conv1d_causal_forward(float *y, const float *x, const float *w, const float *bias, int B, int T, int Cc, int K) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      float *yr = y + ((int64_t)b * T + t) * Cc;
      for (int c = 0; c < Cc; c++) yr[c] = bias ? bias[c] : 0.0f;
      for (int k = 0; k < K; k++) {
        int src = t - (K - 1) + k;
        if (src < 0) continue;
        const float *xr = x + ((int64_t)b * T + src) * Cc;
        for (int c = 0; c < Cc; c++) yr[c] += w[(int64_t)c * K + k] * xr[c];
      }
    }
}

void conv1d_causal_backward(float *dx, float *dw, float *dbias, const float *dy, const float *x, const float *w,
                            int B, int T, int Cc, int K) {
  /* dx[t] = sum_k w[k] dy[t + (K-1) - k] */
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      float *dxr = dx + ((int64_t)b * T + t) * Cc;
      for (int c = 0; c < Cc; c++) dxr[c] = 0.0f;
      for (int k = 0; k < K; k++) {
        int dst = t + (K - 1) - k;
        if (dst >= T) continue;
        const float *dyr = dy + ((int64_t)b * T + dst) * Cc;
        for (int c = 0; c < Cc; c++) dxr[c] += w[(int64_t)c * K + k] * dyr[c];
      }
    }
  /* Per channel, the sums over (b, t) run in a fixed order: same result for any thread count.
   * Channels go in groups of 16 (one cache line of each row) so rows are read once per group. */
  HB_ASSERT(K <= 16, "conv kernels are short (4 here)");
#pragma omp parallel for schedule(static)
  for (int c0 = 0; c0 < Cc; c0 += 16) {
    int nc = Cc - c0 < 16 ? Cc - c0 : 16;
    float db[16] = {0}, acc[16][16] = {{0}};
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        const float *g = dy + ((int64_t)b * T + t) * Cc + c0;
        for (int c = 0; c < nc; c++) db[c] += g[c];
        for (int k = 0; k < K; k++) {
          int src = t - (K - 1) + k;
          if (src < 0) continue;
          const float *xr = x + ((int64_t)b * T + src) * Cc + c0;
          for (int c = 0; c < nc; c++) acc[k][c] += g[c] * xr[c];
        }
      }
    for (int c = 0; c < nc; c++) {
      if (dbias) dbias[c0 + c] += db[c];
      for (int k = 0; k < K; k++) dw[(int64_t)(c0 + c) * K + k] += acc[k][c];
    }
  }
}

void rope_table_build(RopeTable *rt, int T, int dh) {
  HB_ASSERT(dh % 2 == 0, "rotate-half pairs need an even head dim");
  rt->T = T;
  rt->half = dh / 2;
  rt->cos = hb_aligned_alloc((size_t)T * rt->half * sizeof(float));
  rt->sin = hb_aligned_alloc((size_t)T * rt->half * sizeof(float));
  for (int t = 0; t < T; t++)
    for (int i = 0; i < rt->half; i++) {
      /* Angles in double: at long T the float product loses the low bits. */
      double angle = (double)t * pow(10000.0, -2.0 * i / (double)dh);
      rt->cos[t * rt->half + i] = (float)cos(angle);
      rt->sin[t * rt->half + i] = (float)sin(angle);
    }
}

void rope_table_free(RopeTable *rt) {
  free(rt->cos);
  free(rt->sin);
  rt->cos = rt->sin = NULL;
}

void rope_rotate(float *x, const RopeTable *rt, int T, int dh, int inverse) {
  HB_ASSERT(T <= rt->T && dh == 2 * rt->half, "the RoPE table covers these positions");
  int h = rt->half;
  float sign = inverse ? -1.0f : 1.0f;
  for (int t = 0; t < T; t++) {
    float *row = x + (int64_t)t * dh;
    const float *cs = rt->cos + (int64_t)t * h, *sn = rt->sin + (int64_t)t * h;
    for (int i = 0; i < h; i++) {
      float a = row[i], b = row[i + h], s = sign * sn[i];
      row[i] = a * cs[i] - b * s;
      row[i + h] = a * s + b * cs[i];
    }
  }
}

double crossentropy_forward_backward(float *dlogits, float *row_loss, const float *logits,
                                     const int32_t *targets, int64_t R, int V) {
  int64_t n = 0;
  for (int64_t r = 0; r < R; r++) n += targets[r] >= 0;
  float inv_n = n ? 1.0f / (float)n : 0.0f;
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (int64_t r = 0; r < R; r++) {
    const float *lr = logits + r * V;
    int32_t y = targets[r];
    if (y < 0) {
      if (dlogits) memset(dlogits + r * V, 0, (size_t)V * sizeof(float));
      if (row_loss) row_loss[r] = 0;
      continue;
    }
    float mx = lr[0];
    for (int v = 1; v < V; v++) mx = lr[v] > mx ? lr[v] : mx;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int v = 0; v < V; v++) sum += hb_expf(lr[v] - mx);
    double logz = (double)mx + log((double)sum);
    double loss = logz - (double)lr[y];
    total += loss;
    if (row_loss) row_loss[r] = (float)loss;
    if (dlogits) {
      float *d = dlogits + r * V, scale = inv_n / sum;
#pragma omp simd
      for (int v = 0; v < V; v++) d[v] = hb_expf(lr[v] - mx) * scale;
      d[y] -= inv_n;
    }
  }
  return n ? total / (double)n : 0.0;
}
