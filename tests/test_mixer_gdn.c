/* Gated DeltaNet (layer letter G, src/mixers/gdn.c):
 *  1. the chunked recurrence against the plain sequential reference, forward
 *     (max |fast - ref| / max |ref| < 1e-5) and backward (the same measure
 *     per gradient, q, k, v, la, beta, < 1e-4), at T = 1, L - 1, L, 3L + 5
 *     for the chunk length L, under mild, strong and vanishing decay;
 *  2. the reference's own backward against central finite differences (in
 *     its double-precision state), so both sides of 1. are anchored;
 *  3. the mixer alone and a 2-layer GF model against central finite
 *     differences (directional, as tests/test_grad.c), every parameter and du;
 *  4. stability at T = 4096 with trained-scale weights, memory linear in T,
 *     bit-identical reruns. */
#include <stdlib.h>

#include "hybench/dnn.h"
#include "hybench/gdn.h"
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

/* max |a - b| / max |b| over n values (NaN in a makes it NaN). */
static double rel_max_diff(const float *a, const float *b, size_t n) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= diff)) diff = d;
    if (fabs(b[i]) > scale) scale = fabs(b[i]);
  }
  return diff / fmax(scale, 1e-30);
}

static int all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}

typedef double (*Objective)(void *ctx);

/* As tests/test_grad.c: analytic g.u against (f(x + eps u) - f(x - eps u)) / 2 eps
 * along random unit directions u; relative to max(|fd|, |an|, |g| / sqrt(n)). */
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
  printf("  %-60s max rel err %.2e\n", what, worst);
  CHECK(worst < tol, "%s: gradient differs from finite differences (rel err %g)", what, worst);
  return worst;
}

/* ---------- recurrence inputs ---------- */

/* Decay regimes of log alpha: mild (init range), strong (alpha down to e^-60,
 * scaled weights) and vanishing (alpha -> 1, long memory). */
typedef enum { DECAY_MILD, DECAY_STRONG, DECAY_NONE } Decay;
static const char *const DECAY_NAME[] = {"mild", "strong", "~none"};

typedef struct {
  int B, T, H, dh;
  float *qkv, *la, *beta; /* (R, 3HD), (R, H), (R, H) */
} CoreInputs;

/* q, k unit vectors per head (q then scaled by 1/sqrt(dh)), v ~ N(0, 1),
 * beta ~ U(0, 1), la by regime. */
static CoreInputs core_inputs(int B, int T, int H, int dh, Decay decay) {
  CoreInputs in = {B, T, H, dh, NULL, NULL, NULL};
  size_t R = (size_t)B * T, HD = (size_t)H * dh;
  in.qkv = randn(R * 3 * HD, 1.0);
  for (size_t r = 0; r < R; r++)
    for (int part = 0; part < 2; part++)
      for (int h = 0; h < H; h++) {
        float *x = in.qkv + r * 3 * HD + part * HD + (size_t)h * dh;
        double n = sqrt(dot_f64(x, x, (size_t)dh)) * (part == 0 ? sqrt((double)dh) : 1.0);
        for (int d = 0; d < dh; d++) x[d] = (float)(x[d] / n);
      }
  in.la = malloc(R * H * sizeof(float)), in.beta = malloc(R * H * sizeof(float));
  for (size_t i = 0; i < R * H; i++) {
    double u = rng_uniform(&rng);
    in.la[i] = (float)(decay == DECAY_MILD ? -exp(log(1e-3) + u * (log(2.0) - log(1e-3)))
                       : decay == DECAY_STRONG ? -60.0 * u
                                               : -1e-4 * u);
    in.beta[i] = (float)rng_uniform(&rng);
  }
  return in;
}

static void core_inputs_free(CoreInputs *in) { free(in->qkv), free(in->la), free(in->beta); }

/* ---------- 1. chunked vs reference ---------- */

