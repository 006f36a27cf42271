/* Lightning linear attention (layer letter L, src/mixers/lightning.c):
 *  1. the chunked recurrence against its plain sequential reference, forward
 *     (max |fast - ref| / max |ref| < 1e-5) and backward (the same measure
 *     per q, k, v gradient < 1e-4), at T = 1, Cs - 1, Cs, 3 Cs + 5 for the
 *     mixer's chunk Cs, a small chunk, and many heads (lambda_h -> 1);
 *  2. the mixer alone and a 2-layer LF model against central finite
 *     differences (directional, as tests/test_grad.c), every parameter and du;
 *  3. stability at T = 4096 with trained-scale weights, linear memory in T,
 *     bit-identical reruns. */
#include <stdlib.h>

#include "hybench/dnn.h"
#include "hybench/lightning.h"
#include "hybench/model.h"
#include "hybench/rng.h"
#include "testutil.h"

#define GRAD_TOL 5e-3
#define MODEL_EPS 2e-3
#define MODEL_TOL 1e-2
#define N_DIRECTIONS 3
#define FWD_TOL 1e-5
#define BWD_TOL 1e-4

static HbRng rng;

static float *randn(size_t n, double scale) {
  float *x = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) x[i] = (float)(scale * rng_normal(&rng));
  return x;
}

static float *zeros(size_t n) { return calloc(n, sizeof(float)); }

static double dot_f64(const float *a, const float *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

/* max |a - b| over max |b|, over n values at stride ld starting at column 0 of
 * rows of width w (a part of a row-major buffer). */
static double rel_max_diff(const float *a, const float *b, int64_t rows, int64_t ld, int64_t w) {
  double diff = 0, scale = 0;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < w; j++) {
      double x = a[r * ld + j], y = b[r * ld + j];
      if (!(fabs(x - y) <= diff)) diff = fabs(x - y); /* NaN makes diff NaN */
      if (fabs(y) > scale) scale = fabs(y);
    }
  return diff / fmax(scale, 1e-30);
}

typedef double (*Objective)(void *ctx);

