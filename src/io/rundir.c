/* The run directory's one reader and writer (format: include/hybench/rundir.h). */
#include "hybench/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/dnn.h"
#include <sys/types.h>
#include <unistd.h>

#include "hybench/common.h"
#include "hybench/kvconf.h"
#include "hybench/tensorio.h"
#include "hybench/tsv.h"

/* ---------- run.conf ---------- */

char *hb_run_conf_text(const TrainConfig *tc, const ModelConfig *cfg) {
  char *model_text = config_to_text(cfg);
  size_t cap = 4096 + strlen(model_text) * 2 + (tc->init_from ? strlen(tc->init_from) : 0) + (size_t)tc->n_ckpt * 24;
  char *s = hb_malloc(cap);
  const OptimConfig *o = &tc->optim;
  int n = snprintf(s, cap,
                   "# hybench run: everything that defines this run (resume refuses a different one)\n"
                   "model_file = %s\ndata = %s\nseq_len = %d\nbatch = %d\ntokens = %ld\nseed = %llu\n"
                   "threads = %d\nlr = %.9g\nlr_min = %.9g\nwarmup_steps = %ld\ntotal_steps = %ld\n"
                   "beta1 = %.9g\nbeta2 = %.9g\neps = %.9g\nweight_decay = %.9g\nclip = %.9g\nlog_every = %ld\n"
                   "loss_mask = %s\neval_set = %s\neval_every = %ld\neval_far = %d\n"
                   "ckpt_at =",
                   tc->model_path, tc->data_path, tc->seq_len, tc->batch, tc->tokens, (unsigned long long)tc->seed,
                   tc->threads, o->lr, o->lr_min, o->warmup_steps, o->total_steps, o->beta1, o->beta2, o->eps,
                   o->weight_decay, o->clip, tc->log_every, loss_mask_name(tc->loss_mask),
                   tc->eval_set ? tc->eval_set : "none", tc->eval_every, tc->eval_far);
  for (int i = 0; i < tc->n_ckpt; i++) n += snprintf(s + n, cap - (size_t)n, "%s%ld", i ? "," : " ", tc->ckpt_at[i]);
  if (tc->eval_distance && strcmp(tc->eval_distance, "evidence") != 0)
    n += snprintf(s + n, cap - (size_t)n, "\neval_distance = %s", tc->eval_distance);
  if (tc->precision && strcmp(tc->precision, "fp32") != 0)
    n += snprintf(s + n, cap - (size_t)n, "\nprecision = %s", tc->precision);
  if (tc->init_from) n += snprintf(s + n, cap - (size_t)n, "\ninit_from = %s", tc->init_from);
  n += snprintf(s + n, cap - (size_t)n, "\n# model config\n");
  for (char *line = strtok(model_text, "\n"); line; line = strtok(NULL, "\n"))
    n += snprintf(s + n, cap - (size_t)n, "model.%s\n", line);
  HB_ASSERT((size_t)n < cap, "run.conf fits its buffer");
  free(model_text);
  return s;
}

#define RUN_KEY(name, type) {#name, type, offsetof(HbRun, name), 1}
static const KvKey RUN_KEYS[] = {
    RUN_KEY(model_file, KV_TEXT),   RUN_KEY(data, KV_TEXT),          RUN_KEY(seq_len, KV_INT),
    RUN_KEY(batch, KV_INT),         RUN_KEY(tokens, KV_LONG),        RUN_KEY(seed, KV_LONG),
    RUN_KEY(threads, KV_INT),       RUN_KEY(lr, KV_DOUBLE),          RUN_KEY(lr_min, KV_DOUBLE),
    RUN_KEY(warmup_steps, KV_LONG), RUN_KEY(total_steps, KV_LONG),   RUN_KEY(beta1, KV_DOUBLE),
    RUN_KEY(beta2, KV_DOUBLE),      RUN_KEY(eps, KV_DOUBLE),         RUN_KEY(weight_decay, KV_DOUBLE),
    RUN_KEY(clip, KV_DOUBLE),       RUN_KEY(log_every, KV_LONG),     RUN_KEY(loss_mask, KV_TEXT),
    RUN_KEY(eval_set, KV_TEXT),     RUN_KEY(eval_every, KV_LONG),    RUN_KEY(eval_far, KV_INT),
    RUN_KEY(ckpt_at, KV_TEXT),      {"eval_distance", KV_TEXT, offsetof(HbRun, eval_distance), 0},
    {"precision", KV_TEXT, offsetof(HbRun, precision), 0},
    {"init_from", KV_TEXT, offsetof(HbRun, init_from), 0},
};
#define N_RUN_KEYS (sizeof RUN_KEYS / sizeof RUN_KEYS[0])

/* Moves the model.* lines of `text` (without the prefix) into *model_text,
 * blanking them in `text`, so the run keys and the model config each go
 * through their own table-driven parser. */
