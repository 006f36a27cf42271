#include "hybench/train.h"

#include <dirent.h>
#include <math.h>
#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "hybench/common.h"
#include "hybench/dataset.h"
#include "hybench/eval.h"
#include "hybench/model.h"
#include "hybench/rng.h"
#include "hybench/rundir.h"
#include "hybench/tensorio.h"

const char *loss_mask_name(LossMask m) {
  switch (m) {
  case LOSS_MASK_ALL: return "all";
  case LOSS_MASK_TEXT_ANSWERS: return "text+answers";
  case LOSS_MASK_ANSWERS: return "answers";
  }
  return "?";
}

static volatile sig_atomic_t stop_signal;
static void on_stop_signal(int sig) { stop_signal = sig; }

static long steps_for(const TrainConfig *tc, long tokens) {
  long per_step = (long)tc->seq_len * tc->batch;
  return (tokens + per_step - 1) / per_step;
}

static int compare_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

void train_default_checkpoints(TrainConfig *tc) {
  tc->n_ckpt = 0;
  long per_step = (long)tc->seq_len * tc->batch;
  for (int k = 8; k >= 0; k--) {
    long tokens = (long)(tc->tokens * pow(10.0, -k / 4.0));
    long step = (tokens + per_step - 1) / per_step;
    if (step < 1) step = 1;
    long at = step * per_step;
    if (tc->n_ckpt == 0 || at > tc->ckpt_at[tc->n_ckpt - 1]) tc->ckpt_at[tc->n_ckpt++] = at;
  }
}

static void add_checkpoint(TrainConfig *tc, long tokens, const char *option) {
  if (tc->n_ckpt == HB_MAX_CKPTS) hb_input_error(option, "more than %d checkpoints", HB_MAX_CKPTS);
  tc->ckpt_at[tc->n_ckpt++] = tokens;
}

void train_schedule_checkpoints(TrainConfig *tc, long every) {
  tc->n_ckpt = 0;
  for (int k = 8; k >= 1; k--) {
    long at = (long)(tc->tokens * pow(10.0, -k / 4.0));
    if (at >= 1) add_checkpoint(tc, at, "train --ckpt-every");
  }
  for (long t = every; t < tc->tokens; t += every) add_checkpoint(tc, t, "train --ckpt-every");
  add_checkpoint(tc, tc->tokens, "train --ckpt-every");
  qsort(tc->ckpt_at, (size_t)tc->n_ckpt, sizeof(long), compare_long);
}

void train_parse_checkpoints(TrainConfig *tc, const char *list) {
  tc->n_ckpt = 0;
  /* item by item, so that an empty item ("100,,200", a trailing comma) is an error, not skipped */
  for (const char *item = list;;) {
    size_t len = strcspn(item, ",");
    char text[64];
    snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), item);
    long v;
    if (len == 0) hb_input_error("train --ckpt-at", "'%s' has an empty item", list);
    if (len >= sizeof text || !hb_parse_count(text, &v) || v <= 0)
      hb_input_error("train --ckpt-at", "'%s' is not a positive token count", text);
    add_checkpoint(tc, v, "train --ckpt-at");
    if (item[len] == '\0') break;
    item += len + 1;
  }
  qsort(tc->ckpt_at, (size_t)tc->n_ckpt, sizeof(long), compare_long);
}

static void write_text_atomic(const char *path, const char *text) {
  HbOut out = hb_out_open(path, "w");
  fputs(text, out.fp);
  hb_out_commit(&out);
}

/* ---------- checkpoints ---------- */

typedef struct {
  Model model;
  Optimizer opt;
  HbRng data_rng;
  double elapsed; /* seconds of training before this process */
} RunState;

