#include "hybench/eval.h"

#include <math.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/layers.h"

const char EVAL_HEADER_TAIL[] = "metric\tgroup\tvalue\tn";

static int distance_bucket(int d) {
  int b = 0;
  while ((2 << b) <= d && b < EVAL_BUCKETS - 1) b++;
  return b;
}

static int row_argmax(const float *logits, int V) {
  int best = 0;
  for (int v = 1; v < V; v++)
    if (logits[v] > logits[best]) best = v;
  return best;
}

/* dist_at[(seq, pos)] = distance of the answer at that token, else -1;
 * depth_at likewise for NIAH depth-placed queries. */
static void index_dependencies(const Dataset *ds, int32_t *dist_at, int8_t *depth_at) {
  size_t L = (size_t)ds->seq_len + 1, n = (size_t)ds->n_seqs * L;
  for (size_t i = 0; i < n; i++) dist_at[i] = -1, depth_at[i] = -1;
  for (long d = 0; d < ds->n_deps; d++) {
    size_t at = (size_t)ds->dep_seq[d] * L + (size_t)ds->dep_pos[d];
    dist_at[at] = ds->dep_distance[d];
    if (ds->dep_depth[d] >= 0) depth_at[at] = (int8_t)(ds->dep_depth[d] / 10);
  }
}

void eval_predictor(EvalResult *r, LogitsFn predict, void *ctx, int V, const Dataset *ds, int far, int batch) {
  memset(r, 0, sizeof *r);
  int T = ds->seq_len;
  size_t L = (size_t)T + 1;
  int32_t *dist_at = hb_malloc((size_t)ds->n_seqs * L * sizeof(int32_t));
  int8_t *depth_at = hb_malloc((size_t)ds->n_seqs * L);
  index_dependencies(ds, dist_at, depth_at);
  int32_t *inputs = hb_malloc((size_t)batch * T * sizeof(int32_t)), *targets = hb_malloc((size_t)batch * T * sizeof(int32_t));
  float *row_loss = hb_malloc((size_t)batch * T * sizeof(float));
  float *logits = hb_malloc((size_t)batch * T * V * sizeof(float));
  for (long s0 = 0; s0 < ds->n_seqs; s0 += batch) {
    int B = (int)(ds->n_seqs - s0 < batch ? ds->n_seqs - s0 : batch);
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        size_t at = (size_t)(s0 + b) * L + (size_t)t;
        inputs[b * T + t] = (int32_t)ds->tokens.ids[at];
        targets[b * T + t] = (int32_t)ds->tokens.ids[at + 1];
      }
    predict(ctx, logits, inputs, B, T, s0);
    crossentropy_forward_backward(NULL, row_loss, logits, targets, (int64_t)B * T, V);
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        size_t at = (size_t)(s0 + b) * L + (size_t)t + 1; /* the target token */
        int label = (int)ds->labels.ids[at];
        double loss = row_loss[b * T + t];
        if (label == LABEL_TEXT) r->short_loss_sum += loss, r->n_short++;
        if (label != LABEL_ANSWER) continue;
        int right = row_argmax(logits + ((size_t)b * T + t) * V, V) == targets[b * T + t];
        int d = dist_at[at];
        HB_ASSERT(d > 0, "dataset_load checked that every answer has its dependency row");
        r->answer_loss_sum += loss, r->n_answers++, r->answers_right += right;
        if (d > far) r->far_loss_sum += loss, r->n_far++, r->far_right += right;
        else r->near_right += right;
        int k = distance_bucket(d);
        r->bucket_n[k]++, r->bucket_right[k] += right;
        if (depth_at[at] >= 0) r->depth_n[depth_at[at]]++, r->depth_right[depth_at[at]] += right;
      }
  }
  free(dist_at), free(depth_at), free(inputs), free(targets), free(row_loss), free(logits);
}

static void model_logits(void *ctx, float *logits, const int32_t *inputs, int B, int T, long first_seq) {
  Model *m = ctx;
  (void)first_seq;
  model_forward(m, inputs, NULL, B, T);
  memcpy(logits, m->a.logits, (size_t)B * T * m->cfg.vocab * sizeof(float));
}

void eval_dataset(EvalResult *r, Model *m, const Dataset *ds, int far, int batch) {
  eval_predictor(r, model_logits, m, m->cfg.vocab, ds, far, batch);
}

static void row(FILE *fp, const char *prefix, const char *metric, long group, double value, long n) {
  fprintf(fp, "%s%s\t%ld\t%.9g\t%ld\n", prefix, metric, group, value, n);
}

static double ratio(double a, long n) { return n ? a / (double)n : NAN; }

double eval_short_loss(const EvalResult *r) { return ratio(r->short_loss_sum, r->n_short); }
double eval_longppl(const EvalResult *r) { return exp(ratio(r->far_loss_sum, r->n_far)); }
double eval_far_acc(const EvalResult *r) { return ratio((double)r->far_right, r->n_far); }
double eval_answer_acc(const EvalResult *r) { return ratio((double)r->answers_right, r->n_answers); }

void eval_write_rows(FILE *fp, const char *prefix, const EvalResult *r) {
  row(fp, prefix, "short_loss", -1, ratio(r->short_loss_sum, r->n_short), r->n_short);
  row(fp, prefix, "answer_loss", -1, ratio(r->answer_loss_sum, r->n_answers), r->n_answers);
  row(fp, prefix, "answer_acc", -1, ratio((double)r->answers_right, r->n_answers), r->n_answers);
  row(fp, prefix, "longppl", -1, exp(ratio(r->far_loss_sum, r->n_far)), r->n_far);
  row(fp, prefix, "far_acc", -1, ratio((double)r->far_right, r->n_far), r->n_far);
  row(fp, prefix, "near_acc", -1, ratio((double)r->near_right, r->n_answers - r->n_far), r->n_answers - r->n_far);
  for (int k = 0; k < EVAL_BUCKETS; k++)
    if (r->bucket_n[k]) row(fp, prefix, "acc_dist", 1L << k, ratio((double)r->bucket_right[k], r->bucket_n[k]), r->bucket_n[k]);
  for (int k = 0; k < EVAL_DEPTHS; k++)
    if (r->depth_n[k]) row(fp, prefix, "niah_acc", 10L * k, ratio((double)r->depth_right[k], r->depth_n[k]), r->depth_n[k]);
}
