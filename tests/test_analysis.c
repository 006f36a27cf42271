/* The mechanism analyses on hand-built weights where the answer is known:
 *   - a head whose Q/K pick the needle scores ~1; a uniform head scores
 *     needle tokens / visible keys and has normalised entropy 1, and its
 *     needle+relay score equals the uniform baseline;
 *   - the Q/K distance of a checkpoint to itself is 0, and equals a planted
 *     perturbation;
 *   - the receptive-field constraint with r >= T is bit-identical, with r = 1
 *     on every layer the model is context-free (equal to length-1 sequences),
 *     and a limited layer equals a forward over just its window;
 *   - gradient influence is exactly 0 beyond the receptive field of an
 *     all-S model and matches finite differences;
 *   - the probe separates separable classes and sits at chance on shuffled
 *     labels and on pure noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/dnn.h"
#include "hybench/rng.h"
#include "testutil.h"

static void make_model(Model *m, const char *pattern, int vocab, int window, int rope, int tied, double init_std,
                       uint64_t seed) {
  char text[768];
  snprintf(text, sizeof text,
           "name = t_%s\nvocab = %d\nd_model = 16\nn_heads = 2\nhead_dim = 4\nmlp_hidden = 24\npattern = %s\n"
           "window = %d\nrope_F = %s\nrope_S = %s\ntie_embeddings = %s\ninit_std = %g\n"
           "expand = 2\nstate_size = 4\nmamba_head_dim = 8\n",
           pattern, vocab, pattern, window, rope ? "on" : "off", rope ? "on" : "off", tied ? "on" : "off", init_std);
  ModelConfig cfg;
  config_parse(&cfg, text, "test_analysis");
  model_create(m, &cfg);
  model_init_params(m, seed);
}

static float *param(Model *m, const char *name) {
  const ParamSpec *p = model_find_param(m, name);
  HB_ASSERT(p != NULL, "the test names existing parameters");
  return m->param_mem + p->offset;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
  return d;
}

/* ---------- retrieval heads ---------- */

enum { FILLER = 8, NEEDLE = 8, QUERY = 9, HB_VOCAB = 12 };

/* n sequences of length T: filler 0..7, the needle at a varying position,
 * the query at T - 1. */
static void make_needles(NeedleSet *ns, int n, int T, HbRng *rng) {
  memset(ns, 0, sizeof *ns);
  ns->T = T, ns->n_seqs = n, ns->n = n, ns->n_classes = 1;
  ns->tokens = hb_malloc((size_t)n * T * sizeof(int32_t));
  ns->seq = hb_malloc((size_t)n * sizeof(int32_t));
  ns->query = hb_malloc((size_t)n * sizeof(int32_t));
  ns->needle = hb_malloc((size_t)n * sizeof(int32_t));
  ns->cls = hb_calloc((size_t)n, sizeof(int32_t));
  for (int s = 0; s < n; s++) {
    int pos = s * (T - 2) / (n - 1); /* depths 0 .. T-2 */
    for (int t = 0; t < T; t++) ns->tokens[s * T + t] = (int32_t)rng_below(rng, FILLER);
    ns->tokens[s * T + pos] = NEEDLE;
    ns->tokens[s * T + T - 1] = QUERY;
    ns->seq[s] = s, ns->query[s] = T - 1, ns->needle[s] = pos;
  }
}

/* One F layer, no RoPE, one-hot embeddings: RMSNorm(e_v) = 4 e_v (C = 16).
 * Head 0: q of the query token and k of the needle token point the same way,
 * score 16 a^2 / sqrt(dh) = 32 for a = 2; every other score is 0. Head 1: zero
 * Q/K, so uniform attention. */
