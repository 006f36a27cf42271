/* F and S attention: see include/hybench/attention.h for the window semantics
 * and the blocked layout. Legend: B batch, T length, H heads, dh head dim,
 * W window, bs query block, span keys per block, NB = B*H*nb blocks. */
#include "hybench/attention.h"

#include <math.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/dnn.h"
#include "hybench/mixer.h"
#include "kernels.h"

/* Smallest query block: below it the per-block matmuls are too small to run
 * well, and the wasted masked work (bs - 1 extra keys) is still O(T * W). */
#define ATTN_MIN_BLOCK 16
/* Rows per causal group of full attention: at T = 512 this does 56% of the
 * dense T^2 work. Reference shape (FFFF, T 512, B 8, 2 threads): 32 and 64
 * within noise (23.4-24.5k tokens/s), 128 slower (23.1k). */
#define ATTN_CAUSAL_GROUP 64

static double attn_seconds, attn_matmul_seconds;
double attention_seconds(void) { return attn_seconds; }
double attention_matmul_seconds(void) { return attn_matmul_seconds; }
void attention_reset_timer(void) { attn_seconds = attn_matmul_seconds = 0; }

void attention_plan(AttnPlan *p, int B, int T, int H, int dh, int window, int rope) {
  HB_ASSERT(window >= 1, "a query sees at least itself");
  memset(p, 0, sizeof *p);
  p->B = B, p->T = T, p->H = H, p->dh = dh, p->rope = rope;
  p->window = window < T ? window : T;
  if (p->window == T && T > ATTN_CAUSAL_GROUP) {
    p->causal = 1;
    p->bs = ATTN_CAUSAL_GROUP;
    p->nb = (T + p->bs - 1) / p->bs;
    p->span = T;
    p->n_blocks = (int64_t)B * H * p->nb;
    return;
  }
  int bs = p->window > ATTN_MIN_BLOCK ? p->window : ATTN_MIN_BLOCK;
  if (bs >= T || p->window == T) bs = T;
  p->bs = bs;
  p->nb = (T + bs - 1) / bs;
  p->span = p->nb == 1 ? T : bs + p->window - 1;
  p->n_blocks = (int64_t)B * H * p->nb;
}

static size_t head_floats(const AttnPlan *p) { return (size_t)p->B * p->H * p->T * p->dh; }
/* Causal groups: group g has rows r_g (G, or fewer for the last) and spans
 * the keys 0 .. g*G + r_g - 1; its probabilities (B*H, r_g, span_g) follow
 * those of the groups before it. */
static int group_rows(const AttnPlan *p, int g) { return g + 1 < p->nb ? p->bs : p->T - g * p->bs; }
static int group_span(const AttnPlan *p, int g) { return g * p->bs + group_rows(p, g); }
static size_t group_offset(const AttnPlan *p, int g) {
  return (size_t)p->B * p->H * p->bs * p->bs * (size_t)g * (size_t)(g + 1) / 2;
}

static size_t probs_floats(const AttnPlan *p) {
  if (p->causal) return group_offset(p, p->nb - 1) + (size_t)p->B * p->H * group_rows(p, p->nb - 1) * p->T;
  return (size_t)p->n_blocks * p->bs * p->span;
}
static size_t qblock_floats(const AttnPlan *p) { return (size_t)p->n_blocks * p->bs * p->dh; }
static size_t kblock_floats(const AttnPlan *p) { return (size_t)p->n_blocks * p->span * p->dh; }

/* Buffer views, carved with hb_carve (common.h; a NULL base only counts). */
typedef struct {
  float *q, *k, *v; /* (B, H, T, dh) */
  float *probs;     /* (NB, bs, span); causal groups: one (B*H, r_g, span_g) after another */
} AttnSaved;

/* The blocked path uses the first group, causal groups the second. */
typedef struct {
  float *qb, *kb, *vb, *dob; /* (NB, bs, dh), (NB, span, dh) x2, (NB, bs, dh) */
  float *dp;                 /* (NB, bs, span); causal groups: (B*H, bs, T), the largest group's */
  float *dqb, *dkb, *dvb;    /* (NB, bs, dh), (NB, span, dh) x2 */
  float *o;                  /* (B*H, T, dh) the heads' output in forward, dO in backward */
  float *dq, *dk, *dv;       /* (B*H, T, dh) */
} AttnScratch;

