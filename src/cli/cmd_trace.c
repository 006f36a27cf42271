/* `hybench trace heads | run | grad-influence`: the retrieval-head and
 * gradient-influence analyses of include/hybench/analysis.h as TSV tables. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/rundir.h"
#include "hybench/tsv.h"

/* Options shared by heads and run. */
typedef struct {
  const char *niah, *out, *rank_by, *rank_kinds;
  long top_k, last, batch, threads;
  int allow_extrapolation;
  long min_distance; /* score only the needles farther back than this (0: all) */
} HeadOpts;

static void check_head_opts(const char *cmd, const HeadOpts *o) {
  char where[64];
  snprintf(where, sizeof where, "%s --rank-by", cmd);
  if (strcmp(o->rank_by, "needle") != 0 && strcmp(o->rank_by, "relay") != 0)
    hb_input_error(where, "'%s' is not needle or relay", o->rank_by);
  snprintf(where, sizeof where, "%s --rank-kinds", cmd);
  if (!o->rank_kinds[0] || strspn(o->rank_kinds, "FS") != strlen(o->rank_kinds))
    hb_input_error(where, "'%s' is not a set of attention layer letters (F, S, FS)", o->rank_kinds);
  if (o->top_k < 1 || o->last < 0 || o->batch < 1 || o->threads < 1 || o->threads > 1024)
    hb_input_error(cmd, "--top-k, --batch and --threads must be >= 1 (threads <= 1024), --last >= 0");
  snprintf(where, sizeof where, "%s --min-distance", cmd);
  if (o->min_distance < 0 || o->min_distance > 1 << 20) hb_input_error(where, "%ld is outside 0..2^20", o->min_distance);
  omp_set_num_threads((int)o->threads);
}

/* Loads the NIAH set for model m, checks its length, and measures every head. */
static void measure_heads(HeadStats *hs, Model *m, const CkptInfo *info, const HeadOpts *o) {
  Dataset ds;
  dataset_load(&ds, o->niah, m->cfg.vocab);
  analysis_check_length(info, ds.seq_len, o->niah, o->allow_extrapolation);
  NeedleSet ns;
  needle_set_from_dataset(&ns, &ds, DEP_NIAH, (int)o->min_distance);
  dataset_free(&ds);
  if (!strchr(m->cfg.pattern, 'F') && !strchr(m->cfg.pattern, 'S'))
    hb_input_error(info->ckpt, "model '%s' (pattern %s) has no attention layer to trace", m->cfg.name, m->cfg.pattern);
  heads_measure(hs, m, &ns, (int)o->last, (int)o->batch);
  needle_set_free(&ns);
}

/* The ranked heads, best first; an input error when the model has none of the kinds. */
static int rank_heads(int *order, const HeadStats *hs, const Model *m, const CkptInfo *info, const HeadOpts *o) {
  int n = heads_rank(order, hs, o->rank_kinds, strcmp(o->rank_by, "relay") == 0);
  if (n == 0)
    hb_input_error(info->ckpt, "model '%s' (pattern %s) has no layer of kind %s to rank (see --rank-kinds)",
                   m->cfg.name, m->cfg.pattern, o->rank_kinds);
  return n;
}

static void print_head(FILE *fp, const HeadStats *hs, int at, int rank) {
  int layer = at / hs->H;
  fprintf(fp, "  #%d layer %d head %d (%c, relay reach %d): needle %.3f vs uniform %.4f | needle+relay %.3f vs "
              "uniform %.4f | entropy/log(keys) %.3f\n",
          rank, layer, at % hs->H, hs->kind[layer], hs->reach[layer], hs->score_needle[at], hs->uniform_needle[at],
          hs->score_relay[at], hs->uniform_relay[at], hs->entropy_norm[at]);
}

/* The options trace heads and trace run share (their --top-k help differs). */
#define HEAD_OPTIONS(o, top_k_help)                                                                                   \
  {"top-k", HB_OPT_LONG, &(o).top_k, top_k_help, 0},                                                                  \
      {"rank-by", HB_OPT_STR, &(o).rank_by, "needle (the paper's score) or relay (needle + relayed positions)", 0},   \
      {"rank-kinds", HB_OPT_STR, &(o).rank_kinds, "layers whose heads are ranked: F (the full-attention layers), S or FS", 0}, \
      {"last", HB_OPT_LONG, &(o).last, "attention entropy over the last N query positions of each sequence", 0},       \
      {"batch", HB_OPT_LONG, &(o).batch, "sequences per forward pass (fewer where a forward would pass 2 GiB of activations)", 0},                                            \
      {"threads", HB_OPT_LONG, &(o).threads, "OpenMP threads", 0},                                                    \
      {"allow-extrapolation", HB_OPT_FLAG, &(o).allow_extrapolation, "accept a set longer than the training length", 0}, \
      {"min-distance", HB_OPT_LONG, &(o).min_distance, "score only the needles farther back than this many tokens (0: all)", 0}