static void test_needle_and_uniform_heads(void) {
  Model m;
  make_model(&m, "F", HB_VOCAB, 0, 0, 1, 0.02, 1);
  memset(m.param_mem, 0, m.n_floats * sizeof(float));
  for (int v = 0; v < HB_VOCAB; v++) param(&m, "tok_emb.weight")[v * 16 + v] = 1;
  for (int c = 0; c < 16; c++)
    param(&m, "layers.0.norm1.weight")[c] = param(&m, "layers.0.norm2.weight")[c] = param(&m, "norm_f.weight")[c] = 1;
  param(&m, "layers.0.attn.q_proj.weight")[0 * 16 + QUERY] = 2;  /* head 0, row 0 */
  param(&m, "layers.0.attn.k_proj.weight")[0 * 16 + NEEDLE] = 2;
  HbRng rng;
  rng_seed(&rng, 5, 0);
  NeedleSet ns;
  int T = 40;
  make_needles(&ns, 12, T, &rng);
  HeadStats hs;
  heads_measure(&hs, &m, &ns, 1, 5); /* entropy at the query only; batches of 5 (a partial last batch) */
  printf("  needle head: score %.6f (uniform baseline %.6f), entropy/log(keys) %.3g\n", hs.score_needle[0],
         hs.uniform_needle[0], hs.entropy_norm[0]);
  printf("  uniform head: score %.6f (1/T = %.6f), entropy/log(keys) %.9f\n", hs.score_needle[1], 1.0 / T,
         hs.entropy_norm[1]);
  CHECK(hs.score_needle[0] > 0.999, "the needle head puts %g on the needle", hs.score_needle[0]);
  CHECK(hs.score_relay[0] == hs.score_needle[0], "no efficient layer below: nothing relayed");
  CHECK(hs.entropy_norm[0] < 0.01, "the needle head's normalised entropy at the query is %g", hs.entropy_norm[0]);
  CHECK(fabs(hs.uniform_needle[0] - 1.0 / T) < 1e-12, "uniform baseline %g, want 1/T", hs.uniform_needle[0]);
  CHECK(fabs(hs.score_needle[1] - 1.0 / T) < 1e-6, "the uniform head puts %g on the needle, want 1/T = %g",
        hs.score_needle[1], 1.0 / T);
  CHECK(fabs(hs.entropy_norm[1] - 1) < 1e-5, "the uniform head's normalised entropy is %.9f", hs.entropy_norm[1]);
  int order[2];
  CHECK(heads_rank(order, &hs, "F", 0) == 2 && order[0] == 0 && order[1] == 1, "ranking puts the needle head first");
  CHECK(heads_rank(order, &hs, "S", 0) == 0, "no S layer: nothing to rank");
  heads_free(&hs);
  /* Uniform over the last 8 queries as well: entropy_norm 1 for head 1. */
  heads_measure(&hs, &m, &ns, 8, 16);
  CHECK(fabs(hs.entropy_norm[1] - 1) < 1e-5, "uniform head over 8 queries: normalised entropy %.9f",
        hs.entropy_norm[1]);
  CHECK(hs.n_entropy == 12 * 8, "n_entropy %ld", hs.n_entropy);
  heads_free(&hs);
  needle_set_free(&ns);
  model_free(&m);
}

/* Every head uniform (zero Q/K) in an S F S F stack: each score equals its
 * uniform baseline, relayed part included, and the reach follows the layers below. */