static AttnSaved attention_saved_views(HbCarver *cv, const AttnPlan *p) {
  AttnSaved s;
  size_t hf = head_floats(p);
  s.q = hb_carve(cv, hf), s.k = hb_carve(cv, hf), s.v = hb_carve(cv, hf);
  s.probs = hb_carve(cv, probs_floats(p));
  return s;
}

static AttnScratch attention_scratch_views(HbCarver *cv, const AttnPlan *p) {
  AttnScratch s;
  memset(&s, 0, sizeof s);
  if (p->causal) {
    size_t hf = head_floats(p);
    s.o = hb_carve(cv, hf), s.dq = hb_carve(cv, hf), s.dk = hb_carve(cv, hf), s.dv = hb_carve(cv, hf);
    s.dp = hb_carve(cv, (size_t)p->B * p->H * p->bs * p->T);
    return s;
  }
  size_t qf = qblock_floats(p), kf = kblock_floats(p);
  s.qb = hb_carve(cv, qf), s.kb = hb_carve(cv, kf), s.vb = hb_carve(cv, kf), s.dob = hb_carve(cv, qf);
  s.dp = hb_carve(cv, probs_floats(p));
  s.dqb = hb_carve(cv, qf), s.dkb = hb_carve(cv, kf), s.dvb = hb_carve(cv, kf);
  return s;
}

CARVED_FLOATS(attention_saved_floats, attention_saved_views, AttnPlan)
CARVED_FLOATS(attention_scratch_floats, attention_scratch_views, AttnPlan)

/* RoPE on every head of heads (B, H, T, dh), in place. */
static void rotate_heads(float *heads, const AttnPlan *p, const RopeTable *rope, int inverse) {
  int64_t n_heads = (int64_t)p->B * p->H;
#pragma omp parallel for schedule(static)
  for (int64_t bh = 0; bh < n_heads; bh++) rope_rotate(heads + bh * p->T * p->dh, rope, p->T, p->dh, inverse);
}

/* Part (0 q, 1 k, 2 v) of qkv (B, T, 3*H*dh) into head-major dst (B, H, T,
 * dh), rotated after copying (forward RoPE); and back for gradients, the head
 * un-rotated in place before copying. */
static void split_heads(float *dst, const float *qkv, int part, const AttnPlan *p, const RopeTable *rope, int rotate) {
  int64_t HD = (int64_t)p->H * p->dh;
  heads_from_rows(dst, qkv, 3 * HD, part * HD, p->B, p->T, p->T, p->H, p->dh);
  if (rotate) rotate_heads(dst, p, rope, 0);
}

static void merge_head_grads(float *dqkv, float *src, int part, const AttnPlan *p, const RopeTable *rope, int rotate) {
  int64_t HD = (int64_t)p->H * p->dh;
  if (rotate) rotate_heads(src, p, rope, 1);
  heads_to_rows(dqkv, 3 * HD, part * HD, src, p->B, p->T, p->T, p->H, p->dh);
}

static inline int64_t block_key_start(const AttnPlan *p, int blk) {
  return (int64_t)blk * p->bs + p->bs - p->span;
}

/* Copies `rows` rows of one head starting at position `start` into a block,
 * zero-filling positions outside [0, T). */
static void gather_rows(float *block, const float *head, int64_t start, int rows, const AttnPlan *p) {
  for (int i = 0; i < rows; i++) {
    int64_t t = start + i;
    float *dst = block + (int64_t)i * p->dh;
    if (t >= 0 && t < p->T) memcpy(dst, head + t * p->dh, (size_t)p->dh * sizeof(float));
    else memset(dst, 0, (size_t)p->dh * sizeof(float));
  }
}

