/* Checkpoints for the analyses: which run and model a checkpoint belongs to
 * and its training tokens (the run directory itself: include/hybench/rundir.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/common.h"
#include "hybench/rundir.h"
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
  HbRun rc;
  hb_run_read(&rc, run);
  char *mine = config_to_text(&m->cfg);
  if (strcmp(mine, rc.model_text) != 0) {
    char where[1100];
    snprintf(where, sizeof where, "%s: __metadata__.config", path);
    hb_input_error(where, "a checkpoint of another model ('%s', pattern %s) than its run %s defines", m->cfg.name,
                   m->cfg.pattern, conf);
  }
  free(mine);
  snprintf(info->run, sizeof info->run, "%s", run);
  info->seed = rc.seed;
  info->train_len = rc.seq_len;
  hb_run_free(&rc);
}

char *analysis_ckpt_of(const char *ckpt, const char *run, const char *command) {
  if ((ckpt != NULL) == (run != NULL)) hb_input_error(command, "give exactly one of --ckpt F and --run DIR");
  return ckpt ? hb_strdup(ckpt) : hb_run_final_checkpoint(run);
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
