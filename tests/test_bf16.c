/* The bf16 path (include/hybench/dnn.h, DNN_BF16) against fp32.
 *
 * 1. The rounding: nearest with ties to even, NaN kept, denormals flushed,
 *    and the vector rounding equal to the scalar one bit for bit.
 * 2. Every product shape the engine uses (plain, transposed operands,
 *    accumulate, strided batches) equals a float64 product of the
 *    bf16-rounded operands to fp32 accumulation accuracy (1e-5 relative):
 *    only the operands are rounded, nothing else.
 * 3. A whole model of each mixer kind (F, S, L, M, G, each in a hybrid with F):
 *    the bf16 loss and the gradients against fp32, within the stated bf16
 *    tolerance: loss relative error <= 2e-3; relative L2 error of the whole
 *    gradient (all parameters) <= 3e-2, and of each parameter's <= 1e-1.
 *    Why these: bf16 keeps 8 significant bits (unit roundoff 2^-9 ~ 2e-3); a
 *    loss is a mean over many tokens, so its rounding errors average out
 *    below one roundoff; a gradient passes through ~10 products each
 *    rounding both operands, whose independent errors of ~2e-3 add to about
 *    1e-2 in L2. A tensor that is a sum over every position with
 *    cancellation (Mamba-2's dt_bias) magnifies that by the cancellation:
 *    first measured 1.2e-2 .. 2.4e-2 for the attention and projection
 *    weights and 3.4e-2 for mamba2 dt_bias, hence the looser per-tensor
 *    bound. A wrong product (e.g. an operand converted in the wrong layout)
 *    is off by O(1).
 *
 * The test runs on every CPU: without native bf16, oneDNN emulates bf16
 * products on AVX-512, and where it has no bf16 matmul at all (AVX2 only)
 * src/engine/dnn.c multiplies the rounded operands in fp32; only the
 * commands refuse the emulation. */
#include <stdlib.h>

#include "hybench/config.h"
#include "hybench/dnn.h"
#include "hybench/model.h"
#include "hybench/rng.h"
#include "testutil.h"

#define LOSS_TOL 2e-3
#define GRAD_TOL 3e-2
#define TENSOR_TOL 1e-1
#define PRODUCT_TOL 1e-5

static float bits_to_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static void test_rounding(void) {
  CHECK(dnn_bf16_bits(1.0f) == 0x3f80, "1.0 -> %x", dnn_bf16_bits(1.0f));
  /* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (down to 1). */
  CHECK(dnn_bf16_bits(bits_to_float(0x3f808000u)) == 0x3f80, "tie down");
  /* 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up. */
  CHECK(dnn_bf16_bits(bits_to_float(0x3f818000u)) == 0x3f82, "tie up");
  CHECK(dnn_bf16_bits(bits_to_float(0x3f808001u)) == 0x3f81, "above half rounds up");
  CHECK(dnn_bf16_bits(-2.5f) == 0xc020, "-2.5 exact");
  CHECK(isnan(dnn_bf16_round(NAN)), "NaN stays NaN");
  CHECK(isinf(dnn_bf16_round(INFINITY)) && dnn_bf16_round(-INFINITY) < 0, "inf stays inf");
  CHECK(dnn_bf16_bits(bits_to_float(0x807fffffu)) == 0x8000, "denormal flushes to signed zero");
  CHECK(isinf(dnn_bf16_round(3.4e38f)), "rounding past the largest bf16 gives inf");

  /* The product path's rounding (vector where the CPU has it) agrees with
   * dnn_bf16_bits: a product of x with the identity returns bf16(x). */
  int n = 37;
  float *x = hb_malloc((size_t)n * n * sizeof(float)), *eye = hb_malloc((size_t)n * n * sizeof(float));
  float *y = hb_malloc((size_t)n * n * sizeof(float));
  HbRng rng;
  rng_seed(&rng, 5, 1);
  for (int i = 0; i < n * n; i++) x[i] = (float)(rng_normal(&rng) * pow(10.0, (double)(i % 9) - 4.0));
  x[3] = bits_to_float(0x3f808000u), x[4] = bits_to_float(0x00400000u), x[5] = -0.0f;
  for (int i = 0; i < n * n; i++) eye[i] = (i / n == i % n) ? 1.0f : 0.0f;
  dnn_set_precision(DNN_BF16);
  dnn_matmul(y, x, eye, 1, n, n, n, 0, 0, 0);
  dnn_set_precision(DNN_FP32);
  int mismatches = 0;
  /* Compared as values: -0 x 1 summed with +0 products is +0. */
  for (int i = 0; i < n * n; i++) mismatches += y[i] != dnn_bf16_round(x[i]);
  CHECK(mismatches == 0, "%d of %d elements rounded differently in the product path", mismatches, n * n);
  free(x), free(eye), free(y);
}