static void split_model_lines(char *text, char **model_text) {
  size_t cap = strlen(text) + 1, used = 0;
  *model_text = hb_calloc(cap, 1);
  for (char *line = text; *line;) {
    char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (strncmp(line, "model.", 6) == 0) {
      used += (size_t)snprintf(*model_text + used, cap - used, "%.*s\n", (int)(len - 6), line + 6);
      memset(line, ' ', len); /* keeps the line numbers of kv_parse's errors */
    }
    line += len + (end ? 1 : 0);
  }
}

void hb_run_read(HbRun *run, const char *dir) {
  memset(run, 0, sizeof *run);
  snprintf(run->dir, sizeof run->dir, "%s", dir);
  char path[1100];
  snprintf(path, sizeof path, "%s/run.conf", dir);
  if (!hb_file_exists(path)) hb_input_error(dir, "run.conf: missing (not a run directory of hybench train)");
  char *text = hb_read_file(path, NULL);
  split_model_lines(text, &run->model_text);
  int seen[N_RUN_KEYS];
  kv_parse(run, RUN_KEYS, N_RUN_KEYS, text, path, seen);
  free(text);
  if (!run->eval_distance) run->eval_distance = hb_strdup("evidence");
  if (!run->precision) run->precision = hb_strdup("fp32");
  DnnPrecision p;
  if (!dnn_precision_parse(run->precision, &p)) hb_input_error(path, "precision: '%s' is not fp32 or bf16", run->precision);
  char origin[1200];
  snprintf(origin, sizeof origin, "%s (model.*)", path);
  config_parse(&run->model, run->model_text, origin);
}

void hb_run_free(HbRun *run) {
  char **owned[] = {&run->model_file, &run->data,     &run->loss_mask,    &run->eval_set,
                    &run->ckpt_at,    &run->eval_distance, &run->model_text, &run->precision,
                    &run->init_from};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
    free(*owned[i]);
    *owned[i] = NULL;
  }
}

/* ---------- checkpoints ---------- */

void hb_run_ckpt_path(char *buf, size_t n, const char *dir, long tokens) {
  snprintf(buf, n, "%s/checkpoints/tok%012ld.safetensors", dir, tokens);
}

void hb_run_optim_path(char *buf, size_t n, const char *dir, long tokens) {
  snprintf(buf, n, "%s/checkpoints/tok%012ld.optim.safetensors", dir, tokens);
}

/* The token count of a checkpoint file name, or -1 when `name` is not one:
 * optim = 0 matches weight files only (tokN.safetensors), 1 optimizer files. */
static long checkpoint_tokens(const char *name, int optim) {
  const char *suffix = optim ? ".optim.safetensors" : ".safetensors";
  long t;
  int end = 0;
  if (sscanf(name, "tok%ld%n", &t, &end) != 1 || end == 0 || t < 0) return -1;
  return strcmp(name + end, suffix) == 0 ? t : -1;
}

static int compare_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

/* Token counts of DIR/checkpoints' files of one kind, ascending; n_out = count. */
static long *list_checkpoints(const char *dir, int optim, int *n_out) {
  char ckdir[1100];
  snprintf(ckdir, sizeof ckdir, "%s/checkpoints", dir);
  long *found = NULL;
  int n = 0, cap = 0;
  DIR *d = opendir(ckdir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      long t = checkpoint_tokens(e->d_name, optim);
      if (t < 0) continue;
      if (n == cap) {
        cap = cap ? 2 * cap : 16;
        long *grown = realloc(found, (size_t)cap * sizeof *grown);
        if (!grown) HB_FATAL("out of memory listing checkpoints");
        found = grown;
      }
      found[n++] = t;
    }
    closedir(d);
  }
  if (n > 0) qsort(found, (size_t)n, sizeof *found, compare_long);
  *n_out = n;
  return found;
}

long *hb_run_checkpoint_tokens(const char *dir, int *n) { return list_checkpoints(dir, 0, n); }

int hb_run_checkpoints(char ***paths, long **tokens, const char *dir) {
  char conf[1100];
  snprintf(conf, sizeof conf, "%s/run.conf", dir);
  if (!hb_file_exists(conf)) hb_input_error(dir, "run.conf: missing (not a run directory of hybench train)");
  int n;
  long *found = list_checkpoints(dir, 0, &n);
  if (n == 0) {
    char ckdir[1100];
    snprintf(ckdir, sizeof ckdir, "%s/checkpoints", dir);
    hb_input_error(ckdir, "no checkpoint (tokN.safetensors)");
  }
  *paths = hb_malloc((size_t)n * sizeof **paths);
  for (int i = 0; i < n; i++) {
    char path[1400];
    hb_run_ckpt_path(path, sizeof path, dir, found[i]);
    (*paths)[i] = hb_strdup(path);
  }
  if (tokens) *tokens = found;
  else free(found);
  return n;
}

void hb_run_free_paths(char **paths, long *tokens, int n) {
  for (int i = 0; i < n; i++) free(paths[i]);
  free(paths);
  free(tokens);
}

char *hb_run_final_checkpoint(const char *dir) {
  char **paths;
  int n = hb_run_checkpoints(&paths, NULL, dir);
  char *last = paths[n - 1];
  paths[n - 1] = NULL;
  hb_run_free_paths(paths, NULL, n - 1);
  return last;
}

