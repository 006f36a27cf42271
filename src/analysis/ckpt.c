/* Checkpoints and run directories for the analyses: which run and model a
 * checkpoint belongs to, its training tokens, and the run's checkpoints. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/common.h"
#include "hybench/tensorio.h"

const char *const ANALYSIS_ID_COLS[ANALYSIS_N_ID_COLS] = {"run", "model", "seed", "tokens"};

void analysis_put_ids(HbTsvWriter *w, const CkptInfo *info) {
  hb_tsv_put_str(w, info->run);
  hb_tsv_put_str(w, info->model);
  hb_tsv_put_long(w, info->seed);
  hb_tsv_put_long(w, info->tokens);
}

/* dir (n) = the directory part of path ("." when none), without a trailing '/'. */
static void dir_of(char *dir, size_t n, const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, n, ".");
  else if (slash == path) snprintf(dir, n, "/");
  else snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

static const char *base_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The run.conf values the analyses need; model_text collects the model.* lines
 * as config_to_text writes them (caller frees). */
typedef struct {
  long seed;
  int seq_len;
  char *model_text;
} RunConf;

static void read_run_conf(RunConf *rc, const char *run_dir) {
  char path[1100];
  snprintf(path, sizeof path, "%s/run.conf", run_dir);
  char *text = hb_read_file(path, NULL);
  size_t cap = strlen(text) + 1;
  rc->model_text = hb_calloc(cap, 1);
  rc->seed = -1;
  rc->seq_len = 0;
  size_t used = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    long v;
    if (strncmp(line, "model.", 6) == 0) {
      used += (size_t)snprintf(rc->model_text + used, cap - used, "%s\n", line + 6);
    } else if (sscanf(line, "seed = %ld", &v) == 1) {
      rc->seed = v;
    } else if (sscanf(line, "seq_len = %ld", &v) == 1) {
      rc->seq_len = (int)v;
    }
  }
  free(text);
  if (rc->seq_len <= 0 || rc->model_text[0] == '\0')
    hb_input_error(path, "seq_len, model.*: missing (not a run.conf written by hybench train?)");
}

void analysis_load_ckpt(Model *m, CkptInfo *info, const char *path) {
  memset(info, 0, sizeof *info);
  snprintf(info->ckpt, sizeof info->ckpt, "%s", path);
  model_load(m, path);
  snprintf(info->model, sizeof info->model, "%s", m->cfg.name);
  HbSafetensors st;
  hb_st_load(&st, path);
  const char *tokens = hb_st_meta(&st, "tokens");
  if (!tokens || !hb_parse_long(tokens, &info->tokens)) info->tokens = -1;
  hb_st_free(&st);
  info->seed = -1;
  snprintf(info->run, sizeof info->run, "-");
  char dir[1024], run[1024], conf[1100];
  dir_of(dir, sizeof dir, path);
  dir_of(run, sizeof run, dir);
  snprintf(conf, sizeof conf, "%s/run.conf", run);
  if (strcmp(base_of(dir), "checkpoints") != 0 || !hb_file_exists(conf)) return;
  RunConf rc;
  read_run_conf(&rc, run);
  char *mine = config_to_text(&m->cfg);
  if (strcmp(mine, rc.model_text) != 0) {
    char where[1100];
    snprintf(where, sizeof where, "%s: __metadata__.config", path);
    hb_input_error(where, "a checkpoint of another model ('%s', pattern %s) than its run %s defines", m->cfg.name,
                   m->cfg.pattern, conf);
  }
  free(mine);
  free(rc.model_text);
  snprintf(info->run, sizeof info->run, "%s", run);
  info->seed = rc.seed;
  info->train_len = rc.seq_len;
}

void analysis_check_length(const CkptInfo *info, int T, const char *set_path, int allow_extrapolation) {
  if (info->train_len == 0) {
    fprintf(stderr, "note: %s lies outside a run directory: its training length is unknown, so %s (T = %d) is "
                    "not checked against it\n", info->ckpt, set_path, T);
    return;
  }
  if (T > info->train_len && !allow_extrapolation)
    hb_input_error(set_path, "seq_len: %d, longer than the %d tokens the model was trained at (run %s); pass "
                   "--allow-extrapolation to analyse it anyway", T, info->train_len, info->run);
}

typedef struct {
  long tokens;
  char *path;
} CkptEntry;

static int compare_tokens(const void *a, const void *b) {
  long x = ((const CkptEntry *)a)->tokens, y = ((const CkptEntry *)b)->tokens;
  return (x > y) - (x < y);
}

int analysis_run_checkpoints(char ***paths, const char *run_dir) {
  char conf[1100], dir[1100];
  snprintf(conf, sizeof conf, "%s/run.conf", run_dir);
  if (!hb_file_exists(conf)) hb_input_error(run_dir, "run.conf: missing (not a run directory of hybench train)");
  snprintf(dir, sizeof dir, "%s/checkpoints", run_dir);
  DIR *d = opendir(dir);
  CkptEntry *found = NULL;
  int n = 0, cap = 0;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      long t;
      int end = 0;
      /* weights only: tokN.optim.safetensors does not match */
      if (sscanf(e->d_name, "tok%ld.safetensors%n", &t, &end) != 1 || end == 0 || e->d_name[end] != '\0') continue;
      if (n == cap) {
        cap = cap ? 2 * cap : 16;
        CkptEntry *grown = realloc(found, (size_t)cap * sizeof *grown);
        if (!grown) HB_FATAL("out of memory listing checkpoints");
        found = grown;
      }
      char path[1400];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      found[n++] = (CkptEntry){t, hb_strdup(path)};
    }
    closedir(d);
  }
  if (n == 0) hb_input_error(dir, "no checkpoint (tokN.safetensors)");
  qsort(found, (size_t)n, sizeof *found, compare_tokens);
  *paths = hb_malloc((size_t)n * sizeof **paths);
  for (int i = 0; i < n; i++) (*paths)[i] = found[i].path;
  free(found);
  return n;
}

void analysis_free_paths(char **paths, int n) {
  for (int i = 0; i < n; i++) free(paths[i]);
  free(paths);
}