/* hb_parse_args with the --help text followed by the columns of the --out
 * table: one row per `rows`, after the checkpoint's id columns. */
static void parse_options(const char *command, const char *text, const char *rows, const HbColumn *cols, int n_cols,
                          HbOpt *opts, int argc, char **argv) {
  char title[256];
  snprintf(title, sizeof title, "--out F.tsv, one row per %s: run, model, seed, tokens (the checkpoint), then", rows);
  const HbTableDoc table = {title, cols, n_cols};
  char *usage = hb_usage_with_tables(text, &table, 1);
  hb_parse_args(command, usage, opts, argc, argv);
  free(usage);
}

/* The retrieval scores and entropies of head `at` in HeadStats hs
 * (include/hybench/analysis.h), columns of trace heads and trace run. */
#define HEAD_SCORE_COLUMNS(X)                                                                                        \
  X("score_needle", double, hs.score_needle[at], "attention mass of the query on the needle, mean over the samples") \
  X("score_relay", double, hs.score_relay[at], "mass on the needle and the reach positions after it")                \
  X("uniform_needle", double, hs.uniform_needle[at], "score_needle of a head uniform over its visible keys")         \
  X("uniform_relay", double, hs.uniform_relay[at], "score_relay of that uniform head")                               \
  X("entropy", double, hs.entropy[at], "attention entropy over the last --last queries (nats)")                      \
  X("entropy_norm", double, hs.entropy_norm[at], "entropy / log(visible keys): 1 uniform, 0 one key")

/* trace heads: one row per (layer i, head h) of the attention layers. */
#define HEADS_COLUMNS(X)                                                                                        \
  X("layer", long, i, "layer index")                                                                            \
  X("head", long, h, "head index in the layer")                                                                 \
  X("kind", str, kind, "the layer's letter: F (full attention) or S (sliding window)")                          \
  X("window", long, hs.window[i], "keys a query sees at the set's length")                                      \
  X("reach", long, hs.reach[i], "positions after the needle that the efficient layers below can relay it to")   \
  HEAD_SCORE_COLUMNS(X)                                                                                         \
  X("rank", long, rank_of[at], "order of the heads of the --rank-kinds layers by --rank-by (1 best; 0 others)") \
  X("top", long, rank_of[at] >= 1 && rank_of[at] <= o.top_k, "1 for the first --top-k ranks")                   \
  X("n_samples", long, hs.n_samples, "NIAH samples")                                                            \
  X("n_queries", long, hs.n_entropy, "queries in the entropy means, per head")

static const HbColumn heads_columns[] = {HEADS_COLUMNS(HB_COLUMN)};

