/* Bounded, deterministic fuzz of every parser of user input (issue 17): model
 * configs, dataset specs, safetensors checkpoints (with the config in their
 * __metadata__), token files, generated datasets (.info, .labels, .deps.tsv
 * beside the .tok), .npy batches and TSV tables.
 *
 * Each target starts from a valid file, replays its corpus of past crashers
 * (tests/fuzz/TARGET/ *), then parses FUZZ_ITERS mutants from a fixed seed.
 * A mutant may be accepted or rejected with an input error (intercepted by
 * the hook of testutil.h); what fails the test is anything else: a sanitizer
 * report, an assertion or internal error (exit 1), a leak on an error path.
 * The file being parsed stays in the scratch directory named at the start,
 * so a crash leaves its reproducer there: copy it into tests/fuzz/TARGET/.
 * HB_FUZZ_ITERS=N and HB_FUZZ_SEED=S run N mutants per target from seed S
 * instead (a longer local search). */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybench/config.h"
#include "hybench/dataset.h"
#include "hybench/rng.h"
#include "hybench/tensorio.h"
#include "hybench/tsv.h"
#include "testutil.h"

#define FUZZ_ITERS 2000
#define FUZZ_SEED 17
#define CORPUS_DIR "tests/fuzz"

static char tmp_dir[64];

static const char *tmp_path(const char *name) {
  static char bufs[4][512];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, sizeof bufs[0], "%s/%s", tmp_dir, name);
  return b;
}

static void write_bytes(const char *path, const unsigned char *data, size_t n) {
  FILE *fp = fopen(path, "wb");
  if (!fp) HB_FATAL("cannot create %s", path);
  if (n && fwrite(data, 1, n, fp) != n) HB_FATAL("cannot write %s", path);
  fclose(fp);
}

static void write_text(const char *path, const char *text) { write_bytes(path, (const unsigned char *)text, strlen(text)); }

/* ---------- the parsers, each reading one file ---------- */

static void parse_config(const char *path) {
  ModelConfig cfg;
  config_load(&cfg, path);
}

static void parse_spec(const char *path) {
  DatasetSpec spec;
  dataset_spec_load(&spec, path);
}

/* What model_load reads: every F32 tensor at its shape, and the config text. */
static void parse_safetensors(const char *path) {
  HbSafetensors st;
  hb_st_load(&st, path);
  for (int i = 0; i < st.n_entries; i++)
    if (strcmp(st.entries[i].dtype, "F32") == 0)
      hb_st_get_f32(&st, st.entries[i].name, st.entries[i].ndim, st.entries[i].shape);
  const char *config = hb_st_meta(&st, "config");
  char text[8192]; /* copied out, so that st is freed before config_parse may raise an error */
  if (config) snprintf(text, sizeof text, "%s", config);
  hb_st_free(&st);
  if (config) {
    ModelConfig cfg;
    config_parse(&cfg, text, path);
  }
}

static void parse_tokens(const char *path) {
  HbTokens t;
  hb_tokens_read(&t, path, 0);
  hb_tokens_free(&t);
}

static void parse_npy(const char *path) {
  int64_t rows, cols;
  free(hb_npy_read_int2d(path, &rows, &cols));
}

static void parse_tsv(const char *path) {
  HbTsv t;
  hb_tsv_read(&t, path);
  double x;
  for (int r = 0; r < t.n_rows; r++)
    for (int c = 0; c < t.n_cols; c++) hb_tsv_parse_double(&t, r, c, &x);
  hb_tsv_free(&t);
}

/* The dataset target mutates one of the four files of a generated split. */
static const char *const DATASET_PARTS[] = {".info", "", ".labels", ".deps.tsv"};
static unsigned char *dataset_originals[4];
static size_t dataset_original_len[4];

static void parse_dataset(const char *path) {
  Dataset ds;
  dataset_load(&ds, tmp_path("ds.tok"), 0);
  dataset_free(&ds);
  (void)path;
}

/* dataset_load raises errors from inside the readers it calls (kv_parse,
 * hb_tokens_read, hb_tsv_read) while it holds the paths, the .info text and
 * the files read so far; in the program an input error exits, so only an
 * intercepted one leaks them. The other parsers free before they report. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:dataset_load\n"; }

/* ---------- mutation ---------- */

