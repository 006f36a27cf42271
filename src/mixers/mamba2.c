/* Mamba-2 (layer letter M): the chunked scan, the mixer around it and its plain
 * sequential reference. The mixer's math, conventions and legend are in
 * include/hybench/mamba2.h.
 *
 * Fast path: the chunked "state space duality" form (Dao & Gu, 2024). Within a chunk, with
 * cum_q = sum_{r<=q} -dt_r A_h (inclusive, per head) and xdt_s = dt_s x_s:
 *   y_intra = (Cm Bm^T  .*  L) xdt,   L[t,s] = exp(cum_t - cum_s) for s <= t, else 0
 *   y_inter[t] = exp(cum_t) S_prev Cm_t,   S_prev = the state entering the chunk
 *   S_end = exp(cum_{Q-1}) S_prev + sum_s exp(cum_{Q-1} - cum_s) xdt_s Bm_s^T
 * Every product is one batched dnn_matmul: G = Cm Bm^T over (B, chunks) (one group, so G is
 * shared by the heads), (G .* L_h) xdt_h over (B, chunks, H), the chunk states over (B,
 * chunks) with all heads at once (DI rows), and y_inter likewise; only the walk of the states
 * across chunks is a loop (nc steps of DI*N). Every exponent is <= 0 (differences of a
 * decreasing cum), so nothing overflows however strong the decay. Padding rows (t >= T) get
 * dt = 0, x = Bm = Cm = 0: they neither decay nor feed the state.
 * Backward recomputes the chunk tensors (G, L, G.*L, the weighted inputs) from the saved
 * conv output and dt, and walks the state gradients back across chunks.
 *
 * Memory: saved = R*(DI + CX + H + CX + DI + 1) + B*Tp*H + NC*DI*N floats (the in_proj parts,
 * the conv output, the SSM output, the norm's rstd, dt, and the state entering each chunk:
 * state checkpoints every Q steps); scratch is dominated by three (NC, H, Q, Q) = B*Tp*H*Q
 * buffers and a dozen (R, DI)-sized ones; all linear in T.
 *
 * Chunk size Q = MAMBA2_CHUNK = 16, measured (mixer alone, forward + backward, thread CPU
 * time, best of 11, 1 thread, on a shared 2-core Xeon with AVX-512), e.g. C=128, P=16, N=16
 * (DI=256, H=16), B=8, T=512: Q=8 63.4 ms, Q=16 59.7, Q=32 62.5, Q=64 79.4 (the F attention
 * mixer, 4 heads x 32, same B and T: 65.6 ms). Q=16 was best or tied at every shape tried
 * (C 64-128, P 16-32, T 128-512, B 8-32) and needs the least memory. About 45% of the time
 * is matmuls, two thirds of it the in/out projections; the rest is memory-bound elementwise
 * passes (gathers into the chunk layouts, silu, conv, gate, norm).
 *
 * Init (following mamba_ssm's Mamba2 and the reference): in_proj, out_proj N(0, init_std^2)
 * with weight decay; conv1d weight and bias U(-1/2, 1/2) = PyTorch's Conv1d default for
 * fan_in = 1*4 (mamba_ssm leaves both at that default); dt_bias = softplus^-1(dt) with
 * dt = exp(U[log 1e-3, log 1e-1]) floored at 1e-4; A_log = log(U[1, 16]); D = 1; norm gain 1.
 * No weight decay on conv, dt_bias, A_log, D, norm. */
#include <math.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/dnn.h"
#include "hybench/mamba2.h"
#include "kernels.h"

#define M2_CONV_K 4

enum { M2_IN, M2_CONV_W, M2_CONV_B, M2_DT_BIAS, M2_A_LOG, M2_D, M2_NORM, M2_OUT, M2_N_PARAMS };

/* The sizes that depend on the config only (B, T and the chunk are left unset). */
static void m2_dims(Mamba2Plan *p, const ModelConfig *cfg) {
  HB_ASSERT(cfg->expand >= 1 && cfg->state_size >= 1 && cfg->mamba_head_dim >= 1,
            "config.c requires expand, state_size, mamba_head_dim >= 1 for M layers");
  HB_ASSERT((int64_t)cfg->expand * cfg->d_model <= 1 << 16 && cfg->state_size <= 1 << 12,
            "config.c bounds d_inner and state_size, so every size below fits an int");
  memset(p, 0, sizeof *p);
  p->C = cfg->d_model;
  p->DI = cfg->expand * cfg->d_model;
  p->N = cfg->state_size;
  p->P = cfg->mamba_head_dim;
  HB_ASSERT(p->DI % p->P == 0, "config.c requires expand * d_model divisible by mamba_head_dim");
  p->H = p->DI / p->P;
  p->CX = p->DI + 2 * p->N;
  p->Z = 2 * p->DI + 2 * p->N + p->H;
}

void mamba2_plan(Mamba2Plan *p, const ModelConfig *cfg, int B, int T, int chunk) {
  HB_ASSERT(B >= 1 && T >= 1, "a mixer call has at least one row");
  HB_ASSERT(chunk >= 1, "a chunk holds at least one step");
  m2_dims(p, cfg);
  p->B = B, p->T = T;
  p->chunk = chunk;
  p->nc = (T + chunk - 1) / chunk;
  p->Tp = p->nc * chunk;
  p->R = (int64_t)B * T;
  p->NC = (int64_t)B * p->nc;
}

/* ---------- parameters and init ---------- */

static int mamba2_mixer_param_specs(MixerParamSpec *specs, const ModelConfig *cfg) {
  Mamba2Plan p;
  m2_dims(&p, cfg);
  specs[M2_IN] = (MixerParamSpec){"in_proj.weight", 2, {p.Z, p.C}, INIT_NORMAL, 1};
  specs[M2_CONV_W] = (MixerParamSpec){"conv1d.weight", 3, {p.CX, 1, M2_CONV_K}, INIT_MIXER, 0};
  specs[M2_CONV_B] = (MixerParamSpec){"conv1d.bias", 1, {p.CX}, INIT_MIXER, 0};
  specs[M2_DT_BIAS] = (MixerParamSpec){"dt_bias", 1, {p.H}, INIT_MIXER, 0};
  specs[M2_A_LOG] = (MixerParamSpec){"A_log", 1, {p.H}, INIT_MIXER, 0};
  specs[M2_D] = (MixerParamSpec){"D", 1, {p.H}, INIT_MIXER, 0};
  specs[M2_NORM] = (MixerParamSpec){"norm.weight", 1, {p.DI}, INIT_ONES, 0};
  specs[M2_OUT] = (MixerParamSpec){"out_proj.weight", 2, {p.C, p.DI}, INIT_NORMAL, 1};
  return M2_N_PARAMS;
}

