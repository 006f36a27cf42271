/* Every layer's backward against central finite differences, then a whole
 * 2-layer SF model. Each check compares the analytic directional derivative
 * g.u with (f(x + eps u) - f(x - eps u)) / (2 eps) for random unit directions
 * u over one buffer; f is a random projection of the layer's output (or the
 * loss itself). Relative error |fd - an| / max(|fd|, |an|) is printed per
 * check and must stay below GRAD_TOL: float32 forwards leave ~1e-4 of noise
 * in the differences, a wrong gradient is off by O(1). */
#include <stdlib.h>

#include "hybench/attention.h"
#include "hybench/dnn.h"
#include "hybench/layers.h"
#include "hybench/model.h"
#include "hybench/rng.h"
#include "gradcheck.h"

#define GRAD_TOL 5e-3
/* The whole model in float32 is far more curved than one layer: the sweet
 * spot between truncation and rounding error was measured at eps ~ 1e-3 to
 * 3e-3 (max error 4e-3 there, 7e-2 at eps 1e-2 and at 1e-4). The float64
 * PyTorch parity test (tests/parity) holds the model to 1e-4. */
#define MODEL_EPS 2e-3
#define MODEL_TOL 1e-2

/* ---------- linear ---------- */
typedef struct {
  float *x, *w, *y, *r;
  int M, K, N;
} LinearCtx;

static double linear_objective(void *p) {
  LinearCtx *c = p;
  dnn_linear_forward(c->y, c->x, c->w, c->M, c->K, c->N);
  return gc_dot(c->y, c->r, (size_t)c->M * c->N);
}

static void test_linear(void) {
  LinearCtx c = {0};
  c.M = 12, c.K = 7, c.N = 5;
  c.x = gc_randn((size_t)c.M * c.K, 1), c.w = gc_randn((size_t)c.N * c.K, 1);
  c.y = gc_zeros((size_t)c.M * c.N), c.r = gc_randn((size_t)c.M * c.N, 1);
  float *dx = gc_zeros((size_t)c.M * c.K), *dw = gc_zeros((size_t)c.N * c.K);
  dnn_linear_backward(dx, dw, c.r, c.x, c.w, c.M, c.K, c.N, 0);
  gc_check_direction("linear dx", linear_objective, &c, c.x, dx, (size_t)c.M * c.K, 1e-2, GRAD_TOL);
  gc_check_direction("linear dW", linear_objective, &c, c.w, dw, (size_t)c.N * c.K, 1e-2, GRAD_TOL);
  free(c.x), free(c.w), free(c.y), free(c.r), free(dx), free(dw);
}

/* ---------- rmsnorm ---------- */
typedef struct {
  float *x, *g, *y, *rstd, *r;
  int R, C;
} NormCtx;

static double norm_objective(void *p) {
  NormCtx *c = p;
  rmsnorm_forward(c->y, c->rstd, c->x, c->g, c->R, c->C);
  return gc_dot(c->y, c->r, (size_t)c->R * c->C);
}

static void test_rmsnorm(void) {
  NormCtx c = {0};
  c.R = 6, c.C = 16;
  c.x = gc_randn((size_t)c.R * c.C, 1), c.g = gc_randn((size_t)c.C, 1);
  c.y = gc_zeros((size_t)c.R * c.C), c.rstd = gc_zeros((size_t)c.R), c.r = gc_randn((size_t)c.R * c.C, 1);
  float *dx = gc_zeros((size_t)c.R * c.C), *dg = gc_zeros((size_t)c.C);
  norm_objective(&c);
  rmsnorm_backward(dx, dg, c.r, c.x, c.rstd, c.g, c.R, c.C);
  gc_check_direction("rmsnorm dx", norm_objective, &c, c.x, dx, (size_t)c.R * c.C, 1e-2, GRAD_TOL);
  gc_check_direction("rmsnorm dg", norm_objective, &c, c.g, dg, (size_t)c.C, 1e-2, GRAD_TOL);
  free(c.x), free(c.g), free(c.y), free(c.rstd), free(c.r), free(dx), free(dg);
}

/* ---------- swiglu ---------- */
typedef struct {
  float *gu, *act, *r;
  int R, Hm;
} SwiCtx;

static double swiglu_objective(void *p) {
  SwiCtx *c = p;
  swiglu_forward(c->act, c->gu, c->R, c->Hm);
  return gc_dot(c->act, c->r, (size_t)c->R * c->Hm);
}