/* Adds block rows back into a head, dropping positions outside [0, T). */
static void scatter_add_rows(float *head, const float *block, int64_t start, int rows, const AttnPlan *p) {
  for (int i = 0; i < rows; i++) {
    int64_t t = start + i;
    if (t < 0 || t >= p->T) continue;
    float *dst = head + t * p->dh;
    const float *src = block + (int64_t)i * p->dh;
    for (int d = 0; d < p->dh; d++) dst[d] += src[d];
  }
}

/* Block n = (bh, blk): bh = b*H + h indexes the head, blk the query block. */
static void gather_blocks(float *qb, float *kb, float *vb, const float *q, const float *k, const float *v,
                          const AttnPlan *p) {
  int64_t head_stride = (int64_t)p->T * p->dh;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->n_blocks; n++) {
    int64_t bh = n / p->nb;
    int blk = (int)(n % p->nb);
    if (qb) gather_rows(qb + n * p->bs * p->dh, q + bh * head_stride, (int64_t)blk * p->bs, p->bs, p);
    int64_t ks = block_key_start(p, blk);
    if (kb) gather_rows(kb + n * p->span * p->dh, k + bh * head_stride, ks, p->span, p);
    if (vb) gather_rows(vb + n * p->span * p->dh, v + bh * head_stride, ks, p->span, p);
  }
}

/* Whether query t may attend key j (the one statement of the window rule). */
static inline int key_visible(int64_t t, int64_t j, const AttnPlan *p) {
  return j >= 0 && j <= t && t - j < p->window && t < p->T;
}

/* The visible keys of query t in block coordinates: [*lo, *hi), empty for
 * padding queries. Same rule as key_visible, solved for j. */
static inline void visible_range(const AttnPlan *p, int64_t t, int64_t ks, int *lo, int *hi) {
  int64_t first = t - p->window + 1 < 0 ? 0 : t - p->window + 1;
  int64_t a = first - ks, b = t - ks + 1;
  if (t >= p->T) a = b = 0;
  *lo = (int)(a < 0 ? 0 : a);
  *hi = (int)(b > p->span ? p->span : b);
  if (*hi < *lo) *hi = *lo;
}

/* One row of raw scores (len) to probabilities over its visible keys
 * [lo, hi) (scaled, max-subtracted); the rest of the row becomes 0. */
static void softmax_row(float *row, int lo, int hi, int len, float scale) {
  float mx = -INFINITY, sum = 0;
#pragma omp simd reduction(max : mx)
  for (int j = lo; j < hi; j++) mx = row[j] > mx ? row[j] : mx;
#pragma omp simd reduction(+ : sum)
  for (int j = lo; j < hi; j++) {
    float e = hb_expf((row[j] - mx) * scale);
    row[j] = e;
    sum += e;
  }
  float inv = hi > lo ? 1.0f / sum : 0.0f;
  for (int j = 0; j < lo; j++) row[j] = 0;
#pragma omp simd
  for (int j = lo; j < hi; j++) row[j] *= inv;
  for (int j = hi; j < len; j++) row[j] = 0;
}

/* probs (NB, bs, span): masked, scaled softmax of the raw scores, in place. */
static void masked_softmax(float *probs, const AttnPlan *p) {
  float scale = 1.0f / sqrtf((float)p->dh);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->n_blocks; n++) {
    int blk = (int)(n % p->nb);
    int64_t ks = block_key_start(p, blk);
    for (int i = 0; i < p->bs; i++) {
      int lo, hi;
      visible_range(p, (int64_t)blk * p->bs + i, ks, &lo, &hi);
      softmax_row(probs + (n * p->bs + i) * p->span, lo, hi, p->span, scale);
    }
  }
}

/* Block rows (NB, bs, dh) <-> rows (B, T, H*dh). to_rows: block outputs into
 * out, padding rows (t >= T) dropped; otherwise gradients dout gathered into
 * blocks, padding rows zeroed. */
