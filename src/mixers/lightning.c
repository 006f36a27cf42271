/* Lightning linear attention (layer letter L): the chunked recurrence of
 * include/hybench/lightning.h, its sequential reference, and the L mixer
 * (DESIGN.md section 3) around them.
 * Legend: B batch, T length, R = B*T rows, C d_model, H heads, dh head dim,
 * HD = H*dh, Cs chunk, nc chunks per sequence, Tp = nc*Cs, N = B*H*nc. */
#include "hybench/lightning.h"

#include <math.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/dnn.h"
#include "hybench/layers.h"
#include "hybench/mixer.h"
#include "kernels.h"

/* Largest chunk the decay tables on the stack allow. */
#define LIGHTNING_MAX_CHUNK 1024

void lightning_plan(LightningPlan *p, int B, int T, int H, int dh, int chunk) {
  HB_ASSERT(T >= 1 && B >= 1 && H >= 1 && dh >= 1, "a mixer call has at least one row, head and channel");
  HB_ASSERT(chunk >= 1 && chunk <= LIGHTNING_MAX_CHUNK, "the decay tables hold at most LIGHTNING_MAX_CHUNK + 1 powers");
  memset(p, 0, sizeof *p);
  p->B = B, p->T = T, p->H = H, p->dh = dh, p->chunk = chunk;
  p->nc = (T + chunk - 1) / chunk;
  p->Tp = p->nc * chunk;
  p->n_chunks = (int64_t)B * H * p->nc;
}

double lightning_decay(int h) { return 1.0 - ldexp(1.0, -(5 + h)); }

/* lambda_h^n, computed in double (lambda_h rounds to 1.0f in float for h >= 20). */
static float decay_power(int h, int n) { return (float)exp(n * log1p(-ldexp(1.0, -(5 + h)))); }

/* pw[n] = lambda_h^n for n = 0 .. Cs. */
static void decay_powers(float *pw, int h, int Cs) {
  for (int n = 0; n <= Cs; n++) pw[n] = decay_power(h, n);
}

/* The saved tensor is the state entering each chunk, (N, dh, dh): see scan_states. */
size_t lightning_saved_floats(const LightningPlan *p) { return (size_t)p->n_chunks * p->dh * p->dh; }

/* Scratch views, carved with hb_carve (common.h; a NULL base only counts). The
 * forward and backward passes share qc, kc, vc; the rest of each pass's
 * buffers share one region. */
typedef struct {
  float *qc, *kc, *vc; /* (N, Cs, dh) = (B, H, Tp, dh): q, k, v in chunks */
  /* forward */
  float *oc; /* (N, Cs, dh) */
  float *a;  /* (N, Cs, Cs) Qc Kc^T . D */
  float *kv; /* (N, dh, dh) each chunk's own term of the next state */
  /* backward */
  float *doc, *dqc, *dkc, *dvc; /* (N, Cs, dh) */
  float *pd;                    /* (N, Cs, Cs) P, then dP */
  float *g;                     /* (N, dh, dh) gradient of the states, then of kv */
} LightningScratch;

static LightningScratch lightning_scratch_views(HbCarver *cv, const LightningPlan *p) {
  size_t X = (size_t)p->B * p->H * p->Tp * p->dh, sq = (size_t)p->n_chunks * p->chunk * p->chunk;
  size_t st = lightning_saved_floats(p);
  LightningScratch s;
  s.qc = hb_carve(cv, X), s.kc = hb_carve(cv, X), s.vc = hb_carve(cv, X);
  size_t shared = cv->used;
  s.oc = hb_carve(cv, X), s.a = hb_carve(cv, sq), s.kv = hb_carve(cv, st);
  size_t fwd_end = cv->used;
  cv->used = shared;
  s.doc = hb_carve(cv, X), s.dqc = hb_carve(cv, X), s.dkc = hb_carve(cv, X), s.dvc = hb_carve(cv, X);
  s.pd = hb_carve(cv, sq), s.g = hb_carve(cv, st);
  if (cv->used < fwd_end) cv->used = fwd_end;
  return s;
}

CARVED_FLOATS(lightning_scratch_floats, lightning_scratch_views, LightningPlan)

/* dst (B, H, Tp, dh) = part (0 q, 1 k, 2 v) of src rows (B, T, ld) with head h
 * at columns part*HD + h*dh; zero rows for t >= T. */
static void to_chunks(float *dst, const float *src, int64_t ld, int part, const LightningPlan *p) {
  heads_from_rows(dst, src, ld, (int64_t)part * p->H * p->dh, p->B, p->T, p->Tp, p->H, p->dh);
}

