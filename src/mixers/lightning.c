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

/* pw[n] = lambda_h^n for n = 0 .. Cs, computed in double (lambda_h rounds to
 * 1.0f in float for h >= 20). */
static void decay_powers(float *pw, int h, int Cs) {
  double log_lambda = log1p(-ldexp(1.0, -(5 + h)));
  for (int n = 0; n <= Cs; n++) pw[n] = (float)exp(n * log_lambda);
}

static size_t chunked_floats(const LightningPlan *p) { return (size_t)p->B * p->H * p->Tp * p->dh; }
static size_t square_floats(const LightningPlan *p) { return (size_t)p->n_chunks * p->chunk * p->chunk; }
size_t lightning_states_floats(const LightningPlan *p) { return (size_t)p->n_chunks * p->dh * p->dh; }

/* Forward: qc, kc, vc, oc (X each), A (N, Cs, Cs), KV (N, dh, dh).
 * Backward: qc, kc, vc, dOc, dQc, dKc, dVc (X each), P / dP (N, Cs, Cs), G (N, dh, dh). */
size_t lightning_scratch_floats(const LightningPlan *p) {
  size_t fwd = 4 * chunked_floats(p) + square_floats(p) + lightning_states_floats(p);
  size_t bwd = 7 * chunked_floats(p) + square_floats(p) + lightning_states_floats(p);
  return fwd > bwd ? fwd : bwd;
}

/* dst (B, H, Tp, dh) = part (0 q, 1 k, 2 v) of src rows (B, T, ld) with head h
 * at columns part*HD + h*dh; zero rows for t >= T. */
static void to_chunks(float *dst, const float *src, int64_t ld, int part, const LightningPlan *p) {
  int B = p->B, T = p->T, H = p->H, dh = p->dh, Tp = p->Tp;
  int64_t col = (int64_t)part * H * dh;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      float *head = dst + ((int64_t)b * H + h) * Tp * dh;
      for (int t = 0; t < T; t++)
        memcpy(head + (int64_t)t * dh, src + ((int64_t)b * T + t) * ld + col + (int64_t)h * dh,
               (size_t)dh * sizeof(float));
      memset(head + (int64_t)T * dh, 0, (size_t)(Tp - T) * dh * sizeof(float));
    }
}

/* The inverse of to_chunks: rows t < T of src (B, H, Tp, dh) into dst (B, T, ld). */
static void from_chunks(float *dst, int64_t ld, int part, const float *src, const LightningPlan *p) {
  int B = p->B, T = p->T, H = p->H, dh = p->dh, Tp = p->Tp;
  int64_t col = (int64_t)part * H * dh;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const float *head = src + ((int64_t)b * H + h) * Tp * dh;
      for (int t = 0; t < T; t++)
        memcpy(dst + ((int64_t)b * T + t) * ld + col + (int64_t)h * dh, head + (int64_t)t * dh,
               (size_t)dh * sizeof(float));
    }
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
    float pw[LIGHTNING_MAX_CHUNK + 1];
    decay_powers(pw, (int)(bh % p->H), p->chunk);
    float f = pw[p->chunk];
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
    float pw[LIGHTNING_MAX_CHUNK + 1];
    decay_powers(pw, (int)(bh % p->H), p->chunk);
    float f = pw[p->chunk];
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

void lightning_forward(float *o, float *states, float *scratch, const float *qkv, const LightningPlan *p) {
  int64_t N = p->n_chunks, HD = (int64_t)p->H * p->dh;
  int Cs = p->chunk, dh = p->dh;
  size_t X = chunked_floats(p);
  float *qc = scratch, *kc = qc + X, *vc = kc + X, *oc = vc + X; /* (B, H, Tp, dh) = (N, Cs, dh) */
  float *a = oc + X;                                             /* (N, Cs, Cs) */
  float *kv = a + square_floats(p);                              /* (N, dh, dh) */
  to_chunks(qc, qkv, 3 * HD, 0, p);
  to_chunks(kc, qkv, 3 * HD, 1, p);
  to_chunks(vc, qkv, 3 * HD, 2, p);
  /* intra-chunk: Oc = (Qc Kc^T . D) Vc */
  dnn_matmul(a, qc, kc, N, Cs, dh, Cs, 0, 1, 0);
  decay_mask(a, p);
  dnn_matmul(oc, a, vc, N, Cs, Cs, dh, 0, 0, 0);
  /* states: kv_c = (decayed Kc)^T Vc, then the scan */
  decay_rows(kc, ROWS_K, p);
  dnn_matmul(kv, kc, vc, N, dh, Cs, dh, 1, 0, 0);
  scan_states(states, kv, p);
  /* inter-chunk: Oc += (decayed Qc) S_c */
  decay_rows(qc, ROWS_Q, p);
  dnn_matmul(oc, qc, states, N, Cs, dh, dh, 0, 0, 1);
  from_chunks(o, HD, 0, oc, p);
}