static void compare_core(int B, int T, int H, int dh, Decay decay) {
  CoreInputs in = core_inputs(B, T, H, dh, decay);
  size_t R = (size_t)B * T, HD = (size_t)H * dh;
  float *o = zeros(R * HD), *o_ref = zeros(R * HD), *dout = randn(R * HD, 1.0);
  float *saved = malloc(gdn_core_saved_floats(B, T, H, dh) * sizeof(float));
  float *scratch = malloc(gdn_core_scratch_floats(B, T, H, dh) * sizeof(float));
  float *dqkv = zeros(R * 3 * HD), *dla = zeros(R * H), *dbeta = zeros(R * H);
  float *dqkv_ref = zeros(R * 3 * HD), *dla_ref = zeros(R * H), *dbeta_ref = zeros(R * H);
  gdn_chunked_forward(o, saved, scratch, in.qkv, in.la, in.beta, B, T, H, dh);
  gdn_reference_forward(o_ref, in.qkv, in.la, in.beta, B, T, H, dh);
  gdn_chunked_backward(dqkv, dla, dbeta, saved, scratch, dout, B, T, H, dh);
  gdn_reference_backward(dqkv_ref, dla_ref, dbeta_ref, dout, in.qkv, in.la, in.beta, B, T, H, dh);
  double e_o = rel_max_diff(o, o_ref, R * HD);
  /* q, k, v gradients separately: each part of the rows on its own scale. */
  double e_part[3];
  for (int part = 0; part < 3; part++) {
    double diff = 0, scale = 0;
    for (size_t r = 0; r < R; r++)
      for (size_t j = 0; j < HD; j++) {
        double a = dqkv[r * 3 * HD + part * HD + j], b = dqkv_ref[r * 3 * HD + part * HD + j];
        if (!(fabs(a - b) <= diff)) diff = fabs(a - b);
        scale = fmax(scale, fabs(b));
      }
    e_part[part] = diff / fmax(scale, 1e-30);
  }
  double e_la = rel_max_diff(dla, dla_ref, R * H), e_beta = rel_max_diff(dbeta, dbeta_ref, R * H);
  double e_grad = fmax(fmax(fmax(e_part[0], e_part[1]), fmax(e_part[2], e_la)), e_beta);
  printf("  T=%-4d B=%d H=%d dh=%-2d decay %-6s  fwd %.2e | dq %.2e dk %.2e dv %.2e dla %.2e dbeta %.2e\n", T, B, H,
         dh, DECAY_NAME[decay], e_o, e_part[0], e_part[1], e_part[2], e_la, e_beta);
  CHECK(e_o < FWD_TOL, "T=%d decay %s: chunked forward differs from the reference by %g (relative)", T,
        DECAY_NAME[decay], e_o);
  CHECK(e_grad < BWD_TOL, "T=%d decay %s: chunked gradients differ from the reference by %g (relative)", T,
        DECAY_NAME[decay], e_grad);
  core_inputs_free(&in);
  free(o), free(o_ref), free(dout), free(saved), free(scratch);
  free(dqkv), free(dla), free(dbeta), free(dqkv_ref), free(dla_ref), free(dbeta_ref);
}

static void test_chunked_vs_reference(void) {
  int L = gdn_chunk_len;
  printf("chunked recurrence vs sequential reference (chunk L = %d; relative max differences)\n", L);
  const int Ts[] = {1, L - 1, L, 3 * L + 5};
  for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++)
    for (int decay = DECAY_MILD; decay <= DECAY_NONE; decay++) compare_core(2, Ts[i], 2, 16, (Decay)decay);
  compare_core(1, 2 * L + 7, 3, 32, DECAY_MILD); /* the largest head size we train */
}

/* ---------- 2. the reference's backward against finite differences ---------- */

typedef struct {
  CoreInputs in;
  float *o, *r;
} RefCtx;

static double ref_objective(void *p) {
  RefCtx *c = p;
  gdn_reference_forward(c->o, c->in.qkv, c->in.la, c->in.beta, c->in.B, c->in.T, c->in.H, c->in.dh);
  return dot_f64(c->o, c->r, (size_t)c->in.B * c->in.T * c->in.H * c->in.dh);
}

static void test_reference_backward(void) {
  printf("reference backward vs finite differences\n");
  RefCtx c;
  c.in = core_inputs(2, 13, 2, 8, DECAY_MILD);
  size_t R = 2 * 13, HD = 16;
  c.o = zeros(R * HD), c.r = randn(R * HD, 1.0);
  float *dqkv = zeros(R * 3 * HD), *dla = zeros(R * 2), *dbeta = zeros(R * 2);
  gdn_reference_backward(dqkv, dla, dbeta, c.r, c.in.qkv, c.in.la, c.in.beta, 2, 13, 2, 8);
  check_direction("reference d(q, k, v)", ref_objective, &c, c.in.qkv, dqkv, R * 3 * HD, 1e-2, GRAD_TOL);
  check_direction("reference d(log alpha)", ref_objective, &c, c.in.la, dla, R * 2, 1e-2, GRAD_TOL);
  check_direction("reference d(beta)", ref_objective, &c, c.in.beta, dbeta, R * 2, 1e-2, GRAD_TOL);
  core_inputs_free(&c.in);
  free(c.o), free(c.r), free(dqkv), free(dla), free(dbeta);
}

/* ---------- 3a. the mixer alone ---------- */

static const char *MIXER_CONFIG =
    "name = gdn_test\nvocab = 11\nd_model = %d\nn_heads = %d\nhead_dim = %d\nmlp_hidden = 24\n"
    "pattern = GF\nrope_F = on\ntie_embeddings = off\ninit_std = %g\n";