static int trace_heads(int argc, char **argv) {
  const char *ckpt = NULL, *run = NULL;
  HeadOpts o = {NULL, NULL, "needle", "F", 4, 16, 16, 1, 0, 0};
  HbOpt opts[] = {
      ANALYSIS_CKPT_OPTIONS(ckpt, run),
      {"niah", HB_OPT_STR, &o.niah, "NIAH set (gen-data output of a spec with niah = on)", 1},
      {"out", HB_OPT_STR, &o.out, "TSV to write: every (layer, head) of the attention layers", 1},
      HEAD_OPTIONS(o, "heads marked top (and printed)"),
      {0},
  };
  parse_options("trace heads",
                "trace heads --ckpt F | --run DIR --niah SET --out F.tsv [--top-k 4] [--rank-by needle|relay]\n\n"
                "Retrieval score of every attention head: the attention mass from the query token onto the\n"
                "needle, averaged over the NIAH samples (score_needle), and onto the needle plus the reach\n"
                "positions after it that the efficient layers below can relay it to (score_relay: w - 1 per\n"
                "S layer of window w below, everything once an L/M/G layer is below), each next to the\n"
                "score of a uniform head (uniform_*); attention entropy over the last N queries (nats, and\n"
                "divided by log of the visible keys). Prints the top-k heads.",
                "(layer, head) of the attention layers", heads_columns, HB_NCOLS(heads_columns), opts, argc, argv);
  check_head_opts("trace heads", &o);
  Model m;
  CkptInfo info;
  char *ck = analysis_ckpt_of(ckpt, run, "trace heads");
  analysis_load_ckpt(&m, &info, ck);
  free(ck);
  HeadStats hs;
  measure_heads(&hs, &m, &info, &o);
  int *order = hb_malloc((size_t)hs.L * hs.H * sizeof(int)), *rank_of = hb_malloc((size_t)hs.L * hs.H * sizeof(int));
  int n_heads = rank_heads(order, &hs, &m, &info, &o);
  for (int at = 0; at < hs.L * hs.H; at++) rank_of[at] = 0;
  for (int r = 0; r < n_heads; r++) rank_of[order[r]] = r + 1;
  HbTsvWriter writer, *w = &writer;
  hb_tsv_writer_open_columns(w, o.out, ANALYSIS_ID_COLS, ANALYSIS_N_ID_COLS, heads_columns, HB_NCOLS(heads_columns));
  for (int i = 0; i < hs.L; i++) {
    if (hs.kind[i] != LAYER_F && hs.kind[i] != LAYER_S) continue;
    for (int h = 0; h < hs.H; h++) {
      int at = i * hs.H + h;
      char kind[2] = {hs.kind[i], '\0'};
      analysis_put_ids(w, &info);
      HEADS_COLUMNS(HB_PUT)
      hb_tsv_end_row(w);
    }
  }
  hb_tsv_writer_commit(w);
  printf("trace heads: %s (%s), %ld NIAH samples; top %ld of the %d heads of its %s layers by score_%s:\n", info.ckpt,
         m.cfg.pattern, hs.n_samples, o.top_k < n_heads ? o.top_k : n_heads, n_heads, o.rank_kinds, o.rank_by);
  for (int r = 0; r < n_heads && r < o.top_k; r++) print_head(stdout, &hs, order[r], r + 1);
  free(order), free(rank_of);
  heads_free(&hs);
  model_free(&m);
  return 0;
}

/* trace run: one row per (checkpoint, top head `at` = layer * H + head). */
#define RUN_HEAD_COLUMNS(X)                                                                            \
  X("layer", long, layer, "layer index")                                                               \
  X("head", long, head, "head index in the layer")                                                     \
  X("rank", long, r + 1, "the head's rank in the final checkpoint")                                    \
  HEAD_SCORE_COLUMNS(X)                                                                                \
  X("qk_l2", double, l2, "L2 distance of the head's q_proj and k_proj rows to the final checkpoint's") \
  X("qk_rel_l2", double, rel, "qk_l2 / the norm of the final checkpoint's rows")                       \
  X("n_samples", long, hs.n_samples, "NIAH samples")

static const HbColumn run_head_columns[] = {RUN_HEAD_COLUMNS(HB_COLUMN)};