void lightning_backward(float *dqkv, float *scratch, const float *dout, const float *qkv, const float *states,
                        const LightningPlan *p) {
  int64_t N = p->n_chunks, HD = (int64_t)p->H * p->dh;
  int Cs = p->chunk, dh = p->dh;
  size_t X = chunked_floats(p);
  float *qc = scratch, *kc = qc + X, *vc = kc + X, *doc = vc + X; /* (N, Cs, dh) each */
  float *dqc = doc + X, *dkc = dqc + X, *dvc = dkc + X;           /* (N, Cs, dh) each */
  float *pd = dvc + X;                                            /* (N, Cs, Cs): P, then dP */
  float *g = pd + square_floats(p);                               /* (N, dh, dh) */
  to_chunks(qc, qkv, 3 * HD, 0, p);
  to_chunks(kc, qkv, 3 * HD, 1, p);
  to_chunks(vc, qkv, 3 * HD, 2, p);
  to_chunks(doc, dout, HD, 0, p);
  /* intra-chunk, P = Qc Kc^T . D recomputed: dVc = P^T dOc; dP = (dOc Vc^T) . D;
   * dQc = dP Kc; dKc = dP^T Qc */
  dnn_matmul(pd, qc, kc, N, Cs, dh, Cs, 0, 1, 0);
  decay_mask(pd, p);
  dnn_matmul(dvc, pd, doc, N, Cs, Cs, dh, 1, 0, 0);
  dnn_matmul(pd, doc, vc, N, Cs, dh, Cs, 0, 1, 0);
  decay_mask(pd, p);
  dnn_matmul(dqc, pd, kc, N, Cs, Cs, dh, 0, 0, 0);
  dnn_matmul(dkc, pd, qc, N, Cs, Cs, dh, 1, 0, 0);
  /* inter-chunk: dS_c = (decayed Qc)^T dOc, summed back through the scan */
  decay_rows(qc, ROWS_Q, p);
  dnn_matmul(g, qc, doc, N, dh, Cs, dh, 1, 0, 0);
  scan_states_backward(g, p); /* g_c: gradient of kv_c */
  /* dQc += (decayed dOc) S_c^T */
  decay_rows(doc, ROWS_Q, p);
  dnn_matmul(dqc, doc, states, N, Cs, dh, dh, 0, 1, 1);
  /* kv_c = (decayed Kc)^T Vc: dVc += (decayed Kc) g_c; dKc += (decayed Vc) g_c^T */
  decay_rows(kc, ROWS_K, p);
  dnn_matmul(dvc, kc, g, N, Cs, dh, dh, 0, 0, 1);
  decay_rows(vc, ROWS_K, p);
  dnn_matmul(dkc, vc, g, N, Cs, dh, dh, 0, 1, 1);
  from_chunks(dqkv, 3 * HD, 0, dqc, p);
  from_chunks(dqkv, 3 * HD, 1, dkc, p);
  from_chunks(dqkv, 3 * HD, 2, dvc, p);
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
 * norm, rstd (R*H), the chunk states (B, H, nc, dh, dh). Everything else
 * (silu values, on, y) is recomputed elementwise in backward.
 * Scratch: see lt_scratch_floats.
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

static int lt_param_specs(MixerParamSpec *specs, const ModelConfig *cfg) {
  int64_t C = cfg->d_model, HD = (int64_t)cfg->n_heads * cfg->head_dim;
  const char *names[] = {"q_proj.weight", "k_proj.weight", "v_proj.weight", "g_proj.weight"};
  for (int k = LT_Q; k <= LT_G; k++) specs[k] = (MixerParamSpec){names[k], 2, {HD, C}, INIT_NORMAL, 1};
  specs[LT_O] = (MixerParamSpec){"o_proj.weight", 2, {C, HD}, INIT_NORMAL, 1};
  specs[LT_NORM] = (MixerParamSpec){"norm.weight", 1, {cfg->head_dim}, INIT_ONES, 0};
  return LT_N_PARAMS;
}

/* Sizes do not depend on s->window: a context limit (analyses, forward only)
 * runs through mixer_limited_forward on ordinary unlimited calls. */
static void lt_plan_of(LightningPlan *p, const MixerShape *s) {
  lightning_plan(p, s->B, s->T, s->cfg->n_heads, s->cfg->head_dim, LIGHTNING_CHUNK);
}

static size_t lt_rows_hd(const MixerShape *s) { return (size_t)s->B * s->T * s->cfg->n_heads * s->cfg->head_dim; }

static size_t lt_saved_floats(const MixerShape *s) {
  LightningPlan p;
  lt_plan_of(&p, s);
  return 5 * lt_rows_hd(s) + (size_t)s->B * s->T * s->cfg->n_heads + lightning_states_floats(&p);
}

/* forward: act (R, 3*HD) | y (R, HD) | core scratch
 * backward: dproj (R, 4*HD) | act (R, 3*HD) | dqkv (R, 3*HD), first holding
 * y and dyo (R, HD) each | dO (R, HD) | core scratch */
static size_t lt_scratch_floats(const MixerShape *s) {
  LightningPlan p;
  lt_plan_of(&p, s);
  return 11 * lt_rows_hd(s) + lightning_scratch_floats(&p);
}

typedef struct {
  float *proj; /* (R, 4*HD) */
  float *o;    /* (R, HD) */
  float *rstd; /* (R*H) */
  float *states;
} LtSaved;

static LtSaved lt_saved_views(float *saved, const MixerShape *s) {
  size_t rhd = lt_rows_hd(s);
  LtSaved v;
  v.proj = saved;
  v.o = v.proj + 4 * rhd;
  v.rstd = v.o + rhd;
  v.states = v.rstd + (size_t)s->B * s->T * s->cfg->n_heads;
  return v;
}

/* act (R, 3*HD) = [silu(q) | silu(k) | v] from proj (R, 4*HD). */
static void lt_activate(float *act, const float *proj, int64_t R, int64_t HD) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float *x = proj + r * 4 * HD;
    float *y = act + r * 3 * HD;
    for (int64_t j = 0; j < 2 * HD; j++) y[j] = x[j] * hb_sigmoidf(x[j]);
    memcpy(y + 2 * HD, x + 2 * HD, (size_t)HD * sizeof(float));
  }
}