static void copy_block_rows(float *blocks, float *rows, const AttnPlan *p, int to_rows) {
  int H = p->H, dh = p->dh, T = p->T;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p->n_blocks; n++) {
    int64_t bh = n / p->nb;
    int b = (int)(bh / H), h = (int)(bh % H), blk = (int)(n % p->nb);
    for (int i = 0; i < p->bs; i++) {
      int64_t t = (int64_t)blk * p->bs + i;
      float *block_row = blocks + (n * p->bs + i) * dh;
      if (t >= T) {
        if (!to_rows) memset(block_row, 0, (size_t)dh * sizeof(float));
        continue;
      }
      float *row = rows + ((int64_t)b * T + t) * H * dh + (int64_t)h * dh;
      if (to_rows) memcpy(row, block_row, (size_t)dh * sizeof(float));
      else memcpy(block_row, row, (size_t)dh * sizeof(float));
    }
  }
}

/* dS = P * (dP - rowsum(P * dP)) * scale, in place over dp (rows, len). */
static void softmax_backward(float *dp, const float *probs, int64_t rows, int len, const AttnPlan *p) {
  float scale = 1.0f / sqrtf((float)p->dh);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *pr = probs + r * len;
    float *dr = dp + r * len;
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int j = 0; j < len; j++) dot += pr[j] * dr[j];
#pragma omp simd
    for (int j = 0; j < len; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
  }
}

/* ---------- causal groups (full attention, see attention.h) ----------
 * Head buffers (B*H, T, dh): row block g of every head is at offset g*G*dh
 * with batch stride T*dh, so each group is one strided batched matmul. */

static void causal_softmax(float *probs_g, int g, const AttnPlan *p) {
  float scale = 1.0f / sqrtf((float)p->dh);
  int rows = group_rows(p, g), span = group_span(p, g);
  int64_t BH = (int64_t)p->B * p->H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < BH * rows; r++) {
    int64_t t = (int64_t)g * p->bs + r % rows;
    int lo, hi;
    visible_range(p, t, 0, &lo, &hi);
    softmax_row(probs_g + r * span, lo, hi, span, scale);
  }
}

static void causal_forward(float *out, const AttnSaved *sv, const AttnScratch *sc, const AttnPlan *p) {
  int64_t BH = (int64_t)p->B * p->H, T = p->T, dh = p->dh, hs = T * dh;
  float *o = sc->o;
  size_t hf = head_floats(p);
  dnn_bf16_hold(sv->k, hf);
  dnn_bf16_hold(sv->v, hf);
  for (int g = 0; g < p->nb; g++) {
    int rows = group_rows(p, g), span = group_span(p, g);
    float *pg = sv->probs + group_offset(p, g);
    const float *qg = sv->q + (int64_t)g * p->bs * dh;
    /* scores (BH, rows, span) = Q_g (BH, rows, dh) . K[0:span]^T */
    dnn_matmul_strided(pg, qg, sv->k, BH, rows, dh, span, 0, 1, 0, hs, hs, (int64_t)rows * span);
    causal_softmax(pg, g, p);
    /* O_g (BH, rows, dh) = P_g . V[0:span] */
    dnn_matmul_strided(o + (int64_t)g * p->bs * dh, pg, sv->v, BH, rows, span, dh, 0, 0, 0, (int64_t)rows * span, hs, hs);
  }
  dnn_bf16_release(sv->v);
  dnn_bf16_release(sv->k);
  heads_to_rows(out, (int64_t)p->H * dh, 0, o, p->B, p->T, p->T, p->H, p->dh);
}