static void test_uniform_relay(void) {
  Model m;
  int w = 5, T = 40;
  make_model(&m, "SFSF", HB_VOCAB, w, 1, 1, 0.3, 2);
  for (int i = 0; i < 4; i++) {
    char name[64];
    snprintf(name, sizeof name, "layers.%d.attn.q_proj.weight", i);
    memset(param(&m, name), 0, 8 * 16 * sizeof(float));
    snprintf(name, sizeof name, "layers.%d.attn.k_proj.weight", i);
    memset(param(&m, name), 0, 8 * 16 * sizeof(float));
  }
  HbRng rng;
  rng_seed(&rng, 6, 0);
  NeedleSet ns;
  make_needles(&ns, 9, T, &rng);
  HeadStats hs;
  heads_measure(&hs, &m, &ns, 6, 4);
  const int want_reach[4] = {0, w - 1, w - 1, 2 * (w - 1)};
  double worst = 0;
  for (int i = 0; i < 4; i++) {
    CHECK(hs.reach[i] == want_reach[i], "layer %d: reach %d, want %d", i, hs.reach[i], want_reach[i]);
    for (int h = 0; h < 2; h++) {
      int at = i * 2 + h;
      worst = fmax(worst, fabs(hs.score_needle[at] - hs.uniform_needle[at]));
      worst = fmax(worst, fabs(hs.score_relay[at] - hs.uniform_relay[at]));
      worst = fmax(worst, fabs(hs.entropy_norm[at] - 1));
    }
  }
  printf("  uniform heads in SFSF (w=%d): layer 3 needle %.5f relay %.5f (baselines %.5f, %.5f); max deviation %.3g\n",
         w, hs.score_needle[6], hs.score_relay[6], hs.uniform_needle[6], hs.uniform_relay[6], worst);
  CHECK(worst < 1e-5, "uniform heads deviate from their baselines by %g", worst);
  CHECK(hs.uniform_relay[6] > hs.uniform_needle[6], "the relay widens the counted positions");
  heads_free(&hs);
  needle_set_free(&ns);
  model_free(&m);
  ModelConfig c;
  config_parse(&c, "name = r\nvocab = 8\nd_model = 8\nn_heads = 1\nhead_dim = 8\nmlp_hidden = 8\npattern = FSLSF\nwindow = 7\n",
               "test_analysis");
  CHECK(heads_relay_reach(&c, 0, 64) == 0 && heads_relay_reach(&c, 1, 64) == 0 && heads_relay_reach(&c, 2, 64) == 6,
        "F below adds nothing, S adds w - 1");
  CHECK(heads_relay_reach(&c, 4, 64) == 64, "a recurrent layer below makes the reach unbounded (T)");
  CHECK(heads_relay_reach(&c, 2, 4) == 3, "S windows are capped at T");
}

static void test_qk_distance(void) {
  Model a, b;
  make_model(&a, "SF", HB_VOCAB, 4, 1, 1, 0.1, 3);
  make_model(&b, "SF", HB_VOCAB, 4, 1, 1, 0.1, 3);
  double l2, rel;
  heads_qk_distance(&l2, &rel, &a, &a, 1, 0);
  CHECK(l2 == 0 && rel == 0, "distance to itself: l2 %g, rel %g", l2, rel);
  /* head 1 of layer 1: rows 4..7 of q_proj; perturb one entry by 0.5 and one k entry by 1.2 */
  param(&b, "layers.1.attn.q_proj.weight")[5 * 16 + 3] += 0.5f;
  param(&b, "layers.1.attn.k_proj.weight")[7 * 16 + 0] += 1.2f;
  heads_qk_distance(&l2, &rel, &b, &a, 1, 1);
  double norm = 0;
  for (int k = 0; k < 2; k++) {
    const float *w = param(&a, k ? "layers.1.attn.k_proj.weight" : "layers.1.attn.q_proj.weight") + 4 * 16;
    for (int e = 0; e < 4 * 16; e++) norm += (double)w[e] * w[e];
  }
  printf("  Q/K distance: to itself 0; planted (0.5, 1.2): l2 %.6f (want 1.3), rel %.6f\n", l2, rel);
  CHECK(fabs(l2 - 1.3) < 1e-6, "l2 %g, want sqrt(0.5^2 + 1.2^2) = 1.3", l2);
  CHECK(fabs(rel - l2 / sqrt(norm)) < 1e-9, "rel %g", rel);
  heads_qk_distance(&l2, &rel, &b, &a, 1, 0);
  CHECK(l2 == 0, "the other head is untouched: %g", l2);
  model_free(&a);
  model_free(&b);
}

/* ---------- receptive-field constraint ---------- */

static void random_tokens(int32_t *tok, size_t n, int vocab, HbRng *rng) {
  for (size_t i = 0; i < n; i++) tok[i] = (int32_t)rng_below(rng, (uint64_t)vocab);
}