static void mamba2_mixer_init_custom(float *const *w, const ModelConfig *cfg, HbRng *rng) {
  Mamba2Plan p;
  m2_dims(&p, cfg);
  double bound = 1.0 / sqrt((double)M2_CONV_K); /* kaiming_uniform(a = sqrt 5): 1/sqrt(fan_in) */
  for (int64_t i = 0; i < (int64_t)p.CX * M2_CONV_K; i++) w[M2_CONV_W][i] = (float)(bound * (2 * rng_uniform(rng) - 1));
  for (int i = 0; i < p.CX; i++) w[M2_CONV_B][i] = (float)(bound * (2 * rng_uniform(rng) - 1));
  double lo = log(1e-3), hi = log(1e-1);
  for (int h = 0; h < p.H; h++) {
    double dt = exp(lo + (hi - lo) * rng_uniform(rng));
    dt = dt < 1e-4 ? 1e-4 : dt;
    w[M2_DT_BIAS][h] = (float)(dt + log(-expm1(-dt))); /* softplus^-1 */
  }
  for (int h = 0; h < p.H; h++) w[M2_A_LOG][h] = (float)log(1 + 15 * rng_uniform(rng));
  for (int h = 0; h < p.H; h++) w[M2_D][h] = 1.0f;
}

/* ---------- buffers ---------- */

typedef struct {
  float *z;       /* (R, DI) gate input */
  float *xbc_pre; /* (R, CX) conv input */
  float *dt_raw;  /* (R, H) dt before dt_bias and softplus */
  float *conv;    /* (R, CX) conv output, before silu */
  float *y;       /* (R, DI) SSM output including D x, before the gate */
  float *rstd;    /* (R) of the gated RMSNorm */
  float *dtg;     /* (NC, H, Q) dt = softplus(dt_raw + dt_bias), 0 on padding */
  float *state;   /* (NC, DI, N) the state entering each chunk (head h = rows h*P..) */
} Mamba2Saved;

typedef struct {
  /* both passes (m2_prepare) */
  float *A;       /* (H) exp(A_log) */
  float *xbc;     /* (R, CX) silu(conv) */
  float *cum;     /* (NC, H, Q) inclusive cumulative log decay within the chunk */
  float *ecum;    /* (NC, H, Q) exp(cum) */
  float *wq;      /* (NC, H, Q) exp(cum[Q-1] - cum) */
  float *xg;      /* (NC, H, Q, P) dt*x, head-major */
  float *xw;      /* (B, Tp, DI) exp(cum[Q-1] - cum[q]) dt*x, token-major */
  float *bg, *cg; /* (B, Tp, N) Bm, Cm, zero on padding */
  float *gm;      /* (NC, Q, Q) Cm Bm^T */
  float *mm;      /* (NC, H, Q, Q) G .* L */
  float *y0;      /* (B, Tp, DI) Cm S_prev^T */
  float *gated;   /* (R, DI) y * silu(z) */
  float *normed;  /* (R, DI) RMSNorm(gated) */
  /* forward only */
  float *zx;      /* (R, Z) in_proj output */
  float *yg;      /* (NC, H, Q, P) y_intra */
  float *sloc;    /* (NC, DI, N) a chunk's own contribution to its end state */
  /* backward only */
  float *lm;      /* (NC, H, Q, Q) L */
  float *dnormed; /* (R, DI) */
  float *dgated;  /* (R, DI) */
  float *dys;     /* (R, DI) gradient of the SSM output y */
  float *dyg;     /* (NC, H, Q, P) dys head-major */
  float *dy0;     /* (B, Tp, DI) exp(cum) dys, token-major */
  float *dm;      /* (NC, H, Q, Q) */
  float *dxg;     /* (NC, H, Q, P) */
  float *dgm;     /* (NC, Q, Q) */
  float *dbg, *dcg; /* (B, Tp, N) */
  float *dsin;    /* (NC, DI, N) gradient of S_prev through the chunk's y_inter */
  float *gs;      /* (NC, DI, N) gradient of the state leaving each chunk */
  float *dxw;     /* (B, Tp, DI) */
  float *dcum;    /* (NC, H, Q) */
  float *part;    /* (NC, 3, H) per-chunk sums for dD, dA, ddt_bias (reduced in order) */
  float *dxbc;    /* (R, CX) */
  float *dconv;   /* (R, CX) */
  float *dxbc_pre; /* (R, CX) */
  float *dzx;     /* (R, Z) [dz | dxBC | ddt_raw] */
} Mamba2Scratch;

static Mamba2Saved mamba2_saved_views(HbCarver *cv, const Mamba2Plan *p) {
  Mamba2Saved v;
  size_t R = (size_t)p->R;
  v.z = hb_carve(cv, R * p->DI);
  v.xbc_pre = hb_carve(cv, R * p->CX);
  v.dt_raw = hb_carve(cv, R * p->H);
  v.conv = hb_carve(cv, R * p->CX);
  v.y = hb_carve(cv, R * p->DI);
  v.rstd = hb_carve(cv, R);
  v.dtg = hb_carve(cv, (size_t)p->NC * p->H * p->chunk);
  v.state = hb_carve(cv, (size_t)p->NC * p->DI * p->N);
  return v;
}

