/* Gated DeltaNet, layer letter G (DESIGN.md section 3), checkpoint prefix "gdn".
 *
 * Legend: B batch, T length, R = B*T rows, C d_model, H heads, dh head dim
 * (dk = dv = dh), HD = H*dh, K = 4 conv taps, L chunk length (GDN_CHUNK),
 * nc = ceil(T / L) chunks, BH = B*H heads, NB = nc*BH blocks.
 *
 * The mixer, per head:
 *   q, k, v = silu(causal depthwise conv1d(u . W{q,k,v}^T)), no bias
 *   q, k    = x / sqrt(|x|^2 + 1e-6) per head; q also * 1/sqrt(dh)
 *   la_t    = log alpha_t = -exp(A_log_h) * softplus(u . Wa^T + dt_bias)_h
 *   beta_t  = sigmoid(u . Wb^T)_h
 *   S_t     = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T   (S: dv x dk)
 *   o_t     = S_t q_t;  o = RMSNorm_head(o; norm) * silu(u . Wg^T);  out = o . Wo^T
 * Conventions as python/hybench/reference.py: heads are contiguous column
 * ranges h*dh .. (h+1)*dh; conv weight (HD, 1, K) with tap K-1 on the current
 * position; RMSNorm eps 1e-5 over each head's dh values with the shared gain.
 *
 * Fast path: the chunked WY form (Yang et al., "Parallelizing Linear
 * Transformers with the Delta Rule over Sequence Length", and "Gated Delta
 * Networks"). With M = S^T (dk x dv) the recurrence is
 *   M_t = alpha_t M_{t-1} + k_t w_t^T,  w_t = beta_t (v_t - alpha_t M_{t-1}^T k_t).
 * Inside a chunk of L positions starting from state M (the state before it),
 * with g = cumsum(la) inside the chunk, gam = exp(g), dec_s = exp(g_{L-1} - g_s)
 * and the causal decay mask Lm_ts = exp(g_t - g_s) (s <= t, else 0):
 *   A   = strictly_lower(diag(beta) (K K^T .* Lm)),  Tm = (I + A)^-1  (unit lower)
 *   U   = Tm diag(beta) V,  Wn = -Tm diag(beta gam) K        (UT transform)
 *   W   = U + Wn M                                           (rows w_t)
 *   O   = diag(gam) Q M + (Q K^T .* Lm) W
 *   M'  = gam_{L-1} M + (diag(dec) K)^T W                    (state after the chunk)
 * Everything except W and M' is independent of the state, so it is one
 * batched oneDNN matmul over all NB blocks; only W and M' run chunk after
 * chunk (two matmuls per chunk, batched over the BH heads). All exponents are
 * differences g_t - g_s <= 0, so nothing overflows however small alpha gets.
 * Blocks are stored chunk-major, block n = c*BH + b*H + h, so the BH blocks
 * of one chunk are contiguous (one batched matmul). Positions past T pad the
 * last chunk with q = k = v = 0, beta = 0, la = 0: they change nothing.
 * Backward recomputes everything from the saved q, k, v, la, beta and the
 * state at the start of every chunk (saved: O(T*dh + T*dh^2/L) per head),
 * runs the state gradient backward chunk by chunk (two matmuls per chunk),
 * then the rest as batched matmuls; the derivation is written beside the code.
 *
 * Chunk size L = 16 (GDN_CHUNK), measured with one thread, mixer forward +
 * backward, best of 7 on a shared 2-core machine (so +-10% noise):
 *   B 8, T 512, C 128, 4 x 32:  L 16: 72 ms, L 32: 71 ms, L 64: 83 ms
 *   B 8, T 512, C 128, 8 x 16:  L 16: 74 ms, L 32: 81 ms
 *   B 32, T 128, C 64, 4 x 16:  L 16: 27 ms, L 32: 29 ms, L 64: 55 ms
 *   B 16, T 256, C 64, 2 x 32:  L 16: 37 ms, L 32: 37 ms, L 64: 49 ms
 * L = 16 is as fast as 32 at dh = 32, faster at dh = 16, and needs the least
 * scratch. The recurrence itself is ~20 ms of the first line (forward 6.5 ms,
 * backward 13.7 ms); the rest is the projections, conv, silu and norms.
 *
 * gdn_reference_forward / gdn_reference_backward: the recurrence exactly as
 * written above (S convention, double-precision state, plain loops, all
 * states kept), for the tests.
 *
 * Initialisation (init_custom, following the usual GDN / Mamba-2 init and the
 * reference's self-test init): A_log_h = log(U[1, 16]); dt_bias_h =
 * softplus^-1(dt), dt = exp(U[log 1e-3, log 1e-1]) (so the initial decay rates
 * span two decades); conv weights U[-0.5, 0.5], PyTorch's default for a
 * depthwise conv (kaiming-uniform a = sqrt(5): bound 1/sqrt(fan_in), fan_in = K).
 * Weight decay on the seven projection matrices only. */
#include <math.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/dnn.h"
#include "hybench/gdn.h"
#include "hybench/mixer.h"
#include "kernels.h"

#define GDN_CONV_K 4
#define GDN_L2_EPS 1e-6f
/* Decay factors exp(x) with x below this are taken as 0. Under strong decay
 * (trained gates: alpha down to e^-60 per step) the products of such factors
 * are denormal floats, and denormal arithmetic made the recurrence 25x slower
 * (measured: 6 -> 164 ms forward). e^-40 = 4e-18 is invisible next to the
 * current position's own term (decay 1) and keeps products of two normal. */
#define GDN_DECAY_CUTOFF -40.0f

/* ---------- chunked core ---------- */

static inline float decay_exp(float x) { return x < GDN_DECAY_CUTOFF ? 0.0f : hb_expf(x); }

void gdn_plan(GdnPlan *p, int B, int T, int H, int dh, int chunk) {
  HB_ASSERT(T >= 1 && B >= 1 && H >= 1 && dh >= 1, "a mixer call has at least one row, head and channel");
  HB_ASSERT(chunk >= 1 && chunk <= GDN_MAX_CHUNK, "backward_blocks sums dg in a stack array of GDN_MAX_CHUNK");
  memset(p, 0, sizeof *p);
  p->B = B, p->T = T, p->H = H, p->dh = dh, p->chunk = chunk;
  p->nc = (T + chunk - 1) / chunk;
  p->BH = (int64_t)B * H;
  p->NB = p->nc * p->BH;
}