static void test_constraint_identity_and_context_free(void) {
  const char *pattern = "SFLMG";
  int B = 2, T = 24, V = HB_VOCAB;
  Model m;
  make_model(&m, pattern, V, 6, 1, 0, 0.3, 4);
  HbRng rng;
  rng_seed(&rng, 8, 0);
  int32_t *tok = hb_malloc((size_t)B * T * sizeof(int32_t)), *tgt = hb_malloc((size_t)B * T * sizeof(int32_t));
  random_tokens(tok, (size_t)B * T, V, &rng);
  random_tokens(tgt, (size_t)B * T, V, &rng);
  size_t n = (size_t)B * T * V;
  float *free_logits = hb_malloc(n * sizeof(float));
  model_forward(&m, tok, NULL, B, T);
  memcpy(free_logits, m.a.logits, n * sizeof(float));
  const int wide[] = {T, T + 7};
  for (int k = 0; k < 2; k++) {
    constrain_apply(&m, "FSLMG", wide[k], "test");
    model_forward(&m, tok, NULL, B, T);
    CHECK(memcmp(free_logits, m.a.logits, n * sizeof(float)) == 0, "r = %d >= T changes the logits (max diff %g)",
          wide[k], max_abs_diff(free_logits, m.a.logits, n));
  }
  printf("  %s, T=%d: r = T and r = T+7 on every layer: logits bit-identical\n", pattern, T);
  /* r = 1 everywhere vs the same weights on B*T sequences of length 1 */
  constrain_apply(&m, "FSLMG", 1, "test");
  float *limited_logits = hb_malloc(n * sizeof(float));
  double limited_loss = model_forward(&m, tok, tgt, B, T);
  memcpy(limited_logits, m.a.logits, n * sizeof(float));
  float *loss_a = hb_malloc((size_t)B * T * sizeof(float)), *loss_b = hb_malloc((size_t)B * T * sizeof(float));
  crossentropy_forward_backward(NULL, loss_a, limited_logits, tgt, (int64_t)B * T, V);
  constrain_clear(&m);
  double free_loss = model_forward(&m, tok, tgt, B * T, 1);
  crossentropy_forward_backward(NULL, loss_b, m.a.logits, tgt, (int64_t)B * T, V);
  double d_logits = max_abs_diff(limited_logits, m.a.logits, n), d_loss = max_abs_diff(loss_a, loss_b, (size_t)B * T);
  printf("  r = 1 on every layer vs length-1 sequences: max |logit diff| %.3g, max |per-token loss diff| %.3g "
         "(mean losses %.6f, %.6f)\n", d_logits, d_loss, limited_loss, free_loss);
  CHECK(d_logits < 1e-5 && d_loss < 1e-5, "r = 1 is not context-free: logits differ by %g, losses by %g", d_logits,
        d_loss);
  CHECK(max_abs_diff(limited_logits, free_logits, n) > 1e-3, "the unconstrained model does use its context");
  free(tok), free(tgt), free(free_logits), free(limited_logits), free(loss_a), free(loss_b);
  model_free(&m);
}

/* One layer of each kind limited to r: the logits at t equal those of the
 * unlimited model run on the window tokens t-r+1..t alone (the layer's input
 * at a position depends on that token only, so the window of the layer is the
 * window of the model). */
static void test_constraint_is_a_window_at(int T, int r);
static void test_constraint_is_a_window(void) {
  /* r below, at and above the mixers' chunks (16, 32); T across several chunks */
  test_constraint_is_a_window_at(21, 5);
  test_constraint_is_a_window_at(70, 1);
  test_constraint_is_a_window_at(70, 40);
}