static Mamba2Scratch mamba2_scratch_views(HbCarver *cv, const Mamba2Plan *p) {
  Mamba2Scratch v;
  size_t R = (size_t)p->R, NC = (size_t)p->NC, Q = (size_t)p->chunk, H = (size_t)p->H;
  size_t padded = (size_t)p->B * p->Tp, qq = NC * H * Q * Q, heads = NC * H * Q * p->P;
  v.A = hb_carve(cv, H);
  v.xbc = hb_carve(cv, R * p->CX);
  v.cum = hb_carve(cv, NC * H * Q);
  v.ecum = hb_carve(cv, NC * H * Q);
  v.wq = hb_carve(cv, NC * H * Q);
  v.xg = hb_carve(cv, heads);
  v.xw = hb_carve(cv, padded * p->DI);
  v.bg = hb_carve(cv, padded * p->N);
  v.cg = hb_carve(cv, padded * p->N);
  v.gm = hb_carve(cv, NC * Q * Q);
  v.mm = hb_carve(cv, qq);
  v.y0 = hb_carve(cv, padded * p->DI);
  v.gated = hb_carve(cv, R * p->DI);
  v.normed = hb_carve(cv, R * p->DI);
  size_t shared = cv->used;
  /* forward-only and backward-only buffers share one region */
  v.zx = hb_carve(cv, R * p->Z);
  v.yg = hb_carve(cv, heads);
  v.sloc = hb_carve(cv, NC * p->DI * p->N);
  size_t fwd_end = cv->used;
  cv->used = shared;
  v.lm = hb_carve(cv, qq);
  v.dnormed = hb_carve(cv, R * p->DI);
  v.dgated = hb_carve(cv, R * p->DI);
  v.dys = hb_carve(cv, R * p->DI);
  v.dyg = hb_carve(cv, heads);
  v.dy0 = hb_carve(cv, padded * p->DI);
  v.dm = hb_carve(cv, qq);
  v.dxg = hb_carve(cv, heads);
  v.dgm = hb_carve(cv, NC * Q * Q);
  v.dbg = hb_carve(cv, padded * p->N);
  v.dcg = hb_carve(cv, padded * p->N);
  v.dsin = hb_carve(cv, NC * p->DI * p->N);
  v.gs = hb_carve(cv, NC * p->DI * p->N);
  v.dxw = hb_carve(cv, padded * p->DI);
  v.dcum = hb_carve(cv, NC * H * Q);
  v.part = hb_carve(cv, NC * 3 * H);
  v.dxbc = hb_carve(cv, R * p->CX);
  v.dconv = hb_carve(cv, R * p->CX);
  v.dxbc_pre = hb_carve(cv, R * p->CX);
  v.dzx = hb_carve(cv, R * p->Z);
  if (cv->used < fwd_end) cv->used = fwd_end;
  return v;
}

CARVED_FLOATS(mamba2_saved_floats, mamba2_saved_views, Mamba2Plan)
CARVED_FLOATS(mamba2_scratch_floats, mamba2_scratch_views, Mamba2Plan)

/* ---------- the chunked scan ---------- */

/* Recomputes what both passes need from the saved conv output and dt: silu(xBC), the
 * chunked Bm, Cm, dt*x (head-major, and decay-weighted token-major), cum, exp(cum), the
 * weights exp(cum_end - cum), G = Cm Bm^T and G .* L (and L itself into sc->lm when
 * want_l). The forward pass (want_l = 0) also computes dt (saved for backward). */
static void m2_prepare(const Mamba2Scratch *sc, const Mamba2Saved *sv, const float *const *w, const Mamba2Plan *p,
                       int want_l) {
  const int H = p->H, P = p->P, N = p->N, Q = p->chunk, DI = p->DI, CX = p->CX, T = p->T, nc = p->nc;
  for (int h = 0; h < H; h++) sc->A[h] = expf(w[M2_A_LOG][h]);
  silu_forward(sc->xbc, sv->conv, p->R * CX);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NC; n++) {
    int b = (int)(n / nc), c = (int)(n % nc);
    float *dtg = sv->dtg + n * H * Q;
    for (int q = 0; q < Q; q++) {
      int t = c * Q + q;
      float *bm = sc->bg + (n * Q + q) * N, *cm = sc->cg + (n * Q + q) * N;
      if (t < T) {
        const float *src = sc->xbc + ((int64_t)b * T + t) * CX;
        memcpy(bm, src + DI, (size_t)N * sizeof(float));
        memcpy(cm, src + DI + N, (size_t)N * sizeof(float));
      } else {
        memset(bm, 0, (size_t)N * sizeof(float));
        memset(cm, 0, (size_t)N * sizeof(float));
      }
      if (want_l) continue; /* backward: dt is saved */
      const float *raw = sv->dt_raw + ((int64_t)b * T + t) * H;
      for (int h = 0; h < H; h++) dtg[h * Q + q] = t < T ? hb_softplusf(raw[h] + w[M2_DT_BIAS][h]) : 0.0f;
    }
    for (int h = 0; h < H; h++) {
      int64_t nh = n * H + h;
      const float *dt = dtg + h * Q;
      float *restrict cum = sc->cum + nh * Q, *restrict ecum = sc->ecum + nh * Q, *restrict wq = sc->wq + nh * Q;
      float acc = 0.0f, A = sc->A[h];
      for (int q = 0; q < Q; q++) cum[q] = acc -= dt[q] * A;
#pragma omp simd
      for (int q = 0; q < Q; q++) {
        ecum[q] = hb_expf(cum[q]);
        wq[q] = hb_expf(acc - cum[q]);
      }
      for (int q = 0; q < Q; q++) {
        int t = c * Q + q;
        float *restrict xg = sc->xg + (nh * Q + q) * P, *restrict xw = sc->xw + (n * Q + q) * DI + h * P;
        if (t >= T) {
          memset(xg, 0, (size_t)P * sizeof(float));
          memset(xw, 0, (size_t)P * sizeof(float));
          continue;
        }
        const float *restrict x = sc->xbc + ((int64_t)b * T + t) * CX + h * P;
        float d = dt[q], wt = wq[q];
#pragma omp simd
        for (int i = 0; i < P; i++) {
          xg[i] = d * x[i];
          xw[i] = wt * d * x[i];
        }
      }
    }
  }
  /* G (NC, Q, Q) = Cm (NC, Q, N) . Bm^T */
  dnn_matmul(sc->gm, sc->cg, sc->bg, p->NC, Q, N, Q, 0, 1, 0);
#pragma omp parallel for schedule(static)
  for (int64_t nh = 0; nh < p->NC * H; nh++) {
    const float *cum = sc->cum + nh * Q, *g = sc->gm + (nh / H) * Q * Q;
    float *m = sc->mm + nh * Q * Q, *l = want_l ? sc->lm + nh * Q * Q : NULL;
    for (int t = 0; t < Q; t++) {
      float ct = cum[t], *restrict mr = m + t * Q;
      const float *restrict gr = g + t * Q;
      if (l) {
        float *restrict lr = l + t * Q;
#pragma omp simd
        for (int s = 0; s <= t; s++) {
          lr[s] = hb_expf(ct - cum[s]);
          mr[s] = gr[s] * lr[s];
        }
        for (int s = t + 1; s < Q; s++) lr[s] = mr[s] = 0.0f;
      } else {
#pragma omp simd
        for (int s = 0; s <= t; s++) mr[s] = gr[s] * hb_expf(ct - cum[s]);
        for (int s = t + 1; s < Q; s++) mr[s] = 0.0f;
      }
    }
  }
}