/* dst (batch, M, N) against float64 products of the rounded operands. */
static void check_product(const char *what, int64_t batch, int64_t M, int64_t K, int64_t N, int ta, int tb, int acc,
                          int64_t as, int64_t bs, int64_t ds) {
  size_t na = (size_t)((batch - 1) * as + M * K), nb = (size_t)((batch - 1) * bs + K * N);
  size_t nd = (size_t)((batch - 1) * ds + M * N);
  float *a = hb_malloc(na * sizeof(float)), *b = hb_malloc(nb * sizeof(float)), *d = hb_malloc(nd * sizeof(float));
  HbRng rng;
  rng_seed(&rng, 11, (uint64_t)(M * 131 + K * 17 + N));
  for (size_t i = 0; i < na; i++) a[i] = (float)rng_normal(&rng);
  for (size_t i = 0; i < nb; i++) b[i] = (float)rng_normal(&rng);
  for (size_t i = 0; i < nd; i++) d[i] = (float)rng_normal(&rng);
  double *want = hb_malloc(nd * sizeof(double));
  for (size_t i = 0; i < nd; i++) want[i] = d[i];
  double worst = 0;
  for (int64_t z = 0; z < batch; z++)
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double s = 0, mag = 0;
        for (int64_t k = 0; k < K; k++) {
          double av = dnn_bf16_round(a[z * as + (ta ? k * M + i : i * K + k)]);
          double bv = dnn_bf16_round(b[z * bs + (tb ? j * K + k : k * N + j)]);
          s += av * bv, mag += fabs(av * bv);
        }
        size_t o = (size_t)(z * ds + i * N + j);
        want[o] = acc ? want[o] + s : s;
        (void)mag;
      }
  dnn_set_precision(DNN_BF16);
  dnn_matmul_strided(d, a, b, batch, M, K, N, ta, tb, acc, as, bs, ds);
  dnn_set_precision(DNN_FP32);
  for (int64_t z = 0; z < batch; z++)
    for (int64_t i = 0; i < M * N; i++) {
      size_t o = (size_t)(z * ds + i);
      double err = fabs(d[o] - want[o]) / (1.0 + fabs(want[o]));
      if (err > worst) worst = err;
    }
  printf("  product %-28s max error %.2e\n", what, worst);
  CHECK(worst <= PRODUCT_TOL, "%s: bf16 product differs from the rounded operands' product by %.3g", what, worst);
  free(a), free(b), free(d), free(want);
}

static void test_products(void) {
  check_product("plain", 1, 33, 70, 21, 0, 0, 0, 0, 0, 0);
  check_product("linear (b transposed)", 1, 64, 48, 40, 0, 1, 0, 0, 0, 0);
  check_product("dW (a transposed, +=)", 1, 40, 64, 48, 1, 0, 1, 0, 0, 0);
  check_product("batched", 6, 16, 8, 12, 0, 1, 0, 16 * 8, 12 * 8, 16 * 12);
  /* Heads addressed in place: matrices 3x their size apart, holes between. */
  check_product("strided, holes, +=", 5, 9, 8, 7, 0, 1, 1, 3 * 9 * 8, 3 * 7 * 8, 2 * 9 * 7);
  check_product("strided, a transposed", 4, 8, 9, 5, 1, 0, 0, 100, 60, 50);
}