/* The inverse of to_chunks: rows t < T of src (B, H, Tp, dh) into dst (B, T, ld). */
static void from_chunks(float *dst, int64_t ld, int part, const float *src, const LightningPlan *p) {
  heads_to_rows(dst, ld, (int64_t)part * p->H * p->dh, src, p->B, p->T, p->Tp, p->H, p->dh);
}

/* In place on every chunk of x (N, Cs, dh): row i *= lambda^(i+1) (ROWS_Q: a
 * query's decay since the chunk's start state) or lambda^(Cs-1-i) (ROWS_K: a
 * key's decay until the chunk's end state). */
enum { ROWS_Q, ROWS_K };
static void decay_rows(float *x, int which, const LightningPlan *p) {
  int Cs = p->chunk, dh = p->dh, nc = p->nc;
  int64_t n_heads = (int64_t)p->B * p->H;
#pragma omp parallel for schedule(static)
  for (int64_t bh = 0; bh < n_heads; bh++) {
    float pw[LIGHTNING_MAX_CHUNK + 1];
    decay_powers(pw, (int)(bh % p->H), Cs);
    for (int64_t r = 0; r < (int64_t)nc * Cs; r++) {
      int i = (int)(r % Cs);
      float f = which == ROWS_Q ? pw[i + 1] : pw[Cs - 1 - i];
      float *row = x + (bh * nc * Cs + r) * dh;
      for (int d = 0; d < dh; d++) row[d] *= f;
    }
  }
}

/* In place on every chunk of a (N, Cs, Cs): a_ij *= lambda^(i-j) for j <= i, 0 above. */
static void decay_mask(float *a, const LightningPlan *p) {
  int Cs = p->chunk;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->n_chunks; n++) {
    float pw[LIGHTNING_MAX_CHUNK + 1];
    decay_powers(pw, (int)(n / p->nc % p->H), Cs);
    float *blk = a + n * Cs * Cs;
    for (int i = 0; i < Cs; i++) {
      float *row = blk + (int64_t)i * Cs;
      for (int j = 0; j <= i; j++) row[j] *= pw[i - j];
      for (int j = i + 1; j < Cs; j++) row[j] = 0;
    }
  }
}

/* states (N, dh, dh): S_0 = 0, S_c+1 = lambda^Cs S_c + kv_c, kv (N, dh, dh). */
static void scan_states(float *states, const float *kv, const LightningPlan *p) {
  int64_t n_heads = (int64_t)p->B * p->H, dd = (int64_t)p->dh * p->dh;
#pragma omp parallel for schedule(static)
  for (int64_t bh = 0; bh < n_heads; bh++) {
    float f = decay_power((int)(bh % p->H), p->chunk);
    float *s = states + bh * p->nc * dd;
    const float *x = kv + bh * p->nc * dd;
    memset(s, 0, (size_t)dd * sizeof(float));
    for (int c = 1; c < p->nc; c++)
      for (int64_t e = 0; e < dd; e++) s[c * dd + e] = f * s[(c - 1) * dd + e] + x[(c - 1) * dd + e];
  }
}

/* The adjoint of scan_states, in place on g (N, dh, dh): in, dS_c (the
 * gradient of S_c through chunk c's own outputs); out, the total gradient of
 * S_c+1, i.e. of kv_c (0 for the last chunk, whose kv feeds nothing). */
static void scan_states_backward(float *g, const LightningPlan *p) {
  int64_t n_heads = (int64_t)p->B * p->H, dd = (int64_t)p->dh * p->dh;
#pragma omp parallel for schedule(static)
  for (int64_t bh = 0; bh < n_heads; bh++) {
    float f = decay_power((int)(bh % p->H), p->chunk);
    float *x = g + bh * p->nc * dd;
    for (int64_t e = 0; e < dd; e++) {
      float acc = 0; /* total gradient of S_c+1 */
      for (int c = p->nc - 1; c >= 0; c--) {
        float own = x[c * dd + e];
        x[c * dd + e] = acc;
        acc = own + f * acc;
      }
    }
  }
}

/* The scratch views with q, k, v of qkv (B, T, 3*HD) gathered into chunks: both passes start so. */
static LightningScratch chunked_qkv(float *scratch, const float *qkv, const LightningPlan *p) {
  int64_t HD = (int64_t)p->H * p->dh;
  HbCarver cv = {scratch, 0};
  LightningScratch s = lightning_scratch_views(&cv, p);
  to_chunks(s.qc, qkv, 3 * HD, 0, p);
  to_chunks(s.kc, qkv, 3 * HD, 1, p);
  to_chunks(s.vc, qkv, 3 * HD, 2, p);
  return s;
}