/* One step of the state walk across chunks, forward (S_prev[c+1] = e S_prev[c] + sloc[c]) or
 * back (gs[c-1] = e gs[c] + dsin[c]): dst (DI, N) = e_h src + add per head h (rows h*P ..),
 * e_h = exp(cum_{Q-1}) of the chunk whose ecum (H, Q) is given. */
static void m2_walk_step(float *restrict dst, const float *restrict src, const float *restrict add, const float *ecum,
                         const Mamba2Plan *p) {
  const int H = p->H, P = p->P, N = p->N, Q = p->chunk;
  for (int h = 0; h < H; h++) {
    float e = ecum[h * Q + Q - 1];
    const float *restrict s = src + (int64_t)h * P * N, *restrict a = add + (int64_t)h * P * N;
    float *restrict d = dst + (int64_t)h * P * N;
#pragma omp simd
    for (int j = 0; j < P * N; j++) d[j] = e * s[j] + a[j];
  }
}

/* y (R, DI) = y_intra + y_inter + D x; state (NC, DI, N) the states entering the chunks. */
static void m2_scan_forward(const Mamba2Saved *sv, const Mamba2Scratch *sc, const float *const *w,
                            const Mamba2Plan *p) {
  const int H = p->H, P = p->P, N = p->N, Q = p->chunk, DI = p->DI, CX = p->CX, T = p->T, nc = p->nc;
  const int64_t SS = (int64_t)DI * N; /* one chunk's state */
  /* y_intra (NC*H, Q, P) = (G .* L) (NC*H, Q, Q) . dt*x (NC*H, Q, P) */
  dnn_matmul(sc->yg, sc->mm, sc->xg, p->NC * H, Q, Q, P, 0, 0, 0);
  /* Chunk contributions (NC, DI, N) = xw^T (DI, Q) . Bm (Q, N); the last chunk's is unused. */
  if (nc > 1) dnn_matmul(sc->sloc, sc->xw, sc->bg, p->NC, DI, Q, N, 1, 0, 0);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < p->B; b++) {
    int64_t n0 = (int64_t)b * nc;
    memset(sv->state + n0 * SS, 0, (size_t)SS * sizeof(float));
    for (int64_t n = n0 + 1; n < n0 + nc; n++)
      m2_walk_step(sv->state + n * SS, sv->state + (n - 1) * SS, sc->sloc + (n - 1) * SS, sc->ecum + (n - 1) * H * Q,
                   p);
  }
  /* y0 (NC, Q, DI) = Cm (NC, Q, N) . S_prev^T, S_prev stored (NC, DI, N) */
  dnn_matmul(sc->y0, sc->cg, sv->state, p->NC, Q, N, DI, 0, 1, 0);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NC; n++) {
    int b = (int)(n / nc), c = (int)(n % nc);
    for (int h = 0; h < H; h++) {
      float d = w[M2_D][h];
      for (int q = 0; q < Q && c * Q + q < T; q++) {
        int64_t r = (int64_t)b * T + c * Q + q;
        float e = sc->ecum[(n * H + h) * Q + q];
        const float *restrict yi = sc->yg + ((n * H + h) * Q + q) * P, *restrict y0 = sc->y0 + (n * Q + q) * DI + h * P;
        const float *restrict x = sc->xbc + r * CX + h * P;
        float *restrict y = sv->y + r * DI + h * P;
#pragma omp simd
        for (int i = 0; i < P; i++) y[i] = yi[i] + e * y0[i] + d * x[i];
      }
    }
  }
}

/* Walks the gradient dys (R, DI) of y back through the scan. Leaves dx, dBm, dCm in
 * sc->dxbc (R, CX), ddt_raw in sc->dzx[:, DI+CX:], and adds dD, dA_log, ddt_bias into g. */
static void m2_scan_backward(float *const *g, const Mamba2Saved *sv, const Mamba2Scratch *sc, const float *const *w,
                             const Mamba2Plan *p) {
  const int H = p->H, P = p->P, N = p->N, Q = p->chunk, DI = p->DI, CX = p->CX, T = p->T, nc = p->nc, Z = p->Z;
  const int64_t SS = (int64_t)DI * N;
  dnn_matmul(sc->y0, sc->cg, sv->state, p->NC, Q, N, DI, 0, 1, 0);
  /* dys into the chunk layouts; the y_inter factor exp(cum_t) gives dcum_t its first term. */
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NC; n++) {
    int b = (int)(n / nc), c = (int)(n % nc);
    for (int h = 0; h < H; h++) {
      int64_t nh = n * H + h;
      for (int q = 0; q < Q; q++) {
        int t = c * Q + q;
        float *restrict dyg = sc->dyg + (nh * Q + q) * P, *restrict dy0 = sc->dy0 + (n * Q + q) * DI + h * P;
        if (t >= T) {
          memset(dyg, 0, (size_t)P * sizeof(float));
          memset(dy0, 0, (size_t)P * sizeof(float));
          sc->dcum[nh * Q + q] = 0.0f;
          continue;
        }
        const float *restrict dy = sc->dys + ((int64_t)b * T + t) * DI + h * P;
        const float *restrict y0 = sc->y0 + (n * Q + q) * DI + h * P;
        float e = sc->ecum[nh * Q + q], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int i = 0; i < P; i++) {
          dyg[i] = dy[i];
          dy0[i] = e * dy[i];
          dot += dy[i] * y0[i];
        }
        sc->dcum[nh * Q + q] = e * dot;
      }
    }
  }
  /* intra-chunk: dM = dY . xdt^T, dxdt = M^T . dY (NC*H batches) */
  dnn_matmul(sc->dm, sc->dyg, sc->xg, p->NC * H, Q, P, Q, 0, 1, 0);
  dnn_matmul(sc->dxg, sc->mm, sc->dyg, p->NC * H, Q, Q, P, 1, 0, 0);
  /* dG = sum_h dM .* L; through L[t,s] = exp(cum_t - cum_s): dcum_t += sum_s dM.*M, dcum_s -= it */
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NC; n++) {
    float *dg = sc->dgm + n * Q * Q;
    memset(dg, 0, (size_t)Q * Q * sizeof(float));
    for (int h = 0; h < H; h++) {
      int64_t nh = n * H + h;
      const float *dm = sc->dm + nh * Q * Q, *l = sc->lm + nh * Q * Q, *m = sc->mm + nh * Q * Q;
      float *restrict dcum = sc->dcum + nh * Q;
      for (int t = 0; t < Q; t++) {
        const float *restrict dmr = dm + t * Q, *restrict lr = l + t * Q, *restrict mr = m + t * Q;
        float *restrict dgr = dg + t * Q, row = 0.0f;
#pragma omp simd reduction(+ : row)
        for (int s = 0; s <= t; s++) {
          float r = dmr[s] * mr[s];
          dgr[s] += dmr[s] * lr[s];
          row += r;
          dcum[s] -= r;
        }
        dcum[t] += row;
      }
    }
  }
  /* G = Cm Bm^T: dCm = dG . Bm, dBm = dG^T . Cm */
  dnn_matmul(sc->dcg, sc->dgm, sc->bg, p->NC, Q, Q, N, 0, 0, 0);
  dnn_matmul(sc->dbg, sc->dgm, sc->cg, p->NC, Q, Q, N, 1, 0, 0);
  /* inter-chunk: y0 = Cm S_prev^T: dCm += dy0 . S_prev; dS_prev = dy0^T . Cm */
  dnn_matmul(sc->dcg, sc->dy0, sv->state, p->NC, Q, DI, N, 0, 0, 1);
  dnn_matmul(sc->dsin, sc->dy0, sc->cg, p->NC, DI, Q, N, 1, 0, 0);
  /* States backward across chunks: gs[c] = dL/dS_end[c]; S_end[c] = S_prev[c+1]
   * = e_end[c] S_prev[c] + sloc[c], so gs[c-1] = dsin[c] + e_end[c] gs[c], gs[nc-1] = 0,
   * and dL/de_end[c] = <gs[c], S_prev[c]> per head. */
