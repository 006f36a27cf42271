/* Datasets (issue 6 acceptance): determinism, disjoint splits, metadata that
 * matches the tokens, the distance distribution of the spec, no reserved ids
 * in the haystack, NIAH placement, and the metrics on known predictors (an
 * oracle scores LongPPL 1 and accuracy 1, a context-free bigram model scores
 * chance-level retrieval). */
#include <stdlib.h>
#include <unistd.h>

#include "../src/data/haystack.h"
#include "hybench/dataset.h"
#include "hybench/eval.h"
#include "testutil.h"

static char dir[] = "/tmp/hybench-dataset-XXXXXX";

static char *path_in_dir(const char *name) {
  static char buf[8][512];
  static int k;
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  fputs(text, fp);
  fclose(fp);
}

static char *read_bytes(const char *path, size_t *n) { return hb_read_file(path, n); }

static int same_file(const char *a, const char *b) {
  size_t na, nb;
  char *x = read_bytes(a, &na), *y = read_bytes(b, &nb);
  int same = na == nb && memcmp(x, y, na) == 0;
  free(x), free(y);
  return same;
}

/* A spec with every planted kind, on the Markov haystack (no package needed). */
static const char MIXED_SPEC[] =
    "name = mixed\nhaystack = markov\nmarkov_order = 2\nmarkov_vocab = 16\nseq_len = 256\n"
    "n_train = 300\nn_val = 40\nn_test = 40\nvocab = 346\n"
    "onehop_keys = 4\nonehop_values = 4\np_fact = 0.05\np_query = 0.1\n"
    "kv_density = 4\nkv_key_len = 2\nkv_value_len = 2\nkv_key_vocab = 16\nkv_value_vocab = 16\n"
    "repeat_density = 4\nrepeat_len = 5\nrepeat_vocab = 32\ndist = loguniform\ndist_min = 8\ndist_max = 200\n";

static void generate(const char *spec_name, const char *split, uint64_t seed, const char *out) {
  DatasetSpec spec;
  dataset_spec_load(&spec, path_in_dir(spec_name));
  dataset_generate(&spec, path_in_dir(spec_name), split, seed, path_in_dir(out));
}

static void test_determinism(void) {
  generate("mixed.conf", "train", 7, "a.tok");
  generate("mixed.conf", "train", 7, "b.tok");
  generate("mixed.conf", "train", 8, "c.tok");
  CHECK(same_file(path_in_dir("a.tok"), path_in_dir("b.tok")), "same spec and seed must give identical tokens");
  CHECK(same_file(path_in_dir("a.tok.labels"), path_in_dir("b.tok.labels")), "identical labels");
  CHECK(same_file(path_in_dir("a.tok.deps.tsv"), path_in_dir("b.tok.deps.tsv")), "identical metadata");
  CHECK(!same_file(path_in_dir("a.tok"), path_in_dir("c.tok")), "a different seed must give different tokens");
}

/* Every dependency row agrees with the tokens it names. */
static void test_metadata_matches_tokens(void) {
  DatasetSpec spec;
  dataset_spec_load(&spec, path_in_dir("mixed.conf"));
  Dataset ds;
  dataset_load(&ds, path_in_dir("a.tok"), 0);
  long L = ds.seq_len + 1, bad = 0, kinds[4] = {0};
  int fact_base = dataset_onehop_base(&spec), n_facts = spec.onehop_keys * spec.onehop_values;
  int q_base = fact_base + n_facts, v_base = q_base + spec.onehop_keys;
  for (long d = 0; d < ds.n_deps; d++) {
    const uint32_t *seq = ds.tokens.ids + (size_t)ds.dep_seq[d] * L;
    int pos = ds.dep_pos[d], ev = pos - ds.dep_distance[d];
    kinds[ds.dep_kind[d]]++;
    if (ev < 0) { bad++; continue; }
    if (ds.dep_kind[d] == DEP_ONEHOP) {
      int fact = (int)seq[ev] - fact_base, key = (int)seq[pos - 1] - q_base, value = (int)seq[pos] - v_base;
      bad += !(fact >= 0 && fact < n_facts && fact / spec.onehop_values == key && fact % spec.onehop_values == value &&
               value == ds.dep_class[d]);
    } else {
      bad += seq[ev] != seq[pos]; /* kv values and repeats: the answer is the evidence token */
    }
  }
  printf("  dependencies: %ld (onehop %ld, kv %ld, repeat %ld), mismatches %ld\n", ds.n_deps, kinds[0], kinds[1], kinds[2], bad);
  CHECK(bad == 0, "%ld dependency rows disagree with the tokens", bad);
  CHECK(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0, "every planted kind occurs");
  long reserved_in_text = 0;
  for (size_t i = 0; i < ds.tokens.count; i++) reserved_in_text += ds.labels.ids[i] == LABEL_TEXT && ds.tokens.ids[i] >= 256;
  CHECK(reserved_in_text == 0, "%ld reserved ids inside the haystack", reserved_in_text);
  dataset_free(&ds);
}