/* As tests/test_grad.c: analytic g.u against (f(x + eps u) - f(x - eps u)) / 2 eps. */
static double check_direction(const char *what, Objective f, void *ctx, float *x, const float *grad, size_t n,
                              double eps, double tol) {
  double worst = 0;
  for (int d = 0; d < N_DIRECTIONS; d++) {
    float *u = randn(n, 1.0);
    double norm = sqrt(dot_f64(u, u, n));
    for (size_t i = 0; i < n; i++) u[i] = (float)(u[i] / norm);
    float *x0 = malloc(n * sizeof(float));
    memcpy(x0, x, n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = x0[i] + (float)eps * u[i];
    double fp = f(ctx);
    for (size_t i = 0; i < n; i++) x[i] = x0[i] - (float)eps * u[i];
    double fm = f(ctx);
    memcpy(x, x0, n * sizeof(float));
    double fd = (fp - fm) / (2 * eps), an = dot_f64(grad, u, n);
    double typical = sqrt(dot_f64(grad, grad, n) / (double)n);
    double den = fmax(fmax(fmax(fabs(fd), fabs(an)), typical), 1e-8);
    double err = fabs(fd - an) / den;
    if (!(err <= worst)) worst = err;
    free(u), free(x0);
  }
  printf("  %-58s max rel err %.2e\n", what, worst);
  CHECK(worst < tol, "%s: gradient differs from finite differences (rel err %g)", what, worst);
  return worst;
}

/* ---------- 1. chunked recurrence vs the sequential reference ---------- */

static void test_core_case(int B, int T, int H, int dh, int chunk) {
  LightningPlan p;
  lightning_plan(&p, B, T, H, dh, chunk);
  int64_t R = (int64_t)B * T, HD = (int64_t)H * dh;
  /* q, k as after silu (mostly positive, some slightly negative), v normal */
  float *qkv = randn((size_t)R * 3 * HD, 1.0);
  for (int64_t r = 0; r < R; r++)
    for (int64_t j = 0; j < 2 * HD; j++) {
      float x = qkv[r * 3 * HD + j];
      qkv[r * 3 * HD + j] = x / (1.0f + expf(-x));
    }
  float *o = zeros((size_t)R * HD), *o_ref = zeros((size_t)R * HD);
  float *states = zeros(lightning_states_floats(&p)), *scratch = zeros(lightning_scratch_floats(&p));
  lightning_forward(o, states, scratch, qkv, &p);
  lightning_reference_forward(o_ref, qkv, B, T, H, dh);
  double fwd = rel_max_diff(o, o_ref, R, HD, HD);

  float *dout = randn((size_t)R * HD, 1.0);
  float *dqkv = zeros((size_t)R * 3 * HD), *dqkv_ref = zeros((size_t)R * 3 * HD);
  lightning_backward(dqkv, scratch, dout, qkv, states, &p);
  lightning_reference_backward(dqkv_ref, dout, qkv, B, T, H, dh);
  double bwd[3];
  for (int part = 0; part < 3; part++)
    bwd[part] = rel_max_diff(dqkv + part * HD, dqkv_ref + part * HD, R, 3 * HD, HD);
  printf("  core B=%d T=%-4d H=%-2d dh=%-2d chunk=%-3d (nc=%d)  fwd %.2e  dq %.2e  dk %.2e  dv %.2e\n", B, T, H,
         dh, chunk, p.nc, fwd, bwd[0], bwd[1], bwd[2]);
  CHECK(fwd < FWD_TOL, "chunked forward differs from the reference by %g (T=%d chunk=%d)", fwd, T, chunk);
  for (int part = 0; part < 3; part++)
    CHECK(bwd[part] < BWD_TOL, "chunked backward d%c differs from the reference by %g (T=%d chunk=%d)",
          "qkv"[part], bwd[part], T, chunk);
  free(qkv), free(o), free(o_ref), free(states), free(scratch), free(dout), free(dqkv), free(dqkv_ref);
}

static void test_core(void) {
  printf("chunked recurrence vs sequential reference (rel max diff):\n");
  const int Cs = LIGHTNING_CHUNK;
  const int lengths[] = {1, Cs - 1, Cs, 3 * Cs + 5};
  for (int i = 0; i < 4; i++) test_core_case(2, lengths[i], 3, 16, Cs);
  const int small[] = {1, 7, 8, 29};
  for (int i = 0; i < 4; i++) test_core_case(2, small[i], 2, 8, 8);
  /* Many heads: lambda_h is 1 - 2^-28 at h = 23, i.e. 1.0f in float. */
  test_core_case(1, 2 * Cs + 3, 24, 4, Cs);
  /* The decay itself: lambda_0 = 1 - 1/32. */
  CHECK(lightning_decay(0) == 1.0 - 1.0 / 32 && lightning_decay(3) == 1.0 - 1.0 / 256, "lambda_h = 1 - 2^-(5+h)");
}

/* ---------- 2a. the mixer alone vs finite differences ---------- */

static void config_for(ModelConfig *cfg, const char *pattern, int C, int H, int dh, double init_std) {
  char text[512];
  snprintf(text, sizeof text,
           "name = lightning_test\nvocab = 11\nd_model = %d\nn_heads = %d\nhead_dim = %d\nmlp_hidden = 24\n"
           "pattern = %s\nrope_F = on\ntie_embeddings = off\ninit_std = %g\n",
           C, H, dh, pattern, init_std);
  config_parse(cfg, text, "test_mixer_lightning");
}

typedef struct {
  ModelConfig cfg;
  MixerShape s;
  const MixerOps *ops;
  int n_params;
  MixerParamSpec specs[HB_MAX_MIXER_PARAMS];
  size_t numel[HB_MAX_MIXER_PARAMS];
  float *w[HB_MAX_MIXER_PARAMS], *g[HB_MAX_MIXER_PARAMS];
  float *arena, *grads; /* the parameters back to back, as the model's arena */
  float *u, *out, *r, *du, *saved, *scratch;
  int64_t R, C;
} MixCtx;

/* Mixer with parameters: matrices N(0, std^2), gains 1 + 0.3 N(0, 1). */
static void mix_setup(MixCtx *c, int B, int T, int C, int H, int dh, double std) {
  memset(c, 0, sizeof *c);
  config_for(&c->cfg, "LF", C, H, dh, std);
  c->ops = mixer_ops('L');
  CHECK(c->ops != NULL, "letter L is registered");
  c->s = (MixerShape){&c->cfg, 0, 'L', B, T, 0, 0, NULL};
  c->n_params = c->ops->param_specs(c->specs, &c->cfg);
  size_t total = 0;
  for (int k = 0; k < c->n_params; k++) {
    c->numel[k] = 1;
    for (int d = 0; d < c->specs[k].ndim; d++) c->numel[k] *= (size_t)c->specs[k].shape[d];
    total += c->numel[k];
  }
  c->arena = zeros(total), c->grads = zeros(total);
  size_t off = 0;
  for (int k = 0; k < c->n_params; k++) {
    c->w[k] = c->arena + off, c->g[k] = c->grads + off;
    for (size_t j = 0; j < c->numel[k]; j++)
      c->w[k][j] = (float)(c->specs[k].init == INIT_ONES ? 1 + 0.3 * rng_normal(&rng) : std * rng_normal(&rng));
    off += c->numel[k];
  }
  c->R = (int64_t)B * T, c->C = C;
  c->u = randn((size_t)c->R * C, 1.0);
  c->out = zeros((size_t)c->R * C), c->r = randn((size_t)c->R * C, 1.0), c->du = zeros((size_t)c->R * C);
  c->saved = zeros(c->ops->saved_floats(&c->s));
  c->scratch = zeros(c->ops->scratch_floats(&c->s));
}

static void mix_free(MixCtx *c) {
  free(c->arena), free(c->grads), free(c->u), free(c->out), free(c->r), free(c->du), free(c->saved),
      free(c->scratch);
}

/* <r, mixer(u)> (forward adds into out, so out starts at zero) */
static double mix_objective(void *p) {
  MixCtx *c = p;
  memset(c->out, 0, (size_t)c->R * c->C * sizeof(float));
  c->ops->forward(c->out, c->saved, c->scratch, c->u, (const float *const *)c->w, &c->s);
  return dot_f64(c->out, c->r, (size_t)c->R * c->C);
}

static void mix_backward(MixCtx *c) {
  mix_objective(c);
  c->ops->backward(c->du, c->g, c->saved, c->scratch, c->r, c->u, (const float *const *)c->w, &c->s);
}

static void test_mixer_grad_case(int T, double std) {
  MixCtx c;
  mix_setup(&c, 2, T, 16, 2, 8, std);
  /* du is overwritten: start it at garbage to prove it */
  for (int64_t i = 0; i < c.R * c.C; i++) c.du[i] = 1e3f;
  mix_backward(&c);
  char what[160];
  snprintf(what, sizeof what, "mixer T=%d std=%g: du", T, std);
  check_direction(what, mix_objective, &c, c.u, c.du, (size_t)(c.R * c.C), 1e-2, GRAD_TOL);
  for (int k = 0; k < c.n_params; k++) {
    snprintf(what, sizeof what, "mixer T=%d std=%g: %s", T, std, c.specs[k].suffix);
    check_direction(what, mix_objective, &c, c.w[k], c.g[k], c.numel[k], 1e-2, GRAD_TOL);
  }
  /* backward ADDS into parameter gradients */
  float *g1 = malloc(c.numel[0] * sizeof(float));
  memcpy(g1, c.g[0], c.numel[0] * sizeof(float));
  mix_backward(&c);
  double worst = 0;
  for (size_t j = 0; j < c.numel[0]; j++) worst = fmax(worst, fabs(c.g[0][j] - 2 * g1[j]));
  CHECK(worst <= 1e-5 * (1 + fabs(g1[0])), "a second backward adds into the gradients (max dev %g)", worst);
  free(g1);
  mix_free(&c);
}

static void test_mixer_grad(void) {
  printf("L mixer alone vs finite differences:\n");
  test_mixer_grad_case(2 * LIGHTNING_CHUNK + 7, 0.3); /* three chunks */
  test_mixer_grad_case(5, 0.3);
}

/* ---------- 2b. a 2-layer LF model vs finite differences ---------- */

typedef struct {
  Model m;
  int32_t *inputs, *targets;
  int B, T;
} ModelCtx;

static double model_objective(void *p) {
  ModelCtx *c = p;
  return model_forward(&c->m, c->inputs, c->targets, c->B, c->T);
}

static void test_model_grad(void) {
  printf("2-layer LF model vs finite differences:\n");
  ModelConfig cfg;
  config_for(&cfg, "LF", 16, 2, 8, 0.4);
  ModelCtx c;
  c.B = 2, c.T = LIGHTNING_CHUNK + 6; /* two chunks */
  model_create(&c.m, &cfg);
  model_init_params(&c.m, 5);
  for (int i = 0; i < c.m.n_params; i++)
    if (c.m.params[i].ndim == 1)
      for (size_t j = 0; j < c.m.params[i].numel; j++)
        c.m.param_mem[c.m.params[i].offset + j] = (float)(1 + 0.3 * rng_normal(&rng));
  c.inputs = malloc((size_t)c.B * c.T * sizeof(int32_t));
  c.targets = malloc((size_t)c.B * c.T * sizeof(int32_t));
  for (int i = 0; i < c.B * c.T; i++) {
    c.inputs[i] = (int32_t)rng_below(&rng, 11);
    c.targets[i] = i % 7 == 3 ? -1 : (int32_t)rng_below(&rng, 11);
  }
  model_zero_grad(&c.m);
  model_objective(&c);
  model_backward(&c.m);
  for (int i = 0; i < c.m.n_params; i++) {
    const ParamSpec *ps = &c.m.params[i];
    char what[160];
    snprintf(what, sizeof what, "LF T=%d: %s", c.T, ps->name);
    check_direction(what, model_objective, &c, c.m.param_mem + ps->offset, c.m.grad_mem + ps->offset, ps->numel,
                    MODEL_EPS, MODEL_TOL);
  }
  /* The checkpoint names and decay flags of DESIGN.md section 3. */
  const char *names[] = {"layers.0.lightning.q_proj.weight", "layers.0.lightning.k_proj.weight",
                         "layers.0.lightning.v_proj.weight", "layers.0.lightning.g_proj.weight",
                         "layers.0.lightning.o_proj.weight", "layers.0.lightning.norm.weight"};
  for (int k = 0; k < 6; k++) {
    const ParamSpec *ps = model_find_param(&c.m, names[k]);
    CHECK(ps != NULL, "checkpoint tensor %s exists", names[k]);
    if (!ps) continue;
    int is_norm = k == 5;
    CHECK(ps->decay == !is_norm, "%s: weight decay %d", names[k], ps->decay);
    CHECK(is_norm ? ps->ndim == 1 && ps->shape[0] == 8 : ps->ndim == 2 && ps->shape[0] * ps->shape[1] == 16 * 16,
          "%s: shape", names[k]);
  }
  model_free(&c.m);
  free(c.inputs), free(c.targets);
}

/* ---------- 3. stability, memory, determinism ---------- */

static int all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}