typedef struct {
  unsigned char *b;
  size_t len, cap;
} Buf;

static const char *const INTERESTING_TEXT[] = {
    "0", "-1", "1", "2", "65536", "1073741824", "2147483647", "2147483648", "4294967296", "1e12", "1e308",
    "99999999999999999999", "nan", "inf", "", ",", ",,", "=", "\n", "#", "\t", "9e18", "-9223372036854775808",
};
static const uint64_t INTERESTING_INT[] = {
    0, 1, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 1ull << 30, 1ull << 32, 1ull << 62,
    0x7fffffffffffffffull, 0xffffffffffffffffull,
};
#define N_OF(a) (sizeof a / sizeof a[0])

static void buf_insert(Buf *m, size_t at, const void *src, size_t n) {
  if (m->len + n > m->cap) return; /* keeps mutants bounded */
  memmove(m->b + at + n, m->b + at, m->len - at);
  memcpy(m->b + at, src, n);
  m->len += n;
}

static void buf_delete(Buf *m, size_t at, size_t n) {
  if (at + n > m->len) n = m->len - at;
  memmove(m->b + at, m->b + at + n, m->len - at - n);
  m->len -= n;
}

/* The start of the value after the next '=', tab or comma from `at` (text
 * formats), so that most replacements hit a value rather than a key. */
static size_t next_value_start(const Buf *m, size_t at) {
  while (at < m->len && m->b[at] != '=' && m->b[at] != '\t' && m->b[at] != ',') at++;
  if (at < m->len) at++;
  while (at < m->len && m->b[at] == ' ') at++;
  return at;
}

/* Replaces the run of digits (or the word) at a random place with an interesting string. */
static void replace_token(Buf *m, HbRng *rng) {
  size_t at = (size_t)rng_below(rng, m->len + 1);
  if (rng_below(rng, 4) != 0) at = next_value_start(m, at);
  size_t end = at;
  while (end < m->len && (m->b[end] == '-' || m->b[end] == '.' || (m->b[end] >= '0' && m->b[end] <= '9') ||
                          (m->b[end] >= 'a' && m->b[end] <= 'z')))
    end++;
  buf_delete(m, at, end - at);
  const char *s = INTERESTING_TEXT[rng_below(rng, N_OF(INTERESTING_TEXT))];
  buf_insert(m, at, s, strlen(s));
}

static void mutate_once(Buf *m, HbRng *rng) {
  if (m->len == 0) {
    replace_token(m, rng);
    return;
  }
  size_t at = (size_t)rng_below(rng, m->len);
  switch (rng_below(rng, 7)) {
  case 0: m->b[at] ^= (unsigned char)(1u << rng_below(rng, 8)); break;
  case 1: m->b[at] = (unsigned char)INTERESTING_INT[rng_below(rng, N_OF(INTERESTING_INT))]; break;
  case 2: { /* a little-endian 32- or 64-bit integer: sizes, counts, offsets */
    uint64_t v = INTERESTING_INT[rng_below(rng, N_OF(INTERESTING_INT))];
    size_t n = rng_below(rng, 2) ? 8 : 4;
    for (size_t k = 0; k < n && at + k < m->len; k++) m->b[at + k] = (unsigned char)(v >> (8 * k));
    break;
  }
  case 3: m->len = at; break;
  case 4: buf_delete(m, at, 1 + (size_t)rng_below(rng, 16)); break;
  case 5: { /* a copy of another part of the input */
    size_t from = (size_t)rng_below(rng, m->len), n = 1 + (size_t)rng_below(rng, 32);
    if (from + n > m->len) n = m->len - from;
    unsigned char tmp[32];
    memcpy(tmp, m->b + from, n);
    buf_insert(m, at, tmp, n);
    break;
  }
  default: replace_token(m, rng); break;
  }
}

/* ---------- running a target ---------- */

typedef struct {
  const char *name; /* also the corpus directory and the scratch file's name */
  void (*parse)(const char *path);
  unsigned char *seed;
  size_t seed_len;
} Target;

static int accepted, rejected;
static const char *current_path;