static int trace_run(int argc, char **argv) {
  const char *run = NULL;
  HeadOpts o = {NULL, NULL, "needle", "F", 4, 16, 16, 1, 0, 0};
  HbOpt opts[] = {
      {"run", HB_OPT_STR, &run, "run directory of hybench train (run.conf, checkpoints/)", 1},
      {"niah", HB_OPT_STR, &o.niah, "NIAH set (gen-data output of a spec with niah = on)", 1},
      {"out", HB_OPT_STR, &o.out, "TSV to write: one row per (checkpoint, top head)", 1},
      HEAD_OPTIONS(o, "heads traced: the best of the final checkpoint"),
      {0},
  };
  parse_options("trace run",
                "trace run --run DIR --niah SET --out F.tsv [--top-k 4] [--rank-by needle|relay]\n\n"
                "Picks the top-k retrieval heads of the run's final checkpoint (see trace heads; by default\n"
                "among the heads of the full-attention layers), then for\n"
                "every checkpoint of the run writes one row per head: its retrieval scores (needle, and\n"
                "needle + relayed positions, with the uniform baselines), attention entropy over the last N\n"
                "queries, and the Q/K weight distance to the final checkpoint (rows h*dh..(h+1)*dh-1 of\n"
                "q_proj and k_proj: L2, and L2 relative to the final rows' norm).",
                "(checkpoint, top head)", run_head_columns, HB_NCOLS(run_head_columns), opts, argc, argv);
  check_head_opts("trace run", &o);
  char **paths;
  int n_ckpt = hb_run_checkpoints(&paths, NULL, run);
  Model final;
  CkptInfo final_info;
  analysis_load_ckpt(&final, &final_info, paths[n_ckpt - 1]);
  HeadStats hs;
  measure_heads(&hs, &final, &final_info, &o);
  int *order = hb_malloc((size_t)hs.L * hs.H * sizeof(int));
  int n_heads = rank_heads(order, &hs, &final, &final_info, &o);
  int k = o.top_k < n_heads ? (int)o.top_k : n_heads;
  printf("trace run: %s, %d checkpoints; the final one's top %d heads by score_%s:\n", run, n_ckpt, k, o.rank_by);
  for (int r = 0; r < k; r++) print_head(stdout, &hs, order[r], r + 1);
  heads_free(&hs);
  HbTsvWriter writer, *w = &writer;
  hb_tsv_writer_open_columns(w, o.out, ANALYSIS_ID_COLS, ANALYSIS_N_ID_COLS, run_head_columns,
                             HB_NCOLS(run_head_columns));
  for (int c = 0; c < n_ckpt; c++) {
    Model m;
    CkptInfo info;
    analysis_load_ckpt(&m, &info, paths[c]); /* checks the run's model */
    measure_heads(&hs, &m, &info, &o);
    for (int r = 0; r < k; r++) {
      int at = order[r], layer = at / hs.H, head = at % hs.H;
      double l2, rel;
      heads_qk_distance(&l2, &rel, &m, &final, layer, head);
      analysis_put_ids(w, &info);
      RUN_HEAD_COLUMNS(HB_PUT)
      hb_tsv_end_row(w);
    }
    fprintf(stderr, "trace run: %ld tokens: top head needle %.3f, relay %.3f\n", info.tokens, hs.score_needle[order[0]],
            hs.score_relay[order[0]]);
    heads_free(&hs);
    model_free(&m);
  }
  hb_tsv_writer_commit(w);
  free(order);
  model_free(&final);
  hb_run_free_paths(paths, NULL, n_ckpt);
  return 0;
}

/* The sequences of --data as model inputs (n, T): a gen-data output's
 * sequences, or consecutive windows of a plain token file. */
static int32_t *influence_inputs(long *n, int *T, const char *path, long seq_len, long samples, int vocab) {
  int32_t *tokens;
  if (dataset_exists(path)) {
    Dataset ds;
    dataset_load(&ds, path, vocab);
    if (seq_len > 0 && seq_len != ds.seq_len)
      hb_input_error("trace grad-influence --seq-len", "%ld, but the dataset %s holds sequences of %d", seq_len, path,
                     ds.seq_len);
    *T = ds.seq_len;
    *n = ds.n_seqs < samples ? ds.n_seqs : samples;
    tokens = hb_malloc((size_t)*n * *T * sizeof(int32_t));
    for (long s = 0; s < *n; s++)
      for (int t = 0; t < *T; t++) tokens[s * *T + t] = (int32_t)ds.tokens.ids[(size_t)s * (*T + 1) + t];
    dataset_free(&ds);
    return tokens;
  }
  if (seq_len < 1) hb_input_error("trace grad-influence --seq-len", "needed for a plain token file (%s)", path);
  HbTokens tf;
  hb_tokens_read(&tf, path, (uint32_t)vocab);
  *T = (int)seq_len;
  *n = (long)(tf.count / (uint64_t)seq_len) < samples ? (long)(tf.count / (uint64_t)seq_len) : samples;
  if (*n < 1) hb_input_error(path, "count: %llu tokens, fewer than --seq-len %ld", (unsigned long long)tf.count, seq_len);
  tokens = hb_malloc((size_t)*n * *T * sizeof(int32_t));
  for (size_t i = 0; i < (size_t)*n * *T; i++) tokens[i] = (int32_t)tf.ids[i];
  hb_tokens_free(&tf);
  return tokens;
}

/* trace grad-influence: one row per distance d. */
#define INFLUENCE_COLUMNS(X)                                                                                        \
  X("distance", long, d, "T - 1 - i: tokens back from the last")                                                    \
  X("influence", double, infl[d], "|| d f / d(input embedding at that distance) ||_2, mean over the sequences")     \
  X("influence_rel", double, top > 0 ? infl[d] / top : NAN, "influence / its largest value")                        \
  X("last", long, last, "--last: f is the mean over the last N positions of the logits summed over the vocabulary") \
  X("n_seqs", long, n, "sequences averaged over")