/* Sub-buffers are carved with hb_carve (common.h): base NULL only counts. */
static size_t blk_vec(const GdnPlan *p) { return (size_t)p->NB * p->chunk * p->dh; }   /* (NB, L, dh) */
static size_t blk_sq(const GdnPlan *p) { return (size_t)p->NB * p->chunk * p->chunk; } /* (NB, L, L) */
static size_t blk_pos(const GdnPlan *p) { return (size_t)p->NB * p->chunk; }           /* (NB, L) */
static size_t blk_state(const GdnPlan *p) { return (size_t)p->NB * p->dh * p->dh; }  /* (NB, dh, dh) */

/* Kept from forward to backward. */
typedef struct {
  float *q, *k, *v;   /* (NB, L, dh) normalised q, k and v in blocks */
  float *la, *beta;   /* (NB, L) */
  float *state;       /* (NB, dk, dv) M at the start of each block's chunk */
} GdnSaved;

/* Scratch. Forward uses the first group only. */
typedef struct {
  double *g;                   /* (NB, L) cumsum(la) in the chunk (double: see prepare_blocks) */
  float *gam, *dec;            /* (NB, L) exp(g), exp(g_last - g) */
  float *kk, *lm, *p, *tm;     /* (NB, L, L) K K^T; Lm; P = Q K^T .* Lm; Tm = (I + A)^-1 */
  float *qg, *xv, *xn, *kt;    /* (NB, L, dh) gam Q; beta V; -beta gam K; dec K */
  float *wn, *w, *o;           /* (NB, L, dh) Wn; W (U until the state term is added); O (backward: dO) */
  /* backward only */
  float *dw, *g1, *dkt, *dxv, *dxn, *dq, *dk, *dv; /* (NB, L, dh) */
  float *dp, *da;              /* (NB, L, L) */
  float *dstate;               /* (NB + BH, dk, dv) gradient of the state at each chunk start, then zeros */
  float *dg, *dbeta;           /* (NB, L) */
} GdnScratch;

static GdnSaved gdn_saved_views(HbCarver *cv, const GdnPlan *p) {
  GdnSaved s;
  s.q = hb_carve(cv, blk_vec(p)), s.k = hb_carve(cv, blk_vec(p)), s.v = hb_carve(cv, blk_vec(p));
  s.la = hb_carve(cv, blk_pos(p)), s.beta = hb_carve(cv, blk_pos(p));
  s.state = hb_carve(cv, blk_state(p));
  return s;
}

static GdnScratch gdn_scratch_views(HbCarver *cv, const GdnPlan *p) {
  GdnScratch s;
  size_t vec = blk_vec(p), sq = blk_sq(p), pos = blk_pos(p);
  s.g = (double *)hb_carve(cv, 2 * pos), s.gam = hb_carve(cv, pos), s.dec = hb_carve(cv, pos);
  s.kk = hb_carve(cv, sq), s.lm = hb_carve(cv, sq), s.p = hb_carve(cv, sq), s.tm = hb_carve(cv, sq);
  float **vecs[] = {&s.qg, &s.xv, &s.xn, &s.kt, &s.wn, &s.w, &s.o,
                    &s.dw, &s.g1, &s.dkt, &s.dxv, &s.dxn, &s.dq, &s.dk, &s.dv};
  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) *vecs[i] = hb_carve(cv, vec);
  s.dp = hb_carve(cv, sq), s.da = hb_carve(cv, sq);
  s.dstate = hb_carve(cv, blk_state(p) + (size_t)p->BH * p->dh * p->dh);
  s.dg = hb_carve(cv, pos), s.dbeta = hb_carve(cv, pos);
  return s;
}

CARVED_FLOATS(gdn_saved_floats, gdn_saved_views, GdnPlan)
CARVED_FLOATS(gdn_scratch_floats, gdn_scratch_views, GdnPlan)

/* Row layout (B, T, H, width) with row stride `stride` floats per (b, t)
 * <-> blocks (NB, L, width). to_rows 0 gathers rows into blocks, zero on
 * padding positions; to_rows 1 scatters blocks into rows, padding dropped.
 * The source is only read. */
static void copy_blocks(float *blk, float *rows, int64_t stride, int width, const GdnPlan *p, int to_rows) {
  size_t bytes = (size_t)width * sizeof(float);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NB; n++) {
    int c = (int)(n / p->BH), bh = (int)(n % p->BH), b = bh / p->H, h = bh % p->H;
    for (int i = 0; i < p->chunk; i++) {
      int t = c * p->chunk + i;
      float *block_row = blk + (n * p->chunk + i) * width;
      if (t >= p->T) {
        if (!to_rows) memset(block_row, 0, bytes);
        continue;
      }
      float *row = rows + ((int64_t)b * p->T + t) * stride + (int64_t)h * width;
      if (to_rows) memcpy(row, block_row, bytes);
      else memcpy(block_row, row, bytes);
    }
  }
}

static void rows_to_blocks(float *blk, const float *rows, int64_t stride, int width, const GdnPlan *p) {
  copy_blocks(blk, (float *)rows, stride, width, p, 0);
}

static void blocks_to_rows(float *rows, const float *blk, int64_t stride, int width, const GdnPlan *p) {
  copy_blocks((float *)blk, rows, stride, width, p, 1);
}

/* Tm = (I + A)^-1 of one block by forward substitution, in place over A
 * (strictly lower on entry): row i, Tm_i = e_i - sum_{j<i} A_ij Tm_j. A_ij is
 * read before column j of row i is first written, and Tm_j is zero right of
 * column j. O(L^3 / 6). */
static void unit_lower_inverse(float *restrict tm, int L) {
  for (int i = 0; i < L; i++) {
    float *restrict ti = tm + (int64_t)i * L;
    for (int j = 0; j < i; j++) {
      float a = ti[j];
      ti[j] = 0.0f;
      const float *restrict tj = tm + (int64_t)j * L;
#pragma omp simd
      for (int l = 0; l <= j; l++) ti[l] -= a * tj[l];
    }
    ti[i] = 1.0f;
    for (int j = i + 1; j < L; j++) ti[j] = 0.0f;
  }
}

/* Everything of a block that does not depend on the chunk's starting state:
 * g, gam, dec; Lm; P = (Q K^T) .* Lm in place over the raw Q K^T; Tm; qg, xv,
 * xn, kt. kk and p hold K K^T and Q K^T on entry. */