static void causal_backward(float *dqkv, const AttnSaved *sv, const AttnScratch *sc, const float *dout,
                            const AttnPlan *p, const RopeTable *rope) {
  int64_t BH = (int64_t)p->B * p->H, T = p->T, dh = p->dh, hs = T * dh;
  size_t hf = head_floats(p);
  float *dO = sc->o, *dq = sc->dq, *dk = sc->dk, *dv = sc->dv, *dp = sc->dp;
  heads_from_rows(dO, dout, (int64_t)p->H * dh, 0, p->B, p->T, p->T, p->H, p->dh);
  memset(dk, 0, hf * sizeof(float));
  memset(dv, 0, hf * sizeof(float));
  const float *held_heads[] = {dO, sv->q, sv->k, sv->v};
  for (int i = 0; i < 4; i++) dnn_bf16_hold(held_heads[i], hf);
  for (int g = 0; g < p->nb; g++) {
    int rows = group_rows(p, g), span = group_span(p, g);
    int64_t ps = (int64_t)rows * span, row0 = (int64_t)g * p->bs * dh;
    const float *pg = sv->probs + group_offset(p, g);
    /* dP_g = dO_g . V[0:span]^T;  dV[0:span] += P_g^T . dO_g */
    dnn_matmul_strided(dp, dO + row0, sv->v, BH, rows, dh, span, 0, 1, 0, hs, hs, ps);
    dnn_matmul_strided(dv, pg, dO + row0, BH, span, rows, dh, 1, 0, 1, ps, hs, hs);
    softmax_backward(dp, pg, BH * rows, span, p);
    /* dQ_g = dS_g . K[0:span];  dK[0:span] += dS_g^T . Q_g */
    dnn_bf16_hold(dp, (size_t)(BH * ps));
    dnn_matmul_strided(dq + row0, dp, sv->k, BH, rows, span, dh, 0, 0, 0, ps, hs, hs);
    dnn_matmul_strided(dk, dp, sv->q + row0, BH, span, rows, dh, 1, 0, 1, ps, hs, hs);
    dnn_bf16_release(dp);
  }
  for (int i = 3; i >= 0; i--) dnn_bf16_release(held_heads[i]);
  merge_head_grads(dqkv, dq, 0, p, rope, p->rope);
  merge_head_grads(dqkv, dk, 1, p, rope, p->rope);
  merge_head_grads(dqkv, dv, 2, p, rope, 0);
}

/* The blocked path (see attention.h): every (batch, head, query block) is one
 * batch of the same matmul. */
static void blocked_forward(float *out, const AttnSaved *sv, const AttnScratch *sc, const AttnPlan *p) {
  gather_blocks(sc->qb, sc->kb, sc->vb, sv->q, sv->k, sv->v, p);
  /* scores (NB, bs, span) = Qb (NB, bs, dh) . Kb^T */
  dnn_matmul(sv->probs, sc->qb, sc->kb, p->n_blocks, p->bs, p->dh, p->span, 0, 1, 0);
  masked_softmax(sv->probs, p);
  /* Ob (NB, bs, dh) = P (NB, bs, span) . Vb (NB, span, dh); Qb's space is reused. */
  dnn_matmul(sc->qb, sv->probs, sc->vb, p->n_blocks, p->bs, p->span, p->dh, 0, 0, 0);
  copy_block_rows(sc->qb, out, p, 1);
}

/* Sums block gradients back into heads. Blocks of one head overlap in their
 * keys, so each head's blocks are summed by one thread in block order. */
static void scatter_block_grads(float *dq, float *dk, float *dv, const AttnScratch *sc, const AttnPlan *p) {
  int64_t head_stride = (int64_t)p->T * p->dh;
  int64_t n_heads = (int64_t)p->B * p->H;
  memset(dq, 0, (size_t)n_heads * head_stride * sizeof(float));
  memset(dk, 0, (size_t)n_heads * head_stride * sizeof(float));
  memset(dv, 0, (size_t)n_heads * head_stride * sizeof(float));
#pragma omp parallel for schedule(static)
  for (int64_t bh = 0; bh < n_heads; bh++)
    for (int blk = 0; blk < p->nb; blk++) {
      int64_t n = bh * p->nb + blk, ks = block_key_start(p, blk);
      scatter_add_rows(dq + bh * head_stride, sc->dqb + n * p->bs * p->dh, (int64_t)blk * p->bs, p->bs, p);
      scatter_add_rows(dk + bh * head_stride, sc->dkb + n * p->span * p->dh, ks, p->span, p);
      scatter_add_rows(dv + bh * head_stride, sc->dvb + n * p->span * p->dh, ks, p->span, p);
    }
}