#pragma omp parallel for schedule(static)
  for (int b = 0; b < p->B; b++) {
    int64_t n0 = (int64_t)b * nc;
    memset(sc->gs + (n0 + nc - 1) * SS, 0, (size_t)SS * sizeof(float));
    for (int64_t n = n0 + nc - 1; n > n0; n--)
      m2_walk_step(sc->gs + (n - 1) * SS, sc->gs + n * SS, sc->dsin + n * SS, sc->ecum + n * H * Q, p);
    for (int c = 0; c < nc - 1; c++) { /* gs[nc-1] = 0 */
      int64_t n = n0 + c;
      for (int h = 0; h < H; h++) {
        const float *restrict gn = sc->gs + n * SS + (int64_t)h * P * N;
        const float *restrict sp = sv->state + n * SS + (int64_t)h * P * N;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int j = 0; j < P * N; j++) dot += gn[j] * sp[j];
        sc->dcum[(n * H + h) * Q + Q - 1] += sc->ecum[(n * H + h) * Q + Q - 1] * dot;
      }
    }
  }
  /* sloc = xw^T Bm: dxw = Bm . gs^T, dBm += xw . gs */
  dnn_matmul(sc->dxw, sc->bg, sc->gs, p->NC, Q, N, DI, 0, 1, 0);
  dnn_matmul(sc->dbg, sc->xw, sc->gs, p->NC, Q, DI, N, 0, 0, 1);
  /* Per (chunk, head): the weights wq = exp(cum_end - cum_q) of xw, then dcum -> d(-dt A)
   * by a reverse cumulative sum, then dt, x and the per-chunk parameter sums. */
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->NC; n++) {
    int b = (int)(n / nc), c = (int)(n % nc);
    for (int h = 0; h < H; h++) {
      int64_t nh = n * H + h;
      const float *restrict dtg = sv->dtg + nh * Q, *restrict wq = sc->wq + nh * Q;
      float *restrict dcum = sc->dcum + nh * Q, tail = 0.0f;
      for (int q = 0; q < Q - 1; q++) {
        const float *restrict dxw = sc->dxw + (n * Q + q) * DI + h * P, *restrict xg = sc->xg + (nh * Q + q) * P;
        float dw = 0.0f;
#pragma omp simd reduction(+ : dw)
        for (int i = 0; i < P; i++) dw += dxw[i] * xg[i];
        dw *= wq[q];
        dcum[q] -= dw;
        tail += dw;
      }
      dcum[Q - 1] += tail;
      float A = sc->A[h], D = w[M2_D][h], da = 0.0f, dD = 0.0f, dA = 0.0f, dbias = 0.0f;
      for (int q = Q - 1; q >= 0; q--) {
        da += dcum[q]; /* dL/d(-dt_q A) */
        int t = c * Q + q;
        if (t >= T) continue;
        int64_t r = (int64_t)b * T + t;
        const float *restrict dxw = sc->dxw + (n * Q + q) * DI + h * P, *restrict dxg = sc->dxg + (nh * Q + q) * P;
        const float *restrict x = sc->xbc + r * CX + h * P, *restrict dy = sc->dys + r * DI + h * P;
        float *restrict dx = sc->dxbc + r * CX + h * P;
        float dt = dtg[q], wt = wq[q], ddt = 0.0f, dDq = 0.0f;
#pragma omp simd reduction(+ : ddt, dDq)
        for (int i = 0; i < P; i++) {
          float dxdt = dxg[i] + wt * dxw[i];
          ddt += dxdt * x[i];
          dx[i] = dt * dxdt + D * dy[i];
          dDq += dy[i] * x[i];
        }
        ddt -= A * da;
        dA -= dt * da;
        dD += dDq;
        float ddt_raw = ddt * hb_sigmoidf(sv->dt_raw[r * H + h] + w[M2_DT_BIAS][h]);
        sc->dzx[r * Z + DI + CX + h] = ddt_raw;
        dbias += ddt_raw;
      }
      sc->part[(n * 3 + 0) * H + h] = dD;
      sc->part[(n * 3 + 1) * H + h] = dA * A; /* dA_log = dA * exp(A_log) */
      sc->part[(n * 3 + 2) * H + h] = dbias;
    }
    for (int q = 0; q < Q && c * Q + q < T; q++) {
      int64_t r = (int64_t)b * T + c * Q + q;
      memcpy(sc->dxbc + r * CX + DI, sc->dbg + (n * Q + q) * N, (size_t)N * sizeof(float));
      memcpy(sc->dxbc + r * CX + DI + N, sc->dcg + (n * Q + q) * N, (size_t)N * sizeof(float));
    }
  }
  for (int64_t n = 0; n < p->NC; n++) /* in chunk order: the same sums for any thread count */
    for (int h = 0; h < H; h++) {
      g[M2_D][h] += sc->part[(n * 3 + 0) * H + h];
      g[M2_A_LOG][h] += sc->part[(n * 3 + 1) * H + h];
      g[M2_DT_BIAS][h] += sc->part[(n * 3 + 2) * H + h];
    }
}