static void save_checkpoint(const TrainConfig *tc, RunState *rs, long tokens) {
  char wpath[1100], opath[1100];
  hb_run_ckpt_path(wpath, sizeof wpath, tc->out_dir, tokens);
  hb_run_optim_path(opath, sizeof opath, tc->out_dir, tokens);
  const Model *m = &rs->model;
  int n = m->n_params;
  HbStTensor *ts = hb_calloc(2 * (size_t)n, sizeof *ts);
  char *names = hb_malloc(2 * (size_t)n * 128);
  model_arena_tensors(m, rs->opt.m, "adam_m.", ts, names);
  model_arena_tensors(m, rs->opt.v, "adam_v.", ts + n, names + (size_t)n * 128);
  char step[32], rng[96], elapsed[32], tok[32];
  snprintf(step, sizeof step, "%ld", rs->opt.step);
  snprintf(tok, sizeof tok, "%ld", tokens);
  snprintf(rng, sizeof rng, "%016llx %016llx %016llx %016llx", (unsigned long long)rs->data_rng.s[0],
           (unsigned long long)rs->data_rng.s[1], (unsigned long long)rs->data_rng.s[2],
           (unsigned long long)rs->data_rng.s[3]);
  snprintf(elapsed, sizeof elapsed, "%.9g", rs->elapsed);
  const char *keys[] = {"step", "tokens", "data_rng", "elapsed_s"};
  const char *values[] = {step, tok, rng, elapsed};
  /* Optimizer state first: a weights file without its sibling is never taken as resumable. */
  hb_st_save(opath, ts, 2 * n, keys, values, 4);
  free(ts);
  free(names);
  char *config = config_to_text(&m->cfg);
  const char *wkeys[] = {"config", "format", "tokens", "step"};
  const char *wvalues[] = {config, "hybench-1", tok, step};
  model_save_arena(m, m->param_mem, wpath, wkeys, wvalues, 4);
  free(config);
}

static const char *require_meta(const HbSafetensors *st, const char *key) {
  const char *v = hb_st_meta(st, key);
  if (!v) {
    char where[1024];
    snprintf(where, sizeof where, "%s: __metadata__", st->path);
    hb_input_error(where, "missing \"%s\"", key);
  }
  return v;
}

/* The weights of checkpoint `wpath` into the run's model, whose config must be the same. */
static void load_weights(Model *model, const char *wpath) {
  Model loaded;
  model_load(&loaded, wpath);
  char *a = config_to_text(&loaded.cfg);
  char *b = config_to_text(&model->cfg);
  if (strcmp(a, b) != 0) hb_input_error(wpath, "__metadata__.config: differs from the run's model config");
  memcpy(model->param_mem, loaded.param_mem, model->n_floats * sizeof(float));
  free(a), free(b);
  model_free(&loaded);
}

static void load_checkpoint(const TrainConfig *tc, RunState *rs, long tokens) {
  char wpath[1100], opath[1100];
  hb_run_ckpt_path(wpath, sizeof wpath, tc->out_dir, tokens);
  hb_run_optim_path(opath, sizeof opath, tc->out_dir, tokens);
  load_weights(&rs->model, wpath);
  HbSafetensors st;
  hb_st_load(&st, opath);
  model_read_arena(&rs->model, rs->opt.m, &st, "adam_m.");
  model_read_arena(&rs->model, rs->opt.v, &st, "adam_v.");
  const char *prefixes[] = {"adam_m.", "adam_v."};
  model_check_no_extra(&rs->model, &st, prefixes, 2);
  char where[1024];
  snprintf(where, sizeof where, "%s: __metadata__", opath);
  if (!hb_parse_long(require_meta(&st, "step"), &rs->opt.step) || rs->opt.step != steps_for(tc, tokens))
    hb_input_error(where, "step: does not match the checkpoint's %ld tokens", tokens);
  unsigned long long s[4];
  if (sscanf(require_meta(&st, "data_rng"), "%llx %llx %llx %llx", &s[0], &s[1], &s[2], &s[3]) != 4)
    hb_input_error(where, "data_rng: not four hex words");
  for (int i = 0; i < 4; i++) rs->data_rng.s[i] = s[i];
  if (!hb_parse_double(require_meta(&st, "elapsed_s"), &rs->elapsed)) hb_input_error(where, "elapsed_s: not a number");
  hb_st_free(&st);
}

/* ---------- metrics ---------- */

static const char METRICS_HEADER[] = "step\ttokens\tloss\tlr\tgrad_norm\ttokens_per_s\telapsed_s\n";

