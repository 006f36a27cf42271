/* The Mamba-2 mixer (src/mixers/mamba2.c), with trained-scale weights:
 *   1. parameter names, shapes, decay flags and init ranges;
 *   2. the chunked fast path equals the plain sequential reference (float64 loops, BPTT) at
 *      T = 1, Q - 1, Q, 3Q + 5 (Q the chunk): forward to 1e-5, every gradient to 1e-4
 *      (max |fast - ref| / max |ref| per tensor), also with other chunk lengths;
 *   3. central finite differences of the reference (float64: tight) and of the fast path
 *      (float32: GRAD_TOL) for du and every parameter, then inside a 2-layer MF model;
 *   4. T = 4096 stays finite and equal to the reference; saved + scratch floats grow
 *      linearly with T; reruns are bit-identical.
 * Dims are tiny (C 8, DI 16, P 4, H 4, N 6; one case at the parity dims C 32, P 16,
 * N 16) so that the whole test takes well under a second, also under the sanitizers. */
#include <stdlib.h>

#include "hybench/dnn.h"
#include "hybench/mamba2.h"
#include "hybench/model.h"
#include "hybench/rng.h"

#define GC_LABEL_WIDTH 52
/* Every finite-difference check here takes the analytic side from the step actually taken
 * (x0 +- eps u rounded to float): the float64 reference is held to REF_FD_TOL at eps 1e-4,
 * where g.u would count the rounding of the step (~1e-3 relative) as error. */
#define GC_EXACT_STEP 1
#include "gradcheck.h"

#define GRAD_TOL 5e-3   /* float32 fast path vs finite differences (as tests/test_grad.c) */
#define REF_FD_TOL 1e-5 /* float64 reference vs finite differences (eps 1e-4) */
#define MODEL_EPS 2e-3 /* as tests/test_grad.c */
#define MODEL_TOL 1e-2
/* dt_bias, A_log, D: 4 entries with small gradients (|g| ~ 5e-3), where the float32 loss's
 * rounding noise / (2 eps) dominates: measured max rel err of dt_bias 3.7e-2, 9.8e-3,
 * 8.7e-3, 4.6e-3, 2.6e-3, 7.5e-4 at eps 5e-4 .. 1.6e-2 (doubling), falling as 1/eps, so
 * noise, not a wrong gradient (the float64 comparisons above hold these to ~1e-6). */
#define MODEL_SCALAR_EPS 1.6e-2

/* Tiny dims: C 8, DI 16, P 4 -> H 4, N 6 (N != P so a transposed state shows). */
static const char *CFG_TEXT =
    "name = m2test\nvocab = 11\nd_model = 8\nn_heads = 2\nhead_dim = 4\nmlp_hidden = 16\n"
    "pattern = %s\nexpand = 2\nstate_size = 6\nmamba_head_dim = 4\ntie_embeddings = %s\ninit_std = %s\n";

/* The parity dims (tests/parity/mmmf.conf): C 32, DI 64, P 16 -> H 4, N 16. */
static const char *CFG_WIDE_TEXT =
    "name = m2wide\nvocab = 64\nd_model = 32\nn_heads = 2\nhead_dim = 16\nmlp_hidden = 64\n"
    "pattern = %s\nexpand = 2\nstate_size = 16\nmamba_head_dim = 16\ntie_embeddings = %s\ninit_std = %s\n";

static void make_config(ModelConfig *cfg, const char *pattern, int tied, const char *init_std) {
  char text[512];
  snprintf(text, sizeof text, CFG_TEXT, pattern, tied ? "on" : "off", init_std);
  config_parse(cfg, text, "test_mixer_mamba2");
}

static int use_wide; /* mix_create builds the parity dims instead of the tiny ones */

static double rel_diff_f64(const float *a, const double *b, size_t n) {
  double d = 0, m = 0;
  for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i])), m = fmax(m, fabs(b[i]));
  return d / fmax(m, 1e-30);
}