static void blocked_backward(float *dqkv, const AttnSaved *sv, const AttnScratch *sc, const float *dout,
                             const AttnPlan *p, const RopeTable *rope) {
  gather_blocks(sc->qb, sc->kb, sc->vb, sv->q, sv->k, sv->v, p);
  copy_block_rows(sc->dob, (float *)dout, p, 0); /* dout is only read */
  int64_t NB = p->n_blocks;
  /* dP (NB, bs, span) = dOb (NB, bs, dh) . Vb^T */
  dnn_bf16_hold(sc->dob, qblock_floats(p));
  dnn_matmul(sc->dp, sc->dob, sc->vb, NB, p->bs, p->dh, p->span, 0, 1, 0);
  /* dVb (NB, span, dh) = P^T (NB, span, bs) . dOb */
  dnn_matmul(sc->dvb, sv->probs, sc->dob, NB, p->span, p->bs, p->dh, 1, 0, 0);
  dnn_bf16_release(sc->dob);
  softmax_backward(sc->dp, sv->probs, NB * p->bs, p->span, p);
  /* dQb (NB, bs, dh) = dS . Kb;  dKb (NB, span, dh) = dS^T . Qb */
  dnn_bf16_hold(sc->dp, probs_floats(p));
  dnn_matmul(sc->dqb, sc->dp, sc->kb, NB, p->bs, p->span, p->dh, 0, 0, 0);
  dnn_matmul(sc->dkb, sc->dp, sc->qb, NB, p->span, p->bs, p->dh, 1, 0, 0);
  dnn_bf16_release(sc->dp);
  /* The saved q, k, v are dead after this point: reuse them for their gradients. */
  scatter_block_grads(sv->q, sv->k, sv->v, sc, p);
  merge_head_grads(dqkv, sv->q, 0, p, rope, p->rope);
  merge_head_grads(dqkv, sv->k, 1, p, rope, p->rope);
  merge_head_grads(dqkv, sv->v, 2, p, rope, 0);
}

/* The timers: seconds since t0, and matmul seconds since mm0. */
static void attention_add_time(double t0, double mm0) {
  attn_seconds += hb_now_seconds() - t0;
  attn_matmul_seconds += dnn_matmul_seconds() - mm0;
}

void attention_forward(float *out, float *saved, float *scratch, const float *qkv, const AttnPlan *p,
                       const RopeTable *rope) {
  double t0 = hb_now_seconds(), mm0 = dnn_matmul_seconds();
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  AttnSaved sv = attention_saved_views(&saved_cv, p);
  AttnScratch sc = attention_scratch_views(&scratch_cv, p);
  split_heads(sv.q, qkv, 0, p, rope, p->rope);
  split_heads(sv.k, qkv, 1, p, rope, p->rope);
  split_heads(sv.v, qkv, 2, p, rope, 0);
  if (p->causal) causal_forward(out, &sv, &sc, p);
  else blocked_forward(out, &sv, &sc, p);
  attention_add_time(t0, mm0);
}

void attention_backward(float *dqkv, float *saved, float *scratch, const float *dout, const AttnPlan *p,
                        const RopeTable *rope) {
  double t0 = hb_now_seconds(), mm0 = dnn_matmul_seconds();
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  AttnSaved sv = attention_saved_views(&saved_cv, p);
  AttnScratch sc = attention_scratch_views(&scratch_cv, p);
  if (p->causal) causal_backward(dqkv, &sv, &sc, dout, p, rope);
  else blocked_backward(dqkv, &sv, &sc, dout, p, rope);
  attention_add_time(t0, mm0);
}

/* Where query t of head bh keeps its probabilities: the row, the position
 * of its first key, and its length. */
static const float *probs_row_of(const float *probs, const AttnPlan *p, int64_t bh, int64_t t, int64_t *ks, int *len) {
  int g = (int)(t / p->bs), i = (int)(t % p->bs);
  if (p->causal) {
    *ks = 0;
    *len = group_span(p, g);
    return probs + group_offset(p, g) + ((size_t)bh * group_rows(p, g) + (size_t)i) * (size_t)*len;
  }
  *ks = block_key_start(p, g);
  *len = p->span;
  return probs + ((size_t)(bh * p->nb + g) * p->bs + (size_t)i) * (size_t)p->span;
}

