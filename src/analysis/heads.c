/* Retrieval heads (DESIGN.md sections 5 and 8): attention mass of the query
 * on the needle, alone and with the positions the efficient layers below can
 * relay it to; attention entropy; Q/K weight distance between checkpoints.
 * The probabilities are the ones the forward pass computed, read back from
 * the attention layers' saved blocks (attention_probs_row); which keys a query
 * sees is asked of attention_key_visible, the window rule's one statement. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/attention.h"
#include "hybench/common.h"

static int is_attention(char kind) { return kind == LAYER_F || kind == LAYER_S; }

int heads_relay_reach(const ModelConfig *cfg, int layer, int T) {
  long reach = 0;
  for (int j = 0; j < layer; j++) {
    char kind = cfg->pattern[j];
    if (kind == LAYER_S) reach += config_layer_window(cfg, kind, T) - 1;
    else if (kind != LAYER_F) reach = T; /* a recurrent layer carries the needle arbitrarily far */
  }
  return (int)(reach < T ? reach : T);
}

/* Keys query t sees, and how many of them lie in [lo, hi]. */
static int visible_count(const AttnPlan *p, int t, int lo, int hi, int *in_range) {
  int n = 0, k = 0;
  for (int j = 0; j <= t; j++)
    if (attention_key_visible(p, t, j)) {
      n++;
      k += j >= lo && j <= hi;
    }
  *in_range = k;
  return n;
}

/* order (n) = sample indices grouped by sequence; first (n_seqs + 1) = group starts. */
static void group_by_sequence(long *order, long *first, const NeedleSet *ns) {
  memset(first, 0, (size_t)(ns->n_seqs + 1) * sizeof(long));
  for (long k = 0; k < ns->n; k++) first[ns->seq[k] + 1]++;
  for (long s = 0; s < ns->n_seqs; s++) first[s + 1] += first[s];
  long *next = hb_malloc((size_t)(ns->n_seqs + 1) * sizeof(long));
  memcpy(next, first, (size_t)(ns->n_seqs + 1) * sizeof(long));
  for (long k = 0; k < ns->n; k++) order[next[ns->seq[k]]++] = k;
  free(next);
}

void heads_measure(HeadStats *hs, Model *m, const NeedleSet *ns, int last_n, int batch) {
  const ModelConfig *c = &m->cfg;
  int L = c->n_layers, H = c->n_heads, T = ns->T;
  HB_ASSERT(batch >= 1 && last_n >= 0, "callers validate --batch and --last");
  batch = model_analysis_batch(m, T, batch);
  memset(hs, 0, sizeof *hs);
  hs->L = L, hs->H = H;
  size_t LH = (size_t)L * H;
  double *sum[6];
  for (int k = 0; k < 6; k++) sum[k] = hb_calloc(LH, sizeof(double));
  double *sum_norm_n = hb_calloc(LH, sizeof(double));
  for (int i = 0; i < L; i++) {
    hs->kind[i] = c->pattern[i];
    hs->window[i] = is_attention(c->pattern[i]) ? config_layer_window(c, c->pattern[i], T) : 0;
    hs->reach[i] = heads_relay_reach(c, i, T);
  }
  long *order = hb_malloc((size_t)(ns->n ? ns->n : 1) * sizeof(long));
  long *first = hb_malloc((size_t)(ns->n_seqs + 1) * sizeof(long));
  group_by_sequence(order, first, ns);
  float *row = hb_malloc((size_t)T * sizeof(float));
  int t_first = T - last_n < 0 ? 0 : T - last_n;
  for (long s0 = 0; s0 < ns->n_seqs; s0 += batch) {
    int B = (int)(ns->n_seqs - s0 < batch ? ns->n_seqs - s0 : batch);
    model_forward(m, ns->tokens + (size_t)s0 * T, NULL, B, T);
    for (int i = 0; i < L; i++) {
      if (!is_attention(c->pattern[i])) continue;
      AttnPlan p;
      const float *saved = attention_mixer_saved(&p, m->a.layer[i].saved, &m->shape[i]);
      for (long k = first[s0]; k < first[s0 + B]; k++) {
        long smp = order[k];
        int b = (int)(ns->seq[smp] - s0), q = ns->query[smp], nd = ns->needle[smp];
        int hi = nd + hs->reach[i] < q ? nd + hs->reach[i] : q, n_relay, n_needle;
        int n_vis = visible_count(&p, q, nd, hi, &n_relay);
        visible_count(&p, q, nd, nd, &n_needle);
        for (int h = 0; h < H; h++) {
          attention_probs_row(row, saved, &p, b, h, q);
          double relay = 0;
          for (int j = nd; j <= hi; j++) relay += row[j];
          size_t at = (size_t)i * H + h;
          sum[0][at] += row[nd];
          sum[1][at] += relay;
          sum[2][at] += (double)n_needle / n_vis;
          sum[3][at] += (double)n_relay / n_vis;
        }
      }
      for (int b = 0; b < B; b++)
        for (int t = t_first; t < T; t++) {
          int unused, n_vis = visible_count(&p, t, 0, -1, &unused);
          for (int h = 0; h < H; h++) {
            attention_probs_row(row, saved, &p, b, h, t);
            double ent = 0;
            for (int j = 0; j <= t; j++)
              if (row[j] > 0) ent -= row[j] * log((double)row[j]);
            size_t at = (size_t)i * H + h;
            sum[4][at] += ent;
            if (n_vis > 1) sum[5][at] += ent / log((double)n_vis), sum_norm_n[at] += 1;
          }
        }
    }
  }
  hs->n_samples = ns->n;
  hs->n_entropy = ns->n_seqs * (long)(T - t_first);
  double **dst[6] = {&hs->score_needle, &hs->score_relay, &hs->uniform_needle, &hs->uniform_relay, &hs->entropy,
                     &hs->entropy_norm};
  for (int k = 0; k < 6; k++) *dst[k] = hb_malloc(LH * sizeof(double));
  for (size_t at = 0; at < LH; at++) {
    int attn = is_attention(c->pattern[at / H]);
    for (int k = 0; k < 4; k++) (*dst[k])[at] = attn && ns->n ? sum[k][at] / (double)ns->n : NAN;
    hs->entropy[at] = attn && hs->n_entropy ? sum[4][at] / (double)hs->n_entropy : NAN;
    hs->entropy_norm[at] = attn && sum_norm_n[at] > 0 ? sum[5][at] / sum_norm_n[at] : NAN;
  }
  for (int k = 0; k < 6; k++) free(sum[k]);
  free(sum_norm_n), free(order), free(first), free(row);
}

