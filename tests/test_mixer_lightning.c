/* Lightning linear attention (layer letter L, src/mixers/lightning.c):
 *  1. the chunked recurrence against its plain sequential reference, forward
 *     (max |fast - ref| / max |ref| < 1e-5) and backward (the same measure
 *     per q, k, v gradient < 1e-4), at T = 1, Cs - 1, Cs, 3 Cs + 5 for the
 *     mixer's chunk Cs, a small chunk, and many heads (lambda_h -> 1);
 *  2. the mixer alone and a 2-layer LF model against central finite
 *     differences (directional, tests/gradcheck.h), every parameter and du;
 *  3. stability at T = 4096 with trained-scale weights, linear memory in T,
 *     bit-identical reruns. */
#include <stdlib.h>

#include "hybench/dnn.h"
#include "hybench/lightning.h"
#include "hybench/model.h"
#include "hybench/rng.h"

#define GC_LABEL_WIDTH 58
#include "gradcheck.h"

#define GRAD_TOL 5e-3
#define MODEL_EPS 2e-3
#define MODEL_TOL 1e-2
#define FWD_TOL 1e-5
#define BWD_TOL 1e-4

/* ---------- 1. chunked recurrence vs the sequential reference ---------- */

static void test_core_case(int B, int T, int H, int dh, int chunk) {
  LightningPlan p;
  lightning_plan(&p, B, T, H, dh, chunk);
  int64_t R = (int64_t)B * T, HD = (int64_t)H * dh;
  /* q, k as after silu (mostly positive, some slightly negative), v normal */
  float *qkv = gc_randn((size_t)R * 3 * HD, 1.0);
  for (int64_t r = 0; r < R; r++)
    for (int64_t j = 0; j < 2 * HD; j++) {
      float x = qkv[r * 3 * HD + j];
      qkv[r * 3 * HD + j] = x / (1.0f + expf(-x));
    }
  float *o = gc_zeros((size_t)R * HD), *o_ref = gc_zeros((size_t)R * HD);
  float *saved = gc_zeros(lightning_saved_floats(&p)), *scratch = gc_zeros(lightning_scratch_floats(&p));
  lightning_forward(o, saved, scratch, qkv, &p);
  lightning_reference_forward(o_ref, qkv, B, T, H, dh);
  double fwd = gc_rel_max_diff(o, o_ref, (size_t)(R * HD));

  float *dout = gc_randn((size_t)R * HD, 1.0);
  float *dqkv = gc_zeros((size_t)R * 3 * HD), *dqkv_ref = gc_zeros((size_t)R * 3 * HD);
  lightning_backward(dqkv, saved, scratch, dout, qkv, &p);
  lightning_reference_backward(dqkv_ref, dout, qkv, B, T, H, dh);
  double bwd[3];
  for (int part = 0; part < 3; part++)
    bwd[part] = gc_rel_max_diff_rows(dqkv + part * HD, dqkv_ref + part * HD, R, 3 * HD, HD);
  printf("  core B=%d T=%-4d H=%-2d dh=%-2d chunk=%-3d (nc=%d)  fwd %.2e  dq %.2e  dk %.2e  dv %.2e\n", B, T, H,
         dh, chunk, p.nc, fwd, bwd[0], bwd[1], bwd[2]);
  CHECK(fwd < FWD_TOL, "chunked forward differs from the reference by %g (T=%d chunk=%d)", fwd, T, chunk);
  for (int part = 0; part < 3; part++)
    CHECK(bwd[part] < BWD_TOL, "chunked backward d%c differs from the reference by %g (T=%d chunk=%d)",
          "qkv"[part], bwd[part], T, chunk);
  free(qkv), free(o), free(o_ref), free(saved), free(scratch), free(dout), free(dqkv), free(dqkv_ref);
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

/* The test model's config as text, written into text (512 chars). */
static const char *config_text(char *text, const char *pattern, int C, int H, int dh, double init_std) {
  snprintf(text, 512,
           "name = lightning_test\nvocab = 11\nd_model = %d\nn_heads = %d\nhead_dim = %d\nmlp_hidden = 24\n"
           "pattern = %s\nrope_F = on\ntie_embeddings = off\ninit_std = %g\n",
           C, H, dh, pattern, init_std);
  return text;
}

static void config_for(ModelConfig *cfg, const char *pattern, int C, int H, int dh, double init_std) {
  char text[512];
  config_parse(cfg, config_text(text, pattern, C, H, dh, init_std), "test_mixer_lightning");
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
  c->arena = gc_zeros(total), c->grads = gc_zeros(total);
  size_t off = 0;
  for (int k = 0; k < c->n_params; k++) {
    c->w[k] = c->arena + off, c->g[k] = c->grads + off;
    for (size_t j = 0; j < c->numel[k]; j++)
      c->w[k][j] = (float)(c->specs[k].init == INIT_ONES ? 1 + 0.3 * rng_normal(&gc_rng) : std * rng_normal(&gc_rng));
    off += c->numel[k];
  }
  c->R = (int64_t)B * T, c->C = C;
  c->u = gc_randn((size_t)c->R * C, 1.0);
  c->out = gc_zeros((size_t)c->R * C), c->r = gc_randn((size_t)c->R * C, 1.0), c->du = gc_zeros((size_t)c->R * C);
  c->saved = gc_zeros(c->ops->saved_floats(&c->s));
  c->scratch = gc_zeros(c->ops->scratch_floats(&c->s));
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
  return gc_dot(c->out, c->r, (size_t)c->R * c->C);
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
  gc_check_direction(what, mix_objective, &c, c.u, c.du, (size_t)(c.R * c.C), 1e-2, GRAD_TOL);
  for (int k = 0; k < c.n_params; k++) {
    snprintf(what, sizeof what, "mixer T=%d std=%g: %s", T, std, c.specs[k].suffix);
    gc_check_direction(what, mix_objective, &c, c.w[k], c.g[k], c.numel[k], 1e-2, GRAD_TOL);
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

/* The checkpoint names and decay flags of DESIGN.md section 3. */
static void check_checkpoint_names(const Model *m) {
  const char *names[] = {"layers.0.lightning.q_proj.weight", "layers.0.lightning.k_proj.weight",
                         "layers.0.lightning.v_proj.weight", "layers.0.lightning.g_proj.weight",
                         "layers.0.lightning.o_proj.weight", "layers.0.lightning.norm.weight"};
  for (int k = 0; k < 6; k++) {
    const ParamSpec *ps = model_find_param(m, names[k]);
    CHECK(ps != NULL, "checkpoint tensor %s exists", names[k]);
    if (!ps) continue;
    int is_norm = k == 5;
    CHECK(ps->decay == !is_norm, "%s: weight decay %d", names[k], ps->decay);
    CHECK(is_norm ? ps->ndim == 1 && ps->shape[0] == 8 : ps->ndim == 2 && ps->shape[0] * ps->shape[1] == 16 * 16,
          "%s: shape", names[k]);
  }
}

static void test_model_grad(void) {
  printf("2-layer LF model vs finite differences:\n");
  char text[512], label[64];
  int T = LIGHTNING_CHUNK + 6; /* two chunks */
  snprintf(label, sizeof label, "LF T=%d: ", T);
  gc_check_model(config_text(text, "LF", 16, 2, 8, 0.4), 2, T, MODEL_EPS, MODEL_TOL,
                 &(GcModelOptions){.label = label, .after = check_checkpoint_names});
}

/* ---------- 3. stability, memory, determinism ---------- */

static void test_stability(void) {
  printf("stability at T=4096 (B=1, C=16, 4 heads x 8, matrices std 0.3 and 1.0):\n");
  const double stds[] = {0.3, 1.0};
  for (int i = 0; i < 2; i++) {
    MixCtx c;
    mix_setup(&c, 1, 4096, 16, 4, 8, stds[i]);
    mix_backward(&c);
    size_t n = (size_t)c.R * c.C;
    int ok = gc_all_finite(c.out, n) && gc_all_finite(c.du, n) && gc_all_finite(c.grads, c.numel[0] * 5 + c.numel[5]);
    printf("  std %.1f: max|out| %.3g  max|du| %.3g  max|dWq| %.3g  finite %s\n", stds[i], gc_max_abs(c.out, n),
           gc_max_abs(c.du, n), gc_max_abs(c.g[0], c.numel[0]), ok ? "yes" : "NO");
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
  rng_seed(&gc_rng, 2025, 0);
  dnn_init();
  test_core();
  test_mixer_grad();
  test_model_grad();
  test_stability();
  test_rerun();
  dnn_shutdown();
  TEST_MAIN_END();
}