/* gated (R, DI) = y * silu(z); normed = gated * rstd * gain (rstd given). */
static void m2_gate_norm(float *gated, float *normed, const float *rstd, const float *y, const float *z,
                         const float *gain, const Mamba2Plan *p) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < p->R; r++) {
    const float *yr = y + r * p->DI, *zr = z + r * p->DI;
    float *gr = gated + r * p->DI;
#pragma omp simd
    for (int j = 0; j < p->DI; j++) gr[j] = yr[j] * zr[j] * hb_sigmoidf(zr[j]);
    if (normed) {
      float *nr = normed + r * p->DI;
      for (int j = 0; j < p->DI; j++) nr[j] = gr[j] * rstd[r] * gain[j];
    }
  }
}

/* ---------- forward and backward ---------- */

void mamba2_forward(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                    const Mamba2Plan *p) {
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  Mamba2Saved sv = mamba2_saved_views(&saved_cv, p);
  Mamba2Scratch sc = mamba2_scratch_views(&scratch_cv, p);
  /* zx (R, Z) = u (R, C) . Win^T, split into z (R, DI), xBC (R, CX), dt_raw (R, H) */
  dnn_linear_forward(sc.zx, u, w[M2_IN], p->R, p->C, p->Z);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < p->R; r++) {
    const float *row = sc.zx + r * p->Z;
    memcpy(sv.z + r * p->DI, row, (size_t)p->DI * sizeof(float));
    memcpy(sv.xbc_pre + r * p->CX, row + p->DI, (size_t)p->CX * sizeof(float));
    memcpy(sv.dt_raw + r * p->H, row + p->DI + p->CX, (size_t)p->H * sizeof(float));
  }
  conv1d_causal_forward(sv.conv, sv.xbc_pre, w[M2_CONV_W], w[M2_CONV_B], p->B, p->T, p->CX, M2_CONV_K);
  m2_prepare(&sc, &sv, w, p, 0);
  m2_scan_forward(&sv, &sc, w, p);
  m2_gate_norm(sc.gated, NULL, NULL, sv.y, sv.z, NULL, p);
  rmsnorm_forward(sc.normed, sv.rstd, sc.gated, w[M2_NORM], p->R, p->DI);
  /* out (R, C) += normed (R, DI) . Wout^T */
  dnn_matmul(out, sc.normed, w[M2_OUT], 1, p->R, p->DI, p->C, 0, 1, 1);
}

void mamba2_backward(float *du, float *const *g, float *saved, float *scratch, const float *dy, const float *u,
                     const float *const *w, const Mamba2Plan *p) {
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  Mamba2Saved sv = mamba2_saved_views(&saved_cv, p);
  Mamba2Scratch sc = mamba2_scratch_views(&scratch_cv, p);
  m2_prepare(&sc, &sv, w, p, 1);
  m2_gate_norm(sc.gated, sc.normed, sv.rstd, sv.y, sv.z, w[M2_NORM], p);
  /* out = normed . Wout^T */
  dnn_linear_backward(sc.dnormed, g[M2_OUT], dy, sc.normed, w[M2_OUT], p->R, p->DI, p->C, 0);
  memset(sc.dgated, 0, (size_t)p->R * p->DI * sizeof(float)); /* rmsnorm_backward adds into dx */
  rmsnorm_backward(sc.dgated, g[M2_NORM], sc.dnormed, sc.gated, sv.rstd, w[M2_NORM], p->R, p->DI);
  /* gated = y * silu(z): dys = dgated silu(z), dz = dgated y silu'(z) (into dzx[:, :DI]) */
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < p->R; r++) {
    const float *dg = sc.dgated + r * p->DI, *y = sv.y + r * p->DI, *z = sv.z + r * p->DI;
    float *dys = sc.dys + r * p->DI, *dz = sc.dzx + r * p->Z;
#pragma omp simd
    for (int j = 0; j < p->DI; j++) hb_silu_gate_backward(&dys[j], &dz[j], dg[j], y[j], z[j]);
  }
  m2_scan_backward(g, &sv, &sc, w, p);
  silu_backward(sc.dconv, sc.dxbc, sv.conv, p->R * p->CX);
  conv1d_causal_backward(sc.dxbc_pre, g[M2_CONV_W], g[M2_CONV_B], sc.dconv, sv.xbc_pre, w[M2_CONV_W], p->B, p->T, p->CX,
                         M2_CONV_K);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < p->R; r++)
    memcpy(sc.dzx + r * p->Z + p->DI, sc.dxbc_pre + r * p->CX, (size_t)p->CX * sizeof(float));
  /* zx = u . Win^T */
  dnn_linear_backward(du, g[M2_IN], sc.dzx, u, w[M2_IN], p->R, p->C, p->Z, 0);
}

/* ---------- the M mixer ---------- */

/* Sizes do not depend on s->window: a context limit (analyses, forward only)
 * runs through mixer_limited_forward on ordinary unlimited calls. */
static void mamba2_plan_of(Mamba2Plan *p, const MixerShape *s) { mamba2_plan(p, s->cfg, s->B, s->T, MAMBA2_CHUNK); }

static size_t mamba2_mixer_saved_floats(const MixerShape *s) {
  Mamba2Plan p;
  mamba2_plan_of(&p, s);
  return mamba2_saved_floats(&p);
}

static size_t mamba2_mixer_scratch_floats(const MixerShape *s) {
  Mamba2Plan p;
  mamba2_plan_of(&p, s);
  return mamba2_scratch_floats(&p);
}

static void mamba2_mixer_forward(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                                 const MixerShape *s) {
  if (mixer_context_limited(s)) {
    mixer_limited_forward(&mamba2_ops, out, saved, scratch, u, w, s);
    return;
  }
  Mamba2Plan p;
  mamba2_plan_of(&p, s);
  mamba2_forward(out, saved, scratch, u, w, &p);
}