static const HbColumn influence_columns[] = {INFLUENCE_COLUMNS(HB_COLUMN)};

static int trace_grad_influence(int argc, char **argv) {
  const char *ckpt = NULL, *run = NULL, *data = NULL, *out = NULL;
  long last = 20, samples = 64, batch = 8, seq_len = 0, threads = 1;
  int allow = 0;
  HbOpt opts[] = {
      ANALYSIS_CKPT_OPTIONS(ckpt, run),
      {"data", HB_OPT_STR, &data, "gen-data output, or a plain token file (with --seq-len)", 1},
      {"out", HB_OPT_STR, &out, "TSV to write: one row per distance", 1},
      {"last", HB_OPT_LONG, &last, "the output is the mean over the last N positions of the summed logits", 0},
      {"samples", HB_OPT_LONG, &samples, "sequences averaged over (the first ones of the data)", 0},
      {"seq-len", HB_OPT_LONG, &seq_len, "sequence length (a plain token file; 0: the dataset's)", 0},
      {"batch", HB_OPT_LONG, &batch, "sequences per forward/backward pass", 0},
      {"threads", HB_OPT_LONG, &threads, "OpenMP threads", 0},
      {"allow-extrapolation", HB_OPT_FLAG, &allow, "accept sequences longer than the training length", 0},
      {0},
  };
  parse_options("trace grad-influence",
                "trace grad-influence --ckpt F | --run DIR --data D --out F.tsv [--last 20] [--samples 64]\n\n"
                "|| d(mean over the last N positions of the logits summed over the vocabulary) / d(input\n"
                "embedding at position i) ||_2, averaged over the sequences, by distance = T - 1 - i from the\n"
                "last token.",
                "distance", influence_columns, HB_NCOLS(influence_columns), opts, argc, argv);
  if (last < 1 || samples < 1 || batch < 1 || seq_len < 0 || threads < 1 || threads > 1024)
    hb_input_error("trace grad-influence", "--last, --samples, --batch, --threads must be >= 1, --seq-len >= 0");
  omp_set_num_threads((int)threads);
  Model m;
  CkptInfo info;
  char *ck = analysis_ckpt_of(ckpt, run, "trace grad-influence");
  analysis_load_ckpt(&m, &info, ck);
  free(ck);
  long n;
  int T;
  int32_t *tokens = influence_inputs(&n, &T, data, seq_len, samples, m.cfg.vocab);
  analysis_check_length(&info, T, data, allow);
  if (last > T) hb_input_error("trace grad-influence --last", "%ld is longer than the sequences (%d)", last, T);
  double *infl = hb_malloc((size_t)T * sizeof(double));
  influence_measure(infl, &m, tokens, n, T, (int)last, (int)batch);
  double top = 0;
  for (int d = 0; d < T; d++) top = infl[d] > top ? infl[d] : top;
  HbTsvWriter writer, *w = &writer;
  hb_tsv_writer_open_columns(w, out, ANALYSIS_ID_COLS, ANALYSIS_N_ID_COLS, influence_columns,
                             HB_NCOLS(influence_columns));
  for (int d = 0; d < T; d++) {
    analysis_put_ids(w, &info);
    INFLUENCE_COLUMNS(HB_PUT)
    hb_tsv_end_row(w);
  }
  hb_tsv_writer_commit(w);
  free(infl), free(tokens);
  model_free(&m);
  return 0;
}

int cmd_trace(int argc, char **argv) {
  const char *usage = "usage: hybench trace heads|run|grad-influence [options]   (--help after each)\n";
  if (argc < 2) {
    fputs(usage, stderr);
    return HB_EXIT_INPUT;
  }
  const char *kind = argv[1];
  if (strcmp(kind, "--help") == 0 || strcmp(kind, "-h") == 0 || strcmp(kind, "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(kind, "heads") == 0) return trace_heads(argc - 1, argv + 1);
  if (strcmp(kind, "run") == 0) return trace_run(argc - 1, argv + 1);
  if (strcmp(kind, "grad-influence") == 0) return trace_grad_influence(argc - 1, argv + 1);
  hb_input_error("trace", "'%s' is not heads, run or grad-influence", kind);
}