static void prepare_blocks(GdnScratch *s, const GdnSaved *sv, const GdnPlan *p) {
  int L = p->chunk, dh = p->dh;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NB; n++) {
    const float *la = sv->la + n * L, *beta = sv->beta + n * L;
    double *g = s->g + n * L, acc = 0;
    float *gam = s->gam + n * L, *dec = s->dec + n * L;
    /* In double: under strong decay g reaches -1e3 and more, and a float
     * difference g_t - g_s would lose ~1e-4 of its value (relative error in
     * exp(g_t - g_s)); the differences are rounded to float after subtracting. */
    for (int t = 0; t < L; t++) g[t] = acc += la[t];
    for (int t = 0; t < L; t++) gam[t] = decay_exp((float)g[t]), dec[t] = decay_exp((float)(g[L - 1] - g[t]));
    const float *kk = s->kk + n * L * L;
    float *lm = s->lm + n * L * L, *pm = s->p + n * L * L, *tm = s->tm + n * L * L;
    for (int t = 0; t < L; t++) {
      int64_t row = (int64_t)t * L;
      /* Lm and P on and below the diagonal, A (into tm) strictly below it */
#pragma omp simd
      for (int j = 0; j <= t; j++) {
        float e = decay_exp((float)(g[t] - g[j]));
        lm[row + j] = e;
        pm[row + j] *= e;
        tm[row + j] = beta[t] * e * kk[row + j];
      }
      for (int j = t + 1; j < L; j++) lm[row + j] = 0.0f, pm[row + j] = 0.0f;
    }
    unit_lower_inverse(tm, L);
    for (int t = 0; t < L; t++) {
      int64_t r = (n * L + t) * dh;
      float bg = -beta[t] * gam[t];
      for (int d = 0; d < dh; d++) {
        s->qg[r + d] = gam[t] * sv->q[r + d];
        s->xv[r + d] = beta[t] * sv->v[r + d];
        s->xn[r + d] = bg * sv->k[r + d];
        s->kt[r + d] = dec[t] * sv->k[r + d];
      }
    }
  }
}

/* The state-independent matmuls: K K^T, Q K^T, then (after prepare_blocks)
 * U = Tm xv (into w; the state term is added later) and Wn = Tm xn. */
static void chunk_local(GdnScratch *s, const GdnSaved *sv, const GdnPlan *p) {
  int64_t NB = p->NB, L = p->chunk, dh = p->dh;
  dnn_matmul(s->kk, sv->k, sv->k, NB, L, dh, L, 0, 1, 0); /* (NB, L, L) = K K^T */
  dnn_matmul(s->p, sv->q, sv->k, NB, L, dh, L, 0, 1, 0);  /* (NB, L, L) = Q K^T */
  prepare_blocks(s, sv, p);
  dnn_matmul(s->w, s->tm, s->xv, NB, L, L, dh, 0, 0, 0);  /* U  (NB, L, dv) */
  dnn_matmul(s->wn, s->tm, s->xn, NB, L, L, dh, 0, 0, 0); /* Wn (NB, L, dk) */
}

/* o (B, T, H, dh) row layout with row stride HD; saved: gdn_saved_floats;
 * qkv (R, 3, H, dh) = [q | k | v] normalised; la, beta (R, H). */
void gdn_forward(float *o, float *saved, float *scratch, const float *qkv, const float *la, const float *beta,
                 const GdnPlan *p) {
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  GdnSaved sv = gdn_saved_views(&saved_cv, p);
  GdnScratch s = gdn_scratch_views(&scratch_cv, p);
  int64_t HD = (int64_t)p->H * p->dh, L = p->chunk, dh = p->dh, BH = p->BH;
  int64_t blk = L * dh, st = dh * dh; /* floats per block vector / state */
  rows_to_blocks(sv.q, qkv, 3 * HD, p->dh, p);
  rows_to_blocks(sv.k, qkv + HD, 3 * HD, p->dh, p);
  rows_to_blocks(sv.v, qkv + 2 * HD, 3 * HD, p->dh, p);
  rows_to_blocks(sv.la, la, p->H, 1, p);
  rows_to_blocks(sv.beta, beta, p->H, 1, p);
  chunk_local(&s, &sv, p);
  /* Chunk after chunk: W_c = U_c + Wn_c M_c, M_{c+1} = gam_last M_c + Kt_c^T W_c. */
  memset(sv.state, 0, (size_t)BH * st * sizeof(float));
  for (int c = 0; c < p->nc; c++) {
    int64_t n0 = c * BH;
    float *w = s.w + n0 * blk, *m = sv.state + n0 * st;
    if (c > 0) dnn_matmul(w, s.wn + n0 * blk, m, BH, L, dh, dh, 0, 0, 1);
    if (c + 1 == p->nc) break;
    float *next = m + BH * st;
    for (int64_t j = 0; j < BH; j++) {
      float decay = s.gam[(n0 + j) * L + L - 1];
      for (int64_t e = 0; e < st; e++) next[j * st + e] = decay * m[j * st + e];
    }
    dnn_matmul(next, s.kt + n0 * blk, w, BH, dh, L, dh, 1, 0, 1);
  }
  /* O = (gam Q) M + P W, all blocks at once. */
  dnn_matmul(s.o, s.qg, sv.state, p->NB, L, dh, dh, 0, 0, 0);
  dnn_matmul(s.o, s.p, s.w, p->NB, L, L, dh, 0, 0, 1);
  blocks_to_rows(o, s.o, HD, p->dh, p);
}

