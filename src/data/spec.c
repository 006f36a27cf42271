/* Dataset specs (the files in datasets/): parsing, validation, vocabulary layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/dataset.h"

#define FIELD(k) offsetof(DatasetSpec, k)
static const KvKey SPEC_KEYS[] = {
    {"name", KV_NAME, FIELD(name), 1},
    {"haystack", KV_NAME, FIELD(haystack), 1},
    {"markov_order", KV_INT, FIELD(markov_order), 0},
    {"markov_vocab", KV_INT, FIELD(markov_vocab), 0},
    {"seq_len", KV_INT, FIELD(seq_len), 1},
    {"n_train", KV_LONG, FIELD(n_train), 0},
    {"n_val", KV_LONG, FIELD(n_val), 0},
    {"n_test", KV_LONG, FIELD(n_test), 0},
    {"vocab", KV_INT, FIELD(vocab), 1},
    {"onehop_keys", KV_INT, FIELD(onehop_keys), 0},
    {"onehop_values", KV_INT, FIELD(onehop_values), 0},
    {"p_fact", KV_DOUBLE, FIELD(p_fact), 0},
    {"p_query", KV_DOUBLE, FIELD(p_query), 0},
    {"onehop_query_once", KV_BOOL, FIELD(onehop_query_once), 0},
    {"kv_density", KV_DOUBLE, FIELD(kv_density), 0},
    {"kv_key_len", KV_INT, FIELD(kv_key_len), 0},
    {"kv_value_len", KV_INT, FIELD(kv_value_len), 0},
    {"kv_key_vocab", KV_INT, FIELD(kv_key_vocab), 0},
    {"kv_value_vocab", KV_INT, FIELD(kv_value_vocab), 0},
    {"repeat_density", KV_DOUBLE, FIELD(repeat_density), 0},
    {"repeat_len", KV_INT, FIELD(repeat_len), 0},
    {"repeat_vocab", KV_INT, FIELD(repeat_vocab), 0},
    {"dist", KV_NAME, FIELD(dist), 0},
    {"dist_min", KV_INT, FIELD(dist_min), 0},
    {"dist_max", KV_INT, FIELD(dist_max), 0},
    {"niah", KV_BOOL, FIELD(niah), 0},
    {"niah_facts", KV_INT, FIELD(niah_facts), 0},
    {"niah_per_depth", KV_LONG, FIELD(niah_per_depth), 0},
};
#define N_SPEC_KEYS (sizeof SPEC_KEYS / sizeof SPEC_KEYS[0])

static void spec_defaults(DatasetSpec *s) {
  memset(s, 0, sizeof *s);
  s->markov_order = 2;
  s->markov_vocab = 16;
  s->n_train = 20000;
  s->n_val = 256;
  s->n_test = 256;
  s->p_fact = 0.10;
  s->p_query = 0.35;
  s->kv_key_len = 2;
  s->kv_value_len = 2;
  s->kv_key_vocab = 16;
  s->kv_value_vocab = 16;
  s->repeat_len = 6;
  s->repeat_vocab = 16;
  strcpy(s->dist, "loguniform");
  s->niah_facts = 1;
  s->niah_per_depth = 16;
}

int dataset_onehop_base(const DatasetSpec *s) { (void)s; return 256; }

int dataset_kv_base(const DatasetSpec *s) {
  int n = s->onehop_keys > 0 ? s->onehop_keys * s->onehop_values + s->onehop_keys + s->onehop_values : 0;
  return dataset_onehop_base(s) + n;
}

int dataset_repeat_base(const DatasetSpec *s) {
  int n = s->kv_density > 0 ? 2 + s->kv_key_vocab + s->kv_value_vocab : 0;
  return dataset_kv_base(s) + n;
}

int dataset_vocab(const DatasetSpec *s) { return dataset_repeat_base(s) + (s->repeat_density > 0 ? s->repeat_vocab : 0); }

/* Size bounds, checked in 64-bit before any int or size_t holds a product.
 * A split is generated in memory as (sequences, seq_len + 1) uint32 tokens and
 * as many labels, so 2^30 tokens per split (8 GiB) bounds every allocation;
 * the shipped specs use 40000 x 513 = 2.1e7. Reserved-id vocabularies are at
 * most 2^16 each, so the total vocabulary (dataset_vocab) fits an int. */
#define SPEC_MAX_SEQ_LEN (1 << 16)
#define SPEC_MAX_SPLIT_TOKENS (1LL << 30)
#define SPEC_MAX_RESERVED (1 << 16)

static void require_split_fits(long n_seqs, int L, const char *key, const char *path) {
  if (n_seqs < 0 || n_seqs > SPEC_MAX_SPLIT_TOKENS / L) /* the division keeps n_seqs x L from overflowing */
    hb_input_error(path, "%s: %ld sequences of %d tokens exceed 2^30 tokens per split", key, n_seqs, L);
}

static void validate_split_sizes(const DatasetSpec *s, int L, const char *path) {
  require_split_fits(s->n_train, L, "n_train", path);
  require_split_fits(s->n_val, L, "n_val", path);
  require_split_fits(s->n_test, L, "n_test", path);
  if (s->niah_per_depth > SPEC_MAX_SPLIT_TOKENS) /* keeps NIAH_DEPTHS x niah_per_depth inside a long */
    hb_input_error(path, "niah_per_depth: %ld is above 2^30", s->niah_per_depth);
  if (s->niah) require_split_fits(NIAH_DEPTHS * s->niah_per_depth, L, "niah_per_depth", path);
}