/* ---------- one mixer with its weights, gradients and buffers ---------- */

typedef struct {
  ModelConfig cfg;
  Mamba2Plan plan; /* B, T and the chunk under test */
  MixerParamSpec specs[HB_MAX_MIXER_PARAMS];
  int n_params;
  size_t numel[HB_MAX_MIXER_PARAMS];
  float *w[HB_MAX_MIXER_PARAMS], *g[HB_MAX_MIXER_PARAMS];
  int B, T;
  size_t RC;           /* B*T*C */
  float *u, *r, *out;  /* (B*T, C): input, output weights (the objective is <r, out>), output */
  double *out64;       /* (B*T, C) the reference's output */
  float *du;           /* (B*T, C) */
  float *saved, *scratch;
} Mix;

static int param_index(const Mix *m, const char *suffix) {
  for (int k = 0; k < m->n_params; k++)
    if (!strcmp(m->specs[k].suffix, suffix)) return k;
  HB_FATAL("no mamba2 parameter %s", suffix);
}

/* Trained-scale weights: matrices N(0, mat_std^2), conv and A_log as initialised, dt_bias
 * around softplus^-1(0.1) (stronger decays than at init), D and the norm gain 1 + 0.3 N(0,1). */
static void mix_create(Mix *m, int B, int T, int Q, double mat_std) {
  memset(m, 0, sizeof *m);
  if (use_wide) {
    char text[512];
    snprintf(text, sizeof text, CFG_WIDE_TEXT, "MF", "on", "0.02");
    config_parse(&m->cfg, text, "test_mixer_mamba2");
  } else {
    make_config(&m->cfg, "MF", 1, "0.02");
  }
  m->n_params = mamba2_ops.param_specs(m->specs, &m->cfg);
  for (int k = 0; k < m->n_params; k++) {
    size_t n = 1;
    for (int d = 0; d < m->specs[k].ndim; d++) n *= (size_t)m->specs[k].shape[d];
    m->numel[k] = n;
    m->w[k] = calloc(n, sizeof(float));
    m->g[k] = calloc(n, sizeof(float));
    if (m->specs[k].init == INIT_NORMAL)
      for (size_t i = 0; i < n; i++) m->w[k][i] = (float)(mat_std * rng_normal(&gc_rng));
  }
  mamba2_ops.init_custom(m->w, &m->cfg, &gc_rng);
  int kd = param_index(m, "D"), kn = param_index(m, "norm.weight"), kb = param_index(m, "dt_bias");
  for (size_t i = 0; i < m->numel[kd]; i++) m->w[kd][i] = (float)(1 + 0.3 * rng_normal(&gc_rng));
  for (size_t i = 0; i < m->numel[kn]; i++) m->w[kn][i] = (float)(1 + 0.3 * rng_normal(&gc_rng));
  for (size_t i = 0; i < m->numel[kb]; i++) m->w[kb][i] = (float)(-2.25 + 0.5 * rng_normal(&gc_rng));
  m->B = B, m->T = T;
  m->RC = (size_t)B * T * m->cfg.d_model;
  mamba2_plan(&m->plan, &m->cfg, B, T, Q);
  m->u = gc_randn(m->RC, 1.0), m->r = gc_randn(m->RC, 1.0);
  m->out = calloc(m->RC, sizeof(float)), m->du = calloc(m->RC, sizeof(float));
  m->out64 = calloc(m->RC, sizeof(double));
  m->saved = calloc(mamba2_saved_floats(&m->plan), sizeof(float));
  m->scratch = calloc(mamba2_scratch_floats(&m->plan), sizeof(float));
}

static void mix_free(Mix *m) {
  for (int k = 0; k < m->n_params; k++) free(m->w[k]), free(m->g[k]);
  free(m->u), free(m->r), free(m->out), free(m->out64), free(m->du), free(m->saved), free(m->scratch);
}

