/* Training runs: a run directory holds everything that defines and records
 * one run (its format: include/hybench/rundir.h, DESIGN.md section 2).
 * A run resumed from its latest checkpoint continues bit for bit as if it had
 * never stopped (same thread count).
 *
 * Data: a plain token file is read as one stream (random windows of T + 1
 * tokens, every target counts). A gen-data output (FILE.info beside it) is
 * read as sequences of T + 1 tokens (random whole sequences) and the loss
 * mask chooses which targets count, by their label:
 *   all            every target
 *   text+answers   haystack text and answers; the planted random draws
 *                  (facts, keys, queries), which no context can predict, are
 *                  masked (the default for datasets, DESIGN.md section 8)
 *   answers        only the answers */
#ifndef HYBENCH_TRAIN_H
#define HYBENCH_TRAIN_H

#include <stdint.h>

#include "hybench/config.h"
#include "hybench/optim.h"

#define HB_MAX_CKPTS 256

typedef enum { LOSS_MASK_ALL, LOSS_MASK_TEXT_ANSWERS, LOSS_MASK_ANSWERS } LossMask;
const char *loss_mask_name(LossMask m);

typedef struct {
  const char *model_path;
  const char *data_path;
  const char *out_dir;
  int seq_len, batch, threads;
  long tokens;     /* training budget */
  uint64_t seed;
  OptimConfig optim;
  long ckpt_at[HB_MAX_CKPTS]; /* token counts, ascending */
  int n_ckpt;
  long log_every;  /* steps between metrics rows */
  int resume;
  int quiet;       /* no live progress line even on a terminal (plain lines still, every progress_every s) */
  double progress_every; /* seconds between plain progress lines off a terminal (0: none) */
  LossMask loss_mask;
  const char *eval_set;  /* gen-data output evaluated during training, or NULL */
  long eval_every;       /* tokens between evaluations (0: at checkpoints only) */
  int eval_far;          /* distance beyond which an answer is "far" (LongPPL) */
  const char *eval_distance; /* "evidence" or "nearest": which distance eval_far applies to
                                (dataset_split_by); run.conf names it only when not evidence,
                                so runs made before it existed resume unchanged */
  const char *precision; /* "fp32" or "bf16" (include/hybench/dnn.h; the command sets the
                            products' precision); run.conf names it only when not fp32 */
  const char *init_from; /* a checkpoint whose weights start the run instead of the seed's
                            initialisation (a curriculum's later stage: optimizer, schedule and
                            data order start fresh), or NULL; run.conf names it only when set */
} TrainConfig;

/* Fills ckpt_at with the default schedule: 4 per decade of tokens from 1% of
 * the budget, plus the end. */
void train_default_checkpoints(TrainConfig *tc);
/* The pipeline's schedule (--ckpt-every): 4 per decade from 1% of the budget
 * (exact token counts, for the log-scale start of every curve), every `every`
 * tokens (the evaluation interval, so checkpoints add no evaluation rows of
 * their own), and the budget. The dense start puts several checkpoints on the
 * rise of a retrieval head's score, which a logistic fit needs. */
void train_schedule_checkpoints(TrainConfig *tc, long every);
/* Parses "1M,2M,5e6" into ckpt_at; input error naming --ckpt-at. */
void train_parse_checkpoints(TrainConfig *tc, const char *list);
/* Runs (or resumes) a training run. Returns the exit code: 0 finished,
 * 128 + signal when SIGINT/SIGTERM stopped it after writing a checkpoint, 3
 * when it diverged (non-finite loss, gradient norm or parameters, or a loss
 * above 1000 nats per token): the last good checkpoint stays, DIR/diverged is
 * written instead of DIR/done, and a later --resume exits 3 at once instead
 * of training into the same divergence again. */
int train_run(const TrainConfig *tc);

#endif