static void mamba2_mixer_backward(float *du, float *const *g, float *saved, float *scratch, const float *dy,
                                  const float *u, const float *const *w, const MixerShape *s) {
  HB_ASSERT(!mixer_context_limited(s), "the inference-time context limit has no backward (analyses only)");
  Mamba2Plan p;
  mamba2_plan_of(&p, s);
  mamba2_backward(du, g, saved, scratch, dy, u, w, &p);
}

const MixerOps mamba2_ops = HB_MIXER_OPS('M', "mamba2", mamba2, mamba2_mixer_init_custom);

/* ---------- plain sequential reference (tests) ----------
 * The whole mixer in double with straightforward loops and the recurrence stepped one token
 * at a time, keeping every state S_t (O(T * DI * N): for tests only); shares no code with
 * the fast path (not even the layer kernels). */

typedef struct {
  Mamba2Plan p;
  double *zx;     /* (R, Z) */
  double *conv;   /* (R, CX) before silu */
  double *xbc;    /* (R, CX) */
  double *dt;     /* (R, H) */
  double *S;      /* (R, H, P, N) the state after each step */
  double *y;      /* (R, DI) */
  double *gated;  /* (R, DI) */
  double *rstd;   /* (R) */
  double *normed; /* (R, DI) */
} M2Ref;

static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static void ref_forward_acts(M2Ref *a, const float *u, const float *const *w, const ModelConfig *cfg, int B, int T) {
  Mamba2Plan *p = &a->p;
  m2_dims(p, cfg);
  p->B = B, p->T = T, p->R = (int64_t)B * T;
  const int C = p->C, DI = p->DI, N = p->N, P = p->P, H = p->H, CX = p->CX, Z = p->Z;
  const int64_t R = p->R;
  a->zx = hb_calloc((size_t)(R * Z), sizeof(double));
  a->conv = hb_calloc((size_t)(R * CX), sizeof(double));
  a->xbc = hb_calloc((size_t)(R * CX), sizeof(double));
  a->dt = hb_calloc((size_t)(R * H), sizeof(double));
  a->S = hb_calloc((size_t)(R * DI * N), sizeof(double));
  a->y = hb_calloc((size_t)(R * DI), sizeof(double));
  a->gated = hb_calloc((size_t)(R * DI), sizeof(double));
  a->rstd = hb_calloc((size_t)R, sizeof(double));
  a->normed = hb_calloc((size_t)(R * DI), sizeof(double));
  for (int64_t r = 0; r < R; r++)
    for (int o = 0; o < Z; o++) {
      double acc = 0;
      for (int k = 0; k < C; k++) acc += (double)u[r * C + k] * w[M2_IN][(int64_t)o * C + k];
      a->zx[r * Z + o] = acc;
    }
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++)
      for (int ch = 0; ch < CX; ch++) {
        double acc = w[M2_CONV_B][ch];
        for (int k = 0; k < M2_CONV_K; k++) {
          int src = t - (M2_CONV_K - 1) + k;
          if (src >= 0) acc += (double)w[M2_CONV_W][ch * M2_CONV_K + k] * a->zx[((int64_t)b * T + src) * Z + DI + ch];
        }
        int64_t r = (int64_t)b * T + t;
        a->conv[r * CX + ch] = acc;
        a->xbc[r * CX + ch] = acc * ref_sigmoid(acc);
      }
  for (int64_t r = 0; r < R; r++)
    for (int h = 0; h < H; h++) {
      double v = a->zx[r * Z + DI + CX + h] + w[M2_DT_BIAS][h];
      a->dt[r * H + h] = v > 20 ? v : log1p(exp(v));
    }
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      double A = exp((double)w[M2_A_LOG][h]);
      for (int t = 0; t < T; t++) {
        int64_t r = (int64_t)b * T + t;
        const double *x = a->xbc + r * CX + h * P, *Bm = a->xbc + r * CX + DI, *Cm = a->xbc + r * CX + DI + N;
        double dt = a->dt[r * H + h], decay = exp(-dt * A);
        double *S = a->S + (r * H + h) * P * N;
        const double *Sp = t > 0 ? a->S + ((r - 1) * H + h) * P * N : NULL;
        for (int i = 0; i < P; i++) {
          double yi = w[M2_D][h] * x[i];
          for (int k = 0; k < N; k++) {
            S[i * N + k] = (Sp ? decay * Sp[i * N + k] : 0.0) + dt * x[i] * Bm[k];
            yi += S[i * N + k] * Cm[k];
          }
          a->y[r * DI + h * P + i] = yi;
        }
      }
    }
  for (int64_t r = 0; r < R; r++) {
    double ss = 0;
    for (int j = 0; j < DI; j++) {
      double z = a->zx[r * Z + j], gv = a->y[r * DI + j] * z * ref_sigmoid(z);
      a->gated[r * DI + j] = gv;
      ss += gv * gv;
    }
    a->rstd[r] = 1.0 / sqrt(ss / DI + HB_RMS_EPS);
    for (int j = 0; j < DI; j++) a->normed[r * DI + j] = a->gated[r * DI + j] * a->rstd[r] * w[M2_NORM][j];
  }
}

static void ref_free(M2Ref *a) {
  free(a->zx), free(a->conv), free(a->xbc), free(a->dt), free(a->S);
  free(a->y), free(a->gated), free(a->rstd), free(a->normed);
}

/* out (B*T, C) = the mixer's output in double (overwritten); w as mamba2_ops registers them. */
void mamba2_reference_forward(double *out, const float *u, const float *const *w, const ModelConfig *cfg, int B,
                              int T) {
  M2Ref a;
  ref_forward_acts(&a, u, w, cfg, B, T);
  const int C = a.p.C, DI = a.p.DI;
  for (int64_t r = 0; r < a.p.R; r++)
    for (int c = 0; c < C; c++) {
      double acc = 0;
      for (int j = 0; j < DI; j++) acc += a.normed[r * DI + j] * w[M2_OUT][(int64_t)c * DI + j];
      out[r * C + c] = acc;
    }
  ref_free(&a);
}

/* Backpropagation through time of the reference: du (B*T, C) overwritten, g added into,
 * dy (B*T, C) the gradient of the output. */
