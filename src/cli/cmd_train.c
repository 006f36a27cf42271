/* `hybench train`: the command line of train_run (include/hybench/train.h). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/dataset.h"
#include "hybench/model.h"
#include "hybench/train.h"

static const char USAGE[] =
    "train --model M.conf --data FILE.tok --tokens N --out DIR [options]\n\n"
    "   or: train --model M.conf --data FILE.tok --tokens-per-param X --out DIR [options]\n\n"
    "Trains a model on random windows of a token file. Writes the run directory of\n"
    "include/hybench/rundir.h: DIR/run.conf, DIR/metrics.tsv, checkpoints at --ckpt-at token\n"
    "counts (default: 4 per decade from 1% of the budget; --ckpt-every E: those below 10% of\n"
    "the budget exactly, then every E tokens) and DIR/done at the end. SIGINT/SIGTERM write a\n"
    "checkpoint and exit 128+signal; --resume continues from the latest checkpoint, bit for bit\n"
    "with the same thread count. A run whose loss, gradient norm or parameters stop being finite,\n"
    "or whose loss exceeds 1000 nats per token, stops with exit 3: the last good checkpoint stays\n"
    "and DIR/diverged replaces DIR/done (--resume then exits 3 without training). Progress: a live\n"
    "line on a terminal, else a plain line every --progress-every seconds (step, tokens, loss,\n"
    "tokens/s of training alone, ETA), and one summary line at the end.";

/* A defect injected on purpose, for tests only (tests/repro/mutation.sh):
 * HB_TEST_MUTATE=lr_scale=X multiplies the peak learning rate by X, so that
 * the test can show check-results failing on a real regression. The scaled
 * rate is what run.conf records, and a warning says it on every run. */
static double test_mutation_lr_scale(void) {
  const char *m = getenv("HB_TEST_MUTATE");
  if (!m || !*m) return 1.0;
  double scale;
  if (strncmp(m, "lr_scale=", 9) != 0 || !hb_parse_double(m + 9, &scale) || !(scale > 0))
    hb_input_error("HB_TEST_MUTATE", "'%s' is not lr_scale=X with X > 0", m);
  fprintf(stderr, "hybench train: TEST MUTATION %s (HB_TEST_MUTATE): this run is deliberately defective\n", m);
  return scale;
}

/* Adam's moment decays must be in [0, 1): at 1 the bias correction divides by zero. */
static void require_unit_interval(double value, const char *flag) {
  if (!(value >= 0 && value < 1)) hb_input_error(flag, "%g is outside [0, 1)", value);
}

static void require_non_negative(double value, const char *flag) {
  if (!(value >= 0)) hb_input_error(flag, "%g must be >= 0", value);
}

