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

/* dep_at[(seq, pos)] = the dependency row of the answer at that token, else
 * -1: its distances (the split the metrics use, the fact's) and NIAH depth. */
static void index_dependencies(const Dataset *ds, int32_t *dep_at) {
  size_t L = (size_t)ds->seq_len + 1, n = (size_t)ds->n_seqs * L;
  HB_ASSERT(ds->n_deps <= INT32_MAX, "dependency rows fit an int32 index");
  for (size_t i = 0; i < n; i++) dep_at[i] = -1;
  for (long d = 0; d < ds->n_deps; d++) dep_at[(size_t)ds->dep_seq[d] * L + (size_t)ds->dep_pos[d]] = (int32_t)d;
}

void eval_predictor(EvalResult *r, LogitsFn predict, void *ctx, int V, const Dataset *ds, int far, int batch) {
  memset(r, 0, sizeof *r);
  int T = ds->seq_len;
  size_t L = (size_t)T + 1;
  int32_t *dep_at = hb_malloc((size_t)ds->n_seqs * L * sizeof(int32_t));
  index_dependencies(ds, dep_at);
  r->fact_split_differs = ds->dep_far_by != ds->dep_distance;
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
        long dep = dep_at[at];
        HB_ASSERT(dep >= 0, "dataset_load checked that every answer has its dependency row");
        int d = ds->dep_far_by[dep], depth = ds->dep_depth[dep] >= 0 ? ds->dep_depth[dep] / 10 : -1;
        r->answer_loss_sum += loss, r->n_answers++, r->answers_right += right;
        if (d > far) r->far_loss_sum += loss, r->n_far++, r->far_right += right;
        else r->near_right += right;
        if (ds->dep_distance[dep] > far) r->fact_far_loss_sum += loss, r->n_fact_far++, r->fact_far_right += right;
        int k = distance_bucket(d);
        r->bucket_n[k]++, r->bucket_right[k] += right;
        if (depth >= 0) r->depth_n[depth]++, r->depth_right[depth] += right;
      }
  }
  free(dep_at), free(inputs), free(targets), free(row_loss), free(logits);
}

static void model_logits(void *ctx, float *logits, const int32_t *inputs, int B, int T, long first_seq) {
  Model *m = ctx;
  (void)first_seq;
  model_forward(m, inputs, NULL, B, T);
  memcpy(logits, m->a.logits, (size_t)B * T * m->cfg.vocab * sizeof(float));
}

void eval_dataset(EvalResult *r, Model *m, const Dataset *ds, int far, int batch) {
  eval_predictor(r, model_logits, m, m->cfg.vocab, ds, far, model_analysis_batch(m, ds->seq_len, batch));
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
  if (r->fact_split_differs) {
    row(fp, prefix, "longppl_fact", -1, exp(ratio(r->fact_far_loss_sum, r->n_fact_far)), r->n_fact_far);
    row(fp, prefix, "far_acc_fact", -1, ratio((double)r->fact_far_right, r->n_fact_far), r->n_fact_far);
  }
  for (int k = 0; k < EVAL_BUCKETS; k++)
    if (r->bucket_n[k]) row(fp, prefix, "acc_dist", 1L << k, ratio((double)r->bucket_right[k], r->bucket_n[k]), r->bucket_n[k]);
  for (int k = 0; k < EVAL_DEPTHS; k++)
    if (r->depth_n[k]) row(fp, prefix, "niah_acc", 10L * k, ratio((double)r->depth_right[k], r->depth_n[k]), r->depth_n[k]);
}

/* ---------- LongPPL, LSD form ---------- */

/* log p(target) of row r of logits (V). */
static double row_logprob(const float *logits, int V, int target) {
  float mx = logits[0];
  for (int v = 1; v < V; v++) mx = logits[v] > mx ? logits[v] : mx;
  double sum = 0;
  for (int v = 0; v < V; v++) sum += exp((double)(logits[v] - mx));
  return (double)(logits[target] - mx) - log(sum);
}