static void test_swiglu(void) {
  SwiCtx c = {0};
  c.R = 5, c.Hm = 9;
  c.gu = gc_randn((size_t)c.R * 2 * c.Hm, 2), c.act = gc_zeros((size_t)c.R * c.Hm);
  c.r = gc_randn((size_t)c.R * c.Hm, 1);
  float *dgu = gc_zeros((size_t)c.R * 2 * c.Hm);
  swiglu_backward(dgu, c.r, c.gu, c.R, c.Hm);
  gc_check_direction("swiglu dgate,dup", swiglu_objective, &c, c.gu, dgu, (size_t)c.R * 2 * c.Hm, 1e-2,
                     GRAD_TOL);
  free(c.gu), free(c.act), free(c.r), free(dgu);
}

/* ---------- silu, conv1d ---------- */
typedef struct {
  float *x, *y, *r, *w, *bias;
  int B, T, Cc, K;
} ElemCtx;

static double silu_objective(void *p) {
  ElemCtx *c = p;
  silu_forward(c->y, c->x, (int64_t)c->B * c->T);
  return gc_dot(c->y, c->r, (size_t)c->B * c->T);
}

static double conv_objective(void *p) {
  ElemCtx *c = p;
  conv1d_causal_forward(c->y, c->x, c->w, c->bias, c->B, c->T, c->Cc, c->K);
  return gc_dot(c->y, c->r, (size_t)c->B * c->T * c->Cc);
}

static void test_silu_conv(void) {
  ElemCtx c = {0};
  c.B = 3, c.T = 7, c.Cc = 5, c.K = 4;
  size_t n = (size_t)c.B * c.T * c.Cc;
  c.x = gc_randn(n, 2), c.y = gc_zeros(n), c.r = gc_randn(n, 1), c.w = gc_randn((size_t)c.Cc * c.K, 1);
  c.bias = gc_randn(c.Cc, 1);
  float *dx = gc_zeros(n), *dw = gc_zeros((size_t)c.Cc * c.K), *db = gc_zeros(c.Cc);
  silu_backward(dx, c.r, c.x, (int64_t)c.B * c.T);
  gc_check_direction("silu dx", silu_objective, &c, c.x, dx, (size_t)c.B * c.T, 1e-2, GRAD_TOL);
  conv1d_causal_backward(dx, dw, db, c.r, c.x, c.w, c.B, c.T, c.Cc, c.K);
  gc_check_direction("conv1d causal dx", conv_objective, &c, c.x, dx, n, 1e-2, GRAD_TOL);
  gc_check_direction("conv1d causal dw", conv_objective, &c, c.w, dw, (size_t)c.Cc * c.K, 1e-2, GRAD_TOL);
  gc_check_direction("conv1d causal dbias", conv_objective, &c, c.bias, db, (size_t)c.Cc, 1e-2, GRAD_TOL);
  /* Causality: the first output sees only x[0]: y[0] = bias + w[K-1] x[0]. */
  conv_objective(&c);
  double expect = c.bias[0] + c.w[c.K - 1] * c.x[0];
  CHECK(fabs(c.y[0] - expect) < 1e-5, "conv1d: y[0] = %g, expected bias + w[K-1] x[0] = %g", c.y[0], expect);
  free(c.x), free(c.y), free(c.r), free(c.w), free(c.bias), free(dx), free(dw), free(db);
}

static void test_fast_exp(void) {
  double worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
    double e = exp((double)x), err = fabs(hb_expf(x) - e) / e;
    if (err > worst) worst = err;
  }
  printf("  %-44s max rel err %.2e\n", "hb_expf vs exp on [-87, 88]", worst);
  CHECK(worst < 5e-7, "hb_expf relative error %g", worst);
  CHECK(hb_expf(-1000.0f) >= 0 && hb_expf(-1000.0f) < 1e-37f, "hb_expf underflows to ~0");
}

/* ---------- cross-entropy ---------- */
typedef struct {
  float *logits;
  int32_t *targets;
  int R, V;
} CeCtx;

static double ce_objective(void *p) {
  CeCtx *c = p;
  return crossentropy_forward_backward(NULL, NULL, c->logits, c->targets, c->R, c->V);
}