/* The nearest copy (issue 14): at `pos - nearest` sits the answer's value
 * (its fact F(k,v), or V(v) answering an earlier Q(k)), no copy lies between
 * it and the answer, and nearest <= distance. With onehop_query_once every
 * fact is queried at most once, so nearest == distance. */
static long check_nearest(const char *out, const DatasetSpec *spec, long *n_nearer) {
  Dataset ds;
  dataset_load(&ds, path_in_dir(out), 0);
  long L = ds.seq_len + 1, bad = 0;
  int fact_base = dataset_onehop_base(spec), n_facts = spec->onehop_keys * spec->onehop_values;
  int q_base = fact_base + n_facts, v_base = q_base + spec->onehop_keys;
  *n_nearer = 0;
  for (long d = 0; d < ds.n_deps; d++) {
    if (ds.dep_kind[d] != DEP_ONEHOP) {
      bad += ds.dep_nearest[d] != ds.dep_distance[d];
      continue;
    }
    const uint32_t *seq = ds.tokens.ids + (size_t)ds.dep_seq[d] * L;
    int pos = ds.dep_pos[d], at = pos - ds.dep_nearest[d], key = (int)seq[pos - 1] - q_base;
    int value = (int)seq[pos] - v_base;
    int copy_fact = (int)seq[at] == fact_base + key * spec->onehop_values + value;
    int copy_answer = (int)seq[at] == v_base + value && (int)seq[at - 1] == q_base + key;
    bad += !(copy_fact || copy_answer) || ds.dep_nearest[d] > ds.dep_distance[d];
    for (int j = at + 1; j < pos - 1; j++) /* no copy of this key's value in between */
      bad += (int)seq[j] == v_base + value && (int)seq[j - 1] == q_base + key;
    *n_nearer += ds.dep_nearest[d] < ds.dep_distance[d];
  }
  dataset_free(&ds);
  return bad;
}

