/* Generation of one split: a pure function of (spec, split, seed). Sequence i
 * draws from its own RNG stream, so it does not depend on the others.
 * Order inside a sequence of L = seq_len + 1 slots:
 *   1. key-value facts and entity repeats are placed at distances drawn from
 *      the spec's distribution (uniform or log-uniform in [dist_min, dist_max]);
 *   2. NIAH sets place their fact(s) at the depth and the queries at the end;
 *   3. one-hop facts and queries fill free slots left to right (DESIGN.md
 *      section 8: each free slot is a fact with p_fact, each key at most once,
 *      a query Q(k) V(v) of an earlier fact with p_query, or filler);
 *   4. the remaining slots take consecutive haystack text, so the text runs
 *      on around the planted tokens rather than being overwritten. */
#include <math.h>
#include <string.h>

#include "haystack.h"
#include "hybench/common.h"
#include "hybench/dataset.h"
#include "hybench/tsv.h"

#define PLACEMENT_TRIES 200

typedef struct {
  int32_t seq, pos, evidence, kind, cls, depth;
  int32_t nearest; /* the nearest earlier position carrying the answer's value */
} Dep;

typedef struct {
  const DatasetSpec *spec;
  const char *spec_path;
  int L;
  uint32_t *tok;  /* (L) */
  uint8_t *lab;   /* (L) */
  uint8_t *used;  /* (L) */
  Dep *deps;
  long n_deps, cap_deps;
} SeqBuilder;

static void add_dep(SeqBuilder *b, long seq, int pos, int evidence, int nearest, DepKind kind, int cls, int depth) {
  if (b->n_deps == b->cap_deps) {
    b->cap_deps = b->cap_deps ? 2 * b->cap_deps : 4096;
    Dep *grown = realloc(b->deps, (size_t)b->cap_deps * sizeof *grown);
    if (!grown) HB_FATAL("out of memory growing the dependency list");
    b->deps = grown;
  }
  b->deps[b->n_deps++] = (Dep){(int32_t)seq, pos, evidence, kind, cls, depth, nearest};
}

static void put(SeqBuilder *b, int pos, uint32_t token, int label) {
  HB_ASSERT(pos >= 0 && pos < b->L && !b->used[pos], "planted slots never collide");
  b->tok[pos] = token;
  b->lab[pos] = (uint8_t)label;
  b->used[pos] = 1;
}

static int range_free(const SeqBuilder *b, int start, int len) {
  for (int i = start; i < start + len; i++)
    if (i < 0 || i >= b->L || b->used[i]) return 0;
  return 1;
}

static int draw_distance(const DatasetSpec *s, HbRng *rng) {
  if (strcmp(s->dist, "uniform") == 0) return s->dist_min + (int)rng_below(rng, (uint64_t)(s->dist_max - s->dist_min + 1));
  double lo = log((double)s->dist_min), hi = log((double)s->dist_max + 1);
  int d = (int)floor(exp(lo + (hi - lo) * rng_uniform(rng)));
  return d > s->dist_max ? s->dist_max : d;
}

/* How many blocks of a kind a sequence gets: the expected count
 * density * L / 1000, rounded up or down at random to keep the mean exact. */
static int draw_count(double density, int L, HbRng *rng) {
  double expected = density * L / 1000.0;
  int n = (int)floor(expected);
  return n + (rng_uniform(rng) < expected - n);
}

/* Finds a start s with both [s, s+len) and [s+d, s+d+len) free; -1 if none. */
static int find_pair_slot(const SeqBuilder *b, int d, int len, HbRng *rng) {
  int last = b->L - d - len;
  if (last < 0) return -1;
  for (int tries = 0; tries < PLACEMENT_TRIES; tries++) {
    int s = (int)rng_below(rng, (uint64_t)last + 1);
    if (range_free(b, s, len) && range_free(b, s + d, len)) return s;
  }
  return -1;
}