/* Block lengths are bounded by the sequence, so sums of them stay small. */
static void validate_planted_sizes(const DatasetSpec *s, int L, const char *path) {
  if (s->kv_density > 0) {
    if (s->kv_key_len < 1 || s->kv_value_len < 1 || s->kv_key_vocab < 2 || s->kv_value_vocab < 2)
      hb_input_error(path, "kv_key_len: key-value facts need lengths >= 1 and vocabularies >= 2");
    if (s->kv_key_len > L || s->kv_value_len > L)
      hb_input_error(path, "kv_key_len: key and value lengths must be at most seq_len + 1 = %d", L);
    if (s->kv_key_vocab > SPEC_MAX_RESERVED || s->kv_value_vocab > SPEC_MAX_RESERVED)
      hb_input_error(path, "kv_key_vocab: key and value vocabularies must be at most 65536");
  }
  if (s->repeat_density > 0) {
    if (s->repeat_len < 2 || s->repeat_vocab < 2)
      hb_input_error(path, "repeat_len: repeats need repeat_len >= 2 and repeat_vocab >= 2");
    if (s->repeat_len > L) hb_input_error(path, "repeat_len: %d is longer than a sequence (%d)", s->repeat_len, L);
    if (s->repeat_vocab > SPEC_MAX_RESERVED) hb_input_error(path, "repeat_vocab: %d is above 65536", s->repeat_vocab);
  }
}

static void validate_spec(const DatasetSpec *s, const char *path) {
  if (strcmp(s->haystack, "kjv") && strcmp(s->haystack, "markov") && strcmp(s->haystack, "iid"))
    hb_input_error(path, "haystack: '%s' is not kjv, markov or iid", s->haystack);
  if (s->seq_len < 8 || s->seq_len > SPEC_MAX_SEQ_LEN) hb_input_error(path, "seq_len: %d is outside 8..2^16", s->seq_len);
  int L = s->seq_len + 1;
  validate_split_sizes(s, L, path);
  validate_planted_sizes(s, L, path);
  if (strcmp(s->haystack, "kjv") != 0) {
    if (s->markov_vocab < 2 || s->markov_vocab > 256) hb_input_error(path, "markov_vocab: %d is outside 2..256", s->markov_vocab);
    if (s->markov_order < 1 || pow(s->markov_vocab, s->markov_order) > 1 << 20)
      hb_input_error(path, "markov_order: %d gives more than 2^20 contexts (or is < 1)", s->markov_order);
  }
  if (s->onehop_keys > 0 && (s->onehop_values < 2 || (int64_t)s->onehop_keys * s->onehop_values > SPEC_MAX_RESERVED))
    hb_input_error(path, "onehop_values: needs 2..65536/onehop_keys values when onehop_keys > 0");
  if (s->p_fact < 0 || s->p_query < 0 || s->p_fact + s->p_query > 1)
    hb_input_error(path, "p_query: p_fact + p_query = %g must be within [0, 1]", s->p_fact + s->p_query);
  if (s->kv_density < 0 || s->repeat_density < 0) hb_input_error(path, "kv_density: densities must be >= 0");
  if (strcmp(s->dist, "uniform") && strcmp(s->dist, "loguniform"))
    hb_input_error(path, "dist: '%s' is not uniform or loguniform", s->dist);
  int planted_blocks = s->kv_density > 0 || s->repeat_density > 0;
  if (planted_blocks) {
    int block = s->kv_density > 0 ? 1 + s->kv_key_len + s->kv_value_len : 0;
    if (s->repeat_density > 0 && s->repeat_len > block) block = s->repeat_len;
    if (s->dist_min < block)
      hb_input_error(path, "dist_min: %d is shorter than a planted block (%d tokens): evidence and query would overlap",
                     s->dist_min, block);
    if (s->dist_max < s->dist_min) hb_input_error(path, "dist_max: %d is below dist_min %d", s->dist_max, s->dist_min);
    if (s->dist_max + block > L)
      hb_input_error(path, "dist_max: %d plus a %d-token block does not fit in a sequence of %d tokens", s->dist_max,
                     block, L);
    double tokens_per_1000 = s->kv_density * 2 * (1 + s->kv_key_len + s->kv_value_len) + s->repeat_density * 2 * s->repeat_len;
    if (tokens_per_1000 > 500)
      hb_input_error(path, "kv_density: planted blocks would take %.0f of every 1000 tokens (at most 500 can be placed)",
                     tokens_per_1000);
  }
  if (s->niah) {
    if (s->onehop_keys < s->niah_facts || s->niah_facts < 1)
      hb_input_error(path, "niah_facts: %d facts need 1 <= niah_facts <= onehop_keys (%d)", s->niah_facts, s->onehop_keys);
    if (3 * s->niah_facts + 1 > L) hb_input_error(path, "niah_facts: %d facts do not fit in %d tokens", s->niah_facts, L);
    if (planted_blocks) hb_input_error(path, "niah: NIAH sets hold only one-hop facts (set kv_density and repeat_density to 0)");
  }
  if (s->vocab != dataset_vocab(s))
    hb_input_error(path, "vocab: %d, but the spec's tokens need exactly %d", s->vocab, dataset_vocab(s));
}

void dataset_spec_load(DatasetSpec *spec, const char *path) {
  spec_defaults(spec);
  char text[KV_MAX_FILE_BYTES + 1];
  kv_read_file(text, path);
  int seen[N_SPEC_KEYS];
  kv_parse(spec, SPEC_KEYS, N_SPEC_KEYS, text, path, seen);
  validate_spec(spec, path);
}
