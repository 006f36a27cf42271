/* The inference-time context limit of recurrent layers (include/hybench/mixer.h,
 * mixer_context_limited): a truncated-context forward built from the mixer's
 * own, unlimited forward. Legend: B batch, T length, C d_model, r the limit,
 * G windows per call. */
#include <string.h>

#include "hybench/common.h"
#include "hybench/mixer.h"

void mixer_limited_forward(const MixerOps *ops, float *out, float *saved, float *scratch, const float *u,
                           const float *const *w, const MixerShape *s) {
  MixerShape plain = *s;
  plain.window = 0;
  if (!mixer_context_limited(s)) {
    ops->forward(out, saved, scratch, u, w, &plain);
    return;
  }
  int B = s->B, T = s->T, r = s->window;
  int64_t C = s->cfg->d_model;
  size_t row_bytes = (size_t)C * sizeof(float);
  /* Rows t < r: their window reaches back past t = 0, so the unlimited output is theirs. */
  float *y = hb_aligned_alloc((size_t)B * T * row_bytes); /* (B*T, C), zeroed */
  ops->forward(y, saved, scratch, u, w, &plain);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < r; t++) {
      float *dst = out + ((int64_t)b * T + t) * C;
      const float *src = y + ((int64_t)b * T + t) * C;
      for (int64_t c = 0; c < C; c++) dst[c] += src[c];
    }
  free(y);
  /* Rows t >= r: window n = (b, t) is the sequence u[b, t-r+1 .. t]; G windows per
   * call keep the buffers near the size of the layer's own (B*T rows). */
  int64_t n_windows = (int64_t)B * (T - r);
  int64_t G = (int64_t)B * T / r;
  if (G < 1) G = 1;
  if (G > n_windows) G = n_windows;
  MixerShape ws = plain;
  ws.B = (int)G;
  ws.T = r;
  float *uw = hb_aligned_alloc((size_t)(G * r) * row_bytes); /* (G*r, C) */
  float *yw = hb_aligned_alloc((size_t)(G * r) * row_bytes); /* (G*r, C) */
  float *saved_w = hb_aligned_alloc(ops->saved_floats(&ws) * sizeof(float));
  float *scratch_w = hb_aligned_alloc(ops->scratch_floats(&ws) * sizeof(float));
  for (int64_t n0 = 0; n0 < n_windows; n0 += G) {
    int64_t g_count = n_windows - n0 < G ? n_windows - n0 : G;
    for (int64_t g = 0; g < g_count; g++) {
      int64_t n = n0 + g, b = n / (T - r), t = r + n % (T - r);
      memcpy(uw + g * r * C, u + (b * T + t - r + 1) * C, (size_t)r * row_bytes);
    }
    ws.B = (int)g_count;
    memset(yw, 0, (size_t)(g_count * r) * row_bytes);
    ops->forward(yw, saved_w, scratch_w, uw, w, &ws);
    for (int64_t g = 0; g < g_count; g++) {
      int64_t n = n0 + g, b = n / (T - r), t = r + n % (T - r);
      float *dst = out + (b * T + t) * C;
      const float *src = yw + (g * r + r - 1) * C;
      for (int64_t c = 0; c < C; c++) dst[c] += src[c];
    }
  }
  free(uw), free(yw), free(saved_w), free(scratch_w);
}