static void test_constraint_is_a_window_at(int T, int r) {
  const char *patterns[] = {"F", "S", "L", "M", "G"};
  int B = 2, V = HB_VOCAB;
  HbRng rng;
  rng_seed(&rng, 9, 0);
  int32_t *tok = hb_malloc((size_t)B * T * sizeof(int32_t));
  random_tokens(tok, (size_t)B * T, V, &rng);
  for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
    Model m;
    make_model(&m, patterns[k], V, 8, 1, 1, 0.3, 10 + k);
    constrain_apply(&m, patterns[k], r, "test");
    model_forward(&m, tok, NULL, B, T);
    float *limited = hb_malloc((size_t)B * T * V * sizeof(float));
    memcpy(limited, m.a.logits, (size_t)B * T * V * sizeof(float));
    constrain_clear(&m);
    double worst = 0;
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        int start = t - r + 1 < 0 ? 0 : t - r + 1, len = t - start + 1;
        model_forward(&m, tok + b * T + start, NULL, 1, len);
        worst = fmax(worst, max_abs_diff(limited + ((size_t)b * T + t) * V, m.a.logits + (size_t)(len - 1) * V, V));
      }
    /* and the limit really cuts: the unlimited logits differ */
    model_forward(&m, tok, NULL, B, T);
    double cut = max_abs_diff(limited, m.a.logits, (size_t)B * T * V);
    printf("  %s limited to r=%d: max |logits - forward over the window alone| %.3g (vs unlimited: %.3g)\n",
           patterns[k], r, worst, cut);
    CHECK(worst < 2e-5, "%s: the limited layer differs from its window's forward by %g", patterns[k], worst);
    /* (an S layer's own window of 8 already cuts at 8: a limit of 40 cannot) */
    if (patterns[k][0] != 'S' || r < 8) CHECK(cut > 1e-4, "%s: the limit changed nothing (%g)", patterns[k], cut);
    free(limited);
    model_free(&m);
  }
  free(tok);
}

/* The analyses' batch keeps a forward within MODEL_ANALYSIS_BYTES: the full
 * batch where it fits, fewer sequences at long T (attention's probabilities
 * grow as T^2), never 0; measuring leaves the model's activations in place. */
static void test_analysis_batch(void) {
  Model m;
  make_model(&m, "FS", HB_VOCAB, 8, 1, 1, 0.3, 3);
  int T = 24, B = 2;
  int32_t tok[48];
  for (int i = 0; i < B * T; i++) tok[i] = i % HB_VOCAB;
  model_forward(&m, tok, NULL, B, T);
  float before = m.a.logits[7];
  size_t one = model_activation_bytes(&m, 1, 4096), four = model_activation_bytes(&m, 4, 4096);
  CHECK(m.a.logits[7] == before && m.B == B && m.T == T, "measuring moved the activations or the shape");
  CHECK(four > 3 * one && four <= 4 * one, "activations are about linear in B: %zu for 1, %zu for 4", one, four);
  CHECK(model_analysis_batch(&m, T, 32) == 32, "a short forward keeps its batch");
  int capped = model_analysis_batch(&m, 4096, 1000);
  CHECK(capped >= 1 && capped < 1000 && (size_t)capped * one <= MODEL_ANALYSIS_BYTES &&
            (size_t)(capped + 1) * one > MODEL_ANALYSIS_BYTES,
        "at T 4096 the batch is the most that fits: %d (%zu bytes per sequence)", capped, one);
  CHECK(model_analysis_batch(&m, 1 << 17, 8) == 1, "never below one sequence");
  printf("  FS d16 at T 4096: %.1f MB per sequence, batch 1000 -> %d\n", one / 1e6, capped);
  model_free(&m);
}

static void test_constrain_parse(void) {
  ConstrainSpec c;
  constrain_parse(&c, "F=1,2,64", "t");
  CHECK(strcmp(c.kinds, "F") == 0 && c.n_r == 3 && c.r[2] == 64, "F=1,2,64");
  constrain_parse(&c, "E=8", "t");
  CHECK(strcmp(c.kinds, "SLMG") == 0 && strcmp(c.label, "E") == 0, "E is every efficient layer: %s", c.kinds);
  constrain_parse(&c, "FA=3", "t");
  CHECK(strlen(c.kinds) == 5, "A adds every letter once: %s", c.kinds);
  EXPECT_INPUT_ERROR(constrain_parse(&c, "X=1", "t"), "'X'");
  EXPECT_INPUT_ERROR(constrain_parse(&c, "F=", "t"), "no value of r");
  EXPECT_INPUT_ERROR(constrain_parse(&c, "F=0", "t"), "'0' is not a window");
  EXPECT_INPUT_ERROR(constrain_parse(&c, "F=4,,8", "t"), "empty item");
  EXPECT_INPUT_ERROR(constrain_parse(&c, "F=,4", "t"), "empty item");
  EXPECT_INPUT_ERROR(constrain_parse(&c, "F=4,", "t"), "empty item");
  EXPECT_INPUT_ERROR(constrain_parse(&c, "=4", "t"), "is not KINDS=r");
  EXPECT_INPUT_ERROR(constrain_parse(&c, "F4", "t"), "is not KINDS=r");
  Model m;
  make_model(&m, "FF", HB_VOCAB, 4, 1, 1, 0.1, 1);
  EXPECT_INPUT_ERROR(constrain_apply(&m, "SLMG", 4, "eval --constrain"), "has no layer of kind SLMG");
  model_free(&m);
}

