/* Reading a generated dataset back, with every cross-check between its files. */
#include <string.h>

#include "hybench/common.h"
#include "hybench/dataset.h"
#include "hybench/tsv.h"

typedef struct {
  char split[KV_NAME_LEN];
  long seed, n_seqs;
  int seq_len, vocab;
} DatasetInfo;

#define FIELD(k) offsetof(DatasetInfo, k)
static const KvKey INFO_KEYS[] = {
    {"split", KV_NAME, FIELD(split), 1},   {"seed", KV_LONG, FIELD(seed), 1},   {"seq_len", KV_INT, FIELD(seq_len), 1},
    {"n_seqs", KV_LONG, FIELD(n_seqs), 1}, {"vocab", KV_INT, FIELD(vocab), 1},
};
#define N_INFO_KEYS (sizeof INFO_KEYS / sizeof INFO_KEYS[0])

static char *sibling(const char *path, const char *suffix) {
  size_t n = strlen(path) + strlen(suffix) + 1;
  char *s = hb_malloc(n);
  snprintf(s, n, "%s%s", path, suffix);
  return s;
}

int dataset_exists(const char *path) {
  char *info = sibling(path, ".info");
  int yes = hb_file_exists(info);
  free(info);
  return yes;
}

static int32_t *int_column(const HbTsv *t, const char *name, long lo, long hi) {
  int col = hb_tsv_require_col(t, name);
  int32_t *v = hb_malloc((size_t)(t->n_rows ? t->n_rows : 1) * sizeof(int32_t));
  for (int r = 0; r < t->n_rows; r++) {
    double x = hb_tsv_double(t, r, col);
    if (x != (double)(long)x || x < lo || x > hi) {
      char where[1100];
      snprintf(where, sizeof where, "%s:%d (row %d), column %s", t->path, t->line[r], r + 1, name);
      hb_input_error(where, "%g is not an integer in [%ld, %ld]", x, lo, hi);
    }
    v[r] = (int32_t)x;
  }
  return v;
}

static void load_deps(Dataset *ds) {
  char *path = sibling(ds->path, ".deps.tsv");
  HbTsv t;
  hb_tsv_read(&t, path);
  int L = ds->seq_len + 1;
  ds->n_deps = t.n_rows;
  ds->dep_seq = int_column(&t, "seq", 0, ds->n_seqs - 1);
  ds->dep_pos = int_column(&t, "pos", 1, L - 1);
  ds->dep_distance = int_column(&t, "distance", 1, L - 1);
  ds->dep_nearest = int_column(&t, "nearest", 1, L - 1);
  ds->dep_far_by = ds->dep_distance;
  ds->dep_class = int_column(&t, "class", 0, 1 << 30);
  ds->dep_depth = int_column(&t, "depth", -1, 100);
  int kind_col = hb_tsv_require_col(&t, "kind");
  ds->dep_kind = hb_malloc((size_t)(t.n_rows ? t.n_rows : 1) * sizeof(int32_t));
  for (int r = 0; r < t.n_rows; r++) {
    const char *k = hb_tsv_str(&t, r, kind_col);
    int kind = -1;
    for (int j = DEP_ONEHOP; j <= DEP_NIAH; j++)
      if (strcmp(k, dep_kind_name(j)) == 0) kind = j;
    if (kind < 0) hb_input_error(path, "row %d, column kind: '%s' is not onehop, kv, repeat or niah", r + 1, k);
    ds->dep_kind[r] = kind;
    /* Each dependency must point at an ANSWER token. */
    size_t at = (size_t)ds->dep_seq[r] * L + (size_t)ds->dep_pos[r];
    if (ds->labels.ids[at] != LABEL_ANSWER)
      hb_input_error(path, "row %d: position %d of sequence %d is not labelled as an answer", r + 1, ds->dep_pos[r],
                     ds->dep_seq[r]);
    if (ds->dep_nearest[r] > ds->dep_distance[r])
      hb_input_error(path, "row %d, column nearest: %d is farther than the evidence (distance %d)", r + 1,
                     ds->dep_nearest[r], ds->dep_distance[r]);
  }
  hb_tsv_free(&t);
  free(path);
}

void dataset_load(Dataset *ds, const char *path, int model_vocab) {
  memset(ds, 0, sizeof *ds);
  ds->path = hb_strdup(path);
  char *info_path = sibling(path, ".info");
  char *text = hb_read_file(info_path, NULL);
  DatasetInfo info;
  memset(&info, 0, sizeof info);
  int seen[N_INFO_KEYS];
  kv_parse(&info, INFO_KEYS, N_INFO_KEYS, text, info_path, seen);
  free(text);
  ds->seq_len = info.seq_len;
  ds->n_seqs = info.n_seqs;
  ds->vocab = info.vocab;
  if (model_vocab > 0 && model_vocab != info.vocab)
    hb_input_error(info_path, "vocab: the dataset needs vocab %d, the model has %d", info.vocab, model_vocab);
  hb_tokens_read(&ds->tokens, path, (uint32_t)info.vocab);
  char *labels_path = sibling(path, ".labels");
  hb_tokens_read(&ds->labels, labels_path, N_LABELS);
  uint64_t expect = (uint64_t)info.n_seqs * (uint64_t)(info.seq_len + 1);
  if (ds->tokens.count != expect)
    hb_input_error(path, "count: %llu tokens, but %s says %ld sequences of %d", (unsigned long long)ds->tokens.count,
                   info_path, info.n_seqs, info.seq_len + 1);
  if (ds->labels.count != expect)
    hb_input_error(labels_path, "count: %llu labels for %llu tokens", (unsigned long long)ds->labels.count,
                   (unsigned long long)expect);
  free(labels_path);
  free(info_path);
  load_deps(ds);
}

void dataset_free(Dataset *ds) {
  free(ds->path);
  hb_tokens_free(&ds->tokens);
  hb_tokens_free(&ds->labels);
  free(ds->dep_seq), free(ds->dep_pos), free(ds->dep_distance), free(ds->dep_kind), free(ds->dep_class),
      free(ds->dep_depth), free(ds->dep_nearest);
  memset(ds, 0, sizeof *ds);
}

void dataset_split_by(Dataset *ds, const char *which, const char *what) {
  if (strcmp(which, "evidence") == 0) ds->dep_far_by = ds->dep_distance;
  else if (strcmp(which, "nearest") == 0) ds->dep_far_by = ds->dep_nearest;
  else hb_input_error(what, "'%s' is not evidence or nearest", which);
}