/* Backward of one block's elementwise part. On entry: dp = dO W^T (raw),
 * da = dxv W^T (= -dL/dA), g1 = dO M^T, dkt = W dM'^T, dxv = Tm^T dW,
 * dxn = dxv M^T. Leaves dp = dQK = dL/d(Q K^T) (lower), da = dKK + dKK^T,
 * dq, dk (before their matmul terms), dv, dbeta and dg (gradient of the
 * cumsum g) with its reverse cumsum dla in s->dg.
 *
 * Derivation (per block; d. = dL/d.):
 *   O = diag(gam) Q M + P W:   dQ += gam .* (dO M^T), dg_t += gam_t q_t . (dO M^T)_t,
 *                              dP = dO W^T; P = QK .* Lm: dQK = dP .* Lm,
 *                              dg_t += sum_s Z_ts, dg_s -= sum_t Z_ts with Z = dP .* P
 *   M' = gam_last M + Kt^T W:  dKt = W dM'^T, dk_s += dec_s dKt_s,
 *                              dg_last += gam_last <M, dM'> + sum_s e_s, dg_s -= e_s,
 *                              e_s = dec_s k_s . dKt_s
 *   W = U + Wn M, [U | Wn] = Tm [xv | xn], Tm = (I + A)^-1:
 *                              dX = Tm^T dY, dA = -dX Y^T (strictly lower part), i.e.
 *                              dxv = Tm^T dW, dxn = Tm^T dW M^T = dxv M^T,
 *                              dA = -(dxv U^T + dxn Wn^T) = -dxv (U + Wn M)^T = -dxv W^T
 *   xv = beta V:               dV = beta .* dxv, dbeta += v . dxv
 *   xn = -beta gam K:          dK -= beta gam .* dxn, dbeta -= gam k . dxn, dg -= beta gam k . dxn
 *   A_ts = beta_t Lm_ts KK_ts: dbeta_t += sum_s dA Lm KK, dg_t += Y_ts, dg_s -= Y_ts with
 *                              Y = dA .* A; dKK = dA beta Lm, dK += (dKK + dKK^T) K
 *   (the matmul terms dQ += dQK K, dK += dQK^T Q + (dKK + dKK^T) K follow). */
static void backward_blocks(GdnScratch *s, const GdnSaved *sv, const GdnPlan *p) {
  int L = p->chunk, dh = p->dh;
  int64_t st = (int64_t)dh * dh;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NB; n++) {
    const float *gam = s->gam + n * L, *dec = s->dec + n * L, *beta = sv->beta + n * L;
    const float *kk = s->kk + n * L * L, *lmb = s->lm + n * L * L, *pm = s->p + n * L * L;
    float *dp = s->dp + n * L * L, *da = s->da + n * L * L;
    float *db = s->dbeta + n * L;
    /* dg sums many terms that largely cancel (row sums minus column sums, then
     * a reverse cumsum): accumulated in double, it costs nothing measurable. */
    double dg[GDN_MAX_CHUNK];
    for (int t = 0; t < L; t++) dg[t] = 0.0, db[t] = 0.0f;
    for (int t = 0; t < L; t++) {
      float *dpr = dp + (int64_t)t * L, *dar = da + (int64_t)t * L;
      for (int j = 0; j < t; j++) {
        float lm = lmb[(int64_t)t * L + j];
        float z = dpr[j] * pm[(int64_t)t * L + j];
        dpr[j] *= lm;
        float b2 = -dar[j] * lm * kk[(int64_t)t * L + j]; /* dA_tj Lm_tj KK_tj */
        float y = beta[t] * b2;
        db[t] += b2;
        dg[t] += z + y, dg[j] -= z + y;
        float dkk = -dar[j] * beta[t] * lm;
        dar[j] = dkk;
        da[(int64_t)j * L + t] = dkk; /* upper part: read-only above, so safe to overwrite */
      }
      /* diagonal: A has none (dKK_tt = 0); dQK_tt = dP_tt as Lm_tt = 1, and Z_tt
       * would enter dg_t once with each sign */
      dar[t] = 0.0f;
      for (int j = t + 1; j < L; j++) dpr[j] = 0.0f;
    }
    /* da = dKK + dKK^T now: each (t, j < t) wrote both of its entries */
    float e_sum = 0;
    for (int t = 0; t < L; t++) {
      int64_t r = (n * L + t) * dh;
      const float *q = sv->q + r, *k = sv->k + r, *v = sv->v + r;
      const float *g1 = s->g1 + r, *dkt = s->dkt + r, *dxv = s->dxv + r, *dxn = s->dxn + r;
      float *dq = s->dq + r, *dk = s->dk + r, *dv = s->dv + r;
      float qg1 = 0, kdkt = 0, vdxv = 0, kdxn = 0;
      for (int d = 0; d < dh; d++) {
        qg1 += q[d] * g1[d], kdkt += k[d] * dkt[d], vdxv += v[d] * dxv[d], kdxn += k[d] * dxn[d];
        dq[d] = gam[t] * g1[d];
        dk[d] = dec[t] * dkt[d] - beta[t] * gam[t] * dxn[d];
        dv[d] = beta[t] * dxv[d];
      }
      float e = dec[t] * kdkt;
      e_sum += e;
      dg[t] += gam[t] * qg1 - beta[t] * gam[t] * kdxn - e;
      db[t] += vdxv - gam[t] * kdxn;
    }
    /* The state term <M, dM'>: dM' is dstate of the next chunk (zeros after the last). */
    const float *m = sv->state + n * st, *dm = s->dstate + (n + p->BH) * st;
    float md = 0;
    for (int64_t e = 0; e < st; e++) md += m[e] * dm[e];
    dg[L - 1] += e_sum + gam[L - 1] * md;
    /* dla = reverse cumsum of dg. */
    float *dla = s->dg + n * L;
    for (int t = L - 1; t >= 0; t--) dla[t] = (float)(dg[t] += t + 1 < L ? dg[t + 1] : 0.0);
  }
}

/* dqkv (R, 3HD), dla, dbeta (R, H) overwritten (row layout); saved as left by
 * gdn_forward; dout (R, HD) = dL/do. */