static void mix_zero_grads(Mix *m) {
  for (int k = 0; k < m->n_params; k++) memset(m->g[k], 0, m->numel[k] * sizeof(float));
}

/* out = fast forward (from zero), then du and g = backward of <r, out>. */
static void mix_fast(Mix *m, int with_backward) {
  memset(m->out, 0, m->RC * sizeof(float));
  mamba2_forward(m->out, m->saved, m->scratch, m->u, (const float *const *)m->w, &m->plan);
  if (!with_backward) return;
  mix_zero_grads(m);
  mamba2_backward(m->du, m->g, m->saved, m->scratch, m->r, m->u, (const float *const *)m->w, &m->plan);
}

static double fast_objective(void *p) {
  Mix *m = p;
  mix_fast(m, 0);
  return gc_dot(m->out, m->r, m->RC);
}

static double ref_objective(void *p) {
  Mix *m = p;
  mamba2_reference_forward(m->out64, m->u, (const float *const *)m->w, &m->cfg, m->B, m->T);
  double s = 0;
  for (size_t i = 0; i < m->RC; i++) s += m->out64[i] * m->r[i];
  return s;
}

/* ---------- 1. parameters and init ---------- */

static void test_params_and_init(void) {
  printf("parameters and init\n");
  Mix m;
  mix_create(&m, 1, 1, MAMBA2_CHUNK, 0.02);
  /* C 8, DI 16, N 6, H 4: in_proj (2*16 + 2*6 + 4, 8), conv (16 + 12, 1, 4) */
  const struct {
    const char *suffix;
    int ndim;
    int64_t shape[3];
    int decay;
  } want[] = {{"in_proj.weight", 2, {48, 8}, 1}, {"conv1d.weight", 3, {28, 1, 4}, 0}, {"conv1d.bias", 1, {28}, 0},
              {"dt_bias", 1, {4}, 0},          {"A_log", 1, {4}, 0},              {"D", 1, {4}, 0},
              {"norm.weight", 1, {16}, 0},     {"out_proj.weight", 2, {8, 16}, 1}};
  CHECK(m.n_params == 8, "mamba2 registers %d tensors, expected 8", m.n_params);
  for (int k = 0; k < 8 && k < m.n_params; k++) {
    const MixerParamSpec *s = &m.specs[k];
    int ok = !strcmp(s->suffix, want[k].suffix) && s->ndim == want[k].ndim && s->decay == want[k].decay;
    for (int d = 0; d < s->ndim && ok; d++) ok = s->shape[d] == want[k].shape[d];
    CHECK(ok, "parameter %d is %s (ndim %d, decay %d), expected %s", k, s->suffix, s->ndim, s->decay, want[k].suffix);
  }
  CHECK(!strcmp(mamba2_ops.prefix, "mamba2") && mamba2_ops.letter == 'M', "letter M, prefix mamba2");
  CHECK(mixer_ops('M') == &mamba2_ops, "the registry maps M to mamba2_ops");
  /* init_custom ranges, on a larger draw */
  float *w[HB_MAX_MIXER_PARAMS];
  for (int k = 0; k < m.n_params; k++) w[k] = calloc(m.numel[k], sizeof(float));
  mamba2_ops.init_custom(w, &m.cfg, &gc_rng);
  double conv_max = fmax(gc_max_abs(w[1], m.numel[1]), gc_max_abs(w[2], m.numel[2]));
  double dt_lo = 1e9, dt_hi = 0, a_lo = 1e9, a_hi = -1e9;
  for (int h = 0; h < 4; h++) {
    double dt = log1p(exp((double)w[3][h]));
    dt_lo = fmin(dt_lo, dt), dt_hi = fmax(dt_hi, dt);
    a_lo = fmin(a_lo, exp((double)w[4][h])), a_hi = fmax(a_hi, exp((double)w[4][h]));
    CHECK(w[5][h] == 1.0f, "D init 1, got %g", w[5][h]);
  }
  printf("  conv |w|,|b| <= %.3f; softplus(dt_bias) in [%.4g, %.4g]; exp(A_log) in [%.3g, %.3g]\n", conv_max, dt_lo,
         dt_hi, a_lo, a_hi);
  CHECK(conv_max <= 0.5 && conv_max > 0.1, "conv init U(-0.5, 0.5): max %g", conv_max);
  CHECK(dt_lo >= 0.999e-3 && dt_hi <= 1.001e-1, "dt init in [1e-3, 1e-1]: [%g, %g]", dt_lo, dt_hi);
  CHECK(a_lo >= 1 && a_hi <= 16, "A init in [1, 16]: [%g, %g]", a_lo, a_hi);
  for (int k = 0; k < m.n_params; k++) free(w[k]);
  mix_free(&m);
}