typedef struct {
  ModelConfig cfg;
  MixerShape shape;
  const MixerOps *ops;
  int n_params;
  MixerParamSpec specs[HB_MAX_MIXER_PARAMS];
  size_t numel[HB_MAX_MIXER_PARAMS];
  float *w[HB_MAX_MIXER_PARAMS], *g[HB_MAX_MIXER_PARAMS];
  float *u, *out, *r, *du, *saved, *scratch;
  size_t RC;
} MixCtx;

/* Matrices ~ N(0, std^2), gains 1 + 0.3 N(0, 1), the rest from init_custom. */
static void mixer_setup(MixCtx *c, int B, int T, int C, int H, int dh, double std) {
  memset(c, 0, sizeof *c);
  char text[512];
  snprintf(text, sizeof text, MIXER_CONFIG, C, H, dh, std);
  config_parse(&c->cfg, text, "test_mixer_gdn");
  c->ops = mixer_ops('G');
  CHECK(c->ops != NULL, "letter G is registered");
  c->shape = (MixerShape){&c->cfg, 0, 'G', B, T, 0, 0, NULL};
  c->n_params = c->ops->param_specs(c->specs, &c->cfg);
  for (int k = 0; k < c->n_params; k++) {
    size_t n = 1;
    for (int d = 0; d < c->specs[k].ndim; d++) n *= (size_t)c->specs[k].shape[d];
    c->numel[k] = n;
  }
  /* one arena, in registration order, as the model lays it out (the mixer
   * relies on the adjacency of q, k, v and of g, a, b) */
  size_t total = 0;
  for (int k = 0; k < c->n_params; k++) total += c->numel[k];
  float *wa = zeros(total), *ga = zeros(total);
  for (int k = 0, off = 0; k < c->n_params; off += (int)c->numel[k], k++) c->w[k] = wa + off, c->g[k] = ga + off;
  for (int k = 0; k < c->n_params; k++)
    for (size_t i = 0; i < c->numel[k]; i++)
      c->w[k][i] = c->specs[k].init == INIT_NORMAL ? (float)(std * rng_normal(&rng))
                   : c->specs[k].init == INIT_ONES ? (float)(1 + 0.3 * rng_normal(&rng))
                                                   : 0.0f;
  HbRng mrng;
  rng_seed(&mrng, 11, 4);
  c->ops->init_custom(c->w, &c->cfg, &mrng);
  c->RC = (size_t)B * T * C;
  c->u = randn(c->RC, 1.0), c->out = zeros(c->RC), c->r = randn(c->RC, 1.0), c->du = zeros(c->RC);
  c->saved = malloc(c->ops->saved_floats(&c->shape) * sizeof(float));
  c->scratch = malloc(c->ops->scratch_floats(&c->shape) * sizeof(float));
}

static void mixer_free(MixCtx *c) {
  free(c->w[0]), free(c->g[0]);
  free(c->u), free(c->out), free(c->r), free(c->du), free(c->saved), free(c->scratch);
}

static double mixer_objective(void *p) {
  MixCtx *c = p;
  memset(c->out, 0, c->RC * sizeof(float));
  c->ops->forward(c->out, c->saved, c->scratch, c->u, (const float *const *)c->w, &c->shape);
  return dot_f64(c->out, c->r, c->RC);
}

static void mixer_gradients(MixCtx *c) {
  for (int k = 0; k < c->n_params; k++) memset(c->g[k], 0, c->numel[k] * sizeof(float));
  mixer_objective(c);
  c->ops->backward(c->du, c->g, c->saved, c->scratch, c->r, c->u, (const float *const *)c->w, &c->shape);
}

static void test_mixer_fd(int B, int T, int C, int H, int dh, double std) {
  MixCtx c;
  mixer_setup(&c, B, T, C, H, dh, std);
  printf("mixer alone vs finite differences (B=%d T=%d C=%d H=%d dh=%d, matrices std %g)\n", B, T, C, H, dh, std);
  mixer_gradients(&c);
  char what[128];
  for (int k = 0; k < c.n_params; k++) {
    snprintf(what, sizeof what, "T=%d std=%g %s", T, std, c.specs[k].suffix);
    check_direction(what, mixer_objective, &c, c.w[k], c.g[k], c.numel[k], 1e-2, GRAD_TOL);
  }
  snprintf(what, sizeof what, "T=%d std=%g du", T, std);
  check_direction(what, mixer_objective, &c, c.u, c.du, c.RC, 1e-2, GRAD_TOL);
  mixer_free(&c);
}

/* ---------- 3b. inside a model ---------- */