/* Parses the file at current_path; an input error counts as a rejection. */
static void run_parser(const Target *t) {
  tu_msg[0] = '\0';
  hb_set_input_error_hook(tu_hook);
  if (setjmp(tu_jmp) == 0) {
    t->parse(current_path);
    accepted++;
  } else {
    rejected++;
  }
  hb_set_input_error_hook(NULL);
}

/* Where a target's bytes go: its own file, or one part of the dataset. */
static void place_input(const Target *t, const unsigned char *b, size_t n, HbRng *rng) {
  if (strcmp(t->name, "dataset") != 0) {
    write_bytes(current_path, b, n);
    return;
  }
  size_t part = rng ? (size_t)rng_below(rng, N_OF(DATASET_PARTS)) : 0; /* corpus files are .info texts */
  for (size_t k = 0; k < N_OF(DATASET_PARTS); k++) {
    char name[64];
    snprintf(name, sizeof name, "ds.tok%s", DATASET_PARTS[k]);
    if (k == part) write_bytes(tmp_path(name), b, n);
    else write_bytes(tmp_path(name), dataset_originals[k], dataset_original_len[k]);
  }
}

static int replay_corpus(const Target *t) {
  char dir[256];
  snprintf(dir, sizeof dir, "%s/%s", CORPUS_DIR, t->name);
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    char *bytes = hb_read_file(path, &len);
    printf("  replay %s\n", path);
    fflush(stdout);
    place_input(t, (unsigned char *)bytes, len, NULL);
    free(bytes);
    run_parser(t);
    n++;
  }
  closedir(d);
  return n;
}

static void fuzz_target(const Target *t, int iters, uint64_t seed) {
  char name[64];
  snprintf(name, sizeof name, "%s.in", t->name);
  current_path = hb_strdup(tmp_path(name));
  accepted = rejected = 0;
  place_input(t, t->seed, t->seed_len, NULL);
  run_parser(t);
  CHECK(accepted == 1, "the %s seed input parses", t->name);
  int replayed = replay_corpus(t);
  HbRng rng;
  rng_seed(&rng, seed, (uint64_t)t->name[0] << 8 | (uint64_t)t->name[1]);
  Buf m = {hb_malloc(2 * t->seed_len + 256), 0, 2 * t->seed_len + 256};
  for (int i = 0; i < iters; i++) {
    memcpy(m.b, t->seed, t->seed_len);
    m.len = t->seed_len;
    for (int k = 1 + (int)rng_below(&rng, 4); k > 0; k--) mutate_once(&m, &rng);
    place_input(t, m.b, m.len, &rng);
    run_parser(t);
  }
  free(m.b);
  printf("%-12s %d corpus inputs, %d mutants: %d accepted, %d rejected\n", t->name, replayed, iters, accepted, rejected);
  fflush(stdout);
  free((char *)current_path);
}

/* ---------- seed inputs ---------- */

static const char CONFIG_SEED[] = "# a hybrid of every layer kind\n"
                                  "name = fuzz\nvocab = 40\nd_model = 16\nn_heads = 2\nhead_dim = 8\n"
                                  "mlp_hidden = 32\npattern = SLMGF\nwindow = 4\nrope_S = off\n"
                                  "init_std = 0.02\nexpand = 2\nstate_size = 8\nmamba_head_dim = 8\n";

static const char SPEC_SEED[] = "name = fuzz_spec\nhaystack = iid\nseq_len = 32\nn_train = 4\nn_val = 4\n"
                                "onehop_keys = 2\nonehop_values = 2\np_fact = 0.2\np_query = 0.3\n"
                                "kv_density = 10\nkv_key_len = 1\nkv_value_len = 1\nkv_key_vocab = 4\n"
                                "kv_value_vocab = 4\ndist = uniform\ndist_min = 4\ndist_max = 16\nvocab = 274\n";

static const char TSV_SEED[] = "run\tmodel\tseed\ttokens\tloss\n"
                               "a\tsf\t1\t1000\t3.5\n"
                               "b\tmf\t2\t2e3\tnan\n"
                               "c\tff\t3\t4000\t-inf\n";

static unsigned char *read_seed(const char *path, size_t *len) { return (unsigned char *)hb_read_file(path, len); }