static void test_crossentropy(void) {
  CeCtx c = {0};
  c.R = 8, c.V = 13;
  c.logits = gc_randn((size_t)c.R * c.V, 2);
  c.targets = malloc((size_t)c.R * sizeof(int32_t));
  for (int r = 0; r < c.R; r++) c.targets[r] = r % 3 == 2 ? -1 : (int32_t)rng_below(&gc_rng, (uint64_t)c.V);
  float *dl = gc_zeros((size_t)c.R * c.V);
  crossentropy_forward_backward(dl, NULL, c.logits, c.targets, c.R, c.V);
  gc_check_direction("cross-entropy dlogits (masked rows)", ce_objective, &c, c.logits, dl, (size_t)c.R * c.V, 1e-2,
                     GRAD_TOL);
  free(c.logits), free(c.targets), free(dl);
}

/* ---------- attention ---------- */
typedef struct {
  AttnPlan p;
  RopeTable rope;
  float *qkv, *out, *saved, *scratch, *r;
} AttCtx;

static double attention_objective(void *p) {
  AttCtx *c = p;
  attention_forward(c->out, c->saved, c->scratch, c->qkv, &c->p, &c->rope);
  return gc_dot(c->out, c->r, (size_t)c->p.B * c->p.T * c->p.H * c->p.dh);
}

static void test_attention_case(int T, int window, int rope) {
  AttCtx c;
  int B = 2, H = 2, dh = 8;
  attention_plan(&c.p, B, T, H, dh, window, rope);
  rope_table_build(&c.rope, T, dh);
  size_t R = (size_t)B * T, HD = (size_t)H * dh;
  c.qkv = gc_randn(R * 3 * HD, 1.0);
  c.out = gc_zeros(R * HD), c.r = gc_randn(R * HD, 1);
  c.saved = gc_zeros(attention_saved_floats(&c.p));
  c.scratch = gc_zeros(attention_scratch_floats(&c.p));
  float *dqkv = gc_zeros(R * 3 * HD);
  attention_objective(&c);
  attention_backward(dqkv, c.saved, c.scratch, c.r, &c.p, &c.rope);
  char what[96];
  snprintf(what, sizeof what, "attention T=%d W=%d rope=%s dqkv", T, window, rope ? "on" : "off");
  gc_check_direction(what, attention_objective, &c, c.qkv, dqkv, R * 3 * HD, 1e-2, GRAD_TOL);
  rope_table_free(&c.rope);
  free(c.qkv), free(c.out), free(c.r), free(c.saved), free(c.scratch), free(dqkv);
}

static void test_attention(void) {
  const int windows[] = {1, 5, 19, 40, 80}; /* w = 1, 1 < w < T (several blockings), w = T, w > T */
  for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++)
    for (int rope = 0; rope <= 1; rope++) test_attention_case(40, windows[i], rope);
  /* Full attention past one causal group (64 rows): three groups, the last one partial. */
  for (int rope = 0; rope <= 1; rope++) test_attention_case(150, 150, rope);
  test_attention_case(150, 1000, 1);
}

/* ---------- whole model ---------- */
static void test_model_case(const char *pattern, int window, int rope_F, int rope_S, int tied) {
  char text[512], label[96];
  snprintf(text, sizeof text,
           "name = grad\nvocab = 11\nd_model = 16\nn_heads = 2\nhead_dim = 8\nmlp_hidden = 24\n"
           "pattern = %s\nwindow = %d\nrope_F = %s\nrope_S = %s\ntie_embeddings = %s\ninit_std = 0.4\n",
           pattern, window, rope_F ? "on" : "off", rope_S ? "on" : "off", tied ? "on" : "off");
  snprintf(label, sizeof label, "%s W=%d ropeF=%d ropeS=%d %s: ", pattern, window, rope_F, rope_S,
           tied ? "tied" : "untied");
  /* Non-unit gains (gc_check_model) so the norm gradients are exercised away from 1. */
  gc_check_model(text, 2, 24, MODEL_EPS, MODEL_TOL, &(GcModelOptions){.label = label});
}

static void test_model(void) {
  const int windows[] = {1, 6, 24, 50};
  for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++)
    for (int rope = 0; rope <= 1; rope++) test_model_case("SF", windows[i], rope, 1, i % 2 == 0);
  test_model_case("SF", 6, 0, 0, 0);
}

int main(void) {
  rng_seed(&gc_rng, 2024, 0);
  dnn_init();
  test_linear();
  test_rmsnorm();
  test_swiglu();
  test_crossentropy();
  test_silu_conv();
  test_fast_exp();
  test_attention();
  test_model();
  dnn_shutdown();
  TEST_MAIN_END();
}
