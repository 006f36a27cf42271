/* `hybench probe`: layer-wise logistic-regression probes of the residual
 * stream at the query position, predicting the needle's class, each next to
 * the same probe trained on shuffled labels (the control). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/rng.h"
#include "hybench/tsv.h"

/* Fisher-Yates with the project's RNG. */
static void shuffle_long(long *a, long n, HbRng *rng) {
  for (long i = n - 1; i > 0; i--) {
    long j = (long)rng_below(rng, (uint64_t)i + 1), t = a[i];
    a[i] = a[j], a[j] = t;
  }
}

/* One row per probe layer l, after the checkpoint's id columns: the real
 * probe and the control (shuffled labels). */
#define PROBE_COLUMNS(X)                                                                                     \
  X("layer", long, l, "l < L: the input of layer l (0: the embedding); L: the last layer's output")          \
  X("acc_test", double, real.acc_test, "the probe's accuracy on the held-out samples")                       \
  X("acc_train", double, real.acc_train, "its accuracy on the training samples")                             \
  X("acc_shuffled", double, control.acc_test, "test accuracy of the control (labels shuffled): near chance") \
  X("chance", double, 1.0 / K, "1 / n_classes")                                                              \
  X("majority", double, majority, "test accuracy of always answering the most frequent training class")      \
  X("n_train", long, n - n_test, "training samples")                                                         \
  X("n_test", long, n_test, "held-out samples (--test-frac)")                                                \
  X("n_classes", long, K, "classes (needle values)")                                                         \
  X("lambda", double, lambda, "--lambda")                                                                    \
  X("iters", long, real.iters, "BFGS2 iterations")                                                           \
  X("status", long, real.status, "GSL's: 0 converged, 27 no further progress possible (at the optimum to "   \
                                 "machine precision), 11 stopped at --max-iter")                             \
  X("iters_shuffled", long, control.iters, "iters of the control")                                           \
  X("status_shuffled", long, control.status, "status of the control")

static const HbColumn probe_columns[] = {PROBE_COLUMNS(HB_COLUMN)};

