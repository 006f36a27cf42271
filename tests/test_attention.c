/* The blocked F/S attention equals a plain reference with an explicit band
 * mask (to 1e-5), S with W >= T equals F bit for bit, and primitives are reused. */
#include <stdlib.h>

#include "hybench/attention.h"
#include "hybench/dnn.h"
#include "hybench/rng.h"
#include "gradcheck.h"

/* Runs the blocked forward for one (T, W, rope) case; returns max |blocked - reference|. */
static double compare_with_reference(int B, int T, int H, int dh, int window, int rope_on, HbRng *rng) {
  AttnPlan p;
  attention_plan(&p, B, T, H, dh, window, rope_on);
  size_t R = (size_t)B * T, HD = (size_t)H * dh;
  float *qkv = malloc(R * 3 * HD * sizeof(float));
  float *out = malloc(R * HD * sizeof(float)), *ref = malloc(R * HD * sizeof(float));
  float *saved = malloc(attention_saved_floats(&p) * sizeof(float));
  float *scratch = malloc(attention_scratch_floats(&p) * sizeof(float));
  gc_fill_normal(qkv, R * 3 * HD, rng, 1.5); /* peaked attention, so mask errors show */
  RopeTable rt;
  rope_table_build(&rt, T, dh);
  attention_forward(out, saved, scratch, qkv, &p, &rt);
  attention_reference_forward(ref, qkv, B, T, H, dh, p.window, rope_on ? &rt : NULL);
  double err = gc_max_abs_diff(out, ref, R * HD);
  printf("  T=%-4d W=%-4d rope=%d  bs=%-3d nb=%-3d span=%-4d  max|blocked-reference| = %.3g\n", T, window, rope_on,
         p.bs, p.nb, p.span, err);
  rope_table_free(&rt);
  free(qkv), free(out), free(ref), free(saved), free(scratch);
  return err;
}

static void test_matches_reference(void) {
  HbRng rng;
  rng_seed(&rng, 7, 0);
  const int cases[][2] = {{128, 1}, {128, 8}, {128, 16}, {128, 17}, {128, 64}, {128, 128}, {128, 500},
                          {100, 7}, {37, 20}, {5, 3},    {1, 4},    {200, 33},
                          {65, 65},  {200, 200}, {257, 1000}}; /* causal groups: 2, 4 (last partial), 5 */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int rope_on = 0; rope_on <= 1; rope_on++) {
      double err = compare_with_reference(2, cases[i][0], 2, 16, cases[i][1], rope_on, &rng);
      CHECK(err < 1e-5, "T=%d W=%d rope=%d: blocked attention differs from the band-mask reference by %g",
            cases[i][0], cases[i][1], rope_on, err);
    }
}

static void test_wide_window_equals_full(void) {
  int B = 2, T = 96, H = 2, dh = 16;
  size_t R = (size_t)B * T, HD = (size_t)H * dh;
  HbRng rng;
  rng_seed(&rng, 3, 0);
  float *qkv = malloc(R * 3 * HD * sizeof(float));
  gc_fill_normal(qkv, R * 3 * HD, &rng, 1.0);
  RopeTable rt;
  rope_table_build(&rt, T, dh);
  AttnPlan pf, ps;
  attention_plan(&pf, B, T, H, dh, T, 1);
  attention_plan(&ps, B, T, H, dh, 4 * T, 1);
  float *of = malloc(R * HD * sizeof(float)), *os = malloc(R * HD * sizeof(float));
  float *saved = malloc(attention_saved_floats(&pf) * sizeof(float));
  float *scratch = malloc(attention_scratch_floats(&pf) * sizeof(float));
  attention_forward(of, saved, scratch, qkv, &pf, &rt);
  attention_forward(os, saved, scratch, qkv, &ps, &rt);
  double err = gc_max_abs_diff(of, os, R * HD);
  printf("  S with W = 4T vs F: max diff %.3g\n", err);
  CHECK(err == 0.0, "S with W >= T must be exactly F, differs by %g", err);
  rope_table_free(&rt);
  free(qkv), free(of), free(os), free(saved), free(scratch);
}

static void test_sliding_cost_is_banded(void) {
  AttnPlan p;
  attention_plan(&p, 1, 4096, 1, 32, 64, 1);
  double per_query = (double)p.nb * p.bs * p.span / 4096.0;
  printf("  T=4096 W=64: %.1f scores per query (full would be %d)\n", per_query, 4096);
  CHECK(per_query <= 3.0 * 64, "S must cost O(T*W): %g scores per query", per_query);
}

static void test_primitives_are_cached(void) {
  int before = dnn_cache_size();
  HbRng rng;
  rng_seed(&rng, 1, 0);
  compare_with_reference(1, 64, 1, 16, 8, 1, &rng);
  int after_first = dnn_cache_size();
  compare_with_reference(1, 64, 1, 16, 8, 1, &rng);
  CHECK(dnn_cache_size() == after_first, "a repeated shape must reuse its primitives (%d -> %d)", after_first,
        dnn_cache_size());
  CHECK(after_first > before, "the first call builds primitives");
}

int main(void) {
  dnn_init();
  test_matches_reference();
  test_wide_window_equals_full();
  test_sliding_cost_is_banded();
  test_primitives_are_cached();
  dnn_shutdown();
  TEST_MAIN_END();
}