void lightning_forward(float *o, float *saved, float *scratch, const float *qkv, const LightningPlan *p) {
  int64_t N = p->n_chunks, HD = (int64_t)p->H * p->dh;
  int Cs = p->chunk, dh = p->dh;
  LightningScratch s = chunked_qkv(scratch, qkv, p);
  /* intra-chunk: Oc = (Qc Kc^T . D) Vc */
  dnn_matmul(s.a, s.qc, s.kc, N, Cs, dh, Cs, 0, 1, 0);
  decay_mask(s.a, p);
  dnn_matmul(s.oc, s.a, s.vc, N, Cs, Cs, dh, 0, 0, 0);
  /* states: kv_c = (decayed Kc)^T Vc, then the scan */
  decay_rows(s.kc, ROWS_K, p);
  dnn_matmul(s.kv, s.kc, s.vc, N, dh, Cs, dh, 1, 0, 0);
  scan_states(saved, s.kv, p);
  /* inter-chunk: Oc += (decayed Qc) S_c */
  decay_rows(s.qc, ROWS_Q, p);
  dnn_matmul(s.oc, s.qc, saved, N, Cs, dh, dh, 0, 0, 1);
  from_chunks(o, HD, 0, s.oc, p);
}

void lightning_backward(float *dqkv, const float *saved, float *scratch, const float *dout, const float *qkv,
                        const LightningPlan *p) {
  int64_t N = p->n_chunks, HD = (int64_t)p->H * p->dh;
  int Cs = p->chunk, dh = p->dh;
  LightningScratch s = chunked_qkv(scratch, qkv, p);
  to_chunks(s.doc, dout, HD, 0, p);
  /* intra-chunk, P = Qc Kc^T . D recomputed: dVc = P^T dOc; dP = (dOc Vc^T) . D;
   * dQc = dP Kc; dKc = dP^T Qc */
  dnn_matmul(s.pd, s.qc, s.kc, N, Cs, dh, Cs, 0, 1, 0);
  decay_mask(s.pd, p);
  dnn_matmul(s.dvc, s.pd, s.doc, N, Cs, Cs, dh, 1, 0, 0);
  dnn_matmul(s.pd, s.doc, s.vc, N, Cs, dh, Cs, 0, 1, 0);
  decay_mask(s.pd, p);
  dnn_matmul(s.dqc, s.pd, s.kc, N, Cs, Cs, dh, 0, 0, 0);
  dnn_matmul(s.dkc, s.pd, s.qc, N, Cs, Cs, dh, 1, 0, 0);
  /* inter-chunk: dS_c = (decayed Qc)^T dOc, summed back through the scan */
  decay_rows(s.qc, ROWS_Q, p);
  dnn_matmul(s.g, s.qc, s.doc, N, dh, Cs, dh, 1, 0, 0);
  scan_states_backward(s.g, p); /* g_c: gradient of kv_c */
  /* dQc += (decayed dOc) S_c^T */
  decay_rows(s.doc, ROWS_Q, p);
  dnn_matmul(s.dqc, s.doc, saved, N, Cs, dh, dh, 0, 1, 1);
  /* kv_c = (decayed Kc)^T Vc: dVc += (decayed Kc) g_c; dKc += (decayed Vc) g_c^T */
  decay_rows(s.kc, ROWS_K, p);
  dnn_matmul(s.dvc, s.kc, s.g, N, Cs, dh, dh, 0, 0, 1);
  decay_rows(s.vc, ROWS_K, p);
  dnn_matmul(s.dkc, s.vc, s.g, N, Cs, dh, dh, 0, 1, 1);
  from_chunks(dqkv, 3 * HD, 0, s.dqc, p);
  from_chunks(dqkv, 3 * HD, 1, s.dkc, p);
  from_chunks(dqkv, 3 * HD, 2, s.dvc, p);
}