static const char EVALS_HEADER_HEAD[] = "step\ttokens\tset\t";

/* Keeps the header and the complete rows up to `last_step` (first column), atomically. */
static void truncate_table(const char *path, const char *header, long last_step) {
  HbOut out = hb_out_open(path, "w");
  fputs(header, out.fp);
  if (hb_file_exists(path)) {
    char *text = hb_read_file(path, NULL);
    char *line = strchr(text, '\n');
    while (line && line[1]) {
      char *row = line + 1, *end = strchr(row, '\n');
      if (!end) break; /* a half-written last row is dropped */
      long step;
      if (sscanf(row, "%ld", &step) == 1 && step <= last_step) fwrite(row, 1, (size_t)(end - row + 1), out.fp);
      line = end;
    }
    free(text);
  }
  hb_out_commit(&out);
}

/* ---------- data ---------- */

/* Training batches: random windows of a token stream, or random whole
 * sequences of a dataset with the loss mask applied to their targets. */
typedef struct {
  int is_dataset;
  HbTokens stream;
  Dataset ds;
  LossMask mask;
} TrainData;

static void data_open(TrainData *d, const TrainConfig *tc, int vocab) {
  memset(d, 0, sizeof *d);
  d->mask = tc->loss_mask;
  d->is_dataset = dataset_exists(tc->data_path);
  if (d->is_dataset) {
    dataset_load(&d->ds, tc->data_path, vocab);
    if (d->ds.seq_len != tc->seq_len)
      hb_input_error("train --seq-len", "%d, but the dataset %s holds sequences of seq_len %d", tc->seq_len,
                     tc->data_path, d->ds.seq_len);
    return;
  }
  if (tc->loss_mask != LOSS_MASK_ALL)
    hb_input_error("train --loss-mask", "%s needs a gen-data dataset; %s is a plain token file", loss_mask_name(tc->loss_mask),
                   tc->data_path);
  hb_tokens_read(&d->stream, tc->data_path, (uint32_t)vocab);
  if (d->stream.count < (uint64_t)tc->seq_len + 2)
    hb_input_error(tc->data_path, "count: %llu tokens, fewer than seq_len + 2 = %d", (unsigned long long)d->stream.count,
                   tc->seq_len + 2);
}

static void data_close(TrainData *d) {
  if (d->is_dataset) dataset_free(&d->ds);
  else hb_tokens_free(&d->stream);
}

static int target_counts(LossMask mask, uint32_t label) {
  switch (mask) {
  case LOSS_MASK_ALL: return 1;
  case LOSS_MASK_TEXT_ANSWERS: return label != LABEL_PLANTED;
  case LOSS_MASK_ANSWERS: return label == LABEL_ANSWER;
  }
  return 1;
}

static void sample_batch(int32_t *inputs, int32_t *targets, const TrainData *d, HbRng *rng, int B, int T) {
  for (int b = 0; b < B; b++) {
    const uint32_t *ids, *labels = NULL;
    if (d->is_dataset) {
      uint64_t seq = rng_below(rng, (uint64_t)d->ds.n_seqs);
      ids = d->ds.tokens.ids + seq * (uint64_t)(T + 1);
      labels = d->ds.labels.ids + seq * (uint64_t)(T + 1);
    } else {
      ids = d->stream.ids + rng_below(rng, d->stream.count - (uint64_t)T);
    }
    for (int t = 0; t < T; t++) {
      inputs[b * T + t] = (int32_t)ids[t];
      int counts = !labels || target_counts(d->mask, labels[t + 1]);
      targets[b * T + t] = counts ? (int32_t)ids[t + 1] : -1;
    }
  }
}

/* ---------- evaluation during training ---------- */

static void evaluate_into(FILE *evals, Model *m, const Dataset *set, const TrainConfig *tc, long step, long tokens) {
  EvalResult r;
  eval_dataset(&r, m, set, tc->eval_far, tc->batch);
  char prefix[1200];
  snprintf(prefix, sizeof prefix, "%ld\t%ld\t%s\t", step, tokens, tc->eval_set);
  eval_write_rows(evals, prefix, &r);
  fflush(evals);
}

