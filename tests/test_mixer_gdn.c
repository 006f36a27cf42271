/* Gated DeltaNet (layer letter G, src/mixers/gdn.c):
 *  1. the chunked recurrence against the plain sequential reference, forward
 *     (max |fast - ref| / max |ref| < 1e-5) and backward (the same measure
 *     per gradient, q, k, v, la, beta, < 1e-4), at T = 1, L - 1, L, 3L + 5
 *     for the chunk length L, under mild, strong and vanishing decay, and
 *     (last) at other chunk lengths;
 *  2. the reference's own backward against central finite differences (in
 *     its double-precision state), so both sides of 1. are anchored;
 *  3. the mixer alone and a 2-layer GF model against central finite
 *     differences (directional, tests/gradcheck.h), every parameter and du;
 *  4. stability at T = 4096 with trained-scale weights, memory linear in T,
 *     bit-identical reruns. */
#include <stdlib.h>

#include "hybench/dnn.h"
#include "hybench/gdn.h"
#include "hybench/model.h"
#include "hybench/rng.h"

#define GC_LABEL_WIDTH 60
#include "gradcheck.h"

#define GRAD_TOL 5e-3
#define MODEL_EPS 2e-3
#define MODEL_TOL 1e-2
#define FWD_TOL 1e-5
#define BWD_TOL 1e-4

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
  in.qkv = gc_randn(R * 3 * HD, 1.0);
  for (size_t r = 0; r < R; r++)
    for (int part = 0; part < 2; part++)
      for (int h = 0; h < H; h++) {
        float *x = in.qkv + r * 3 * HD + part * HD + (size_t)h * dh;
        double n = sqrt(gc_dot(x, x, (size_t)dh)) * (part == 0 ? sqrt((double)dh) : 1.0);
        for (int d = 0; d < dh; d++) x[d] = (float)(x[d] / n);
      }
  in.la = malloc(R * H * sizeof(float)), in.beta = malloc(R * H * sizeof(float));
  for (size_t i = 0; i < R * H; i++) {
    double u = rng_uniform(&gc_rng);
    in.la[i] = (float)(decay == DECAY_MILD ? -exp(log(1e-3) + u * (log(2.0) - log(1e-3)))
                       : decay == DECAY_STRONG ? -60.0 * u
                                               : -1e-4 * u);
    in.beta[i] = (float)rng_uniform(&gc_rng);
  }
  return in;
}

static void core_inputs_free(CoreInputs *in) { free(in->qkv), free(in->la), free(in->beta); }

/* ---------- 1. chunked vs reference ---------- */

static void compare_core(int B, int T, int H, int dh, int L, Decay decay) {
  CoreInputs in = core_inputs(B, T, H, dh, decay);
  size_t R = (size_t)B * T, HD = (size_t)H * dh;
  GdnPlan p;
  gdn_plan(&p, B, T, H, dh, L);
  float *o = gc_zeros(R * HD), *o_ref = gc_zeros(R * HD), *dout = gc_randn(R * HD, 1.0);
  float *saved = malloc(gdn_saved_floats(&p) * sizeof(float));
  float *scratch = malloc(gdn_scratch_floats(&p) * sizeof(float));
  float *dqkv = gc_zeros(R * 3 * HD), *dla = gc_zeros(R * H), *dbeta = gc_zeros(R * H);
  float *dqkv_ref = gc_zeros(R * 3 * HD), *dla_ref = gc_zeros(R * H), *dbeta_ref = gc_zeros(R * H);
  gdn_forward(o, saved, scratch, in.qkv, in.la, in.beta, &p);
  gdn_reference_forward(o_ref, in.qkv, in.la, in.beta, B, T, H, dh);
  gdn_backward(dqkv, dla, dbeta, saved, scratch, dout, &p);
  gdn_reference_backward(dqkv_ref, dla_ref, dbeta_ref, dout, in.qkv, in.la, in.beta, B, T, H, dh);
  double e_o = gc_rel_max_diff(o, o_ref, R * HD);
  /* q, k, v gradients separately: each part of the rows on its own scale. */
  double e_part[3];
  for (int part = 0; part < 3; part++)
    e_part[part] = gc_rel_max_diff_rows(dqkv + part * HD, dqkv_ref + part * HD, (int64_t)R, 3 * (int64_t)HD,
                                        (int64_t)HD);
  double e_la = gc_rel_max_diff(dla, dla_ref, R * H), e_beta = gc_rel_max_diff(dbeta, dbeta_ref, R * H);
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
  int L = GDN_CHUNK;
  printf("chunked recurrence vs sequential reference (chunk L = %d; relative max differences)\n", L);
  const int Ts[] = {1, L - 1, L, 3 * L + 5};
  for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++)
    for (int decay = DECAY_MILD; decay <= DECAY_NONE; decay++) compare_core(2, Ts[i], 2, 16, L, (Decay)decay);
  compare_core(1, 2 * L + 7, 3, 32, L, DECAY_MILD); /* the largest head size we train */
}

/* Other chunk lengths, through the plan: 1 (every step is a chunk), odd, and
 * longer than the default (the last case a chunk longer than T). */
