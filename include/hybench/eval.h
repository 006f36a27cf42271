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

#endif