static void place_kv_facts(SeqBuilder *b, long seq, HbRng *rng) {
  const DatasetSpec *s = b->spec;
  int base = dataset_kv_base(s), kl = s->kv_key_len, vl = s->kv_value_len, len = 1 + kl + vl;
  int key_id = base + 2, value_id = base + 2 + s->kv_key_vocab;
  int n = draw_count(s->kv_density, b->L, rng);
  for (int i = 0; i < n; i++) {
    int d = draw_distance(s, rng), at = find_pair_slot(b, d, len, rng);
    if (at < 0)
      hb_input_error(b->spec_path, "kv_density: no room to place key-value fact %d of sequence %ld at distance %d; lower the density",
                     i, seq, d);
    put(b, at, (uint32_t)base, LABEL_PLANTED);        /* <K> */
    put(b, at + d, (uint32_t)base + 1, LABEL_PLANTED); /* <Q> */
    for (int j = 0; j < kl; j++) {
      uint32_t k = (uint32_t)(key_id + (int)rng_below(rng, (uint64_t)s->kv_key_vocab));
      put(b, at + 1 + j, k, LABEL_PLANTED);
      put(b, at + d + 1 + j, k, LABEL_PLANTED);
    }
    int first_value = -1;
    for (int j = 0; j < vl; j++) {
      int v = (int)rng_below(rng, (uint64_t)s->kv_value_vocab);
      if (j == 0) first_value = v;
      put(b, at + 1 + kl + j, (uint32_t)(value_id + v), LABEL_PLANTED);
      put(b, at + d + 1 + kl + j, (uint32_t)(value_id + v), LABEL_ANSWER);
      add_dep(b, seq, at + d + 1 + kl + j, at + 1 + kl + j, at + 1 + kl + j, DEP_KV, first_value, -1);
    }
  }
}

static void place_repeats(SeqBuilder *b, long seq, HbRng *rng) {
  const DatasetSpec *s = b->spec;
  int base = dataset_repeat_base(s), len = s->repeat_len;
  int n = draw_count(s->repeat_density, b->L, rng);
  for (int i = 0; i < n; i++) {
    int d = draw_distance(s, rng), at = find_pair_slot(b, d, len, rng);
    if (at < 0)
      hb_input_error(b->spec_path, "repeat_density: no room to place repeat %d of sequence %ld at distance %d; lower the density",
                     i, seq, d);
    int first = -1;
    for (int j = 0; j < len; j++) {
      int v = (int)rng_below(rng, (uint64_t)s->repeat_vocab);
      if (j == 0) first = v;
      put(b, at + j, (uint32_t)(base + v), LABEL_PLANTED);
      /* Only the first token of the second copy is unpredictable. */
      put(b, at + d + j, (uint32_t)(base + v), j == 0 ? LABEL_PLANTED : LABEL_ANSWER);
      if (j > 0) add_dep(b, seq, at + d + j, at + j, at + j, DEP_REPEAT, first, -1);
    }
  }
}

/* A random map key -> value for this sequence (one-hop facts). */
static void draw_value_map(int *value_of, int keys, int values, HbRng *rng) {
  for (int k = 0; k < keys; k++) value_of[k] = (int)rng_below(rng, (uint64_t)values);
}

static uint32_t fact_token(const DatasetSpec *s, int k, int v) { return (uint32_t)(dataset_onehop_base(s) + k * s->onehop_values + v); }
static uint32_t query_token(const DatasetSpec *s, int k) {
  return (uint32_t)(dataset_onehop_base(s) + s->onehop_keys * s->onehop_values + k);
}
static uint32_t answer_token(const DatasetSpec *s, int v) {
  return (uint32_t)(dataset_onehop_base(s) + s->onehop_keys * s->onehop_values + s->onehop_keys + v);
}