static void test_nearest_copy(void) {
  DatasetSpec spec;
  dataset_spec_load(&spec, path_in_dir("mixed.conf"));
  long nearer, bad = check_nearest("a.tok", &spec, &nearer);
  printf("  nearest copy: %ld onehop answers have a copy nearer than their fact, %ld rows wrong\n", nearer, bad);
  CHECK(bad == 0 && nearer > 0, "nearest: %ld rows wrong, %ld nearer copies (want > 0)", bad, nearer);
  char text[sizeof MIXED_SPEC + 64];
  snprintf(text, sizeof text, "%sonehop_query_once = 1\n", MIXED_SPEC);
  write_file(path_in_dir("once.conf"), text);
  generate("once.conf", "train", 7, "once.tok");
  bad = check_nearest("once.tok", &spec, &nearer);
  CHECK(bad == 0 && nearer == 0, "query once: %ld rows wrong, %ld nearer copies (want 0)", bad, nearer);
  Dataset ds;
  dataset_load(&ds, path_in_dir("once.tok"), 0);
  long repeats = 0, onehop = 0;
  for (long d = 0; d < ds.n_deps; d++) /* each (sequence, evidence) at most once */
    for (long e = d + 1; e < ds.n_deps && ds.dep_seq[e] == ds.dep_seq[d]; e++)
      repeats += ds.dep_kind[d] == DEP_ONEHOP && ds.dep_kind[e] == DEP_ONEHOP &&
                 ds.dep_pos[d] - ds.dep_distance[d] == ds.dep_pos[e] - ds.dep_distance[e];
  for (long d = 0; d < ds.n_deps; d++) onehop += ds.dep_kind[d] == DEP_ONEHOP;
  CHECK(repeats == 0 && onehop > 0, "query once: %ld repeated queries among %ld answers", repeats, onehop);
  EXPECT_INPUT_ERROR(dataset_split_by(&ds, "closest", "eval --distance"), "eval --distance: 'closest' is not evidence or nearest");
  dataset_split_by(&ds, "nearest", "eval --distance");
  CHECK(ds.dep_far_by == ds.dep_nearest, "split by nearest");
  dataset_free(&ds);
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Kolmogorov-Smirnov: the kv distances are log-uniform on [8, 200]. */
static void test_distance_distribution(void) {
  Dataset ds;
  dataset_load(&ds, path_in_dir("a.tok"), 0);
  double *u = malloc((size_t)ds.n_deps * sizeof(double));
  long n = 0;
  double lo = log(8.0), hi = log(201.0);
  for (long d = 0; d < ds.n_deps; d++)
    if (ds.dep_kind[d] == DEP_KV && ds.dep_pos[d] > 0) {
      /* One row per value token: keep the first value of each fact only. */
      long prev = d - 1;
      if (prev >= 0 && ds.dep_kind[prev] == DEP_KV && ds.dep_seq[prev] == ds.dep_seq[d] &&
          ds.dep_pos[prev] == ds.dep_pos[d] - 1 && ds.dep_distance[prev] == ds.dep_distance[d])
        continue;
      /* Distances are integers: compare the midpoint of the integer's cell. */
      u[n++] = (log(ds.dep_distance[d] + 0.5) - lo) / (hi - lo);
    }
  qsort(u, (size_t)n, sizeof(double), compare_double);
  double D = 0;
  for (long i = 0; i < n; i++) {
    double a = fabs(u[i] - (double)i / n), b = fabs(u[i] - (double)(i + 1) / n);
    D = fmax(D, fmax(a, b));
  }
  double critical = 1.95 / sqrt((double)n); /* alpha = 0.001 */
  printf("  kv distances: n = %ld, KS D = %.4f (critical %.4f at alpha 0.001)\n", n, D, critical);
  CHECK(n > 200 && D < critical, "distance distribution does not match log-uniform: D = %g", D);
  free(u);
  dataset_free(&ds);
}

static void test_kjv_splits_disjoint(void) {
  write_file(path_in_dir("kjv.conf"), "name = k\nhaystack = kjv\nseq_len = 128\nvocab = 256\n");
  DatasetSpec spec;
  dataset_spec_load(&spec, path_in_dir("kjv.conf"));
  Haystack h[3];
  const char *splits[] = {"train", "val", "test"};
  for (int i = 0; i < 3; i++) haystack_open(&h[i], &spec, "kjv.conf", splits[i]);
  printf("  kjv text: %zu bytes; train [%zu, %zu) val [%zu, %zu) test [%zu, %zu)\n", h[0].len, h[0].begin, h[0].end,
         h[1].begin, h[1].end, h[2].begin, h[2].end);
  CHECK(h[0].end <= h[1].begin && h[1].end <= h[2].begin, "splits overlap");
  /* Filler streams wrap inside their slice: long draws never read another split. */
  int outside = 0;
  for (int i = 0; i < 3; i++) {
    HbRng rng;
    rng_seed(&rng, 1, (uint64_t)i);
    for (int s = 0; s < 50; s++) {
      FillerStream f;
      filler_start(&f, &h[i], &rng);
      for (int t = 0; t < 5000; t++) {
        filler_next(&f);
        outside += f.pos > h[i].end || f.pos <= h[i].begin;
      }
    }
  }
  CHECK(outside == 0, "%d draws read outside their split", outside);
  for (int i = 0; i < 3; i++) haystack_close(&h[i]);
}

static void test_niah_placement(void) {
  write_file(path_in_dir("niah.conf"), "name = n\nhaystack = iid\nmarkov_vocab = 16\nseq_len = 100\nvocab = 280\n"
                                       "onehop_keys = 4\nonehop_values = 4\nniah = on\nniah_facts = 3\nniah_per_depth = 2\n");
  generate("niah.conf", "test", 1, "n.tok");
  Dataset ds;
  dataset_load(&ds, path_in_dir("n.tok"), 0);
  int L = ds.seq_len + 1, body = L - 2 * 3, bad = 0, depths_seen = 0;
  CHECK(ds.n_seqs == 22, "11 depths x 2 sequences, got %ld", ds.n_seqs);
  for (long d = 0; d < ds.n_deps; d++) {
    if (ds.dep_depth[d] < 0) continue;
    depths_seen++;
    int expect_depth = (int)(ds.dep_seq[d] / 2) * 10;
    int expect_evidence = (int)lround(expect_depth / 100.0 * (body - 1));
    bad += ds.dep_depth[d] != expect_depth || ds.dep_pos[d] - ds.dep_distance[d] != expect_evidence ||
           ds.dep_pos[d] != body + 1;
  }
  printf("  NIAH: %d depth-placed queries, %d misplaced\n", depths_seen, bad);
  CHECK(depths_seen == 22 && bad == 0, "NIAH depth or length not where the metadata says (%d bad)", bad);
  dataset_free(&ds);
}

/* ---------- metrics on known predictors ---------- */
typedef struct {
  const Dataset *ds;
  int V;
  double *bigram; /* (V, V) log-probabilities */
} Predictor;

static void oracle_logits(void *ctx, float *logits, const int32_t *inputs, int B, int T, long first_seq) {
  Predictor *p = ctx;
  (void)inputs;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      float *row = logits + ((size_t)b * T + t) * p->V;
      for (int v = 0; v < p->V; v++) row[v] = -30.0f;
      row[p->ds->tokens.ids[(size_t)(first_seq + b) * (T + 1) + t + 1]] = 30.0f;
    }
}