void attention_probs_row(float *row, const float *saved, const AttnPlan *p, int b, int h, int t) {
  HB_ASSERT(b >= 0 && b < p->B && h >= 0 && h < p->H && t >= 0 && t < p->T, "the query is inside the batch");
  int64_t ks;
  int len;
  HbCarver cv = {(float *)saved, 0}; /* only read */
  const float *src = probs_row_of(attention_saved_views(&cv, p).probs, p, (int64_t)b * p->H + h, t, &ks, &len);
  memset(row, 0, (size_t)p->T * sizeof(float));
  for (int j = 0; j < len; j++)
    if (key_visible(t, ks + j, p)) row[ks + j] = src[j];
}

void attention_dense_probs(float *dense, const float *saved, const AttnPlan *p) {
  for (int b = 0; b < p->B; b++)
    for (int h = 0; h < p->H; h++)
      for (int t = 0; t < p->T; t++)
        attention_probs_row(dense + (((size_t)b * p->H + h) * p->T + (size_t)t) * p->T, saved, p, b, h, t);
}

int attention_key_visible(const AttnPlan *p, int64_t t, int64_t j) { return key_visible(t, j, p); }

void attention_reference_forward(float *out, const float *qkv, int B, int T, int H, int dh, int window,
                                 const RopeTable *rope) {
  float *q = hb_malloc((size_t)T * dh * sizeof(float)), *k = hb_malloc((size_t)T * dh * sizeof(float));
  double *w = hb_malloc((size_t)T * sizeof(double));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      for (int t = 0; t < T; t++) {
        const float *row = qkv + ((int64_t)b * T + t) * 3 * H * dh;
        memcpy(q + (int64_t)t * dh, row + (int64_t)h * dh, (size_t)dh * sizeof(float));
        memcpy(k + (int64_t)t * dh, row + (int64_t)(H + h) * dh, (size_t)dh * sizeof(float));
      }
      if (rope) {
        rope_rotate(q, rope, T, dh, 0);
        rope_rotate(k, rope, T, dh, 0);
      }
      for (int t = 0; t < T; t++) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < T; j++) {
          int band = j <= t && t - j < window; /* explicit band mask */
          double s = 0;
          for (int d = 0; d < dh; d++) s += (double)q[t * dh + d] * k[j * dh + d];
          w[j] = band ? s / sqrt((double)dh) : -INFINITY;
          if (w[j] > mx) mx = w[j];
        }
        for (int j = 0; j < T; j++) sum += (w[j] = exp(w[j] - mx));
        for (int d = 0; d < dh; d++) {
          double o = 0;
          for (int j = 0; j < T; j++)
            o += w[j] / sum * qkv[((int64_t)b * T + j) * 3 * H * dh + (int64_t)(2 * H + h) * dh + d];
          out[((int64_t)b * T + t) * H * dh + (int64_t)h * dh + d] = (float)o;
        }
      }
    }
  free(q);
  free(k);
  free(w);
}

/* ---------- the F and S mixers ----------
 * Parameters: q, k, v projections (HD, C) each, adjacent in the arena so that
 * together they are one (3*HD, C) matrix and one GEMM; o projection (C, HD). */
enum { ATT_Q, ATT_K, ATT_V, ATT_O, ATT_N_PARAMS };

static int attention_mixer_param_specs(MixerParamSpec *specs, const ModelConfig *cfg) {
  int64_t C = cfg->d_model, HD = (int64_t)cfg->n_heads * cfg->head_dim;
  const char *names[] = {"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"};
  for (int k = 0; k < ATT_N_PARAMS; k++) {
    specs[k] = (MixerParamSpec){names[k], 2, {HD, C}, INIT_NORMAL, 1};
    if (k == ATT_O) specs[k].shape[0] = C, specs[k].shape[1] = HD;
  }
  return ATT_N_PARAMS;
}

static void attention_plan_of(AttnPlan *p, const MixerShape *s) {
  attention_plan(p, s->B, s->T, s->cfg->n_heads, s->cfg->head_dim, s->window, s->rope);
}