static unsigned char *make_safetensors(size_t *len) {
  float w[6] = {1, 2, 3, 4, 5, 6}, b[3] = {0.5f, -1, 2};
  HbStTensor ts[2] = {{"layer.weight", 2, {3, 2}, w}, {"layer.bias", 1, {3}, b}};
  const char *keys[] = {"config", "step"}, *values[] = {CONFIG_SEED, "7"};
  hb_st_save(tmp_path("seed.safetensors"), ts, 2, keys, values, 2);
  return read_seed(tmp_path("seed.safetensors"), len);
}

static unsigned char *make_tokens(size_t *len) {
  uint32_t ids[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  hb_tokens_write(tmp_path("seed.tok"), ids, 12, 16);
  return read_seed(tmp_path("seed.tok"), len);
}

static unsigned char *make_npy(size_t *len) {
  int32_t v[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[2] = {2, 3};
  hb_npy_write_i32(tmp_path("seed.npy"), v, 2, shape);
  return read_seed(tmp_path("seed.npy"), len);
}

/* A generated split of SPEC_SEED; the .info text is the target's seed. */
static unsigned char *make_dataset(size_t *len) {
  write_text(tmp_path("seed_spec.conf"), SPEC_SEED);
  DatasetSpec spec;
  dataset_spec_load(&spec, tmp_path("seed_spec.conf"));
  dataset_generate(&spec, tmp_path("seed_spec.conf"), "val", 1, tmp_path("ds.tok"));
  for (size_t k = 0; k < N_OF(DATASET_PARTS); k++) {
    char name[64];
    snprintf(name, sizeof name, "ds.tok%s", DATASET_PARTS[k]);
    dataset_originals[k] = read_seed(tmp_path(name), &dataset_original_len[k]);
  }
  *len = dataset_original_len[0];
  unsigned char *copy = hb_malloc(*len + 1);
  memcpy(copy, dataset_originals[0], *len);
  return copy;
}

static unsigned char *copy_text(const char *s, size_t *len) {
  *len = strlen(s);
  unsigned char *b = hb_malloc(*len + 1);
  memcpy(b, s, *len);
  return b;
}

static void remove_tmp_dir(void) {
  DIR *d = opendir(tmp_dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') remove(tmp_path(e->d_name));
  closedir(d);
  rmdir(tmp_dir);
}

int main(void) {
  snprintf(tmp_dir, sizeof tmp_dir, "%s/hybench-fuzz-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (!mkdtemp(tmp_dir)) HB_FATAL("mkdtemp failed");
  printf("fuzz inputs in %s (left there when a parser crashes)\n", tmp_dir);
  DIR *corpus = opendir(CORPUS_DIR);
  CHECK(corpus != NULL, "the corpus %s is readable (run from the repository root)", CORPUS_DIR);
  if (corpus) closedir(corpus);
  int iters = FUZZ_ITERS;
  const char *env = getenv("HB_FUZZ_ITERS");
  if (env && *env) iters = atoi(env);
  const char *seed_env = getenv("HB_FUZZ_SEED");
  uint64_t seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 10) : FUZZ_SEED;
  Target targets[] = {
      {"config", parse_config, NULL, 0},   {"spec", parse_spec, NULL, 0},   {"safetensors", parse_safetensors, NULL, 0},
      {"tokens", parse_tokens, NULL, 0},   {"npy", parse_npy, NULL, 0},     {"tsv", parse_tsv, NULL, 0},
      {"dataset", parse_dataset, NULL, 0},
  };
  targets[0].seed = copy_text(CONFIG_SEED, &targets[0].seed_len);
  targets[1].seed = copy_text(SPEC_SEED, &targets[1].seed_len);
  targets[2].seed = make_safetensors(&targets[2].seed_len);
  targets[3].seed = make_tokens(&targets[3].seed_len);
  targets[4].seed = make_npy(&targets[4].seed_len);
  targets[5].seed = copy_text(TSV_SEED, &targets[5].seed_len);
  targets[6].seed = make_dataset(&targets[6].seed_len);
  for (size_t i = 0; i < N_OF(targets); i++) {
    fuzz_target(&targets[i], iters, seed);
    free(targets[i].seed);
  }
  for (size_t k = 0; k < N_OF(DATASET_PARTS); k++) free(dataset_originals[k]);
  remove_tmp_dir();
  TEST_MAIN_END();
}