void heads_free(HeadStats *hs) {
  free(hs->score_needle), free(hs->score_relay), free(hs->uniform_needle), free(hs->uniform_relay);
  free(hs->entropy), free(hs->entropy_norm);
  memset(hs, 0, sizeof *hs);
}

int heads_rank(int *order, const HeadStats *hs, const char *kinds, int by_relay) {
  const double *score = by_relay ? hs->score_relay : hs->score_needle;
  int n = 0;
  for (int at = 0; at < hs->L * hs->H; at++) {
    char kind = hs->kind[at / hs->H];
    if (is_attention(kind) && strchr(kinds, kind)) order[n++] = at;
  }
  /* insertion sort, best first; equal scores keep layer-head order */
  for (int i = 1; i < n; i++) {
    int x = order[i], j = i - 1;
    while (j >= 0 && score[order[j]] < score[x]) order[j + 1] = order[j], j--;
    order[j + 1] = x;
  }
  return n;
}

void heads_qk_distance(double *l2, double *rel_l2, const Model *m, const Model *ref, int layer, int head) {
  HB_ASSERT(is_attention(m->cfg.pattern[layer]), "Q/K distance is defined for attention layers");
  int dh = m->cfg.head_dim, C = m->cfg.d_model;
  double diff = 0, norm = 0;
  const char *which[2] = {"q_proj", "k_proj"};
  for (int k = 0; k < 2; k++) {
    char name[96];
    snprintf(name, sizeof name, "layers.%d.attn.%s.weight", layer, which[k]);
    const ParamSpec *pm = model_find_param(m, name), *pr = model_find_param(ref, name);
    HB_ASSERT(pm && pr && pm->numel == pr->numel, "both checkpoints hold the same model (callers check)");
    const float *a = m->param_mem + pm->offset + (size_t)head * dh * C;
    const float *b = ref->param_mem + pr->offset + (size_t)head * dh * C;
    for (size_t e = 0; e < (size_t)dh * C; e++) {
      double d = (double)a[e] - (double)b[e];
      diff += d * d;
      norm += (double)b[e] * b[e];
    }
  }
  *l2 = sqrt(diff);
  *rel_l2 = norm > 0 ? *l2 / sqrt(norm) : NAN;
}