static double max_abs(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

static void test_stability(void) {
  printf("stability at T=4096 (B=1, C=16, 4 heads x 8, matrices std 0.3 and 1.0):\n");
  const double stds[] = {0.3, 1.0};
  for (int i = 0; i < 2; i++) {
    MixCtx c;
    mix_setup(&c, 1, 4096, 16, 4, 8, stds[i]);
    mix_backward(&c);
    size_t n = (size_t)c.R * c.C;
    int ok = all_finite(c.out, n) && all_finite(c.du, n) && all_finite(c.grads, c.numel[0] * 5 + c.numel[5]);
    printf("  std %.1f: max|out| %.3g  max|du| %.3g  max|dWq| %.3g  finite %s\n", stds[i], max_abs(c.out, n),
           max_abs(c.du, n), max_abs(c.g[0], c.numel[0]), ok ? "yes" : "NO");
    CHECK(ok, "forward/backward at T=4096 (std %g) is not finite", stds[i]);
    mix_free(&c);
  }

  printf("memory (saved + scratch floats, B=1, C=128, 4 heads x 32):\n");
  ModelConfig cfg;
  config_for(&cfg, "LF", 128, 4, 32, 0.02);
  const MixerOps *ops = mixer_ops('L');
  double prev = 0;
  for (int T = 1024; T <= 4096; T *= 2) {
    MixerShape s = {&cfg, 0, 'L', 1, T, 0, 0, NULL};
    size_t sv = ops->saved_floats(&s), sc = ops->scratch_floats(&s);
    double total = (double)(sv + sc);
    printf("  T=%-5d saved %zu  scratch %zu  total %.0f  (%.1f floats per token)", T, sv, sc, total, total / T);
    if (prev > 0) {
      printf("  ratio %.3f", total / prev);
      CHECK(fabs(total / prev - 2) < 0.05, "memory at T=%d is %.3f x that at T/2, not ~2", T, total / prev);
    }
    printf("\n");
    prev = total;
  }
}

static void test_rerun(void) {
  MixCtx c;
  mix_setup(&c, 2, 3 * LIGHTNING_CHUNK + 5, 16, 2, 8, 0.3);
  mix_backward(&c);
  size_t n = (size_t)c.R * c.C;
  float *out1 = malloc(n * sizeof(float)), *du1 = malloc(n * sizeof(float));
  memcpy(out1, c.out, n * sizeof(float)), memcpy(du1, c.du, n * sizeof(float));
  mix_backward(&c);
  int same = memcmp(out1, c.out, n * sizeof(float)) == 0 && memcmp(du1, c.du, n * sizeof(float)) == 0;
  printf("rerun bit-identical: %s\n", same ? "yes" : "NO");
  CHECK(same, "two identical forward/backward calls differ");
  free(out1), free(du1);
  mix_free(&c);
}

int main(void) {
  rng_seed(&rng, 2025, 0);
  dnn_init();
  test_core();
  test_mixer_grad();
  test_model_grad();
  test_stability();
  test_rerun();
  dnn_shutdown();
  TEST_MAIN_END();
}