int cmd_probe(int argc, char **argv) {
  const char *ckpt = NULL, *run = NULL, *set = NULL, *out = NULL, *kind_name = "niah";
  double test_frac = 0.3, lambda = 1e-2;
  long seed = 1, max_iter = 1000, batch = 16, threads = 1, min_distance = 0;
  int allow = 0;
  HbOpt opts[] = {
      ANALYSIS_CKPT_OPTIONS(ckpt, run),
      {"set", HB_OPT_STR, &set, "gen-data output whose answers are probed (a NIAH set)", 1},
      {"out", HB_OPT_STR, &out, "TSV to write: one row per layer", 1},
      {"kind", HB_OPT_STR, &kind_name, "answers probed: niah or onehop", 0},
      {"test-frac", HB_OPT_DOUBLE, &test_frac, "fraction of the samples held out for the test accuracy", 0},
      {"lambda", HB_OPT_DOUBLE, &lambda, "L2 penalty on the probe's weights (standardised features)", 0},
      {"seed", HB_OPT_LONG, &seed, "seed of the train/test split and of the label shuffle", 0},
      {"max-iter", HB_OPT_LONG, &max_iter, "BFGS iterations at most", 0},
      {"batch", HB_OPT_LONG, &batch, "sequences per forward pass (fewer where a forward would pass 2 GiB of activations)", 0},
      {"threads", HB_OPT_LONG, &threads, "OpenMP threads", 0},
      {"allow-extrapolation", HB_OPT_FLAG, &allow, "accept a set longer than the training length", 0},
      {"min-distance", HB_OPT_LONG, &min_distance, "probe only the answers whose needle is farther back than this (0: all)", 0},
      {0},
  };
  const HbTableDoc tables[] = {{"--out F.tsv, one row per layer: run, model, seed, tokens (the checkpoint), then",
                                probe_columns, HB_NCOLS(probe_columns)}};
  char *usage = hb_usage_with_tables(
      "probe --ckpt F | --run DIR --set S --out F.tsv [--test-frac 0.3] [--lambda 0.01] [--seed 1]\n\n"
      "Per layer, a multinomial logistic regression (L2-regularised, GSL BFGS2) on the residual\n"
      "stream at each answer's query token predicting the needle's class (the answer's value);\n"
      "layer l < L is the input of layer l (0: the embedding), l = L the last layer's output.\n"
      "The control trains the same probe on labels shuffled across the samples: it should stay\n"
      "near chance.",
      tables, 1);
  hb_parse_args("probe", usage, opts, argc, argv);
  free(usage);
  DepKind kind = DEP_NIAH;
  if (strcmp(kind_name, "onehop") == 0) kind = DEP_ONEHOP;
  else if (strcmp(kind_name, "niah") != 0) hb_input_error("probe --kind", "'%s' is not niah or onehop", kind_name);
  if (!(test_frac > 0 && test_frac < 1)) hb_input_error("probe --test-frac", "%g is not inside (0, 1)", test_frac);
  if (!(lambda >= 0)) hb_input_error("probe --lambda", "%g is negative", lambda);
  if (seed < 0 || max_iter < 1 || batch < 1 || threads < 1 || threads > 1024)
    hb_input_error("probe", "--seed must be >= 0, --max-iter, --batch and --threads >= 1");
  if (min_distance < 0 || min_distance > 1 << 20) hb_input_error("probe --min-distance", "%ld is outside 0..2^20", min_distance);
  omp_set_num_threads((int)threads);
  Model m;
  CkptInfo info;
  char *ck = analysis_ckpt_of(ckpt, run, "probe");
  analysis_load_ckpt(&m, &info, ck);
  free(ck);
  Dataset ds;
  dataset_load(&ds, set, m.cfg.vocab);
  analysis_check_length(&info, ds.seq_len, set, allow);
  NeedleSet ns;
  needle_set_from_dataset(&ns, &ds, kind, (int)min_distance);
  dataset_free(&ds);
  long n = ns.n, n_test = lround(test_frac * (double)n);
  int K = ns.n_classes, L = m.cfg.n_layers, C = m.cfg.d_model;
  if (K < 2) hb_input_error(set, "deps.tsv: the %s answers have a single class; nothing to probe", kind_name);
  if (n_test < 1 || n - n_test < 2)
    hb_input_error(set, "deps.tsv: %ld %s samples are too few to split into train and test (--test-frac %g)", n,
                   kind_name, test_frac);
  /* the split: a seeded permutation, its first n_test samples held out */
  HbRng rng;
  rng_seed(&rng, (uint64_t)seed, 7);
  long *perm = hb_malloc((size_t)n * sizeof(long));
  for (long i = 0; i < n; i++) perm[i] = i;
  shuffle_long(perm, n, &rng);
  uint8_t *train = hb_malloc((size_t)n);
  for (long i = 0; i < n; i++) train[perm[i]] = i >= n_test;
  /* the control's labels: the same labels, permuted across all samples */
  for (long i = 0; i < n; i++) perm[i] = i;
  shuffle_long(perm, n, &rng);
  int32_t *shuffled = hb_malloc((size_t)n * sizeof(int32_t));
  for (long i = 0; i < n; i++) shuffled[i] = ns.cls[perm[i]];
  /* majority baseline: the most frequent training class, scored on the test rows */
  long *count = hb_calloc((size_t)K, sizeof(long)), right = 0;
  for (long i = 0; i < n; i++) count[ns.cls[i]] += train[i];
  int major = 0;
  for (int k = 1; k < K; k++) major = count[k] > count[major] ? k : major;
  for (long i = 0; i < n; i++) right += !train[i] && ns.cls[i] == major;
  double majority = (double)right / (double)n_test;
  float *X = hb_malloc((size_t)(L + 1) * n * C * sizeof(float));
  probe_features(X, &m, &ns, (int)batch);
  HbTsvWriter writer, *w = &writer;
  hb_tsv_writer_open_columns(w, out, ANALYSIS_ID_COLS, ANALYSIS_N_ID_COLS, probe_columns, HB_NCOLS(probe_columns));
  printf("probe: %s (%s) on %s: %ld samples (%ld test), %d classes; chance %.3f, majority %.3f\n", info.ckpt,
         m.cfg.pattern, set, n, n_test, K, 1.0 / K, majority);
  for (int l = 0; l <= L; l++) {
    ProbeResult real, control;
    const float *Xl = X + (size_t)l * n * C;
    probe_fit(&real, Xl, ns.cls, train, n, C, K, lambda, (int)max_iter);
    probe_fit(&control, Xl, shuffled, train, n, C, K, lambda, (int)max_iter);
    analysis_put_ids(w, &info);
    PROBE_COLUMNS(HB_PUT)
    hb_tsv_end_row(w);
    printf("  layer %d (%s): test accuracy %.3f (train %.3f) | shuffled labels %.3f\n", l,
           l == 0 ? "embedding" : l == L ? "final output" : "residual input", real.acc_test, real.acc_train,
           control.acc_test);
  }
  hb_tsv_writer_commit(w);
  free(perm), free(train), free(shuffled), free(count), free(X);
  needle_set_free(&ns);
  model_free(&m);
  return 0;
}