void lightning_reference_forward(float *o, const float *qkv, int B, int T, int H, int dh) {
  int64_t HD = (int64_t)H * dh;
  double *S = hb_malloc((size_t)dh * dh * sizeof(double));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      double lambda = lightning_decay(h);
      memset(S, 0, (size_t)dh * dh * sizeof(double));
      for (int t = 0; t < T; t++) {
        const float *row = qkv + ((int64_t)b * T + t) * 3 * HD + (int64_t)h * dh;
        const float *q = row, *k = row + HD, *v = row + 2 * HD;
        for (int i = 0; i < dh; i++)
          for (int j = 0; j < dh; j++) S[i * dh + j] = lambda * S[i * dh + j] + (double)k[i] * v[j];
        for (int j = 0; j < dh; j++) {
          double acc = 0;
          for (int i = 0; i < dh; i++) acc += (double)q[i] * S[i * dh + j];
          o[((int64_t)b * T + t) * HD + (int64_t)h * dh + j] = (float)acc;
        }
      }
    }
  free(S);
}

void lightning_reference_backward(float *dqkv, const float *dout, const float *qkv, int B, int T, int H, int dh) {
  int64_t HD = (int64_t)H * dh;
  double *S = hb_malloc((size_t)dh * dh * sizeof(double));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      double lambda = lightning_decay(h);
      /* forward sweep: dq_t = S_t dO_t */
      memset(S, 0, (size_t)dh * dh * sizeof(double));
      for (int t = 0; t < T; t++) {
        int64_t r = (int64_t)b * T + t;
        const float *k = qkv + r * 3 * HD + HD + (int64_t)h * dh, *v = k + HD;
        const float *dO = dout + r * HD + (int64_t)h * dh;
        float *dq = dqkv + r * 3 * HD + (int64_t)h * dh;
        for (int i = 0; i < dh; i++)
          for (int j = 0; j < dh; j++) S[i * dh + j] = lambda * S[i * dh + j] + (double)k[i] * v[j];
        for (int i = 0; i < dh; i++) {
          double acc = 0;
          for (int j = 0; j < dh; j++) acc += S[i * dh + j] * dO[j];
          dq[i] = (float)acc;
        }
      }
      /* backward sweep: S now holds dS, the gradient of S_t */
      memset(S, 0, (size_t)dh * dh * sizeof(double));
      for (int t = T - 1; t >= 0; t--) {
        int64_t r = (int64_t)b * T + t;
        const float *q = qkv + r * 3 * HD + (int64_t)h * dh, *k = q + HD, *v = k + HD;
        const float *dO = dout + r * HD + (int64_t)h * dh;
        float *dk = dqkv + r * 3 * HD + HD + (int64_t)h * dh, *dv = dk + HD;
        for (int i = 0; i < dh; i++)
          for (int j = 0; j < dh; j++) S[i * dh + j] = lambda * S[i * dh + j] + (double)q[i] * dO[j];
        for (int i = 0; i < dh; i++) {
          double acc = 0;
          for (int j = 0; j < dh; j++) acc += S[i * dh + j] * v[j];
          dk[i] = (float)acc;
        }
        for (int j = 0; j < dh; j++) {
          double acc = 0;
          for (int i = 0; i < dh; i++) acc += (double)k[i] * S[i * dh + j];
          dv[j] = (float)acc;
        }
      }
    }
  free(S);
}

/* ---------- the L mixer ----------
 * u (R, C) -> proj (R, 4*HD) = u [Wq; Wk; Wv; Wg]^T (the four matrices are
 * adjacent in the arena: one GEMM); q = silu, k = silu, v as is; o (R, HD) by
 * the recurrence; on = RMSNorm over each head's dh values (gain [dh], eps
 * 1e-5) = rows of R*H; y = on * silu(g); out += y Wo^T.
 *
 * Parameters (DESIGN.md section 3 names): {q,k,v,g}_proj.weight (HD, C) and
 * o_proj.weight (C, HD), N(0, init_std^2) with weight decay; norm.weight (dh)
 * ones, no decay. Nothing is INIT_MIXER: the decays are fixed, not learned.
 *
 * Saved (linear in T): proj (R, 4*HD) pre-activations, o (R, HD) before the
 * norm, rstd (R*H), the state entering each chunk (B, H, nc, dh, dh).
 * Everything else (silu values, on, y) is recomputed elementwise in backward.
 * Scratch: see LightningMixerScratch.
 *
 * Chunk size (LIGHTNING_CHUNK = 32), chosen by timing lightning_forward +
 * lightning_backward on one thread (ms, best of 3; Cs 16 / 32 / 64 / 128):
 *   B=8  T=512 4x32: 13.5 / 10.9 / 10.6 / 14.8    B=32 T=128 4x16: 4.5 / 6.0 / 6.0 / 9.2
 *   B=16 T=256 4x32: 13.4 / 10.3 / 10.9 / 15.8    B=8  T=512 8x16: 12.1 / 11.5 / 14.8 / 22.3
 * Intra-chunk work grows with Cs, the state products with dh: Cs ~ dh is the
 * optimum, and 32 is within 15% of the best everywhere we train. The whole
 * mixer at B=8, T=512, C=128, 4x32 takes ~63 ms forward + backward, of which
 * the recurrence is 11 and the five projections ~13; most of the rest is the
 * elementwise silu / sigmoid loops, whose hb_expf does not vectorise (its
 * __builtin_roundf is a libm call; with __builtin_rintf the mixer takes 38 ms). */