/* ---------- gradient influence ---------- */

static void test_influence_receptive_field(void) {
  int L = 3, w = 4, T = 48, n = 3;
  Model m;
  make_model(&m, "SSS", HB_VOCAB, w, 1, 1, 0.4, 11);
  HbRng rng;
  rng_seed(&rng, 12, 0);
  int32_t *tok = hb_malloc((size_t)n * T * sizeof(int32_t));
  random_tokens(tok, (size_t)n * T, HB_VOCAB, &rng);
  double *infl = hb_malloc((size_t)T * sizeof(double));
  const int lasts[] = {1, 20};
  for (int k = 0; k < 2; k++) {
    int last = lasts[k], edge = last - 1 + L * (w - 1); /* the farthest distance that can matter */
    influence_measure(infl, &m, tok, n, T, last, 2);
    int zero_beyond = 1;
    for (int d = edge + 1; d < T; d++) zero_beyond &= infl[d] == 0.0;
    printf("  SSS w=%d, last %d: influence at distance %d (the edge) %.3g, at %d: %g, all beyond exactly 0: %s\n", w,
           last, edge, infl[edge], edge + 1, infl[edge + 1], zero_beyond ? "yes" : "no");
    CHECK(zero_beyond, "last %d: influence beyond L*(w-1) + last - 1 = %d is not exactly 0", last, edge);
    CHECK(infl[edge] > 0, "last %d: no influence at the edge of the receptive field %d", last, edge);
  }
  model_free(&m);
  /* A full-attention model reaches every position. */
  make_model(&m, "FF", HB_VOCAB, 0, 1, 1, 0.4, 13);
  influence_measure(infl, &m, tok, n, T, 1, 2);
  CHECK(infl[T - 1] > 0, "FF: the first token influences the last (%g)", infl[T - 1]);
  model_free(&m);
  free(tok), free(infl);
}

/* f = mean over the last `last` positions of the summed logits; the gradient
 * at the embedding output of a position whose token occurs once (untied
 * embeddings: E feeds the input only) against central differences on E. */
static double summed_logits(Model *m, const int32_t *tok, int T, int last) {
  model_forward(m, tok, NULL, 1, T);
  double f = 0;
  for (int t = T - last; t < T; t++)
    for (int v = 0; v < m->cfg.vocab; v++) f += m->a.logits[(size_t)t * m->cfg.vocab + v];
  return f / last;
}