static void place_onehop(SeqBuilder *b, long seq, HbRng *rng) {
  const DatasetSpec *s = b->spec;
  int K = s->onehop_keys;
  int *value_of = hb_malloc((size_t)K * sizeof(int)), *fact_pos = hb_malloc((size_t)K * sizeof(int));
  int *placed = hb_malloc((size_t)K * sizeof(int)), n_placed = 0;
  /* The value's nearest earlier copy: the fact, or the answer of the last query of its key. */
  int *last_copy = hb_malloc((size_t)K * sizeof(int));
  int *queried = hb_calloc((size_t)K, sizeof(int));
  draw_value_map(value_of, K, s->onehop_values, rng);
  for (int k = 0; k < K; k++) fact_pos[k] = last_copy[k] = -1;
  for (int t = 0; t < b->L; t++) {
    if (b->used[t]) continue;
    double r = rng_uniform(rng);
    if (r < s->p_fact) {
      if (n_placed == K) continue; /* every key used: filler */
      int k;
      do k = (int)rng_below(rng, (uint64_t)K);
      while (fact_pos[k] >= 0);
      put(b, t, fact_token(s, k, value_of[k]), LABEL_PLANTED);
      fact_pos[k] = last_copy[k] = t;
      placed[n_placed++] = k;
    } else if (r < s->p_fact + s->p_query && n_placed > 0 && t + 1 < b->L && !b->used[t + 1]) {
      int k = placed[rng_below(rng, (uint64_t)n_placed)];
      /* The no-repeat ablation: a repeated query becomes text, so every first
       * query is drawn exactly as in the full process (the same distances
       * to the fact), and no answer has a nearer copy. */
      if (s->onehop_query_once && queried[k]) continue;
      queried[k] = 1;
      put(b, t, query_token(s, k), LABEL_PLANTED);
      put(b, t + 1, answer_token(s, value_of[k]), LABEL_ANSWER);
      add_dep(b, seq, t + 1, fact_pos[k], last_copy[k], DEP_ONEHOP, value_of[k], -1);
      last_copy[k] = t + 1;
      t++;
    }
  }
  free(value_of), free(fact_pos), free(placed), free(last_copy), free(queried);
}

/* NIAH: sequence seq holds depth index seq / niah_per_depth. The first fact
 * sits at that depth of the text before the queries; further facts (the
 * multi-query set) at random free slots; the queries close the sequence. */
static void place_niah(SeqBuilder *b, long seq, HbRng *rng) {
  const DatasetSpec *s = b->spec;
  int n = s->niah_facts, depth = (int)(seq / s->niah_per_depth) * 100 / (NIAH_DEPTHS - 1);
  int body = b->L - 2 * n; /* slots before the queries */
  int keys[64], values[64], pos[64];
  HB_ASSERT(n <= 64, "niah_facts is small");
  for (int i = 0; i < n; i++) {
    int k, dup;
    do {
      k = (int)rng_below(rng, (uint64_t)s->onehop_keys);
      dup = 0;
      for (int j = 0; j < i; j++) dup |= keys[j] == k;
    } while (dup);
    keys[i] = k;
    values[i] = (int)rng_below(rng, (uint64_t)s->onehop_values);
    int p;
    if (i == 0) p = (int)lround(depth / 100.0 * (body - 1));
    else do p = (int)rng_below(rng, (uint64_t)body);
      while (b->used[p]);
    pos[i] = p;
    put(b, p, fact_token(s, k, values[i]), LABEL_PLANTED);
  }
  for (int i = 0; i < n; i++) {
    int q = body + 2 * i;
    put(b, q, query_token(s, keys[i]), LABEL_PLANTED);
    put(b, q + 1, answer_token(s, values[i]), LABEL_ANSWER);
    add_dep(b, seq, q + 1, pos[i], pos[i], DEP_NIAH, values[i], i == 0 ? depth : -1);
  }
}

static long split_sequences(const DatasetSpec *s, const char *split) {
  if (s->niah) return NIAH_DEPTHS * s->niah_per_depth;
  if (strcmp(split, "val") == 0) return s->n_val;
  if (strcmp(split, "test") == 0) return s->n_test;
  return s->n_train;
}

static uint64_t split_stream(const char *split) {
  return strcmp(split, "train") == 0 ? 1 : strcmp(split, "val") == 0 ? 2 : 3;
}

static void build_sequence(SeqBuilder *b, const Haystack *h, long seq, HbRng *rng) {
  memset(b->used, 0, (size_t)b->L);
  if (b->spec->kv_density > 0) place_kv_facts(b, seq, rng);
  if (b->spec->repeat_density > 0) place_repeats(b, seq, rng);
  if (b->spec->niah) place_niah(b, seq, rng);
  else if (b->spec->onehop_keys > 0) place_onehop(b, seq, rng);
  FillerStream f;
  filler_start(&f, h, rng);
  for (int t = 0; t < b->L; t++)
    if (!b->used[t]) {
      b->tok[t] = filler_next(&f);
      b->lab[t] = LABEL_TEXT;
    }
}