enum { LT_Q, LT_K, LT_V, LT_G, LT_O, LT_NORM, LT_N_PARAMS };

static int lightning_mixer_param_specs(MixerParamSpec *specs, const ModelConfig *cfg) {
  int64_t C = cfg->d_model, HD = (int64_t)cfg->n_heads * cfg->head_dim;
  const char *names[] = {"q_proj.weight", "k_proj.weight", "v_proj.weight", "g_proj.weight"};
  for (int k = LT_Q; k <= LT_G; k++) specs[k] = (MixerParamSpec){names[k], 2, {HD, C}, INIT_NORMAL, 1};
  specs[LT_O] = (MixerParamSpec){"o_proj.weight", 2, {C, HD}, INIT_NORMAL, 1};
  specs[LT_NORM] = (MixerParamSpec){"norm.weight", 1, {cfg->head_dim}, INIT_ONES, 0};
  return LT_N_PARAMS;
}

/* Sizes do not depend on s->window: a context limit (analyses, forward only)
 * runs through mixer_limited_forward on ordinary unlimited calls. */
static void lightning_plan_of(LightningPlan *p, const MixerShape *s) {
  lightning_plan(p, s->B, s->T, s->cfg->n_heads, s->cfg->head_dim, LIGHTNING_CHUNK);
}

typedef struct {
  float *proj;  /* (R, 4*HD) [q | k | v | g] pre-activations */
  float *o;     /* (R, HD) the recurrence output, before the norm */
  float *rstd;  /* (R*H) of the head norm */
  float *state; /* lightning_forward's saved */
} LightningMixerSaved;

/* One layout for both passes (forward uses act, y and core). */
typedef struct {
  float *dproj; /* (R, 4*HD) */
  float *act;   /* (R, 3*HD) [silu(q) | silu(k) | v] */
  float *dqkv;  /* (R, 3*HD); before it is written, its space holds y and dyo */
  float *y;     /* (R, HD) the gated output (backward: then dL/d(on)) */
  float *dyo;   /* (R, HD) dL/dy */
  float *dO;    /* (R, HD) dL/do */
  float *core;  /* lightning_forward / lightning_backward's scratch */
} LightningMixerScratch;

static LightningMixerSaved lightning_mixer_saved_views(HbCarver *cv, const MixerShape *s) {
  size_t R = (size_t)s->B * s->T, H = s->cfg->n_heads, HD = H * s->cfg->head_dim;
  LightningPlan p;
  lightning_plan_of(&p, s);
  LightningMixerSaved v;
  v.proj = hb_carve(cv, R * 4 * HD);
  v.o = hb_carve(cv, R * HD);
  v.rstd = hb_carve(cv, R * H);
  v.state = hb_carve(cv, lightning_saved_floats(&p));
  return v;
}

static LightningMixerScratch lightning_mixer_scratch_views(HbCarver *cv, const MixerShape *s) {
  size_t R = (size_t)s->B * s->T, HD = (size_t)s->cfg->n_heads * s->cfg->head_dim;
  LightningPlan p;
  lightning_plan_of(&p, s);
  LightningMixerScratch v;
  v.dproj = hb_carve(cv, R * 4 * HD);
  v.act = hb_carve(cv, R * 3 * HD);
  v.dqkv = hb_carve(cv, R * 3 * HD);
  v.y = v.dqkv, v.dyo = v.dqkv + R * HD;
  v.dO = hb_carve(cv, R * HD);
  v.core = hb_carve(cv, lightning_scratch_floats(&p));
  return v;
}

static CARVED_FLOATS(lightning_mixer_saved_floats, lightning_mixer_saved_views, MixerShape)
static CARVED_FLOATS(lightning_mixer_scratch_floats, lightning_mixer_scratch_views, MixerShape)