void gdn_backward(float *dqkv, float *dla, float *dbeta, float *saved, float *scratch, const float *dout,
                  const GdnPlan *p) {
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  GdnSaved sv = gdn_saved_views(&saved_cv, p);
  GdnScratch s = gdn_scratch_views(&scratch_cv, p);
  int64_t HD = (int64_t)p->H * p->dh, L = p->chunk, dh = p->dh, BH = p->BH, NB = p->NB;
  int64_t blk = L * dh, st = dh * dh;
  float *dO = s.o;
  rows_to_blocks(dO, dout, HD, p->dh, p);
  chunk_local(&s, &sv, p);
  /* W = U + Wn M for all blocks at once (the chunk-start states are saved). */
  dnn_matmul(s.w, s.wn, sv.state, NB, L, dh, dh, 0, 0, 1);
  /* State-independent parts of dW and dM: dW = P^T dO, dM = (gam Q)^T dO. */
  dnn_matmul(s.dw, s.p, dO, NB, L, L, dh, 1, 0, 0);
  dnn_matmul(s.dstate, s.qg, dO, NB, dh, L, dh, 1, 0, 0);
  memset(s.dstate + NB * st, 0, (size_t)(BH * st) * sizeof(float));
  /* Chunk after chunk, backward: dW_c += Kt_c dM_{c+1};
   * dM_c += gam_last dM_{c+1} + Wn_c^T dW_c. */
  for (int c = p->nc - 1; c >= 0; c--) {
    int64_t n0 = c * BH;
    float *dw = s.dw + n0 * blk, *dm = s.dstate + n0 * st, *dnext = dm + BH * st;
    if (c + 1 < p->nc) {
      dnn_matmul(dw, s.kt + n0 * blk, dnext, BH, L, dh, dh, 0, 0, 1);
      for (int64_t j = 0; j < BH; j++) {
        float decay = s.gam[(n0 + j) * L + L - 1];
        for (int64_t e = 0; e < st; e++) dm[j * st + e] += decay * dnext[j * st + e];
      }
    }
    if (c > 0) dnn_matmul(dm, s.wn + n0 * blk, dw, BH, dh, L, dh, 1, 0, 1);
  }
  /* All blocks at once. */
  dnn_matmul(s.g1, dO, sv.state, NB, L, dh, dh, 0, 1, 0);                /* dO M^T   (NB, L, dk) */
  dnn_matmul(s.dp, dO, s.w, NB, L, dh, L, 0, 1, 0);                      /* dO W^T   (NB, L, L) */
  dnn_matmul(s.dkt, s.w, s.dstate + BH * st, NB, L, dh, dh, 0, 1, 0);   /* W dM'^T  (NB, L, dk) */
  dnn_matmul(s.dxv, s.tm, s.dw, NB, L, L, dh, 1, 0, 0);                  /* Tm^T dW  (NB, L, dv) */
  dnn_matmul(s.dxn, s.dxv, sv.state, NB, L, dh, dh, 0, 1, 0);            /* dxv M^T  (NB, L, dk) */
  dnn_matmul(s.da, s.dxv, s.w, NB, L, dh, L, 0, 1, 0);                   /* -dA = dxv W^T (NB, L, L) */
  backward_blocks(&s, &sv, p);
  dnn_matmul(s.dq, s.dp, sv.k, NB, L, L, dh, 0, 0, 1); /* dQ += dQK K */
  dnn_matmul(s.dk, s.dp, sv.q, NB, L, L, dh, 1, 0, 1); /* dK += dQK^T Q */
  dnn_matmul(s.dk, s.da, sv.k, NB, L, L, dh, 0, 0, 1); /* dK += (dKK + dKK^T) K */
  blocks_to_rows(dqkv, s.dq, 3 * HD, p->dh, p);
  blocks_to_rows(dqkv + HD, s.dk, 3 * HD, p->dh, p);
  blocks_to_rows(dqkv + 2 * HD, s.dv, 3 * HD, p->dh, p);
  blocks_to_rows(dla, s.dg, p->H, 1, p);
  blocks_to_rows(dbeta, s.dbeta, p->H, 1, p);
}

/* ---------- plain sequential reference ---------- */

/* o (R, HD) from qkv (R, 3HD) = [q | k | v] (already normalised and scaled),
 * la, beta (R, H), by the recurrence in DESIGN.md's form (S: dv x dk), double state. */
void gdn_reference_forward(float *o, const float *qkv, const float *la, const float *beta, int B, int T, int H,
                           int dh) {
  int64_t HD = (int64_t)H * dh;
  double *S = hb_malloc((size_t)dh * dh * sizeof(double)), *Sk = hb_malloc((size_t)dh * sizeof(double));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      memset(S, 0, (size_t)dh * dh * sizeof(double));
      for (int t = 0; t < T; t++) {
        int64_t r = (int64_t)b * T + t;
        const float *q = qkv + r * 3 * HD + (int64_t)h * dh, *k = q + HD, *v = q + 2 * HD;
        double alpha = exp((double)la[r * H + h]), bt = beta[r * H + h];
        for (int i = 0; i < dh; i++) { /* Sk = S_{t-1} k_t */
          Sk[i] = 0;
          for (int j = 0; j < dh; j++) Sk[i] += S[i * dh + j] * k[j];
        }
        /* S_t = alpha S_{t-1} (I - beta k k^T) + beta v k^T */
        for (int i = 0; i < dh; i++)
          for (int j = 0; j < dh; j++)
            S[i * dh + j] = alpha * (S[i * dh + j] - bt * Sk[i] * k[j]) + bt * v[i] * k[j];
        for (int i = 0; i < dh; i++) {
          double acc = 0;
          for (int j = 0; j < dh; j++) acc += S[i * dh + j] * q[j];
          o[r * HD + (int64_t)h * dh + i] = (float)acc;
        }
      }
    }
  free(S);
  free(Sk);
}

/* Backpropagation through time of gdn_reference_forward: dqkv (R, 3HD), dla,
 * dbeta (R, H) overwritten from dout (R, HD). Keeps all T + 1 states. */