/* ---------- the loop ---------- */

static void format_duration(char *buf, size_t n, double s) {
  if (s < 60) snprintf(buf, n, "%.0fs", s);
  else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
  else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

/* Progress of this process. Throughput counts training alone: the seconds
 * spent evaluating and writing checkpoints are kept out of it (they would
 * make the rate and the ETA jump at every evaluation). On a terminal a live
 * line is redrawn twice a second; elsewhere (batch logs, make -j2, CI) a
 * plain line is printed every `every` seconds, with the same content. */
typedef struct {
  int live;
  double every;
  double t_window, window_busy, tps;
  long window_tokens;
  double t_last_print, t_begin, busy_total;
  long tokens_begin;
} Progress;

static void progress_init(Progress *pr, const TrainConfig *tc, double now, long tokens) {
  memset(pr, 0, sizeof *pr);
  pr->live = !tc->quiet && isatty(2);
  pr->every = tc->progress_every;
  pr->t_window = pr->t_begin = pr->t_last_print = now;
  pr->tokens_begin = tokens;
}

/* Seconds spent outside training (evaluation, checkpoints). */
static void progress_busy(Progress *pr, double seconds) {
  pr->window_busy += seconds;
  pr->busy_total += seconds;
}

static void progress_step(Progress *pr, double now, long step_tokens, int last) {
  pr->window_tokens += step_tokens;
  double train_seconds = now - pr->t_window - pr->window_busy;
  if ((now - pr->t_window >= 1.0 || last) && train_seconds > 0) {
    pr->tps = pr->window_tokens / train_seconds;
    pr->t_window = now;
    pr->window_busy = 0;
    pr->window_tokens = 0;
  }
}

static void progress_report(Progress *pr, double now, long step, long total, long tokens, long per_step, double loss,
                            int last) {
  double since = now - pr->t_last_print;
  int due = pr->live ? since > 0.5 || last : pr->every > 0 && (since >= pr->every || last);
  if (!due) return;
  char eta_text[32];
  format_duration(eta_text, sizeof eta_text, pr->tps > 0 ? (double)(total - step) * per_step / pr->tps : 0);
  fprintf(stderr, "%sstep %ld/%ld  tokens %.3gM  loss %.4f  %.0f tok/s  ETA %s%s", pr->live ? "\r" : "", step, total,
          tokens / 1e6, loss, pr->tps, eta_text, pr->live ? "   " : "\n");
  if (pr->live && last) fputc('\n', stderr);
  fflush(stderr);
  pr->t_last_print = now;
}

/* One line at the end of every process: what it trained and how fast. */
static void progress_summary(const Progress *pr, const char *dir, const char *outcome, long step, long tokens,
                             double loss, double now) {
  double wall = now - pr->t_begin, train_seconds = wall - pr->busy_total;
  long trained = tokens - pr->tokens_begin;
  char wall_text[32];
  format_duration(wall_text, sizeof wall_text, wall);
  char loss_text[32] = "-"; /* no step in this process (a finished run resumed) */
  if (trained > 0) snprintf(loss_text, sizeof loss_text, "%.4f", loss);
  fprintf(stderr, "%s: %s at step %ld (%ld tokens), last loss %s; this process trained %ld tokens in %s, %.0f tok/s "
                  "training, %.0f s evaluating and checkpointing\n",
          dir, outcome, step, tokens, loss_text, trained, wall_text, train_seconds > 0 ? trained / train_seconds : 0,
          pr->busy_total);
}

/* ---------- divergence ---------- */

/* A run has diverged when its loss or gradient norm is not finite, or the
 * loss exceeds this many nats per token: a uniform guess costs ln V (6.3 at
 * V = 544, 21 at V = 2^30), so 1000 is reached only by a run that blew up. */
#define HB_DIVERGED_LOSS 1000.0

static const char *divergence(double loss, double gnorm) {
  if (!isfinite(loss)) return "the loss is not finite";
  if (!isfinite(gnorm)) return "the gradient norm is not finite";
  if (loss > HB_DIVERGED_LOSS) return "the loss exceeds 1000 nats per token";
  return NULL;
}

/* Checked before every checkpoint, so that no checkpoint holds a blown-up
 * model even when the update that broke it had a finite loss and norm. */
static int params_finite(const Model *m) {
  for (size_t i = 0; i < m->n_floats; i++)
    if (!isfinite(m->param_mem[i])) return 0;
  return 1;
}

static int next_checkpoint_index(const TrainConfig *tc, long tokens_done) {
  int i = 0;
  while (i < tc->n_ckpt && tc->ckpt_at[i] <= tokens_done) i++;
  return i;
}

int train_run(const TrainConfig *tc) {
  if (tc->resume && hb_run_is_diverged(tc->out_dir)) {
    fprintf(stderr, "%s: diverged earlier (%s/diverged); not trained again. Remove that file to retry from its last "
                    "good checkpoint.\n", tc->out_dir, tc->out_dir);
    return 3;
  }
  omp_set_num_threads(tc->threads);
  ModelConfig cfg;
  config_load(&cfg, tc->model_path);
  TrainData data;
  data_open(&data, tc, cfg.vocab);
  Dataset eval_set;
  if (tc->eval_set) {
    dataset_load(&eval_set, tc->eval_set, cfg.vocab);
    dataset_split_by(&eval_set, tc->eval_distance ? tc->eval_distance : "evidence", "train --eval-distance");
  }
  RunState rs;
  model_create(&rs.model, &cfg);
  model_init_params(&rs.model, tc->seed);
  /* Before the run directory exists, so a wrong checkpoint leaves nothing behind; a resume below overwrites them. */
  if (tc->init_from) load_weights(&rs.model, tc->init_from);
  optim_create(&rs.opt, &rs.model, &tc->optim);
  rng_seed(&rs.data_rng, tc->seed, 2);
  rs.elapsed = 0;

  hb_mkdir_p(tc->out_dir);
  char path[1024], ckdir[1024];
  snprintf(ckdir, sizeof ckdir, "%s/checkpoints", tc->out_dir);
  hb_mkdir_p(ckdir);

  char *conf = hb_run_conf_text(tc, &cfg);
  snprintf(path, sizeof path, "%s/run.conf", tc->out_dir);
  char metrics_path[1024];
  snprintf(metrics_path, sizeof metrics_path, "%s/metrics.tsv", tc->out_dir);
  long start_tokens = 0;
  if (tc->resume && hb_file_exists(path)) {
    char *old = hb_read_file(path, NULL);
    if (strcmp(old, conf) != 0)
      hb_input_error(path, "differs from this command's settings; resume needs the same run (or a new --out)");
    free(old);
    hb_run_remove_stale_temps(tc->out_dir);
    start_tokens = hb_run_latest_resumable(tc->out_dir);
    if (start_tokens > 0) load_checkpoint(tc, &rs, start_tokens);
  } else if (hb_file_exists(path) && !tc->resume) {
    hb_input_error(tc->out_dir, "already holds a run (run.conf); pass --resume to continue it or choose a new --out");
  }
  write_text_atomic(path, conf);
  free(conf);
  truncate_table(metrics_path, METRICS_HEADER, rs.opt.step);
  FILE *metrics = fopen(metrics_path, "a");
  if (!metrics) hb_input_error(metrics_path, "cannot open for appending: %s", strerror(errno));
  FILE *evals = NULL;
  char evals_path[1024];
  snprintf(evals_path, sizeof evals_path, "%s/evals.tsv", tc->out_dir);
  if (tc->eval_set) {
    char header[256];
    snprintf(header, sizeof header, "%s%s\n", EVALS_HEADER_HEAD, EVAL_HEADER_TAIL);
    truncate_table(evals_path, header, rs.opt.step);
    evals = fopen(evals_path, "a");
    if (!evals) hb_input_error(evals_path, "cannot open for appending: %s", strerror(errno));
    if (rs.opt.step == 0) evaluate_into(evals, &rs.model, &eval_set, tc, 0, 0);
  }

  int B = tc->batch, T = tc->seq_len;
  long total_steps = steps_for(tc, tc->tokens), per_step = (long)B * T;
  int32_t *inputs = hb_malloc((size_t)B * T * sizeof(int32_t)), *targets = hb_malloc((size_t)B * T * sizeof(int32_t));
  int ckpt_index = next_checkpoint_index(tc, start_tokens);
  signal(SIGINT, on_stop_signal);
  signal(SIGTERM, on_stop_signal);
  double t_start = hb_now_seconds();
  Progress pr;
  progress_init(&pr, tc, t_start, start_tokens);
  int exit_code = 0;
  double loss = NAN;
  if (start_tokens > 0) fprintf(stderr, "resuming %s at step %ld (%ld tokens)\n", tc->out_dir, rs.opt.step, start_tokens);

  while (rs.opt.step < total_steps) {
    sample_batch(inputs, targets, &data, &rs.data_rng, B, T);
    model_zero_grad(&rs.model);
    loss = model_forward(&rs.model, inputs, targets, B, T);
    model_backward(&rs.model);
    double lr;
    double gnorm = optim_step(&rs.opt, &rs.model, &lr);
    long step = rs.opt.step, tokens = step * per_step;
    double now = hb_now_seconds();
    int last = step == total_steps;
    progress_step(&pr, now, per_step, last);
    double elapsed = rs.elapsed + (now - t_start);
    if (step % tc->log_every == 0 || last) {
      fprintf(metrics, "%ld\t%ld\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\n", step, tokens, loss, lr, gnorm, pr.tps, elapsed);
      fflush(metrics);
    }
    const char *diverged = divergence(loss, gnorm);
    int at_ckpt = ckpt_index < tc->n_ckpt && tokens >= tc->ckpt_at[ckpt_index];
    int saving = at_ckpt || last || stop_signal;
    if (!diverged && saving && !params_finite(&rs.model)) diverged = "a parameter is not finite after the update";
    if (diverged) {
      fprintf(stderr, "%s%s: diverged at step %ld (%ld tokens): %s (loss %g, gradient norm %g); the checkpoints "
                      "before it stay, %s/diverged is written instead of done\n",
              pr.live ? "\n" : "", tc->out_dir, step, tokens, diverged, loss, gnorm, tc->out_dir);
      hb_run_write_diverged(tc->out_dir, step, tokens, loss, gnorm, diverged);
      exit_code = 3;
      break;
    }
    progress_report(&pr, now, step, total_steps, tokens, per_step, loss, last);
    int at_eval = tc->eval_every > 0 && tokens / tc->eval_every != (tokens - per_step) / tc->eval_every;
    if (evals && (at_eval || at_ckpt || last)) {
      evaluate_into(evals, &rs.model, &eval_set, tc, step, tokens);
      progress_busy(&pr, hb_now_seconds() - now);
    }
    while (ckpt_index < tc->n_ckpt && tokens >= tc->ckpt_at[ckpt_index]) ckpt_index++;
    if (saving) {
      double t_save = hb_now_seconds();
      rs.elapsed = elapsed;
      t_start = now;
      save_checkpoint(tc, &rs, tokens);
      progress_busy(&pr, hb_now_seconds() - t_save);
    }
    if (stop_signal && !last) {
      fprintf(stderr, "%s%s: stopped by signal %d at step %ld; checkpoint written; continue with --resume\n",
              pr.live ? "\n" : "", tc->out_dir, (int)stop_signal, step);
      exit_code = 128 + (int)stop_signal;
      break;
    }
  }
  const char *outcome = exit_code == 0 ? "done" : exit_code == 3 ? "diverged" : "stopped";
  progress_summary(&pr, tc->out_dir, outcome, rs.opt.step, rs.opt.step * per_step, loss, hb_now_seconds());
  fclose(metrics);
  if (evals) {
    fclose(evals);
    dataset_free(&eval_set);
  }
  if (exit_code == 0) {
    hb_run_write_done(tc->out_dir, rs.opt.step, rs.opt.step * per_step);
  }
  free(inputs), free(targets);
  optim_free(&rs.opt);
  model_free(&rs.model);
  data_close(&data);
  return exit_code;
}