extern const MixerOps lightning_ops;

static void lt_forward(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                       const MixerShape *s) {
  if (mixer_context_limited(s)) {
    mixer_limited_forward(&lightning_ops, out, saved, scratch, u, w, s);
    return;
  }
  LightningPlan p;
  lt_plan_of(&p, s);
  int H = s->cfg->n_heads, dh = s->cfg->head_dim;
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, HD = (int64_t)H * dh;
  LtSaved sv = lt_saved_views(saved, s);
  float *act = scratch, *y = act + 3 * R * HD, *core = y + R * HD;
  for (int k = LT_K; k <= LT_G; k++)
    HB_ASSERT(w[k] == w[LT_Q] + k * HD * C, "q, k, v, g projections are adjacent in the arena (one GEMM)");
  dnn_linear_forward(sv.proj, u, w[LT_Q], R, C, 4 * HD);
  lt_activate(act, sv.proj, R, HD);
  lightning_forward(sv.o, sv.states, core, act, &p);
  gated_rmsnorm_forward(y, sv.rstd, sv.o, w[LT_NORM], sv.proj + 3 * HD, 4 * HD, R, H, dh);
  dnn_matmul(out, y, w[LT_O], 1, R, HD, C, 0, 1, 1);
}

static void lt_backward(float *du, float *const *g, float *saved, float *scratch, const float *dy, const float *u,
                        const float *const *w, const MixerShape *s) {
  HB_ASSERT(!mixer_context_limited(s), "the inference-time context limit has no backward (analyses only)");
  LightningPlan p;
  lt_plan_of(&p, s);
  int H = s->cfg->n_heads, dh = s->cfg->head_dim;
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, HD = (int64_t)H * dh;
  LtSaved sv = lt_saved_views(saved, s);
  float *dproj = scratch, *act = dproj + 4 * R * HD, *dqkv = act + 3 * R * HD, *dO = dqkv + 3 * R * HD;
  float *core = dO + R * HD;
  float *y = dqkv, *dyo = dqkv + R * HD; /* dead before dqkv is written */
  const float *gain = w[LT_NORM];
  for (int k = LT_K; k <= LT_G; k++)
    HB_ASSERT(g[k] == g[LT_Q] + k * HD * C, "q, k, v, g gradients are adjacent in the arena (one GEMM)");
  /* out = y Wo^T: dWo += dy^T y, dyo = dy Wo */
  gated_rmsnorm_recompute(y, sv.o, sv.rstd, gain, sv.proj + 3 * HD, 4 * HD, R, H, dh);
  dnn_linear_backward(dyo, g[LT_O], dy, y, w[LT_O], R, HD, C, 0);
  /* y = RMSNorm_head(o) * silu(g): dg into dproj's g part, don into y's place */
  gated_rmsnorm_backward(dO, g[LT_NORM], dproj + 3 * HD, 4 * HD, y, dyo, sv.o, sv.rstd, gain, sv.proj + 3 * HD, 4 * HD,
                         R, H, dh);
  /* the recurrence */
  lt_activate(act, sv.proj, R, HD);
  lightning_backward(dqkv, core, dO, act, sv.states, &p);
  /* through silu on q and k; v as is */
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float *x = sv.proj + r * 4 * HD, *dx = dqkv + r * 3 * HD;
    float *dp = dproj + r * 4 * HD;
    for (int64_t j = 0; j < 2 * HD; j++) {
      float sg = hb_sigmoidf(x[j]);
      dp[j] = dx[j] * sg * (1.0f + x[j] * (1.0f - sg));
    }
    memcpy(dp + 2 * HD, dx + 2 * HD, (size_t)HD * sizeof(float));
  }
  /* proj = u [Wq; Wk; Wv; Wg]^T */
  dnn_linear_backward(du, g[LT_Q], dproj, u, w[LT_Q], R, C, 4 * HD, 0);
}

const MixerOps lightning_ops = {'L', "lightning", lt_param_specs, NULL, lt_saved_floats, lt_scratch_floats,
                                lt_forward, lt_backward};