static void test_other_chunks(void) {
  printf("chunked recurrence vs sequential reference, other chunk lengths\n");
  const int Ls[] = {1, 5, 32, 64};
  for (size_t i = 0; i < sizeof Ls / sizeof Ls[0]; i++) {
    printf(" L = %d\n", Ls[i]);
    for (int decay = DECAY_MILD; decay <= DECAY_STRONG; decay++)
      compare_core(2, 3 * Ls[i] + 5 < 60 ? 3 * Ls[i] + 5 : 45, 2, 16, Ls[i], (Decay)decay);
  }
}

/* ---------- 2. the reference's backward against finite differences ---------- */

typedef struct {
  CoreInputs in;
  float *o, *r;
} RefCtx;

static double ref_objective(void *p) {
  RefCtx *c = p;
  gdn_reference_forward(c->o, c->in.qkv, c->in.la, c->in.beta, c->in.B, c->in.T, c->in.H, c->in.dh);
  return gc_dot(c->o, c->r, (size_t)c->in.B * c->in.T * c->in.H * c->in.dh);
}

static void test_reference_backward(void) {
  printf("reference backward vs finite differences\n");
  RefCtx c;
  c.in = core_inputs(2, 13, 2, 8, DECAY_MILD);
  size_t R = 2 * 13, HD = 16;
  c.o = gc_zeros(R * HD), c.r = gc_randn(R * HD, 1.0);
  float *dqkv = gc_zeros(R * 3 * HD), *dla = gc_zeros(R * 2), *dbeta = gc_zeros(R * 2);
  gdn_reference_backward(dqkv, dla, dbeta, c.r, c.in.qkv, c.in.la, c.in.beta, 2, 13, 2, 8);
  gc_check_direction("reference d(q, k, v)", ref_objective, &c, c.in.qkv, dqkv, R * 3 * HD, 1e-2, GRAD_TOL);
  gc_check_direction("reference d(log alpha)", ref_objective, &c, c.in.la, dla, R * 2, 1e-2, GRAD_TOL);
  gc_check_direction("reference d(beta)", ref_objective, &c, c.in.beta, dbeta, R * 2, 1e-2, GRAD_TOL);
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
  float *wa = gc_zeros(total), *ga = gc_zeros(total);
  for (int k = 0, off = 0; k < c->n_params; off += (int)c->numel[k], k++) c->w[k] = wa + off, c->g[k] = ga + off;
  for (int k = 0; k < c->n_params; k++)
    for (size_t i = 0; i < c->numel[k]; i++)
      c->w[k][i] = c->specs[k].init == INIT_NORMAL ? (float)(std * rng_normal(&gc_rng))
                   : c->specs[k].init == INIT_ONES ? (float)(1 + 0.3 * rng_normal(&gc_rng))
                                                   : 0.0f;
  HbRng mrng;
  rng_seed(&mrng, 11, 4);
  c->ops->init_custom(c->w, &c->cfg, &mrng);
  c->RC = (size_t)B * T * C;
  c->u = gc_randn(c->RC, 1.0), c->out = gc_zeros(c->RC), c->r = gc_randn(c->RC, 1.0), c->du = gc_zeros(c->RC);
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
  return gc_dot(c->out, c->r, c->RC);
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
    gc_check_direction(what, mixer_objective, &c, c.w[k], c.g[k], c.numel[k], 1e-2, GRAD_TOL);
  }
  snprintf(what, sizeof what, "T=%d std=%g du", T, std);
  gc_check_direction(what, mixer_objective, &c, c.u, c.du, c.RC, 1e-2, GRAD_TOL);
  mixer_free(&c);
}

/* ---------- 3b. inside a model ---------- */

static void check_gdn_tensors(const Model *m) {
  int n_gdn = 0;
  for (int i = 0; i < m->n_params; i++) n_gdn += strstr(m->params[i].name, ".gdn.") != NULL;
  CHECK(n_gdn == 13, "the G layer registers 13 tensors (got %d)", n_gdn);
}

static void test_model_gf(void) {
  printf("2-layer GF model vs finite differences\n");
  char text[512];
  snprintf(text, sizeof text, MIXER_CONFIG, 16, 2, 8, 0.4);
  gc_check_model(text, 2, GDN_CHUNK + 9, MODEL_EPS, MODEL_TOL, &(GcModelOptions){.after = check_gdn_tensors});
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
      int ok = gc_all_finite(c.out, c.RC) && gc_all_finite(c.du, c.RC);
      for (int k = 0; k < c.n_params; k++) ok = ok && gc_all_finite(c.g[k], c.numel[k]);
      double rms_out = sqrt(gc_dot(c.out, c.out, c.RC) / c.RC), rms_du = sqrt(gc_dot(c.du, c.du, c.RC) / c.RC);
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
  rng_seed(&gc_rng, 2025, 0);
  dnn_init();
  test_chunked_vs_reference();
  test_reference_backward();
  test_mixer_fd(2, 3 * GDN_CHUNK + 5, 16, 2, 8, 0.3);
  test_mixer_fd(1, 2 * GDN_CHUNK + 1, 32, 2, 16, 0.3);
  test_mixer_fd(1, 9, 16, 2, 8, 1.0); /* large weights: strong decay, saturated gates */
  test_model_gf();
  test_long_sequence();
  test_other_chunks();
  dnn_shutdown();
  TEST_MAIN_END();
}