void mamba2_reference_backward(float *du, float *const *g, const float *dy, const float *u, const float *const *w,
                               const ModelConfig *cfg, int B, int T) {
  M2Ref a;
  ref_forward_acts(&a, u, w, cfg, B, T);
  const int C = a.p.C, DI = a.p.DI, N = a.p.N, P = a.p.P, H = a.p.H, CX = a.p.CX, Z = a.p.Z;
  const int64_t R = a.p.R;
  double *dys = hb_calloc((size_t)(R * DI), sizeof(double));
  double *dzx = hb_calloc((size_t)(R * Z), sizeof(double));
  double *dxbc = hb_calloc((size_t)(R * CX), sizeof(double));
  double *ddt = hb_calloc((size_t)(R * H), sizeof(double));
  double *dS = hb_calloc((size_t)P * N, sizeof(double));
  double *dnormed = hb_calloc((size_t)DI, sizeof(double));
  double *dgain = hb_calloc((size_t)DI, sizeof(double));
  /* out = normed . Wout^T; RMSNorm; gate */
  for (int c = 0; c < C; c++)
    for (int j = 0; j < DI; j++) {
      double acc = 0;
      for (int64_t r = 0; r < R; r++) acc += (double)dy[r * C + c] * a.normed[r * DI + j];
      g[M2_OUT][(int64_t)c * DI + j] += (float)acc;
    }
  for (int64_t r = 0; r < R; r++) {
    for (int j = 0; j < DI; j++) {
      double acc = 0;
      for (int c = 0; c < C; c++) acc += (double)dy[r * C + c] * w[M2_OUT][(int64_t)c * DI + j];
      dnormed[j] = acc;
    }
    double s = a.rstd[r], dot = 0;
    for (int j = 0; j < DI; j++) dot += a.gated[r * DI + j] * w[M2_NORM][j] * dnormed[j];
    for (int j = 0; j < DI; j++) {
      double x = a.gated[r * DI + j];
      dgain[j] += dnormed[j] * x * s;
      double dgated = s * w[M2_NORM][j] * dnormed[j] - s * s * s / DI * x * dot;
      double z = a.zx[r * Z + j], sg = ref_sigmoid(z);
      dys[r * DI + j] = dgated * z * sg;
      dzx[r * Z + j] = dgated * a.y[r * DI + j] * sg * (1 + z * (1 - sg));
    }
  }
  for (int j = 0; j < DI; j++) g[M2_NORM][j] += (float)dgain[j];
  /* the recurrence, backwards in time per (b, h) */
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      double A = exp((double)w[M2_A_LOG][h]), D = w[M2_D][h], dA = 0, dD = 0;
      memset(dS, 0, (size_t)P * N * sizeof(double));
      for (int t = T - 1; t >= 0; t--) {
        int64_t r = (int64_t)b * T + t;
        const double *x = a.xbc + r * CX + h * P, *Bm = a.xbc + r * CX + DI, *Cm = a.xbc + r * CX + DI + N;
        const double *S = a.S + (r * H + h) * P * N, *dyt = dys + r * DI + h * P;
        const double *Sp = t > 0 ? a.S + ((r - 1) * H + h) * P * N : NULL;
        double *dx = dxbc + r * CX + h * P, *dB = dxbc + r * CX + DI, *dC = dxbc + r * CX + DI + N;
        double dt = a.dt[r * H + h], decay = exp(-dt * A), ddecay = 0, dts = 0;
        /* y_t = S_t C_t + D x_t */
        for (int i = 0; i < P; i++) {
          dD += dyt[i] * x[i];
          dx[i] += D * dyt[i];
          for (int k = 0; k < N; k++) {
            dC[k] += S[i * N + k] * dyt[i];
            dS[i * N + k] += dyt[i] * Cm[k];
          }
        }
        /* S_t = decay S_{t-1} + dt x_t B_t^T */
        for (int i = 0; i < P; i++)
          for (int k = 0; k < N; k++) {
            double d = dS[i * N + k];
            if (Sp) ddecay += d * Sp[i * N + k];
            dts += d * x[i] * Bm[k];
            dx[i] += dt * d * Bm[k];
            dB[k] += dt * d * x[i];
            dS[i * N + k] = decay * d;
          }
        /* decay = exp(-dt A) */
        ddt[r * H + h] = dts - ddecay * decay * A;
        dA += -ddecay * decay * dt;
      }
      g[M2_D][h] += (float)dD;
      g[M2_A_LOG][h] += (float)(dA * A);
    }
  /* dt = softplus(dt_raw + dt_bias) */
  for (int h = 0; h < H; h++) {
    double acc = 0;
    for (int64_t r = 0; r < R; r++) {
      double d = ddt[r * H + h] * ref_sigmoid(a.zx[r * Z + DI + CX + h] + w[M2_DT_BIAS][h]);
      dzx[r * Z + DI + CX + h] = d;
      acc += d;
    }
    g[M2_DT_BIAS][h] += (float)acc;
  }
  /* xbc = silu(conv), conv = causal depthwise conv of zx[:, DI:DI+CX] */
  for (int ch = 0; ch < CX; ch++) {
    double dbias = 0, dw[M2_CONV_K] = {0};
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        int64_t r = (int64_t)b * T + t;
        double v = a.conv[r * CX + ch], sg = ref_sigmoid(v);
        double dconv = dxbc[r * CX + ch] * sg * (1 + v * (1 - sg));
        dbias += dconv;
        for (int k = 0; k < M2_CONV_K; k++) {
          int src = t - (M2_CONV_K - 1) + k;
          if (src < 0) continue;
          int64_t rs = (int64_t)b * T + src;
          dw[k] += dconv * a.zx[rs * Z + DI + ch];
          dzx[rs * Z + DI + ch] += dconv * w[M2_CONV_W][ch * M2_CONV_K + k];
        }
      }
    g[M2_CONV_B][ch] += (float)dbias;
    for (int k = 0; k < M2_CONV_K; k++) g[M2_CONV_W][ch * M2_CONV_K + k] += (float)dw[k];
  }
  /* zx = u . Win^T */
  for (int64_t r = 0; r < R; r++)
    for (int k = 0; k < C; k++) {
      double acc = 0;
      for (int o = 0; o < Z; o++) acc += dzx[r * Z + o] * w[M2_IN][(int64_t)o * C + k];
      du[r * C + k] = (float)acc;
    }
  for (int o = 0; o < Z; o++)
    for (int k = 0; k < C; k++) {
      double acc = 0;
      for (int64_t r = 0; r < R; r++) acc += dzx[r * Z + o] * u[r * C + k];
      g[M2_IN][(int64_t)o * C + k] += (float)acc;
    }
  free(dys), free(dzx), free(dxbc), free(ddt), free(dS), free(dnormed), free(dgain);
  ref_free(&a);
}