/* 1 when the file loads (hb_st_try_load: layout and checksums). A file that
 * does not is renamed to "<path>.corrupt", out of every listing and out of
 * the next resume's way, and the skip is said in one line on stderr. */
static int checkpoint_verifies(const char *path) {
  HbSafetensors st;
  char why[1536], aside[1500];
  if (hb_st_try_load(&st, path, why, sizeof why)) {
    hb_st_free(&st);
    return 1;
  }
  snprintf(aside, sizeof aside, "%s.corrupt", path);
  int moved = rename(path, aside) == 0;
  fprintf(stderr,
          "hybench: %s; resume falls back to the newest earlier checkpoint that loads, if any (this one %s %s)\n", why,
          moved ? "renamed to" : "could not be renamed to", aside);
  return 0;
}

long hb_run_latest_resumable(const char *dir) {
  int n;
  long *optim = list_checkpoints(dir, 1, &n), found = 0;
  for (int i = n - 1; i >= 0 && !found; i--) {
    char weights[1400], moments[1400];
    hb_run_ckpt_path(weights, sizeof weights, dir, optim[i]);
    hb_run_optim_path(moments, sizeof moments, dir, optim[i]);
    if (hb_file_exists(weights) && checkpoint_verifies(weights) && checkpoint_verifies(moments)) found = optim[i];
  }
  free(optim);
  return found;
}

/* The pid in "<checkpoint file name>.tmp.<pid>" (hb_out_open's temporary
 * name), 0 when `name` is not such a name. */
static long checkpoint_temp_pid(const char *name) {
  const char *tmp = strstr(name, ".tmp.");
  char base[256];
  if (!tmp || (size_t)(tmp - name) >= sizeof base) return 0;
  snprintf(base, sizeof base, "%.*s", (int)(tmp - name), name);
  if (checkpoint_tokens(base, 0) < 0 && checkpoint_tokens(base, 1) < 0) return 0;
  const char *digits = tmp + 5;
  long pid = 0;
  for (const char *c = digits; *c; c++) {
    if (*c < '0' || *c > '9' || pid > 99999999) return 0;
    pid = pid * 10 + (*c - '0');
  }
  return *digits ? pid : 0;
}

/* A writer that still runs (another process) may yet rename its temporary;
 * our own pid is a namesake from before a restart, as is any dead one. */
static int writer_is_running(long pid) {
  if (pid == (long)getpid()) return 0;
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

void hb_run_remove_stale_temps(const char *dir) {
  char ckdir[1100], path[1400];
  snprintf(ckdir, sizeof ckdir, "%s/checkpoints", dir);
  DIR *d = opendir(ckdir);
  if (!d) return;
  int removed = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    long pid = checkpoint_temp_pid(e->d_name);
    if (pid <= 0 || writer_is_running(pid)) continue;
    snprintf(path, sizeof path, "%s/%s", ckdir, e->d_name);
    removed += remove(path) == 0;
  }
  closedir(d);
  if (removed)
    fprintf(stderr, "hybench: removed %d stale temporary file(s) of interrupted checkpoint writes from %s\n", removed,
            ckdir);
}

/* ---------- metrics ---------- */

double hb_run_elapsed_seconds(const char *dir) {
  char path[1100];
  snprintf(path, sizeof path, "%s/metrics.tsv", dir);
  if (!hb_file_exists(path)) return NAN;
  HbTsv t;
  hb_tsv_read(&t, path);
  double s = t.n_rows > 0 ? hb_tsv_double(&t, t.n_rows - 1, hb_tsv_require_col(&t, "elapsed_s")) : NAN;
  hb_tsv_free(&t);
  return s;
}

/* ---------- done, diverged ---------- */

static void done_path(char *buf, size_t n, const char *dir) { snprintf(buf, n, "%s/done", dir); }

static void diverged_path(char *buf, size_t n, const char *dir) { snprintf(buf, n, "%s/diverged", dir); }

int hb_run_is_diverged(const char *dir) {
  char path[1100];
  diverged_path(path, sizeof path, dir);
  return hb_file_exists(path);
}

void hb_run_write_diverged(const char *dir, long step, long tokens, double loss, double grad_norm, const char *reason) {
  char path[1100];
  diverged_path(path, sizeof path, dir);
  HbOut out = hb_out_open(path, "w");
  fprintf(out.fp, "step = %ld\ntokens = %ld\nloss = %.9g\ngrad_norm = %.9g\nreason = %s\n", step, tokens, loss, grad_norm,
          reason);
  hb_out_commit(&out);
}

int hb_run_is_done(const char *dir) {
  char path[1100];
  done_path(path, sizeof path, dir);
  return hb_file_exists(path);
}

void hb_run_write_done(const char *dir, long steps, long tokens) {
  char path[1100];
  done_path(path, sizeof path, dir);
  HbOut out = hb_out_open(path, "w");
  fprintf(out.fp, "steps = %ld\ntokens = %ld\n", steps, tokens);
  hb_out_commit(&out);
}