typedef struct {
  Model m;
  int32_t *inputs, *targets;
  int B, T;
} ModelCtx;

static double model_objective(void *p) {
  ModelCtx *c = p;
  return model_forward(&c->m, c->inputs, c->targets, c->B, c->T);
}

static void test_model_gf(void) {
  printf("2-layer GF model vs finite differences\n");
  ModelConfig cfg;
  char text[512];
  snprintf(text, sizeof text, MIXER_CONFIG, 16, 2, 8, 0.4);
  config_parse(&cfg, text, "test_mixer_gdn");
  ModelCtx c;
  c.B = 2, c.T = gdn_chunk_len + 9;
  model_create(&c.m, &cfg);
  model_init_params(&c.m, 5);
  for (int i = 0; i < c.m.n_params; i++)
    if (c.m.params[i].init == INIT_ONES)
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
  int n_gdn = 0;
  for (int i = 0; i < c.m.n_params; i++) {
    const ParamSpec *ps = &c.m.params[i];
    n_gdn += strstr(ps->name, ".gdn.") != NULL;
    check_direction(ps->name, model_objective, &c, c.m.param_mem + ps->offset, c.m.grad_mem + ps->offset, ps->numel,
                    MODEL_EPS, MODEL_TOL);
  }
  CHECK(n_gdn == 13, "the G layer registers 13 tensors (got %d)", n_gdn);
  model_free(&c.m);
  free(c.inputs), free(c.targets);
}

/* ---------- 4. stability, memory, determinism ---------- */

static void test_long_sequence(void) {
  printf("stability and memory (B=1 C=16 H=2 dh=8, matrices std 0.25)\n");
  size_t floats[3];
  const int Ts[] = {1024, 2048, 4096};
  for (int i = 0; i < 3; i++) {
    MixCtx c;
    mixer_setup(&c, 1, Ts[i], 16, 2, 8, 0.25);
    floats[i] = c.ops->saved_floats(&c.shape) + c.ops->scratch_floats(&c.shape);
    printf("  T=%-5d saved %zu + scratch %zu = %zu floats (%.1f per position)\n", Ts[i],
           c.ops->saved_floats(&c.shape), c.ops->scratch_floats(&c.shape), floats[i], (double)floats[i] / Ts[i]);
    if (Ts[i] == 4096) {
      mixer_gradients(&c);
      int ok = all_finite(c.out, c.RC) && all_finite(c.du, c.RC);
      for (int k = 0; k < c.n_params; k++) ok = ok && all_finite(c.g[k], c.numel[k]);
      double rms_out = sqrt(dot_f64(c.out, c.out, c.RC) / c.RC), rms_du = sqrt(dot_f64(c.du, c.du, c.RC) / c.RC);
      printf("  T=4096 forward + backward: finite %s, rms out %.3g, rms du %.3g\n", ok ? "yes" : "NO", rms_out,
             rms_du);
      CHECK(ok, "T=4096: non-finite outputs or gradients");
      /* the last position still sees the sequence: outputs there are not all zero */
      CHECK(rms_out > 0 && rms_du > 0, "T=4096: outputs or gradients vanished");
      /* bit-identical rerun */
      float *out1 = malloc(c.RC * sizeof(float)), *du1 = malloc(c.RC * sizeof(float));
      memcpy(out1, c.out, c.RC * sizeof(float)), memcpy(du1, c.du, c.RC * sizeof(float));
      mixer_gradients(&c);
      int same = memcmp(out1, c.out, c.RC * sizeof(float)) == 0 && memcmp(du1, c.du, c.RC * sizeof(float)) == 0;
      printf("  rerun bit-identical: %s\n", same ? "yes" : "NO");
      CHECK(same, "two identical forward + backward runs differ");
      free(out1), free(du1);
    }
    mixer_free(&c);
  }
  for (int i = 1; i < 3; i++) {
    double ratio = (double)floats[i] / floats[i - 1];
    printf("  memory ratio T=%d / T=%d: %.4f\n", Ts[i], Ts[i - 1], ratio);
    CHECK(fabs(ratio - 2.0) < 0.02, "memory is not linear in T: ratio %g", ratio);
  }
}

int main(void) {
  rng_seed(&rng, 2025, 0);
  dnn_init();
  test_chunked_vs_reference();
  test_reference_backward();
  test_mixer_fd(2, 3 * gdn_chunk_len + 5, 16, 2, 8, 0.3);
  test_mixer_fd(1, 2 * gdn_chunk_len + 1, 32, 2, 16, 0.3);
  test_mixer_fd(1, 9, 16, 2, 8, 1.0); /* large weights: strong decay, saturated gates */
  test_model_gf();
  test_long_sequence();
  dnn_shutdown();
  TEST_MAIN_END();
}
