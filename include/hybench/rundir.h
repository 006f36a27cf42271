/* The run directory: what `hybench train --out DIR` writes and every analysis
 * reads. This module is the format's only reader and writer; scripts ask
 * `hybench run info` instead of reading the files (DESIGN.md section 2).
 *
 *   DIR/run.conf     `key = value` lines (include/hybench/kvconf.h syntax):
 *                    everything that defines the run, so resume can refuse
 *                    another one. Keys: model_file data seq_len batch tokens
 *                    seed threads lr lr_min warmup_steps total_steps beta1
 *                    beta2 eps weight_decay clip log_every loss_mask eval_set
 *                    eval_every eval_far ckpt_at (comma-separated token
 *                    counts), eval_distance (only when not "evidence"),
 *                    precision (only when not "fp32") and init_from (only
 *                    when the run started from another run's checkpoint), so
 *                    runs made before these existed resume unchanged; then one
 *                    `model.KEY = VALUE` line per key of the model config
 *                    (include/hybench/config.h), as config_to_text writes it.
 *   DIR/metrics.tsv  step tokens loss lr grad_norm tokens_per_s elapsed_s
 *   DIR/evals.tsv    with an eval set: step tokens set metric group value n
 *                    (the metrics of include/hybench/eval.h)
 *   DIR/checkpoints/tokNNNNNNNNNNNN.safetensors        weights after N
 *                    training tokens (12 digits, so names sort by N)
 *   DIR/checkpoints/tokNNNNNNNNNNNN.optim.safetensors  Adam moments, step,
 *                    data RNG and elapsed time: what resume needs
 *   DIR/checkpoints/tokN...safetensors.corrupt  a checkpoint that resume
 *                    found damaged and set aside (hb_run_latest_resumable)
 *   DIR/done         `steps = S` and `tokens = N`, written last: the budget
 *                    was reached
 *   DIR/diverged     instead of done when the run blew up (include/hybench/
 *                    train.h): step, tokens, loss, grad_norm, reason; the
 *                    checkpoints before it stay, and resume refuses to retrain
 * Every file is written under a temporary name and renamed, except the two
 * TSVs, which grow by whole rows and are cut back to the checkpoint on
 * resume. */
#ifndef HYBENCH_RUNDIR_H
#define HYBENCH_RUNDIR_H

#include <stddef.h>

#include "hybench/config.h"
#include "hybench/train.h"

/* run.conf, parsed. Strings are owned (hb_run_free). */
typedef struct {
  char dir[1024];
  char *model_file, *data, *loss_mask, *eval_set, *ckpt_at, *eval_distance, *precision;
  char *init_from; /* NULL when the run started from its seed's initialisation */
  int seq_len, batch, threads, eval_far;
  long tokens, seed, warmup_steps, total_steps, log_every, eval_every;
  double lr, lr_min, beta1, beta2, eps, weight_decay, clip;
  char *model_text; /* the model.* lines without the prefix: config_parse reads it */
  ModelConfig model;
} HbRun;

/* Input error naming DIR/run.conf when it is missing or malformed. */
void hb_run_read(HbRun *run, const char *dir);
void hb_run_free(HbRun *run);
/* run.conf's text for a training run (train writes it; resume compares it). */
char *hb_run_conf_text(const TrainConfig *tc, const ModelConfig *cfg);

/* DIR/checkpoints/tokN.safetensors and its optimizer file. */
void hb_run_ckpt_path(char *buf, size_t n, const char *dir, long tokens);
void hb_run_optim_path(char *buf, size_t n, const char *dir, long tokens);
/* The weight files in ascending tokens; input error when DIR has no run.conf
 * or no checkpoint. Free with hb_run_free_paths. */
int hb_run_checkpoints(char ***paths, long **tokens, const char *dir);
void hb_run_free_paths(char **paths, long *tokens, int n);
/* The token counts of the weight files, ascending; *n may be 0. Caller frees. */
long *hb_run_checkpoint_tokens(const char *dir, int *n);
/* The last weight file (caller frees); input error as hb_run_checkpoints. */
char *hb_run_final_checkpoint(const char *dir);
/* The checkpoint resume starts from: the largest N with both files present
 * and loading (hb_st_try_load: whole, checksums matching), 0 when none.
 * Each newer file that does not load is renamed to "<file>.corrupt" and
 * reported in one line on stderr: resume falls back past a truncated or
 * damaged checkpoint and says so. */
long hb_run_latest_resumable(const char *dir);
/* Removes DIR/checkpoints/<checkpoint file name>.tmp.<pid>, the temporaries
 * of writes that a kill interrupted, unless process pid still runs; one line
 * on stderr when any was removed. */
void hb_run_remove_stale_temps(const char *dir);

/* elapsed_s of metrics.tsv's last row: seconds of training so far; NAN when
 * there is no row yet. */
double hb_run_elapsed_seconds(const char *dir);

int hb_run_is_done(const char *dir);
int hb_run_is_diverged(const char *dir);
void hb_run_write_diverged(const char *dir, long step, long tokens, double loss, double grad_norm, const char *reason);
void hb_run_write_done(const char *dir, long steps, long tokens);

#endif
