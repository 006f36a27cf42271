/* `hybench run info`: a run directory (include/hybench/rundir.h) as one TSV
 * row, so scripts select what they need by column name instead of reading
 * run.conf or listing checkpoints themselves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/model.h"
#include "hybench/rundir.h"

/* The columns, in order, with what each holds (the --help text is built from it). */
typedef struct {
  const char *name, *help;
} RunInfoCol;

static const RunInfoCol RUN_INFO_COLS[] = {
    {"run", "the run directory, as given"},
    {"model", "the model config's name"},
    {"seed", "seed of initialisation and data sampling"},
    {"pattern", "layer letters, first layer first"},
    {"efficient_layers", "1 when some layer is not full attention (F), else 0"},
    {"seq_len", "training context T"},
    {"tokens", "the training budget"},
    {"loss_mask", "all | text+answers | answers"},
    {"eval_distance", "evidence | nearest: the distance of the training evaluations' far split"},
    {"params", "parameters N of the model"},
    {"ckpts", "weight checkpoints present"},
    {"final_tokens", "training tokens of the last checkpoint (0 when none)"},
    {"final_ckpt", "the last checkpoint file ('-' when none)"},
    {"done", "1 when the run reached its budget (DIR/done), else 0"},
    {"diverged", "1 when the run blew up (DIR/diverged: non-finite or > 1000-nat loss), else 0"},
    {"elapsed_s", "seconds of training (elapsed_s of metrics.tsv's last row; nan before the first)"},
    {"precision", "fp32 | bf16: the precision of the run's products (train --precision)"},
    {"init_from", "the checkpoint whose weights started the run (train --init-from; '-' when none)"},
};
#define N_RUN_INFO_COLS ((int)(sizeof RUN_INFO_COLS / sizeof RUN_INFO_COLS[0]))

/* cells[c] (caller frees each) for the run in dir. */
static void run_info_cells(char **cells, const char *dir) {
  HbRun run;
  hb_run_read(&run, dir);
  char buf[64];
  int n_ckpt;
  long *tokens = hb_run_checkpoint_tokens(dir, &n_ckpt);
  long final_tokens = n_ckpt > 0 ? tokens[n_ckpt - 1] : 0;
  char final_ckpt[1400] = "-";
  if (n_ckpt > 0) hb_run_ckpt_path(final_ckpt, sizeof final_ckpt, dir, final_tokens);
  free(tokens);
  int c = 0;
  cells[c++] = hb_strdup(dir);
  cells[c++] = hb_strdup(run.model.name);
  snprintf(buf, sizeof buf, "%ld", run.seed), cells[c++] = hb_strdup(buf);
  cells[c++] = hb_strdup(run.model.pattern);
  cells[c++] = hb_strdup(strspn(run.model.pattern, "F") < strlen(run.model.pattern) ? "1" : "0");
  snprintf(buf, sizeof buf, "%d", run.seq_len), cells[c++] = hb_strdup(buf);
  snprintf(buf, sizeof buf, "%ld", run.tokens), cells[c++] = hb_strdup(buf);
  cells[c++] = hb_strdup(run.loss_mask);
  cells[c++] = hb_strdup(run.eval_distance);
  snprintf(buf, sizeof buf, "%zu", model_param_count(&run.model)), cells[c++] = hb_strdup(buf);
  snprintf(buf, sizeof buf, "%d", n_ckpt), cells[c++] = hb_strdup(buf);
  snprintf(buf, sizeof buf, "%ld", final_tokens), cells[c++] = hb_strdup(buf);
  cells[c++] = hb_strdup(final_ckpt);
  cells[c++] = hb_strdup(hb_run_is_done(dir) ? "1" : "0");
  cells[c++] = hb_strdup(hb_run_is_diverged(dir) ? "1" : "0");
  snprintf(buf, sizeof buf, "%.9g", hb_run_elapsed_seconds(dir)), cells[c++] = hb_strdup(buf);
  cells[c++] = hb_strdup(run.precision);
  cells[c++] = hb_strdup(run.init_from ? run.init_from : "-");
  HB_ASSERT(c == N_RUN_INFO_COLS, "one cell per column");
  hb_run_free(&run);
}

static void write_row(FILE *fp, char *const *cells) {
  for (int c = 0; c < N_RUN_INFO_COLS; c++) fprintf(fp, "%s%s", c ? "\t" : "", cells[c]);
  fputc('\n', fp);
}

static int run_info(int argc, char **argv) {
  const char *dir = NULL, *out = NULL;
  HbOpt opts[] = {
      {"run", HB_OPT_STR, &dir, "run directory of hybench train", 1},
      {"out", HB_OPT_STR, &out, "write the TSV here instead of stdout", 0},
      {0},
  };
  char usage[4096];
  int n = snprintf(usage, sizeof usage, "run info --run DIR [--out F.tsv]\n\n"
                                        "The run directory as a TSV: a header and one row. Columns:\n");
  for (int c = 0; c < N_RUN_INFO_COLS; c++)
    n += snprintf(usage + n, sizeof usage - (size_t)n, "  %-17s %s\n", RUN_INFO_COLS[c].name, RUN_INFO_COLS[c].help);
  usage[n - 1] = '\0';
  hb_parse_args("run info", usage, opts, argc, argv);
  char *cells[N_RUN_INFO_COLS], *header[N_RUN_INFO_COLS];
  run_info_cells(cells, dir);
  for (int c = 0; c < N_RUN_INFO_COLS; c++) header[c] = (char *)RUN_INFO_COLS[c].name;
  HbOut o = {0};
  FILE *fp = stdout;
  if (out) {
    o = hb_out_open(out, "w");
    fp = o.fp;
  }
  write_row(fp, header);
  write_row(fp, cells);
  if (out) hb_out_commit(&o);
  for (int c = 0; c < N_RUN_INFO_COLS; c++) free(cells[c]);
  return 0;
}

int cmd_run(int argc, char **argv) {
  const char *sub = argc > 1 ? argv[1] : "";
  if (strcmp(sub, "info") == 0) return run_info(argc - 1, argv + 1);
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
    printf("usage: hybench run info --run DIR [--out F.tsv]\n"
           "The run directory of hybench train (include/hybench/rundir.h) as a TSV row.\n");
    return 0;
  }
  hb_input_error("run", "'%s' is not a subcommand (info)", sub);
  return 2;
}