/* Loss and gradients of a model of this pattern in the current precision. */
static double loss_and_grads(const ModelConfig *cfg, const int32_t *in, const int32_t *tg, int B, int T, float *grads) {
  Model m;
  model_create(&m, cfg);
  model_init_params(&m, 3);
  model_zero_grad(&m);
  double loss = model_forward(&m, in, tg, B, T);
  model_backward(&m);
  memcpy(grads, m.grad_mem, m.n_floats * sizeof(float));
  model_free(&m);
  return loss;
}

static void test_model(const char *pattern) {
  char text[512];
  snprintf(text, sizeof text,
           "name = bf16_%s\nvocab = 64\nd_model = 32\npattern = %s\nn_heads = 2\nhead_dim = 16\n"
           "mlp_hidden = 64\nwindow = 8\ninit_std = 0.1\n",
           pattern, pattern);
  ModelConfig cfg;
  config_parse(&cfg, text, "test_bf16");
  /* T > 64: full attention takes its causal-group path (attention.c). */
  int B = 3, T = 80;
  int32_t in[3 * 80], tg[3 * 80];
  HbRng rng;
  rng_seed(&rng, 9, 2);
  for (int i = 0; i < B * T; i++) in[i] = (int32_t)rng_below(&rng, 64), tg[i] = (int32_t)rng_below(&rng, 64);
  Model probe;
  model_create(&probe, &cfg);
  size_t n = probe.n_floats;
  float *g32 = hb_malloc(n * sizeof(float)), *g16 = hb_malloc(n * sizeof(float));
  double l32 = loss_and_grads(&cfg, in, tg, B, T, g32);
  dnn_set_precision(DNN_BF16);
  double l16 = loss_and_grads(&cfg, in, tg, B, T, g16);
  dnn_set_precision(DNN_FP32);
  double loss_err = fabs(l16 - l32) / fabs(l32), worst = 0, all_num = 0, all_den = 0;
  const char *worst_name = "-";
  int bitwise_equal = 1;
  for (int p = 0; p < probe.n_params; p++) {
    const ParamSpec *ps = &probe.params[p];
    double num = 0, den = 0;
    for (size_t i = ps->offset; i < ps->offset + ps->numel; i++) {
      double d = (double)g16[i] - g32[i];
      num += d * d, den += (double)g32[i] * g32[i];
      bitwise_equal &= g16[i] == g32[i];
    }
    all_num += num, all_den += den;
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    if (rel > worst) worst = rel, worst_name = ps->name;
    CHECK(rel <= TENSOR_TOL, "%s: %s gradient relative L2 error %.3g > %g", pattern, ps->name, rel, TENSOR_TOL);
  }
  double all = sqrt(all_num / all_den);
  printf("  model %-3s loss fp32 %.6f bf16 %.6f (rel err %.2e); gradient rel L2 %.2e, worst tensor %s %.2e\n",
         pattern, l32, l16, loss_err, all, worst_name, worst);
  CHECK(all <= GRAD_TOL, "%s: whole-gradient relative L2 error %.3g > %g", pattern, all, GRAD_TOL);
  CHECK(loss_err <= LOSS_TOL, "%s: loss relative error %.3g > %g", pattern, loss_err, LOSS_TOL);
  /* The bf16 path must actually round: identical gradients would mean it ran fp32. */
  CHECK(!bitwise_equal && loss_err > 0, "%s: bf16 gave the fp32 result bit for bit", pattern);
  model_free(&probe);
  free(g32), free(g16);
}

int main(void) {
  dnn_init();
  printf("bf16 kernel here: %s (native: %s)\n", dnn_bf16_kernel(), dnn_bf16_native() ? "yes" : "no, emulated");
  test_rounding();
  test_products();
  const char *patterns[] = {"FF", "SF", "LF", "MF", "GF"};
  for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) test_model(patterns[i]);
  CHECK(dnn_precision() == DNN_FP32, "tests restore fp32");
  dnn_shutdown();
  TEST_MAIN_END();
}
