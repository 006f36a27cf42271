/* Evaluation of a model on a generated dataset (DESIGN.md section 5):
 *   short_loss   mean cross-entropy on TEXT targets (ordinary text)
 *   answer_loss, answer_acc   on every ANSWER target
 *   longppl      exp(mean cross-entropy) on ANSWER targets whose evidence is
 *                farther back than the `far` threshold (key tokens by
 *                construction); far_acc, near_acc: accuracy beyond / within it
 *   acc_dist     accuracy per distance bucket [2^k, 2^(k+1)), group = 2^k
 *   niah_acc     accuracy of the depth-placed NIAH query per depth (percent)
 * Accuracy: the arg-max over the whole vocabulary equals the answer. */
#ifndef HYBENCH_EVAL_H
#define HYBENCH_EVAL_H

#include <stdio.h>

#include "hybench/dataset.h"
#include "hybench/model.h"

#define EVAL_BUCKETS 24
#define EVAL_DEPTHS 11

typedef struct {
  double short_loss_sum, answer_loss_sum, far_loss_sum;
  long n_short, n_answers, n_far;
  long answers_right, far_right, near_right;
  long bucket_n[EVAL_BUCKETS], bucket_right[EVAL_BUCKETS];
  long depth_n[EVAL_DEPTHS], depth_right[EVAL_DEPTHS];
  /* Far by the fact's own distance, kept beside the split the metrics use when
   * that is the nearest copy (rows longppl_fact, far_acc_fact): the old measure
   * for comparison (REPRODUCE.md, what "far accuracy" measures). */
  int fact_split_differs;
  double fact_far_loss_sum;
  long n_fact_far, fact_far_right;
} EvalResult;

/* Something that predicts: fills logits (B*T, V) for inputs (B, T), the
 * sequences first_seq .. first_seq + B - 1 of the dataset. A model is one;
 * tests plug in oracles and context-free baselines. */
typedef void (*LogitsFn)(void *ctx, float *logits, const int32_t *inputs, int B, int T, long first_seq);

/* Scores every sequence of the dataset, `batch` sequences per call. */
void eval_predictor(EvalResult *r, LogitsFn predict, void *ctx, int vocab, const Dataset *ds, int far, int batch);
/* eval_predictor with the model's forward pass. */
void eval_dataset(EvalResult *r, Model *m, const Dataset *ds, int far, int batch);
/* The summary numbers of a result (NaN when nothing was counted). */
double eval_short_loss(const EvalResult *r);
double eval_longppl(const EvalResult *r);
double eval_far_acc(const EvalResult *r);
double eval_answer_acc(const EvalResult *r);
/* Appends the metric rows "<prefix>metric\tgroup\tvalue\tn\n" (prefix holds
 * the identifying columns, tab-terminated). */
void eval_write_rows(FILE *fp, const char *prefix, const EvalResult *r);
extern const char EVAL_HEADER_TAIL[]; /* "metric\tgroup\tvalue\tn" */

/* LongPPL in its LSD form (Fang et al., 2024): a target is a key token when,
 * under an evaluator model, log p(token | full context) - log p(token | last K
 * tokens only) > 2 and log p(token | full context) > -2. The short-context
 * probability is computed exactly: for target position t + 1 the evaluator
 * runs on the K tokens t-K+1..t alone (positions 0..K-1, fewer at the start of
 * a sequence), i.e. a fresh forward pass per position, so no layer stacking
 * can widen the context. is_key (n_seqs * (T + 1)) marks each key target. */
typedef struct {
  long n_targets, n_keys, n_keys_answers; /* keys that are also planted answers */
  double key_loss_sum;                    /* loss of the evaluated model on keys */
} LsdResult;
void eval_lsd_keys(uint8_t *is_key, Model *evaluator, const Dataset *ds, int K, int batch);
void eval_lsd_longppl(LsdResult *r, Model *m, const Dataset *ds, const uint8_t *is_key, int batch);
void eval_write_lsd_rows(FILE *fp, const char *prefix, const LsdResult *r, int K);

#endif