/* Full-context log-probabilities of every target of one sequence: lp (T). */
static void full_context_logprobs(double *lp, Model *m, const uint32_t *seq, int T) {
  int32_t *in = hb_malloc((size_t)T * sizeof(int32_t));
  for (int t = 0; t < T; t++) in[t] = (int32_t)seq[t];
  model_forward(m, in, NULL, 1, T);
  for (int t = 0; t < T; t++) lp[t] = row_logprob(m->a.logits + (size_t)t * m->cfg.vocab, m->cfg.vocab, (int)seq[t + 1]);
  free(in);
}

/* Short-context log-probabilities: target t + 1 predicted from tokens
 * max(0, t-K+1)..t alone. Each full window of K tokens is one row of a
 * (batch, K) forward pass, read at its last column; the first K - 1 targets
 * have less context than K and run one by one at their true length. */
static void short_context_logprobs(double *lp, Model *m, const uint32_t *seq, int T, int K, int batch) {
  int V = m->cfg.vocab;
  int32_t *in = hb_malloc((size_t)batch * K * sizeof(int32_t));
  for (int t = 0; t < T && t < K - 1; t++) { /* short prefixes: exact length t + 1 */
    for (int j = 0; j <= t; j++) in[j] = (int32_t)seq[j];
    model_forward(m, in, NULL, 1, t + 1);
    lp[t] = row_logprob(m->a.logits + (size_t)t * V, V, (int)seq[t + 1]);
  }
  for (int t0 = K - 1; t0 < T; t0 += batch) {
    int B = T - t0 < batch ? T - t0 : batch;
    for (int b = 0; b < B; b++)
      for (int j = 0; j < K; j++) in[b * K + j] = (int32_t)seq[t0 + b - (K - 1) + j];
    model_forward(m, in, NULL, B, K);
    for (int b = 0; b < B; b++)
      lp[t0 + b] = row_logprob(m->a.logits + ((size_t)b * K + K - 1) * V, V, (int)seq[t0 + b + 1]);
  }
  free(in);
}

void eval_lsd_keys(uint8_t *is_key, Model *evaluator, const Dataset *ds, int K, int batch) {
  int T = ds->seq_len;
  size_t L = (size_t)T + 1;
  double *full = hb_malloc((size_t)T * sizeof(double)), *part = hb_malloc((size_t)T * sizeof(double));
  for (long s = 0; s < ds->n_seqs; s++) {
    const uint32_t *seq = ds->tokens.ids + (size_t)s * L;
    full_context_logprobs(full, evaluator, seq, T);
    short_context_logprobs(part, evaluator, seq, T, K, batch);
    is_key[(size_t)s * L] = 0;
    for (int t = 0; t < T; t++) is_key[(size_t)s * L + t + 1] = full[t] - part[t] > 2.0 && full[t] > -2.0;
  }
  free(full);
  free(part);
}

void eval_lsd_longppl(LsdResult *r, Model *m, const Dataset *ds, const uint8_t *is_key, int batch) {
  memset(r, 0, sizeof *r);
  int T = ds->seq_len, V = m->cfg.vocab;
  size_t L = (size_t)T + 1;
  int32_t *in = hb_malloc((size_t)batch * T * sizeof(int32_t));
  for (long s0 = 0; s0 < ds->n_seqs; s0 += batch) {
    int B = (int)(ds->n_seqs - s0 < batch ? ds->n_seqs - s0 : batch);
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) in[b * T + t] = (int32_t)ds->tokens.ids[(size_t)(s0 + b) * L + t];
    model_forward(m, in, NULL, B, T);
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        size_t at = (size_t)(s0 + b) * L + (size_t)t + 1;
        r->n_targets++;
        if (!is_key[at]) continue;
        r->n_keys++;
        r->n_keys_answers += ds->labels.ids[at] == LABEL_ANSWER;
        r->key_loss_sum -= row_logprob(m->a.logits + ((size_t)b * T + t) * V, V, (int)ds->tokens.ids[at]);
      }
  }
  free(in);
}

void eval_write_lsd_rows(FILE *fp, const char *prefix, const LsdResult *r, int K) {
  row(fp, prefix, "lsd_longppl", K, exp(ratio(r->key_loss_sum, r->n_keys)), r->n_keys);
  row(fp, prefix, "lsd_key_fraction", K, ratio((double)r->n_keys, r->n_targets), r->n_targets);
  row(fp, prefix, "lsd_keys_planted", K, ratio((double)r->n_keys_answers, r->n_keys), r->n_keys);
}