static void write_deps(const char *path, const Dep *deps, long n) {
  const char *header[] = {"seq", "pos", "evidence", "distance", "nearest", "kind", "class", "depth"};
  HbTsvWriter w;
  hb_tsv_writer_open(&w, path, header, 8);
  for (long i = 0; i < n; i++) {
    const Dep *d = &deps[i];
    hb_tsv_put_long(&w, d->seq);
    hb_tsv_put_long(&w, d->pos);
    hb_tsv_put_long(&w, d->evidence);
    hb_tsv_put_long(&w, d->pos - d->evidence);
    hb_tsv_put_long(&w, d->pos - d->nearest);
    hb_tsv_put_str(&w, dep_kind_name(d->kind));
    hb_tsv_put_long(&w, d->cls);
    hb_tsv_put_long(&w, d->depth);
    hb_tsv_end_row(&w);
  }
  hb_tsv_writer_commit(&w);
}

static void write_info(const char *path, const DatasetSpec *s, const char *spec_path, const char *split, uint64_t seed,
                       long n_seqs) {
  HbOut out = hb_out_open(path, "w");
  fprintf(out.fp, "# hybench gen-data output; the spec it came from follows as comments\n");
  fprintf(out.fp, "split = %s\nseed = %llu\nseq_len = %d\nn_seqs = %ld\nvocab = %d\n", split, (unsigned long long)seed,
          s->seq_len, n_seqs, s->vocab);
  char *text = hb_read_file(spec_path, NULL);
  fprintf(out.fp, "# spec %s:\n# ", spec_path);
  for (const char *c = text; *c; c++) {
    fputc(*c, out.fp);
    if (*c == '\n' && c[1]) fputs("# ", out.fp);
  }
  fputc('\n', out.fp);
  free(text);
  hb_out_commit(&out);
}

void dataset_generate(const DatasetSpec *spec, const char *spec_path, const char *split, uint64_t seed, const char *out) {
  if (strcmp(split, "train") && strcmp(split, "val") && strcmp(split, "test"))
    hb_input_error("gen-data --split", "'%s' is not train, val or test", split);
  long n_seqs = split_sequences(spec, split);
  if (n_seqs < 1) hb_input_error(spec_path, "n_%s: the %s split has no sequences", split, split);
  Haystack h;
  haystack_open(&h, spec, spec_path, split);
  SeqBuilder b = {spec, spec_path, spec->seq_len + 1, NULL, NULL, NULL, NULL, 0, 0};
  size_t total = (size_t)n_seqs * (size_t)b.L;
  uint32_t *tokens = hb_malloc(total * sizeof(uint32_t)), *labels = hb_malloc(total * sizeof(uint32_t));
  b.tok = hb_malloc((size_t)b.L * sizeof(uint32_t));
  b.lab = hb_malloc((size_t)b.L);
  b.used = hb_malloc((size_t)b.L);
  for (long i = 0; i < n_seqs; i++) {
    HbRng rng;
    rng_seed(&rng, seed, (split_stream(split) << 40) + (uint64_t)i);
    build_sequence(&b, &h, i, &rng);
    for (int t = 0; t < b.L; t++) {
      tokens[(size_t)i * b.L + t] = b.tok[t];
      labels[(size_t)i * b.L + t] = b.lab[t];
    }
  }
  size_t n = strlen(out) + 16;
  char *path = hb_malloc(n);
  hb_tokens_write(out, tokens, total, (uint32_t)spec->vocab);
  snprintf(path, n, "%s.labels", out);
  hb_tokens_write(path, labels, total, N_LABELS);
  snprintf(path, n, "%s.deps.tsv", out);
  write_deps(path, b.deps, b.n_deps);
  /* .info last: its presence marks a complete dataset. */
  snprintf(path, n, "%s.info", out);
  write_info(path, spec, spec_path, split, seed, n_seqs);
  printf("%s: %s split, %ld sequences of %d tokens, %ld dependencies, vocab %d\n", out, split, n_seqs, b.L, b.n_deps,
         spec->vocab);
  free(path), free(tokens), free(labels), free(b.tok), free(b.lab), free(b.used), free(b.deps);
  haystack_close(&h);
}

const char *dep_kind_name(int kind) {
  switch (kind) {
  case DEP_ONEHOP: return "onehop";
  case DEP_KV: return "kv";
  case DEP_REPEAT: return "repeat";
  case DEP_NIAH: return "niah";
  }
  return "?";
}
