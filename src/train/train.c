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
  char *copy = hb_strdup(list), *save = NULL;
  tc->n_ckpt = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    long v;
    if (!hb_parse_count(tok, &v) || v <= 0) hb_input_error("train --ckpt-at", "'%s' is not a positive token count", tok);
    add_checkpoint(tc, v, "train --ckpt-at");
  }
  free(copy);
  if (tc->n_ckpt == 0) hb_input_error("train --ckpt-at", "empty list");
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

static void load_checkpoint(const TrainConfig *tc, RunState *rs, long tokens) {
  char wpath[1100], opath[1100];
  hb_run_ckpt_path(wpath, sizeof wpath, tc->out_dir, tokens);
  hb_run_optim_path(opath, sizeof opath, tc->out_dir, tokens);
  Model loaded;
  model_load(&loaded, wpath);
  char *a = config_to_text(&loaded.cfg);
  char *b = config_to_text(&rs->model.cfg);
  if (strcmp(a, b) != 0) hb_input_error(wpath, "__metadata__.config: differs from the run's model config");
  memcpy(rs->model.param_mem, loaded.param_mem, rs->model.n_floats * sizeof(float));
  free(a), free(b);
  model_free(&loaded);
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

static void print_progress(long step, long total, long tokens, double loss, double tps, double eta) {
  char eta_text[32];
  format_duration(eta_text, sizeof eta_text, eta);
  fprintf(stderr, "\rstep %ld/%ld  tokens %.3gM  loss %.4f  %.0f tok/s  ETA %s   ", step, total, tokens / 1e6, loss,
          tps, eta_text);
  fflush(stderr);
}

static int next_checkpoint_index(const TrainConfig *tc, long tokens_done) {
  int i = 0;
  while (i < tc->n_ckpt && tc->ckpt_at[i] <= tokens_done) i++;
  return i;
}

int train_run(const TrainConfig *tc) {
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
  hb_mkdir_p(tc->out_dir);
  char path[1024], ckdir[1024];
  snprintf(ckdir, sizeof ckdir, "%s/checkpoints", tc->out_dir);
  hb_mkdir_p(ckdir);

  RunState rs;
  model_create(&rs.model, &cfg);
  model_init_params(&rs.model, tc->seed);
  optim_create(&rs.opt, &rs.model, &tc->optim);
  rng_seed(&rs.data_rng, tc->seed, 2);
  rs.elapsed = 0;

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
  int show_progress = !tc->quiet && isatty(2);
  signal(SIGINT, on_stop_signal);
  signal(SIGTERM, on_stop_signal);
  double t_start = hb_now_seconds(), t_last_print = 0, t_window = t_start;
  long window_tokens = 0;
  double tps = 0;
  int exit_code = 0;
  if (start_tokens > 0) fprintf(stderr, "resuming %s at step %ld (%ld tokens)\n", tc->out_dir, rs.opt.step, start_tokens);

  while (rs.opt.step < total_steps) {
    sample_batch(inputs, targets, &data, &rs.data_rng, B, T);
    model_zero_grad(&rs.model);
    double loss = model_forward(&rs.model, inputs, targets, B, T);
    model_backward(&rs.model);
    double lr;
    double gnorm = optim_step(&rs.opt, &rs.model, &lr);
    long step = rs.opt.step, tokens = step * per_step;
    double now = hb_now_seconds();
    window_tokens += per_step;
    if (now - t_window >= 1.0 || step == total_steps) {
      tps = window_tokens / (now - t_window);
      t_window = now;
      window_tokens = 0;
    }
    double elapsed = rs.elapsed + (now - t_start);
    if (step % tc->log_every == 0 || step == total_steps) {
      fprintf(metrics, "%ld\t%ld\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\n", step, tokens, loss, lr, gnorm, tps, elapsed);
      fflush(metrics);
    }
    if (show_progress && (now - t_last_print > 0.5 || step == total_steps)) {
      double eta = tps > 0 ? (double)(total_steps - step) * per_step / tps : 0;
      print_progress(step, total_steps, tokens, loss, tps, eta);
      t_last_print = now;
    }
    int at_ckpt = ckpt_index < tc->n_ckpt && tokens >= tc->ckpt_at[ckpt_index];
    int at_eval = tc->eval_every > 0 && tokens / tc->eval_every != (tokens - per_step) / tc->eval_every;
    if (evals && (at_eval || at_ckpt || step == total_steps)) evaluate_into(evals, &rs.model, &eval_set, tc, step, tokens);
    while (ckpt_index < tc->n_ckpt && tokens >= tc->ckpt_at[ckpt_index]) ckpt_index++;
    if (at_ckpt || step == total_steps || stop_signal) {
      rs.elapsed = elapsed;
      t_start = now;
      save_checkpoint(tc, &rs, tokens);
    }
    if (stop_signal && step < total_steps) {
      fprintf(stderr, "\n%s: stopped by signal %d at step %ld; checkpoint written; continue with --resume\n",
              tc->out_dir, (int)stop_signal, step);
      exit_code = 128 + (int)stop_signal;
      break;
    }
  }
  if (show_progress) fputc('\n', stderr);
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