void gdn_reference_backward(float *dqkv, float *dla, float *dbeta, const float *dout, const float *qkv,
                            const float *la, const float *beta, int B, int T, int H, int dh) {
  int64_t HD = (int64_t)H * dh, st = (int64_t)dh * dh;
  double *S = hb_malloc((size_t)(T + 1) * st * sizeof(double)), *dS = hb_malloc((size_t)st * sizeof(double));
  double *p = hb_malloc((size_t)dh * sizeof(double)), *dSk = hb_malloc((size_t)dh * sizeof(double));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      memset(S, 0, (size_t)st * sizeof(double));
      for (int t = 0; t < T; t++) {
        int64_t r = (int64_t)b * T + t;
        const float *k = qkv + r * 3 * HD + HD + (int64_t)h * dh, *v = k + HD;
        double alpha = exp((double)la[r * H + h]), bt = beta[r * H + h];
        const double *S0 = S + (int64_t)t * st;
        double *S1 = S + (int64_t)(t + 1) * st;
        for (int i = 0; i < dh; i++) {
          p[i] = 0;
          for (int j = 0; j < dh; j++) p[i] += S0[i * dh + j] * k[j];
        }
        for (int i = 0; i < dh; i++)
          for (int j = 0; j < dh; j++)
            S1[i * dh + j] = alpha * (S0[i * dh + j] - bt * p[i] * k[j]) + bt * v[i] * k[j];
      }
      memset(dS, 0, (size_t)st * sizeof(double));
      for (int t = T - 1; t >= 0; t--) {
        int64_t r = (int64_t)b * T + t;
        const float *q = qkv + r * 3 * HD + (int64_t)h * dh, *k = q + HD, *v = q + 2 * HD;
        const float *dO = dout + r * HD + (int64_t)h * dh;
        float *dq = dqkv + r * 3 * HD + (int64_t)h * dh, *dk = dq + HD, *dv = dq + 2 * HD;
        double alpha = exp((double)la[r * H + h]), bt = beta[r * H + h];
        const double *S0 = S + (int64_t)t * st, *S1 = S + (int64_t)(t + 1) * st;
        /* o_t = S_t q_t */
        for (int i = 0; i < dh; i++)
          for (int j = 0; j < dh; j++) dS[i * dh + j] += dO[i] * q[j];
        for (int j = 0; j < dh; j++) {
          double acc = 0;
          for (int i = 0; i < dh; i++) acc += S1[i * dh + j] * dO[i];
          dq[j] = (float)acc;
        }
        /* S_t = alpha S0 - alpha beta p k^T + beta v k^T, p = S0 k */
        for (int i = 0; i < dh; i++) {
          p[i] = 0, dSk[i] = 0;
          for (int j = 0; j < dh; j++) p[i] += S0[i * dh + j] * k[j], dSk[i] += dS[i * dh + j] * k[j];
        }
        double dalpha = 0, pdSk = 0, vdSk = 0;
        for (int i = 0; i < dh; i++) {
          for (int j = 0; j < dh; j++) dalpha += dS[i * dh + j] * S0[i * dh + j];
          pdSk += p[i] * dSk[i], vdSk += v[i] * dSk[i];
        }
        dalpha -= bt * pdSk;
        dla[r * H + h] = (float)(dalpha * alpha);
        dbeta[r * H + h] = (float)(vdSk - alpha * pdSk);
        for (int i = 0; i < dh; i++) dv[i] = (float)(bt * dSk[i]);
        for (int j = 0; j < dh; j++) {
          double dSTv = 0, dSTp = 0, S0TdSk = 0;
          for (int i = 0; i < dh; i++)
            dSTv += dS[i * dh + j] * v[i], dSTp += dS[i * dh + j] * p[i], S0TdSk += S0[i * dh + j] * dSk[i];
          dk[j] = (float)(bt * dSTv - alpha * bt * (dSTp + S0TdSk));
        }
        /* dS_{t-1} = alpha dS - alpha beta (dS k) k^T */
        for (int i = 0; i < dh; i++)
          for (int j = 0; j < dh; j++) dS[i * dh + j] = alpha * (dS[i * dh + j] - bt * dSk[i] * k[j]);
      }
    }
  free(S), free(dS), free(p), free(dSk);
}

/* ---------- the G mixer ----------
 * Parameters (arena order = this enum): q, k, v projections (HD, C) adjacent,
 * so they are one (3HD, C) GEMM; g (HD, C), a (H, C), b (H, C) adjacent, one
 * (HD + 2H, C) GEMM; o (C, HD); q, k, v convs (HD, 1, K) adjacent, one
 * (3HD, 1, K) depthwise conv; A_log (H); dt_bias (H); norm (dh). */
enum {
  GDN_Q, GDN_K, GDN_V, GDN_G, GDN_A, GDN_B, GDN_O,
  GDN_QCONV, GDN_KCONV, GDN_VCONV, GDN_ALOG, GDN_DTBIAS, GDN_NORM, GDN_N_PARAMS
};

static int gdn_mixer_param_specs(MixerParamSpec *specs, const ModelConfig *cfg) {
  int64_t C = cfg->d_model, H = cfg->n_heads, dh = cfg->head_dim, HD = H * dh;
  specs[GDN_Q] = (MixerParamSpec){"q_proj.weight", 2, {HD, C}, INIT_NORMAL, 1};
  specs[GDN_K] = (MixerParamSpec){"k_proj.weight", 2, {HD, C}, INIT_NORMAL, 1};
  specs[GDN_V] = (MixerParamSpec){"v_proj.weight", 2, {HD, C}, INIT_NORMAL, 1};
  specs[GDN_G] = (MixerParamSpec){"g_proj.weight", 2, {HD, C}, INIT_NORMAL, 1};
  specs[GDN_A] = (MixerParamSpec){"a_proj.weight", 2, {H, C}, INIT_NORMAL, 1};
  specs[GDN_B] = (MixerParamSpec){"b_proj.weight", 2, {H, C}, INIT_NORMAL, 1};
  specs[GDN_O] = (MixerParamSpec){"o_proj.weight", 2, {C, HD}, INIT_NORMAL, 1};
  specs[GDN_QCONV] = (MixerParamSpec){"q_conv.weight", 3, {HD, 1, GDN_CONV_K}, INIT_MIXER, 0};
  specs[GDN_KCONV] = (MixerParamSpec){"k_conv.weight", 3, {HD, 1, GDN_CONV_K}, INIT_MIXER, 0};
  specs[GDN_VCONV] = (MixerParamSpec){"v_conv.weight", 3, {HD, 1, GDN_CONV_K}, INIT_MIXER, 0};
  specs[GDN_ALOG] = (MixerParamSpec){"A_log", 1, {H}, INIT_MIXER, 0};
  specs[GDN_DTBIAS] = (MixerParamSpec){"dt_bias", 1, {H}, INIT_MIXER, 0};
  specs[GDN_NORM] = (MixerParamSpec){"norm.weight", 1, {dh}, INIT_ONES, 0};
  return GDN_N_PARAMS;
}

static void gdn_mixer_init_custom(float *const *w, const ModelConfig *cfg, HbRng *rng) {
  int H = cfg->n_heads, HD = cfg->n_heads * cfg->head_dim;
  for (int k = GDN_QCONV; k <= GDN_VCONV; k++)
    for (int i = 0; i < HD * GDN_CONV_K; i++) w[k][i] = (float)(rng_uniform(rng) - 0.5);
  for (int h = 0; h < H; h++) w[GDN_ALOG][h] = (float)log(1.0 + 15.0 * rng_uniform(rng));
  for (int h = 0; h < H; h++) {
    double lo = log(1e-3), hi = log(1e-1);
    double dt = exp(lo + (hi - lo) * rng_uniform(rng));
    w[GDN_DTBIAS][h] = (float)(dt + log(-expm1(-dt))); /* softplus^-1(dt) */
  }
}