typedef struct {
  float *att;  /* (R, HD) the heads' output */
  float *core; /* attention_forward's saved */
} AttnMixerSaved;

typedef struct {
  float *qkv;  /* (R, 3*HD) the fused projection; backward: its gradient */
  float *datt; /* (R, HD) */
  float *core; /* attention_forward / attention_backward's scratch */
} AttnMixerScratch;

static AttnMixerSaved attention_mixer_saved_views(HbCarver *cv, const MixerShape *s) {
  size_t R = (size_t)s->B * s->T, HD = (size_t)s->cfg->n_heads * s->cfg->head_dim;
  AttnPlan p;
  attention_plan_of(&p, s);
  AttnMixerSaved v;
  v.att = hb_carve(cv, R * HD);
  v.core = hb_carve(cv, attention_saved_floats(&p));
  return v;
}

static AttnMixerScratch attention_mixer_scratch_views(HbCarver *cv, const MixerShape *s) {
  size_t R = (size_t)s->B * s->T, HD = (size_t)s->cfg->n_heads * s->cfg->head_dim;
  AttnPlan p;
  attention_plan_of(&p, s);
  AttnMixerScratch v;
  v.qkv = hb_carve(cv, R * 3 * HD);
  v.datt = hb_carve(cv, R * HD);
  v.core = hb_carve(cv, attention_scratch_floats(&p));
  return v;
}

static CARVED_FLOATS(attention_mixer_saved_floats, attention_mixer_saved_views, MixerShape)
static CARVED_FLOATS(attention_mixer_scratch_floats, attention_mixer_scratch_views, MixerShape)

const float *attention_mixer_saved(AttnPlan *p, const float *mixer_saved, const MixerShape *s) {
  HB_ASSERT(s->kind == LAYER_F || s->kind == LAYER_S, "only attention layers keep probabilities");
  attention_plan_of(p, s);
  HbCarver cv = {(float *)mixer_saved, 0}; /* only read */
  return attention_mixer_saved_views(&cv, s).core;
}

static void attention_mixer_forward(float *out, float *saved, float *scratch, const float *u, const float *const *w,
                                    const MixerShape *s) {
  AttnPlan p;
  attention_plan_of(&p, s);
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  AttnMixerSaved sv = attention_mixer_saved_views(&saved_cv, s);
  AttnMixerScratch sc = attention_mixer_scratch_views(&scratch_cv, s);
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, HD = (int64_t)s->cfg->n_heads * s->cfg->head_dim;
  dnn_linear_forward(sc.qkv, u, w[ATT_Q], R, C, 3 * HD);
  attention_forward(sv.att, sv.core, sc.core, sc.qkv, &p, s->rope_table);
  dnn_matmul(out, sv.att, w[ATT_O], 1, R, HD, C, 0, 1, 1);
}

static void attention_mixer_backward(float *du, float *const *g, float *saved, float *scratch, const float *dy,
                                     const float *u, const float *const *w, const MixerShape *s) {
  AttnPlan p;
  attention_plan_of(&p, s);
  HbCarver saved_cv = {saved, 0}, scratch_cv = {scratch, 0};
  AttnMixerSaved sv = attention_mixer_saved_views(&saved_cv, s);
  AttnMixerScratch sc = attention_mixer_scratch_views(&scratch_cv, s);
  int64_t R = (int64_t)s->B * s->T, C = s->cfg->d_model, HD = (int64_t)s->cfg->n_heads * s->cfg->head_dim;
  dnn_linear_backward(sc.datt, g[ATT_O], dy, sv.att, w[ATT_O], R, HD, C, 0);
  attention_backward(sc.qkv, sv.core, sc.core, sc.datt, &p, s->rope_table);
  dnn_linear_backward(du, g[ATT_Q], sc.qkv, u, w[ATT_Q], R, C, 3 * HD, 0);
}

/* F and S differ only in their letter: the window comes with the shape. */
const MixerOps attention_full_ops = HB_MIXER_OPS('F', "attn", attention, NULL);
const MixerOps attention_sliding_ops = HB_MIXER_OPS('S', "attn", attention, NULL);