/* act (R, 3*HD) = [silu(q) | silu(k) | v] from proj (R, 4*HD). */
static void lightning_activate(float *act, const float *proj, int64_t R, int64_t HD) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float *x = proj + r * 4 * HD;
    float *y = act + r * 3 * HD;
    for (int64_t j = 0; j < 2 * HD; j++) y[j] = x[j] * hb_sigmoidf(x[j]);
    memcpy(y + 2 * HD, x + 2 * HD, (size_t)HD * sizeof(float));
  }
}

/* x: the weights or their gradients (the same layout). */
static void check_adjacent(const float *const *x, const ModelConfig *cfg) {
  int64_t C = cfg->d_model, HD = (int64_t)cfg->n_heads * cfg->head_dim;
  for (int k = LT_K; k <= LT_G; k++)
    HB_ASSERT(x[k] == x[LT_Q] + k * HD * C, "q, k, v, g projections are adjacent in the arena (one GEMM)");
}

static void lightning_mixer_forward(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                                    const MixerShape *s) {
  if (mixer_context_limited(s)) {
    mixer_limited_forward(&lightning_ops, out, saved, scratch, u, w, s);
    return;
  }
  check_adjacent(w, s->cfg);
  LightningPlan p;
  lightning_plan_of(&p, s);
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  LightningMixerSaved sv = lightning_mixer_saved_views(&saved_cv, s);
  LightningMixerScratch sc = lightning_mixer_scratch_views(&scratch_cv, s);
  int H = s->cfg->n_heads, dh = s->cfg->head_dim;
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, HD = (int64_t)H * dh;
  dnn_linear_forward(sv.proj, u, w[LT_Q], R, C, 4 * HD);
  lightning_activate(sc.act, sv.proj, R, HD);
  lightning_forward(sv.o, sv.state, sc.core, sc.act, &p);
  gated_rmsnorm_forward(sc.y, sv.rstd, sv.o, w[LT_NORM], sv.proj + 3 * HD, 4 * HD, R, H, dh);
  dnn_matmul(out, sc.y, w[LT_O], 1, R, HD, C, 0, 1, 1);
}

static void lightning_mixer_backward(float *du, float *const *g, float *saved, float *scratch, const float *dy,
                                     const float *u, const float *const *w, const MixerShape *s) {
  HB_ASSERT(!mixer_context_limited(s), "the inference-time context limit has no backward (analyses only)");
  check_adjacent((const float *const *)g, s->cfg);
  LightningPlan p;
  lightning_plan_of(&p, s);
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  LightningMixerSaved sv = lightning_mixer_saved_views(&saved_cv, s);
  LightningMixerScratch sc = lightning_mixer_scratch_views(&scratch_cv, s);
  int H = s->cfg->n_heads, dh = s->cfg->head_dim;
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, HD = (int64_t)H * dh;
  const float *gain = w[LT_NORM];
  /* out = y Wo^T: dWo += dy^T y, dyo = dy Wo */
  gated_rmsnorm_recompute(sc.y, sv.o, sv.rstd, gain, sv.proj + 3 * HD, 4 * HD, R, H, dh);
  dnn_linear_backward(sc.dyo, g[LT_O], dy, sc.y, w[LT_O], R, HD, C, 0);
  /* y = RMSNorm_head(o) * silu(g): dg into dproj's g part, don into y's place */
  gated_rmsnorm_backward(sc.dO, g[LT_NORM], sc.dproj + 3 * HD, 4 * HD, sc.y, sc.dyo, sv.o, sv.rstd, gain,
                         sv.proj + 3 * HD, 4 * HD, R, H, dh);
  /* the recurrence */
  lightning_activate(sc.act, sv.proj, R, HD);
  lightning_backward(sc.dqkv, sv.state, sc.core, sc.dO, sc.act, &p);
  /* through silu on q and k; v as is */
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float *x = sv.proj + r * 4 * HD, *dx = sc.dqkv + r * 3 * HD;
    float *dp = sc.dproj + r * 4 * HD;
    for (int64_t j = 0; j < 2 * HD; j++) {
      float sg = hb_sigmoidf(x[j]);
      dp[j] = dx[j] * sg * (1.0f + x[j] * (1.0f - sg));
    }
    memcpy(dp + 2 * HD, dx + 2 * HD, (size_t)HD * sizeof(float));
  }
  /* proj = u [Wq; Wk; Wv; Wg]^T */
  dnn_linear_backward(du, g[LT_Q], sc.dproj, u, w[LT_Q], R, C, 4 * HD, 0);
}

const MixerOps lightning_ops = HB_MIXER_OPS('L', "lightning", lightning, NULL);