static void gdn_plan_of(GdnPlan *p, const MixerShape *s) {
  gdn_plan(p, s->B, s->T, s->cfg->n_heads, s->cfg->head_dim, GDN_CHUNK);
}

/* Saved from forward to backward. */
typedef struct {
  float *xqkv; /* (R, 3HD) projections = the conv input */
  float *gab;  /* (R, HD + 2H) [g | a | b] projections, raw */
  float *o;    /* (R, HD) the recurrence output */
  float *rstd; /* (R*H) of the head norm */
  float *core; /* gdn_forward's saved */
} GdnMixerSaved;

/* Scratch (forward uses qkv_a, qkv_b, la, beta, y and the core's). */
typedef struct {
  float *qkv_a;     /* (R, 3HD) conv output */
  float *qkv_b;     /* (R, 3HD) forward: normalised q, k, v; backward: their gradient */
  float *qkv_c;     /* (R, 3HD) backward: silu output, then its gradient */
  float *la, *beta; /* (R, H) */
  float *dla, *dbeta; /* (R, H) */
  float *y;           /* (R, HD) gated y = RMSNorm_head(o) * silu(g) */
  float *dy_o, *don, *dout; /* (R, HD) dL/dy, dL/don, dL/do */
  float *dgab;      /* (R, HD + 2H) */
  float *core;      /* the core's scratch */
} GdnMixerScratch;

static GdnMixerSaved gdn_mixer_saved_views(HbCarver *cv, const MixerShape *s) {
  size_t R = (size_t)s->B * s->T, H = s->cfg->n_heads, HD = H * s->cfg->head_dim;
  GdnPlan p;
  gdn_plan_of(&p, s);
  GdnMixerSaved v;
  v.xqkv = hb_carve(cv, R * 3 * HD);
  v.gab = hb_carve(cv, R * (HD + 2 * H));
  v.o = hb_carve(cv, R * HD);
  v.rstd = hb_carve(cv, R * H);
  v.core = hb_carve(cv, gdn_saved_floats(&p));
  return v;
}

static GdnMixerScratch gdn_mixer_scratch_views(HbCarver *cv, const MixerShape *s) {
  size_t R = (size_t)s->B * s->T, H = s->cfg->n_heads, HD = H * s->cfg->head_dim;
  GdnPlan p;
  gdn_plan_of(&p, s);
  GdnMixerScratch v;
  v.qkv_a = hb_carve(cv, R * 3 * HD), v.qkv_b = hb_carve(cv, R * 3 * HD), v.qkv_c = hb_carve(cv, R * 3 * HD);
  v.la = hb_carve(cv, R * H), v.beta = hb_carve(cv, R * H), v.dla = hb_carve(cv, R * H), v.dbeta = hb_carve(cv, R * H);
  v.y = hb_carve(cv, R * HD);
  v.dy_o = hb_carve(cv, R * HD), v.don = hb_carve(cv, R * HD), v.dout = hb_carve(cv, R * HD);
  v.dgab = hb_carve(cv, R * (HD + 2 * H));
  v.core = hb_carve(cv, gdn_scratch_floats(&p));
  return v;
}

/* Sizes do not depend on s->window: a context limit (analyses, forward only)
 * runs through mixer_limited_forward on ordinary unlimited calls. */
static CARVED_FLOATS(gdn_mixer_saved_floats, gdn_mixer_saved_views, MixerShape)
static CARVED_FLOATS(gdn_mixer_scratch_floats, gdn_mixer_scratch_views, MixerShape)

static void check_adjacent(const float *const *w, const ModelConfig *cfg) {
  size_t C = cfg->d_model, H = cfg->n_heads, HD = H * cfg->head_dim;
  HB_ASSERT(w[GDN_K] == w[GDN_Q] + HD * C && w[GDN_V] == w[GDN_K] + HD * C,
            "q, k, v projections are adjacent in the arena (one GEMM)");
  HB_ASSERT(w[GDN_A] == w[GDN_G] + HD * C && w[GDN_B] == w[GDN_A] + H * C,
            "g, a, b projections are adjacent in the arena (one GEMM)");
  HB_ASSERT(w[GDN_KCONV] == w[GDN_QCONV] + HD * GDN_CONV_K && w[GDN_VCONV] == w[GDN_KCONV] + HD * GDN_CONV_K,
            "q, k, v conv weights are adjacent in the arena (one depthwise conv)");
}

/* la, beta (R, H) from gab's a and b columns. */
static void gates_forward(float *la, float *beta, const float *gab, const float *const *w, int64_t R, int H, int HD) {
  int64_t stride = HD + 2 * H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++)
    for (int h = 0; h < H; h++) {
      float a = gab[r * stride + HD + h], b = gab[r * stride + HD + H + h];
      la[r * H + h] = -expf(w[GDN_ALOG][h]) * hb_softplusf(a + w[GDN_DTBIAS][h]);
      beta[r * H + h] = hb_sigmoidf(b);
    }
}

/* In place over the q and k parts of qkv (R, 3HD): x / sqrt(|x|^2 + eps) per
 * head, q also scaled by 1/sqrt(dh). */
static void l2norm_forward(float *qkv, int64_t R, int H, int dh) {
  int64_t HD = (int64_t)H * dh;
  float qscale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++)
    for (int part = 0; part < 2; part++)
      for (int h = 0; h < H; h++) {
        float *x = qkv + r * 3 * HD + part * HD + (int64_t)h * dh, ss = 0;
        for (int d = 0; d < dh; d++) ss += x[d] * x[d];
        float sc = 1.0f / sqrtf(ss + GDN_L2_EPS) * (part == 0 ? qscale : 1.0f);
        for (int d = 0; d < dh; d++) x[d] *= sc;
      }
}

/* dx = c (r dy - r^3 x (x . dy)), r = (|x|^2 + eps)^-1/2, over the q and k
 * parts; dqkv (R, 3HD) holds dy on entry and dx on exit; x = sqkv (pre-norm). */