static void bigram_logits(void *ctx, float *logits, const int32_t *inputs, int B, int T, long first_seq) {
  Predictor *p = ctx;
  (void)first_seq;
  for (int i = 0; i < B * T; i++)
    for (int v = 0; v < p->V; v++) logits[(size_t)i * p->V + v] = (float)p->bigram[(size_t)inputs[i] * p->V + v];
}

static void test_metrics_on_known_predictors(void) {
  generate("mixed.conf", "val", 3, "v.tok");
  Dataset train, val;
  dataset_load(&train, path_in_dir("a.tok"), 0);
  dataset_load(&val, path_in_dir("v.tok"), 0);
  Predictor p = {&val, val.vocab, NULL};
  EvalResult r;
  eval_predictor(&r, oracle_logits, &p, p.V, &val, 16, 8);
  printf("  oracle: LongPPL %.6f, far acc %.4f, answer acc %.4f (n far %ld)\n", eval_longppl(&r), eval_far_acc(&r),
         eval_answer_acc(&r), r.n_far);
  CHECK(fabs(eval_longppl(&r) - 1) < 1e-6 && eval_far_acc(&r) == 1.0 && eval_answer_acc(&r) == 1.0,
        "an oracle must score LongPPL 1 and accuracy 1");
  /* Split by the nearest copy, the fact-distance numbers stay beside it and
   * equal those of a split by the fact; fewer answers are far by the nearest. */
  long n_fact_far = r.n_far;
  CHECK(!r.fact_split_differs, "split by the fact: no second split");
  dataset_split_by(&val, "nearest", "test");
  eval_predictor(&r, oracle_logits, &p, p.V, &val, 16, 8);
  CHECK(r.fact_split_differs && r.n_fact_far == n_fact_far && r.fact_far_right == n_fact_far && r.n_far <= n_fact_far,
        "split by the nearest copy: %ld far (by the fact %ld, kept: %ld)", r.n_far, n_fact_far, r.n_fact_far);
  dataset_split_by(&val, "evidence", "test");
  /* Context-free bigram model fitted on the training split (add-one smoothing). */
  p.bigram = calloc((size_t)p.V * p.V, sizeof(double));
  for (size_t i = 0; i + 1 < train.tokens.count; i++) p.bigram[(size_t)train.tokens.ids[i] * p.V + train.tokens.ids[i + 1]] += 1;
  for (int a = 0; a < p.V; a++) {
    double total = 0;
    for (int b = 0; b < p.V; b++) total += p.bigram[(size_t)a * p.V + b] + 1;
    for (int b = 0; b < p.V; b++) p.bigram[(size_t)a * p.V + b] = log((p.bigram[(size_t)a * p.V + b] + 1) / total);
  }
  eval_predictor(&r, bigram_logits, &p, p.V, &val, 16, 8);
  /* Chance for the far answers: 1 / (size of the answer's alphabet) per kind:
   * one-hop values 1/4, kv values 1/16, repeat tokens 1/32. */
  double chance = 0;
  long n_far = 0;
  for (long d = 0; d < val.n_deps; d++) {
    if (val.dep_distance[d] <= 16) continue;
    n_far++;
    chance += val.dep_kind[d] == DEP_ONEHOP ? 0.25 : val.dep_kind[d] == DEP_KV ? 1.0 / 16 : 1.0 / 32;
  }
  chance /= (double)n_far;
  printf("  bigram: far acc %.4f (chance %.4f), answer acc %.4f, LongPPL %.2f, short loss %.3f\n", eval_far_acc(&r),
         chance, eval_answer_acc(&r), eval_longppl(&r), eval_short_loss(&r));
  CHECK(eval_far_acc(&r) < 1.5 * chance, "a context-free model must stay near chance: far acc %g, chance %g",
        eval_far_acc(&r), chance);
  free(p.bigram);
  dataset_free(&train);
  dataset_free(&val);
}

int main(void) {
  if (!mkdtemp(dir)) HB_FATAL("mkdtemp failed");
  write_file(path_in_dir("mixed.conf"), MIXED_SPEC);
  test_determinism();
  test_metadata_matches_tokens();
  test_nearest_copy();
  test_distance_distribution();
  test_kjv_splits_disjoint();
  test_niah_placement();
  test_metrics_on_known_predictors();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  TEST_MAIN_END();
}
