/* `hybench eval`: the metrics of include/hybench/eval.h for one checkpoint. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/eval.h"

/* LSD rows: the evaluator picks the key tokens, the checkpoint is scored on them. */
static void write_lsd(FILE *fp, const char *prefix, Model *m, const Dataset *ds, const char *evaluator_path, int K,
                      int batch) {
  Model ev;
  model_load(&ev, evaluator_path);
  if (ev.cfg.vocab != m->cfg.vocab)
    hb_input_error(evaluator_path, "vocab: the evaluator has %d, the checkpoint %d", ev.cfg.vocab, m->cfg.vocab);
  uint8_t *is_key = hb_malloc((size_t)ds->n_seqs * (size_t)(ds->seq_len + 1));
  eval_lsd_keys(is_key, &ev, ds, K, batch);
  model_free(&ev);
  LsdResult r;
  eval_lsd_longppl(&r, m, ds, is_key, batch);
  eval_write_lsd_rows(fp, prefix, &r, K);
  free(is_key);
}

int cmd_eval(int argc, char **argv) {
  const char *ckpt = NULL, *run = NULL, *set = NULL, *out = NULL, *constrain = NULL, *evaluator = NULL, *distance = "evidence";
  long far = 64, batch = 32, threads = 1, lsd_context = 32;
  HbOpt opts[] = {
      ANALYSIS_CKPT_OPTIONS(ckpt, run),
      {"set", HB_OPT_STR, &set, "gen-data output to evaluate on", 1},
      {"far", HB_OPT_LONG, &far, "answers with evidence farther back than this are far (LongPPL, far_acc)", 0},
      {"distance", HB_OPT_STR, &distance, "which distance --far and the buckets use: evidence (the fact) or nearest (the nearest earlier copy of the value)", 0},
      {"batch", HB_OPT_LONG, &batch, "sequences per forward pass (fewer where a forward would pass 2 GiB of activations)", 0},
      {"threads", HB_OPT_LONG, &threads, "OpenMP threads", 0},
      {"out", HB_OPT_STR, &out, "write the TSV here instead of stdout", 0},
      {"constrain", HB_OPT_STR, &constrain,
       "KINDS=r[,r...]: at inference limit the KINDS layers (F S L M G; E every efficient layer; A all) to their "
       "last r inputs, one evaluation per r",
       0},
      {"evaluator", HB_OPT_STR, &evaluator, "checkpoint that picks the key tokens of LongPPL's LSD form", 0},
      {"lsd-context", HB_OPT_LONG, &lsd_context, "K: the evaluator's short context, in tokens (LSD form)", 0},
      {0},
  };
  hb_parse_args("eval",
                "eval --ckpt F.safetensors | --run DIR --set DATA [--far N] [--out F.tsv] [--constrain KINDS=r,...]\n\n"
                "Short loss, LongPPL and accuracy on far answers, accuracy per distance bucket and per\n"
                "NIAH depth; one TSV row per metric: run, model, seed, tokens (of the checkpoint; run '-'\n"
                "and seed -1 outside a run directory), ckpt, set, seq_len (the set's), metric, group,\n"
                "value, n.\n\n"
                "With --constrain (the receptive-field constraint): rows run, model, seed, tokens, ckpt, set,\n"
                "layers, r, metric, group, value, n. Attention layers get window r (t - r < j <= t);\n"
                "recurrent layers a truncated context: the output at t is computed from their inputs at\n"
                "t - r + 1 .. t alone, state and convolutions starting from zero there (not a state reset\n"
                "every r tokens, which would give each position a context of 1 .. r depending on t).\n\n"
                "With --evaluator E: LongPPL in the LSD form of Fang et al. (2024) as well: a target is a key\n"
                "token when, under E, log p(full context) - log p(last K tokens only) > 2 and\n"
                "log p(full context) > -2; the short-context probability comes from a separate forward\n"
                "pass of E over just the K tokens before the target (K = --lsd-context). Rows lsd_longppl,\n"
                "lsd_key_fraction and lsd_keys_planted (the share of keys that are planted answers).",
                opts, argc, argv);
  if (far < 0 || batch < 1 || threads < 1) hb_input_error("eval", "--far must be >= 0, --batch and --threads >= 1");
  if (lsd_context < 1) hb_input_error("eval --lsd-context", "must be >= 1");
  if (evaluator && constrain) hb_input_error("eval --evaluator", "cannot be combined with --constrain");
  omp_set_num_threads((int)threads);
  char *ck = analysis_ckpt_of(ckpt, run, "eval");
  if (constrain) {
    constrain_eval(ck, set, distance, constrain, (int)far, (int)batch, out);
    free(ck);
    return 0;
  }
  Model m;
  CkptInfo info;
  analysis_load_ckpt(&m, &info, ck);
  free(ck);
  Dataset ds;
  dataset_load(&ds, set, m.cfg.vocab);
  dataset_split_by(&ds, distance, "eval --distance");
  EvalResult r;
  eval_dataset(&r, &m, &ds, (int)far, (int)batch);
  HbOut o = {0};
  FILE *fp = stdout;
  if (out) {
    o = hb_out_open(out, "w");
    fp = o.fp;
  }
  for (int c = 0; c < ANALYSIS_N_ID_COLS; c++) fprintf(fp, "%s\t", ANALYSIS_ID_COLS[c]);
  fprintf(fp, "ckpt\tset\tseq_len\t%s\n", EVAL_HEADER_TAIL);
  char prefix[4200];
  snprintf(prefix, sizeof prefix, "%s\t%s\t%ld\t%ld\t%s\t%s\t%d\t", info.run, info.model, info.seed, info.tokens, info.ckpt,
           set, ds.seq_len);
  eval_write_rows(fp, prefix, &r);
  if (evaluator) write_lsd(fp, prefix, &m, &ds, evaluator, (int)lsd_context, (int)batch);
  if (out) hb_out_commit(&o);
  dataset_free(&ds);
  model_free(&m);
  return 0;
}