static void l2norm_backward(float *dqkv, const float *sqkv, int64_t R, int H, int dh) {
  int64_t HD = (int64_t)H * dh;
  float qscale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++)
    for (int part = 0; part < 2; part++)
      for (int h = 0; h < H; h++) {
        int64_t off = r * 3 * HD + part * HD + (int64_t)h * dh;
        const float *x = sqkv + off;
        float *dy = dqkv + off, ss = 0, xdy = 0;
        for (int d = 0; d < dh; d++) ss += x[d] * x[d], xdy += x[d] * dy[d];
        float rn = 1.0f / sqrtf(ss + GDN_L2_EPS), c = part == 0 ? qscale : 1.0f;
        float k = rn * rn * rn * xdy;
        for (int d = 0; d < dh; d++) dy[d] = c * (rn * dy[d] - k * x[d]);
      }
}

static void gdn_mixer_forward(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                              const MixerShape *s) {
  if (mixer_context_limited(s)) {
    mixer_limited_forward(&gdn_ops, out, saved, scratch, u, w, s);
    return;
  }
  check_adjacent(w, s->cfg);
  GdnPlan p;
  gdn_plan_of(&p, s);
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  GdnMixerSaved sv = gdn_mixer_saved_views(&saved_cv, s);
  GdnMixerScratch sc = gdn_mixer_scratch_views(&scratch_cv, s);
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, H = p.H, dh = p.dh, HD = H * dh;
  dnn_linear_forward(sv.xqkv, u, w[GDN_Q], R, C, 3 * HD);
  dnn_linear_forward(sv.gab, u, w[GDN_G], R, C, HD + 2 * H);
  conv1d_causal_forward(sc.qkv_a, sv.xqkv, w[GDN_QCONV], NULL, s->B, s->T, (int)(3 * HD), GDN_CONV_K);
  silu_forward(sc.qkv_b, sc.qkv_a, R * 3 * HD);
  l2norm_forward(sc.qkv_b, R, (int)H, (int)dh);
  gates_forward(sc.la, sc.beta, sv.gab, w, R, (int)H, (int)HD);
  gdn_forward(sv.o, sv.core, sc.core, sc.qkv_b, sc.la, sc.beta, &p);
  gated_rmsnorm_forward(sc.y, sv.rstd, sv.o, w[GDN_NORM], sv.gab, HD + 2 * H, R, (int)H, (int)dh);
  dnn_matmul(out, sc.y, w[GDN_O], 1, R, HD, C, 0, 1, 1); /* out += y . Wo^T */
}

static void gdn_mixer_backward(float *du, float *const *g, float *saved, float *scratch, const float *dy,
                               const float *u, const float *const *w, const MixerShape *s) {
  HB_ASSERT(!mixer_context_limited(s), "the inference-time context limit has no backward (analyses only)");
  check_adjacent(w, s->cfg);
  GdnPlan p;
  gdn_plan_of(&p, s);
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  GdnMixerSaved sv = gdn_mixer_saved_views(&saved_cv, s);
  GdnMixerScratch sc = gdn_mixer_scratch_views(&scratch_cv, s);
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, H = p.H, dh = p.dh, HD = H * dh, gs = HD + 2 * H;
  /* out = y . Wo^T,  y = on * silu(g),  on = RMSNorm_head(o) */
  gated_rmsnorm_recompute(sc.y, sv.o, sv.rstd, w[GDN_NORM], sv.gab, gs, R, (int)H, (int)dh);
  dnn_linear_backward(sc.dy_o, g[GDN_O], dy, sc.y, w[GDN_O], R, HD, C, 0);
  gated_rmsnorm_backward(sc.dout, g[GDN_NORM], sc.dgab, gs, sc.don, sc.dy_o, sv.o, sv.rstd, w[GDN_NORM], sv.gab, gs, R,
                         (int)H, (int)dh);
  /* the recurrence: d(q, k, v normalised) into qkv_b, dla, dbeta */
  gdn_backward(sc.qkv_b, sc.dla, sc.dbeta, sv.core, sc.core, sc.dout, &p);
  /* gates: la = -exp(A_log) softplus(a + dt_bias) (so dla/dA_log = la), beta = sigmoid(b);
   * the per-head sums run in row order (same result for any thread count). */
  for (int64_t h = 0; h < H; h++) {
    float A = expf(w[GDN_ALOG][h]);
    double dalog = 0, ddt = 0;
    for (int64_t r = 0; r < R; r++) {
      float a = sv.gab[r * gs + HD + h] + w[GDN_DTBIAS][h], b = sv.gab[r * gs + HD + H + h];
      float dla = sc.dla[r * H + h], sb = hb_sigmoidf(b);
      float da = -dla * A * hb_sigmoidf(a); /* softplus' = sigmoid */
      dalog += (double)dla * (-A * hb_softplusf(a));
      ddt += da;
      sc.dgab[r * gs + HD + h] = da;
      sc.dgab[r * gs + HD + H + h] = sc.dbeta[r * H + h] * sb * (1.0f - sb);
    }
    g[GDN_ALOG][h] += (float)dalog;
    g[GDN_DTBIAS][h] += (float)ddt;
  }
  /* q, k, v: l2 norm, silu, conv, recomputed from the saved conv input */
  conv1d_causal_forward(sc.qkv_a, sv.xqkv, w[GDN_QCONV], NULL, s->B, s->T, (int)(3 * HD), GDN_CONV_K);
  silu_forward(sc.qkv_c, sc.qkv_a, R * 3 * HD);
  l2norm_backward(sc.qkv_b, sc.qkv_c, R, (int)H, (int)dh);
  silu_backward(sc.qkv_c, sc.qkv_b, sc.qkv_a, R * 3 * HD);  /* qkv_c = dL/d(conv output) */
  conv1d_causal_backward(sc.qkv_a, g[GDN_QCONV], NULL, sc.qkv_c, sv.xqkv, w[GDN_QCONV], s->B, s->T, (int)(3 * HD),
                         GDN_CONV_K);                      /* qkv_a = dL/dxqkv */
  /* projections */
  dnn_linear_backward(du, g[GDN_Q], sc.qkv_a, u, w[GDN_Q], R, C, 3 * HD, 0);
  dnn_linear_backward(du, g[GDN_G], sc.dgab, u, w[GDN_G], R, C, gs, 1);
}

const MixerOps gdn_ops = HB_MIXER_OPS('G', "gdn", gdn, gdn_mixer_init_custom);