int cmd_train(int argc, char **argv) {
  TrainConfig tc;
  memset(&tc, 0, sizeof tc);
  const char *model = NULL, *data = NULL, *out = NULL, *ckpt_at = NULL;
  long seq_len = 128, batch = 32, tokens = 0, tokens_per_param = 0, ckpt_every = 0, seed = 1, threads = 1, warmup = 50, log_every = 10;
  double lr = 3e-3, lr_min = NAN, wd = 0.0, clip = 1.0, beta1 = 0.9, beta2 = 0.95;
  int resume = 0, quiet = 0;
  double progress_every = 30;
  const char *loss_mask = NULL, *eval_set = NULL, *eval_distance = "evidence", *precision = "fp32";
  const char *init_from = NULL;
  long eval_every = 0, eval_far = 64;
  HbOpt opts[] = {
      {"model", HB_OPT_STR, &model, "model config file (models/*.conf)", 1},
      {"data", HB_OPT_STR, &data, "training token file (.tok)", 1},
      {"tokens", HB_OPT_COUNT, &tokens, "training budget in tokens (e.g. 2M)", 0},
      {"tokens-per-param", HB_OPT_LONG, &tokens_per_param,
       "the budget as X tokens per parameter of the model (D = X N, a scaling-grid point)", 0},
      {"out", HB_OPT_STR, &out, "run directory", 1},
      {"precision", HB_OPT_STR, &precision,
       "fp32, or bf16: products on bf16 operands with fp32 accumulation; master weights, AdamW, softmax, norms "
       "and loss stay fp32 (needs AMX or AVX-512 BF16; the run's evaluations use it too)", 0},
      {"init-from", HB_OPT_STR, &init_from,
       "checkpoint (.safetensors of a run with the same model config) whose weights start this run instead of "
       "--seed's initialisation: a curriculum's later stage; optimizer, LR schedule and data order start fresh", 0},
      {"seq-len", HB_OPT_LONG, &seq_len, "context length T", 0},
      {"batch", HB_OPT_LONG, &batch, "sequences per step B", 0},
      {"lr", HB_OPT_DOUBLE, &lr, "peak learning rate", 0},
      {"lr-min", HB_OPT_DOUBLE, &lr_min, "end of the cosine decay (default lr/10)", 0},
      {"warmup", HB_OPT_LONG, &warmup, "linear warmup steps", 0},
      {"weight-decay", HB_OPT_DOUBLE, &wd, "AdamW decoupled weight decay (matrices only)", 0},
      {"clip", HB_OPT_DOUBLE, &clip, "global gradient-norm clip (0 = off)", 0},
      {"beta1", HB_OPT_DOUBLE, &beta1, "Adam beta1", 0},
      {"beta2", HB_OPT_DOUBLE, &beta2, "Adam beta2", 0},
      {"seed", HB_OPT_LONG, &seed, "seed of initialisation and data sampling", 0},
      {"threads", HB_OPT_LONG, &threads, "OpenMP threads", 0},
      {"ckpt-at", HB_OPT_STR, &ckpt_at, "comma-separated token counts for checkpoints", 0},
      {"ckpt-every", HB_OPT_COUNT, &ckpt_every,
       "the pipeline's schedule: 4 per decade from 1% of the budget, then every E tokens", 0},
      {"log-every", HB_OPT_LONG, &log_every, "steps between metrics.tsv rows", 0},
      {"loss-mask", HB_OPT_STR, &loss_mask, "all | text+answers | answers (default: text+answers for datasets, all otherwise)", 0},
      {"eval-set", HB_OPT_STR, &eval_set, "gen-data output evaluated during training into DIR/evals.tsv", 0},
      {"eval-every", HB_OPT_COUNT, &eval_every, "tokens between evaluations (0: at checkpoints only)", 0},
      {"eval-far", HB_OPT_LONG, &eval_far, "answers with evidence farther back than this are far (LongPPL)", 0},
      {"eval-distance", HB_OPT_STR, &eval_distance, "evidence (the fact) or nearest (the nearest earlier copy of the value): the distance --eval-far applies to", 0},
      {"resume", HB_OPT_FLAG, &resume, "continue from DIR's latest checkpoint", 0},
      {"quiet", HB_OPT_FLAG, &quiet, "no live progress line on a terminal (plain lines every --progress-every s)", 0},
      {"progress-every", HB_OPT_DOUBLE, &progress_every,
       "seconds between plain progress lines when stderr is not a terminal or with --quiet (0: none)", 0},
      {0},
  };
  hb_parse_args("train", USAGE, opts, argc, argv);
  if (seq_len < 1 || seq_len > 1 << 20) hb_input_error("train --seq-len", "%ld is outside 1..2^20", seq_len);
  if (batch < 1 || batch > 1 << 16) hb_input_error("train --batch", "%ld is outside 1..65536", batch);
  if ((tokens > 0) == (tokens_per_param > 0))
    hb_input_error("train --tokens", "give exactly one of --tokens and --tokens-per-param, positive");
  if (tokens_per_param > 0) {
    ModelConfig cfg;
    config_load(&cfg, model);
    long n_params = (long)model_param_count(&cfg);
    if (tokens_per_param > LONG_MAX / n_params)
      hb_input_error("train --tokens-per-param", "%ld x %ld parameters overflows a token count", tokens_per_param, n_params);
    tokens = tokens_per_param * n_params;
  }
  if (ckpt_at && ckpt_every) hb_input_error("train --ckpt-every", "cannot be combined with --ckpt-at");
  if (ckpt_every < 0) hb_input_error("train --ckpt-every", "must be positive");
  if (threads < 1 || threads > 1024) hb_input_error("train --threads", "%ld is outside 1..1024", threads);
  if (!(lr > 0)) hb_input_error("train --lr", "must be positive");
  if (!isnan(lr_min)) require_non_negative(lr_min, "train --lr-min"); /* unset: lr / 10 */
  require_non_negative(wd, "train --weight-decay");
  require_non_negative(clip, "train --clip");
  require_unit_interval(beta1, "train --beta1");
  require_unit_interval(beta2, "train --beta2");
  if (warmup < 0) hb_input_error("train --warmup", "must be >= 0");
  if (log_every < 1) hb_input_error("train --log-every", "must be >= 1");
  if (seed < 0) hb_input_error("train --seed", "must be >= 0");
  lr *= test_mutation_lr_scale();
  tc.model_path = model, tc.data_path = data, tc.out_dir = out;
  tc.seq_len = (int)seq_len, tc.batch = (int)batch, tc.threads = (int)threads;
  tc.tokens = tokens, tc.seed = (uint64_t)seed, tc.log_every = log_every;
  if (!(progress_every >= 0)) hb_input_error("train --progress-every", "%g is negative", progress_every);
  tc.resume = resume, tc.quiet = quiet, tc.progress_every = progress_every;
  OptimConfig *o = &tc.optim;
  o->lr = lr, o->lr_min = isnan(lr_min) ? lr / 10 : lr_min, o->warmup_steps = warmup;
  o->total_steps = (tokens + seq_len * batch - 1) / (seq_len * batch);
  o->beta1 = beta1, o->beta2 = beta2, o->eps = 1e-8, o->weight_decay = wd, o->clip = clip;
  if (!loss_mask) tc.loss_mask = dataset_exists(data) ? LOSS_MASK_TEXT_ANSWERS : LOSS_MASK_ALL;
  else if (!strcmp(loss_mask, "all")) tc.loss_mask = LOSS_MASK_ALL;
  else if (!strcmp(loss_mask, "text+answers")) tc.loss_mask = LOSS_MASK_TEXT_ANSWERS;
  else if (!strcmp(loss_mask, "answers")) tc.loss_mask = LOSS_MASK_ANSWERS;
  else hb_input_error("train --loss-mask", "'%s' is not all, text+answers or answers", loss_mask);
  if (eval_every < 0) hb_input_error("train --eval-every", "must be >= 0");
  if (eval_far < 0) hb_input_error("train --eval-far", "must be >= 0");
  tc.eval_set = eval_set, tc.eval_every = eval_every, tc.eval_far = (int)eval_far;
  if (strcmp(eval_distance, "evidence") != 0 && strcmp(eval_distance, "nearest") != 0)
    hb_input_error("train --eval-distance", "'%s' is not evidence or nearest", eval_distance);
  tc.eval_distance = eval_distance;
  tc.precision = hb_precision_option("train", precision);
  if (init_from && !hb_file_exists(init_from)) hb_input_error("train --init-from", "%s: no such checkpoint", init_from);
  tc.init_from = init_from;
  if (ckpt_at) train_parse_checkpoints(&tc, ckpt_at);
  else if (ckpt_every) train_schedule_checkpoints(&tc, ckpt_every);
  else train_default_checkpoints(&tc);
  return train_run(&tc);
}