/* ---------- 2. fast path vs the sequential reference ---------- */

/* Returns the worst gradient difference; prints forward and per-tensor differences. */
static void compare_case(int B, int T, int Q, double mat_std, const char *label) {
  Mix m;
  mix_create(&m, B, T, Q, mat_std);
  mix_fast(&m, 1);
  float *ref_du = calloc(m.RC, sizeof(float));
  float *ref_g[HB_MAX_MIXER_PARAMS];
  for (int k = 0; k < m.n_params; k++) ref_g[k] = calloc(m.numel[k], sizeof(float));
  mamba2_reference_forward(m.out64, m.u, (const float *const *)m.w, &m.cfg, B, T);
  mamba2_reference_backward(ref_du, ref_g, m.r, m.u, (const float *const *)m.w, &m.cfg, B, T);
  double fwd = rel_diff_f64(m.out, m.out64, m.RC), worst = gc_rel_max_diff(m.du, ref_du, m.RC);
  const char *worst_name = "du";
  for (int k = 0; k < m.n_params; k++) {
    double d = gc_rel_max_diff(m.g[k], ref_g[k], m.numel[k]);
    CHECK(d < 1e-4, "%s Q=%d T=%d: gradient of %s differs from the reference by %g", label, Q, T, m.specs[k].suffix, d);
    if (d > worst) worst = d, worst_name = m.specs[k].suffix;
  }
  printf("  %-10s Q=%-3d B=%d T=%-5d forward %.2e   gradients: worst %.2e (%s), du %.2e\n", label, Q, B, T, fwd, worst,
         worst_name, gc_rel_max_diff(m.du, ref_du, m.RC));
  CHECK(gc_all_finite(m.out, m.RC) && gc_all_finite(m.du, m.RC), "%s T=%d: non-finite output or du", label, T);
  CHECK(fwd < 1e-5, "%s Q=%d T=%d: forward differs from the reference by %g", label, Q, T, fwd);
  CHECK(gc_rel_max_diff(m.du, ref_du, m.RC) < 1e-4, "%s T=%d: du differs from the reference", label, T);
  for (int k = 0; k < m.n_params; k++) free(ref_g[k]);
  free(ref_du);
  mix_free(&m);
}

static void test_matches_reference(void) {
  printf("chunked fast path vs sequential reference (max |fast - ref| / max |ref|)\n");
  int Q = MAMBA2_CHUNK;
  const int Ts[] = {1, Q - 1, Q, 3 * Q + 5};
  for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++) compare_case(2, Ts[i], Q, 0.3, "default");
  use_wide = 1; /* C 32, P 16, N 16; matrices std 0.15 keep |u W^T| at the tiny case's scale */
  compare_case(2, 3 * Q + 5, Q, 0.15, "C32P16N16");
  use_wide = 0;
  /* other chunk lengths: 1 (every step is a chunk), odd, and a chunk longer than T */
  const int other[] = {1, 5, 32, 64};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
    compare_case(2, 3 * other[i] + 5 < 60 ? 3 * other[i] + 5 : 45, other[i], 0.3, "chunk");
}

/* ---------- 3. finite differences ---------- */