static void test_influence_finite_differences(void) {
  int T = 12, last = 3, V = 16, C = 16;
  char text[512];
  snprintf(text, sizeof text, "name = fd\nvocab = %d\nd_model = 16\nn_heads = 2\nhead_dim = 8\nmlp_hidden = 24\n"
                              "pattern = SF\nwindow = 3\ntie_embeddings = off\ninit_std = 0.4\n", V);
  ModelConfig cfg;
  config_parse(&cfg, text, "test_analysis");
  Model m;
  model_create(&m, &cfg);
  model_init_params(&m, 14);
  int32_t tok[12];
  for (int t = 0; t < T; t++) tok[t] = (int32_t)t; /* every token once */
  double infl[12];
  influence_measure(infl, &m, tok, 1, T, last, 1);
  float *E = param(&m, "tok_emb.weight");
  double worst = 0;
  const int positions[] = {0, 5, 11};
  for (int k = 0; k < 3; k++) {
    int i = positions[k];
    double ss = 0, eps = 1e-2;
    for (int c = 0; c < C; c++) {
      float keep = E[i * C + c];
      E[i * C + c] = keep + (float)eps;
      double fp = summed_logits(&m, tok, T, last);
      E[i * C + c] = keep - (float)eps;
      double fm = summed_logits(&m, tok, T, last);
      E[i * C + c] = keep;
      double g = (fp - fm) / (2 * eps);
      ss += g * g;
    }
    double fd = sqrt(ss), rel = tu_rel_err(fd, infl[T - 1 - i]);
    printf("  position %2d: ||grad|| %.6g, central differences %.6g (rel err %.2g)\n", i, infl[T - 1 - i], fd, rel);
    worst = fmax(worst, rel);
  }
  CHECK(worst < 5e-3, "gradient influence differs from finite differences by %g (relative)", worst);
  model_free(&m);
}

/* ---------- probes ---------- */

static void test_probe(void) {
  int n = 480, d = 16, K = 8;
  HbRng rng;
  rng_seed(&rng, 15, 0);
  float *X = hb_malloc((size_t)n * d * sizeof(float)), *noise = hb_malloc((size_t)n * d * sizeof(float));
  int32_t *y = hb_malloc((size_t)n * sizeof(int32_t)), *shuffled = hb_malloc((size_t)n * sizeof(int32_t));
  uint8_t *train = hb_malloc((size_t)n);
  for (int i = 0; i < n; i++) {
    y[i] = (int32_t)rng_below(&rng, (uint64_t)K);
    train[i] = i % 10 < 7;
    for (int j = 0; j < d; j++) {
      X[i * d + j] = (float)(rng_normal(&rng) + (j == y[i] ? 5.0 : 0.0) + 5.0 * (j == 12)); /* plus an offset column */
      noise[i * d + j] = (float)rng_normal(&rng);
    }
  }
  for (int i = 0; i < n; i++) shuffled[i] = y[i];
  for (int i = n - 1; i > 0; i--) {
    int j = (int)rng_below(&rng, (uint64_t)i + 1);
    int32_t t = shuffled[i];
    shuffled[i] = shuffled[j], shuffled[j] = t;
  }
  ProbeResult real, control, blank;
  probe_fit(&real, X, y, train, n, d, K, 1e-2, 1000);
  probe_fit(&control, X, shuffled, train, n, d, K, 1e-2, 1000);
  probe_fit(&blank, noise, y, train, n, d, K, 1e-2, 1000);
  printf("  probe: separable classes test acc %.3f (train %.3f, %d iters, status %d); shuffled labels %.3f; "
         "noise features %.3f; chance %.3f\n", real.acc_test, real.acc_train, real.iters, real.status,
         control.acc_test, blank.acc_test, 1.0 / K);
  CHECK(real.acc_test > 0.9, "a probe on separable classes reaches only %g", real.acc_test);
  CHECK(real.status == 0 || real.status == 27, "the fit did not converge: status %d", real.status);
  CHECK(control.acc_test < 0.3, "shuffled labels: %g, far above chance %g", control.acc_test, 1.0 / K);
  CHECK(blank.acc_test < 0.3, "noise features: %g, far above chance %g", blank.acc_test, 1.0 / K);
  free(X), free(noise), free(y), free(shuffled), free(train);
}

int main(void) {
  dnn_init();
  printf("retrieval heads\n");
  test_needle_and_uniform_heads();
  test_uniform_relay();
  test_qk_distance();
  printf("receptive-field constraint\n");
  test_constraint_identity_and_context_free();
  test_constraint_is_a_window();
  test_constrain_parse();
  test_analysis_batch();
  printf("gradient influence\n");
  test_influence_receptive_field();
  test_influence_finite_differences();
  printf("probes\n");
  test_probe();
  TEST_MAIN_END();
}