static void test_fd_mixer(void) {
  int Q = MAMBA2_CHUNK;
  int T = Q + 7; /* two chunks, the second partial */
  printf("finite differences, mixer alone (B=2, T=%d, Q=%d)\n", T, Q);
  Mix m;
  mix_create(&m, 2, T, Q, 0.3);
  /* the reference in float64: its backward must match its own differences tightly */
  float *ref_du = calloc(m.RC, sizeof(float));
  float *ref_g[HB_MAX_MIXER_PARAMS];
  for (int k = 0; k < m.n_params; k++) ref_g[k] = calloc(m.numel[k], sizeof(float));
  mamba2_reference_backward(ref_du, ref_g, m.r, m.u, (const float *const *)m.w, &m.cfg, m.B, m.T);
  char what[128];
  /* float64 objective: a small eps (1e-4) leaves truncation error ~1e-8 */
  gc_check_direction("reference du", ref_objective, &m, m.u, ref_du, m.RC, 1e-4, REF_FD_TOL);
  for (int k = 0; k < m.n_params; k++) {
    snprintf(what, sizeof what, "reference %s", m.specs[k].suffix);
    gc_check_direction(what, ref_objective, &m, m.w[k], ref_g[k], m.numel[k], 1e-4, REF_FD_TOL);
  }
  mix_fast(&m, 1);
  gc_check_direction("fast du", fast_objective, &m, m.u, m.du, m.RC, 1e-2, GRAD_TOL);
  for (int k = 0; k < m.n_params; k++) {
    snprintf(what, sizeof what, "fast %s", m.specs[k].suffix);
    gc_check_direction(what, fast_objective, &m, m.w[k], m.g[k], m.numel[k], 1e-2, GRAD_TOL);
  }
  for (int k = 0; k < m.n_params; k++) free(ref_g[k]);
  free(ref_du);
  mix_free(&m);
}

/* Stronger decays than at init (gc_check_model makes the gains non-unit). */
static void mf_init(const ParamSpec *ps, float *w) {
  if (strstr(ps->name, "dt_bias"))
    for (size_t j = 0; j < ps->numel; j++) w[j] = (float)(-1 + 0.5 * rng_normal(&gc_rng));
}

/* dt_bias, A_log, D: the larger step MODEL_SCALAR_EPS (see there). */
static double mf_eps(const ParamSpec *ps, double eps) {
  int per_head = strstr(ps->name, "dt_bias") || strstr(ps->name, "A_log") || strstr(ps->name, "mamba2.D");
  return per_head ? MODEL_SCALAR_EPS : eps;
}

static void test_fd_model(void) {
  char text[512];
  snprintf(text, sizeof text, CFG_TEXT, "MF", "off", "0.4");
  int B = 2, T = MAMBA2_CHUNK + 5;
  printf("finite differences, 2-layer MF model (B=%d, T=%d)\n", B, T);
  gc_check_model(text, B, T, MODEL_EPS, MODEL_TOL,
                 &(GcModelOptions){.label = "MF ", .init = mf_init, .eps_for = mf_eps});
}

/* ---------- 4. long sequences, memory, determinism ---------- */

static void test_long_sequence(void) {
  int T = 4096;
  printf("stability at T=%d (B=1, matrices std 0.3, dt_bias ~ softplus^-1(0.1), A in [1, 16])\n", T);
  Mix m;
  mix_create(&m, 1, T, MAMBA2_CHUNK, 0.3);
  mix_fast(&m, 1);
  int finite = gc_all_finite(m.out, m.RC) && gc_all_finite(m.du, m.RC);
  for (int k = 0; k < m.n_params; k++) finite = finite && gc_all_finite(m.g[k], m.numel[k]);
  mamba2_reference_forward(m.out64, m.u, (const float *const *)m.w, &m.cfg, 1, T);
  double fwd = rel_diff_f64(m.out, m.out64, m.RC);
  printf("  forward + backward finite: %s; max |out| %.3g, max |du| %.3g; forward vs reference %.2e\n",
         finite ? "yes" : "NO", gc_max_abs(m.out, m.RC), gc_max_abs(m.du, m.RC), fwd);
  CHECK(finite, "T=%d: non-finite values in the output or the gradients", T);
  CHECK(fwd < 1e-5, "T=%d: forward differs from the reference by %g", T, fwd);
  mix_free(&m);
}

static void test_memory_linear(void) {
  printf("memory (saved + scratch floats, B=1)\n");
  ModelConfig tiny, big;
  make_config(&tiny, "MF", 1, "0.02");
  char text[512];
  snprintf(text, sizeof text,
           "name = m2big\nvocab = 64\nd_model = 128\nn_heads = 4\nhead_dim = 32\nmlp_hidden = 256\npattern = MF\n"
           "expand = 2\nstate_size = 16\nmamba_head_dim = 16\n");
  config_parse(&big, text, "test_mixer_mamba2");
  const ModelConfig *cfgs[] = {&tiny, &big};
  const char *names[] = {"C=8 DI=16 H=4 N=6", "C=128 DI=256 H=16 N=16"};
  for (int ci = 0; ci < 2; ci++) {
    double prev = 0;
    for (int T = 1024; T <= 4096; T *= 2) {
      MixerShape s = {cfgs[ci], 0, 'M', 1, T, 0, 0, NULL};
      size_t sv = mamba2_ops.saved_floats(&s), sc = mamba2_ops.scratch_floats(&s);
      double total = (double)(sv + sc);
      printf("  %-24s T=%-5d saved %9zu  scratch %9zu  total %9.0f  (%.1f floats per token)", names[ci], T, sv, sc,
             total, total / T);
      if (prev > 0) {
        printf("  ratio %.4f", total / prev);
        CHECK(fabs(total / prev - 2) < 0.05, "%s: memory grows by %g from T=%d to %d, not ~2", names[ci],
              total / prev, T / 2, T);
      }
      printf("\n");
      prev = total;
    }
  }
}

static void test_determinism(void) {
  Mix m;
  mix_create(&m, 2, 3 * MAMBA2_CHUNK + 5, MAMBA2_CHUNK, 0.3);
  mix_fast(&m, 1);
  float *out1 = malloc(m.RC * sizeof(float)), *du1 = malloc(m.RC * sizeof(float));
  memcpy(out1, m.out, m.RC * sizeof(float));
  memcpy(du1, m.du, m.RC * sizeof(float));
  float *g1[HB_MAX_MIXER_PARAMS];
  for (int k = 0; k < m.n_params; k++) {
    g1[k] = malloc(m.numel[k] * sizeof(float));
    memcpy(g1[k], m.g[k], m.numel[k] * sizeof(float));
  }
  memset(m.scratch, 0xff, mamba2_scratch_floats(&m.plan) * sizeof(float)); /* stale NaNs must not leak */
  mix_fast(&m, 1);
  int same = !memcmp(out1, m.out, m.RC * sizeof(float)) && !memcmp(du1, m.du, m.RC * sizeof(float));
  for (int k = 0; k < m.n_params; k++) same = same && !memcmp(g1[k], m.g[k], m.numel[k] * sizeof(float));
  printf("rerun (scratch filled with NaN in between) bit-identical: %s\n", same ? "yes" : "NO");
  CHECK(same, "two forward + backward runs differ");
  for (int k = 0; k < m.n_params; k++) free(g1[k]);
  free(out1), free(du1);
  mix_free(&m);
}

int main(void) {
  rng_seed(&gc_rng, 2025, 0);
  dnn_init();
  test_params_and_init();
  test_matches_reference();
  test_fd_mixer();
  test_fd_model();
  test_long_sequence();
  test_memory_linear();
  test_determinism();
  dnn_shutdown();
  TEST_MAIN_END();
}
