/* Unit tests of the file formats (include/hybench/tensorio.h): round trips of
 * safetensors, .npy and token files; every malformation the readers must
 * reject, each checked for the file and field named in the message; and
 * cross-checks against NumPy and Python's json+struct when /usr/bin/python3
 * has numpy. Error paths free before they report, so this also runs clean
 * under LeakSanitizer although every rejection longjmps out of the reader. */
#include "hybench/tensorio.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define PYTHON "/usr/bin/python3"

/* ---------- scratch files ---------- */

static char tmp_dir[64];

/* A path in the scratch directory; a few stay valid at once. */
static const char *tmp_path(const char *name) {
  static char bufs[8][512];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, sizeof bufs[0], "%s/%s", tmp_dir, name);
  return b;
}

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *fp = fopen(path, "wb");
  if (!fp) HB_FATAL("cannot create %s", path);
  if (n && fwrite(data, 1, n, fp) != n) HB_FATAL("cannot write %s", path);
  fclose(fp);
}

static void remove_tmp_dir(void) {
  DIR *d = opendir(tmp_dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) remove(tmp_path(e->d_name));
  closedir(d);
  rmdir(tmp_dir);
}

/* Counts leftovers of hb_out_open ("NAME.tmp.PID") in the scratch directory. */
static int count_tmp_files(void) {
  DIR *d = opendir(tmp_dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) n += strstr(e->d_name, ".tmp.") != NULL;
  if (d) closedir(d);
  return n;
}

static void le32_put(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void le64_put(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The readers under test, wrapped so a success does not leak in a test that
 * expects a failure. */
static void st_load_and_free(const char *path) {
  HbSafetensors st;
  hb_st_load(&st, path);
  hb_st_free(&st);
}

static void npy_read_and_free(const char *path) {
  int64_t rows, cols;
  free(hb_npy_read_int2d(path, &rows, &cols));
}

static void tokens_read_and_free(const char *path, uint32_t model_vocab) {
  HbTokens t;
  hb_tokens_read(&t, path, model_vocab);
  hb_tokens_free(&t);
}

/* ---------- safetensors ---------- */

/* Value i of test tensor k: exact in float, and easy to recompute in Python. */
static float st_value(int k, int64_t i) { return (float)(k + 1) * 0.5f + (float)i * 0.25f - 3.0f; }

#define N_ST_TENSORS 5
static const char *const st_meta_keys[] = {"config", "format", "unicode"};
static const char *const st_meta_values[] = {"name = tiny\nvocab = 4\n# \"quoted\" \\ back\ttab \x01 control\n",
                                             "hybench-1", "caf\xc3\xa9 \xf0\x9f\x98\x80"};

/* Five tensors: (4, 3), (3), (2, 1, 4), an empty (0, 3) and a scalar. The
 * caller frees tensors[k].data. */
static void st_make_tensors(HbStTensor *t) {
  static const char *names[N_ST_TENSORS] = {"tok_emb.weight", "norm_f.weight", "layers.0.mamba2.conv1d.weight",
                                            "empty", "scalar"};
  static const int ndims[N_ST_TENSORS] = {2, 1, 3, 2, 0};
  static const int64_t shapes[N_ST_TENSORS][HB_MAX_DIMS] = {{4, 3}, {3}, {2, 1, 4}, {0, 3}, {0}};
  for (int k = 0; k < N_ST_TENSORS; k++) {
    t[k].name = names[k];
    t[k].ndim = ndims[k];
    memcpy(t[k].shape, shapes[k], sizeof t[k].shape);
    int64_t n = 1;
    for (int d = 0; d < ndims[k]; d++) n *= shapes[k][d];
    float *data = hb_malloc((size_t)n * sizeof *data);
    for (int64_t i = 0; i < n; i++) data[i] = st_value(k, i);
    t[k].data = data;
  }
}

static void st_free_tensors(HbStTensor *t) {
  for (int k = 0; k < N_ST_TENSORS; k++) free((void *)t[k].data);
}

static int64_t st_numel(const HbStTensor *t) {
  int64_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
  return n;
}

/* The header length is a multiple of 8, metadata newlines are escaped, and
 * the data block holds the tensors in the order given. */
static void check_st_layout(const char *path, const HbStTensor *t) {
  size_t len;
  unsigned char *file = (unsigned char *)hb_read_file(path, &len);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | file[i];
  CHECK(n % 8 == 0, "header length %llu is not a multiple of 8", (unsigned long long)n);
  CHECK(file[8] == '{', "header starts with '%c'", file[8]);
  CHECK(memchr(file + 8, '\n', n) == NULL, "a raw newline in the header (metadata must be escaped)");
  CHECK(strstr((const char *)file + 8, "vocab = 4\\n") != NULL, "config newline not written as \\n");
  size_t pos = 8 + n;
  for (int k = 0; k < N_ST_TENSORS; k++) {
    size_t bytes = (size_t)st_numel(&t[k]) * sizeof(float);
    CHECK(pos + bytes <= len && memcmp(file + pos, t[k].data, bytes) == 0, "tensor %d data not at %zu", k, pos);
    pos += bytes;
  }
  CHECK(pos == len, "file is %zu bytes, expected %zu", len, pos);
  free(file);
}

static void test_st_roundtrip(void) {
  HbStTensor t[N_ST_TENSORS];
  st_make_tensors(t);
  const char *path = tmp_path("model.safetensors");
  hb_st_save(path, t, N_ST_TENSORS, st_meta_keys, st_meta_values, 3);
  check_st_layout(path, t);

  HbSafetensors st;
  hb_st_load(&st, path);
  CHECK(st.n_entries == N_ST_TENSORS, "%d entries", st.n_entries);
  CHECK(strcmp(st.path, path) == 0, "path %s", st.path);
  for (int k = 0; k < N_ST_TENSORS && k < st.n_entries; k++) {
    const HbStEntry *e = &st.entries[k];
    CHECK(strcmp(e->name, t[k].name) == 0, "entry %d is %s, expected %s (header order)", k, e->name, t[k].name);
    CHECK(strcmp(e->dtype, "F32") == 0 && e->ndim == t[k].ndim, "entry %d: %s ndim %d", k, e->dtype, e->ndim);
    const float *x = hb_st_get_f32(&st, t[k].name, t[k].ndim, t[k].shape);
    size_t bytes = (size_t)st_numel(&t[k]) * sizeof(float);
    CHECK(memcmp(x, t[k].data, bytes) == 0, "tensor %s data differs", t[k].name);
  }
  for (int i = 0; i < 3; i++) {
    const char *v = hb_st_meta(&st, st_meta_keys[i]);
    CHECK(v && strcmp(v, st_meta_values[i]) == 0, "metadata %s is '%s'", st_meta_keys[i], v ? v : "(null)");
  }
  CHECK(hb_st_meta(&st, "nope") == NULL, "absent metadata found");
  CHECK(hb_st_find(&st, "nope") == NULL, "absent tensor found");

  int64_t wrong[2] = {3, 4};
  EXPECT_INPUT_ERROR(hb_st_get_f32(&st, "tok_emb.weight", 2, wrong), "model.safetensors: tensor tok_emb.weight");
  EXPECT_INPUT_ERROR(hb_st_get_f32(&st, "tok_emb.weight", 2, wrong), "shape [4, 3], expected [3, 4]");
  EXPECT_INPUT_ERROR(hb_st_get_f32(&st, "tok_emb.weight", 1, wrong), "expected [3]");
  EXPECT_INPUT_ERROR(hb_st_get_f32(&st, "lm_head.weight", 2, wrong), "tensor lm_head.weight: missing");
  hb_st_free(&st);

  /* No tensors and no metadata is a valid (empty) file too. */
  hb_st_save(tmp_path("empty.safetensors"), NULL, 0, NULL, NULL, 0);
  hb_st_load(&st, tmp_path("empty.safetensors"));
  CHECK(st.n_entries == 0 && st.n_meta == 0 && st.data_len == 0, "empty file: %d entries", st.n_entries);
  hb_st_free(&st);
  CHECK(count_tmp_files() == 0, "temporary files left behind");
  st_free_tensors(t);
}

/* Byte-for-byte what the reference HF serializer writes for the same input
 * (huggingface/safetensors, safetensors/src/tensor.rs, test_serialization and
 * test_empty): compact JSON, __metadata__ first, spaces up to a multiple of 8.
 * The input includes our checksum metadata: 91e79017 is zlib.crc32 of the
 * float32 bytes of 0..5. */
static void check_st_golden(const char *path, const char *want_header, const void *data, size_t data_len) {
  size_t len, n = strlen(want_header);
  unsigned char *file = (unsigned char *)hb_read_file(path, &len);
  unsigned char want_len[8];
  le64_put(want_len, n);
  CHECK(len == 8 + n + data_len && memcmp(file, want_len, 8) == 0 && memcmp(file + 8, want_header, n) == 0 &&
            (data_len == 0 || memcmp(file + 8 + n, data, data_len) == 0),
        "%s differs from the HF serializer's bytes: '%.*s'", path, (int)(len > 8 ? len - 8 : 0), file + 8);
  free(file);
}

static void test_st_matches_hf(void) {
  const float v[6] = {0, 1, 2, 3, 4, 5};
  const HbStTensor attn = {"attn.0", 3, {1, 2, 3}, v};
  hb_st_save(tmp_path("hf.safetensors"), &attn, 1, NULL, NULL, 0);
  check_st_golden(tmp_path("hf.safetensors"),
                  "{\"__metadata__\":{\"crc32.attn.0\":\"91e79017\"},"
                  "\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}     ",
                  v, sizeof v);
  const HbStTensor attn0 = {"attn0", 4, {1, 1, 2, 3}, v};
  hb_st_save(tmp_path("hf.safetensors"), &attn0, 1, NULL, NULL, 0);
  check_st_golden(tmp_path("hf.safetensors"),
                  "{\"__metadata__\":{\"crc32.attn0\":\"91e79017\"},"
                  "\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}     ",
                  v, sizeof v);
  hb_st_save(tmp_path("hf.safetensors"), NULL, 0, NULL, NULL, 0);
  check_st_golden(tmp_path("hf.safetensors"), "{}      ", NULL, 0);
  const char *key = "framework", *value = "pt";
  hb_st_save(tmp_path("hf.safetensors"), NULL, 0, &key, &value, 1);
  check_st_golden(tmp_path("hf.safetensors"), "{\"__metadata__\":{\"framework\":\"pt\"}}     ", NULL, 0);
}

/* A safetensors file whose header is `json` verbatim and whose data block is
 * data_len bytes. */
static void st_write_raw(const char *path, const char *json, size_t data_len) {
  size_t n = strlen(json);
  unsigned char *buf = hb_calloc(8 + n + data_len, 1);
  le64_put(buf, n);
  memcpy(buf + 8, json, n);
  for (size_t i = 0; i < data_len; i++) buf[8 + n + i] = (unsigned char)(i * 37 + 1);
  write_bytes(path, buf, 8 + n + data_len);
  free(buf);
}

#define T8 "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

static const struct {
  const char *json;
  size_t data_len;
  const char *expect; /* in the message, after the file name */
} st_bad_cases[] = {
    {"{\"a\":" T8, 8, "header: bad JSON"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],}}", 8, "expected a member name"},
    {"{\"a\":" T8 ",}", 8, "expected a member name"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,],\"data_offsets\":[0,8]}}", 8, "expected a value"},
    {"{\"a\\q\":" T8 "}", 8, "invalid escape"},
    {"{\"\\ud800\":" T8 "}", 8, "unpaired surrogate"},
    {"{\"\\udc00x\":" T8 "}", 8, "unpaired surrogate"},
    {"{\"\\u12G4\":" T8 "}", 8, "four hex digits"},
    {"{\"\\u0000\":" T8 "}", 8, "\\u0000 is not supported"},
    {"{\"a\tb\":" T8 "}", 8, "control character 0x09"},
    {"{\"a\xff\":" T8 "}", 8, "header: byte 3 is not valid UTF-8"},
    {"{\"a\xc0\xaf\":" T8 "}", 8, "not valid UTF-8"}, /* overlong '/' */
    {"{\"a\":" T8 "} x", 8, "unexpected data after the JSON value"},
    {"{\"a\":" T8 ", \"a\":" T8 "}", 8, "duplicate key \"a\""},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, "bad JSON"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.],\"data_offsets\":[0,4]}}", 4, "digits must follow '.'"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[tru],\"data_offsets\":[0,4]}}", 4, "invalid literal"},
    {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0,
     "nested deeper"},
    {"", 0, "header: must start with '{'"},
    {"  {}", 0, "header: must start with '{'"},
    {"[1, 2]", 0, "header: must start with '{'"},
    {"{\"a\":1}", 0, "tensor a: must be an object"},
    {"{\"a\":{\"dtype\":\"F8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "tensor a: dtype: unknown dtype 'F8'"},
    {"{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor a: dtype: unknown dtype"},
    {"{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor a: dtype: must be a string"},
    {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor a: dtype: missing"},
    {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "tensor a: shape: missing"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "tensor a: data_offsets: missing"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "tensor a: x: unknown field"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", 8, "tensor a: shape: must be an array"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
     "element 0 is -2, not a non-negative"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "element 0 is 2.0, not"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1e1],\"data_offsets\":[0,40]}}", 40, "element 0 is 1e1, not"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[[2]],\"data_offsets\":[0,8]}}", 8, "is an array or object"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, "5 dimensions, at most 4"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8,
     "not a non-negative"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
     "overflows 64 bits"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20,
     "tensor a: data_offsets: [0, 20] spans 20 bytes but shape [2, 3] of F32 needs 24"},
    {"{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "of I64 needs 16"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "must be [begin, end]"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 9, "must be [begin, end]"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "must be [begin, end]"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "[8, 0]: begin after end"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "past the end of the 8-byte data"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
     24, "tensor b: data_offsets: [8, 24] overlaps tensor a [0, 16]"},
    {"{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
     8, "overlaps tensor"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}",
     8, "tensor z: data_offsets: [4, 4] overlaps tensor a"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
     20, "tensor b: data_offsets: [12, 20] leaves data bytes [8, 12) unused"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "leaves data bytes [0, 4) unused"},
    {"{\"a\":" T8 "}", 12, "data: 4 bytes after the last tensor"},
    {"{}", 3, "data: 3 bytes after the last tensor"},
    {"{\"__metadata__\":{\"config\":4}}", 0, "__metadata__: config: value must be a string"},
    {"{\"__metadata__\":[\"config\"]}", 0, "__metadata__: must be an object"},
    {"{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\":{}}", 0, "duplicate key \"__metadata__\""},
    {"{\"a\\nb\":{\"dtype\":\"F8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "tensor a?b: dtype"},
    /* Checksums (st_write_raw's data bytes 0..7 have CRC-32 da32bea8, 8..15 c308d323). */
    {"{\"__metadata__\":{\"crc32.a\":\"da32bea9\"},\"a\":" T8 "}", 8,
     "tensor a: data damaged: its CRC-32 is da32bea8, __metadata__ crc32.a says da32bea9"},
    {"{\"__metadata__\":{\"crc32.b\":\"da32bea8\"},\"a\":" T8 "}", 8,
     "__metadata__: crc32.b: the checksum of a tensor the file does not hold"},
    {"{\"__metadata__\":{\"crc32.a\":\"DA32BEA8\"},\"a\":" T8 "}", 8, "crc32.a: 'DA32BEA8' is not 8 lowercase"},
    {"{\"__metadata__\":{\"crc32.a\":\"da32bea\"},\"a\":" T8 "}", 8, "crc32.a: 'da32bea' is not 8"},
    {"{\"__metadata__\":{\"crc32.a\":\"da32bea80\"},\"a\":" T8 "}", 8, "crc32.a: 'da32bea80' is not 8"},
    {"{\"__metadata__\":{\"crc32.a\":\"da32bea8\"},\"a\":" T8
     ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
     16, "tensor b: no checksum (__metadata__ crc32.b) although the other tensors have one"},
};

static void test_st_bad_files(void) {
  const char *path = tmp_path("bad.safetensors");
  for (size_t i = 0; i < sizeof st_bad_cases / sizeof st_bad_cases[0]; i++) {
    st_write_raw(path, st_bad_cases[i].json, st_bad_cases[i].data_len);
    EXPECT_INPUT_ERROR(st_load_and_free(path), st_bad_cases[i].expect);
    CHECK(strstr(tu_msg, "hybench: ") == tu_msg && strstr(tu_msg, "bad.safetensors: "),
          "case %zu: no file in '%s'", i, tu_msg);
    CHECK(strchr(tu_msg, '\n') == NULL, "case %zu: message is not one line: %s", i, tu_msg);
  }

  /* Damage below the JSON: the 8-byte length itself. */
  write_bytes(path, "", 0);
  EXPECT_INPUT_ERROR(st_load_and_free(path), "bad.safetensors: header length: file is 0 bytes, too short");
  write_bytes(path, "\x02\0\0\0\0\0\0", 7);
  EXPECT_INPUT_ERROR(st_load_and_free(path), "header length: file is 7 bytes");
  unsigned char buf[16] = {0};
  le64_put(buf, 9);
  memcpy(buf + 8, "{}      ", 8);
  write_bytes(path, buf, 16);
  EXPECT_INPUT_ERROR(st_load_and_free(path),
                     "bad.safetensors: header length: 9 bytes, but only 8 bytes follow it");
  le64_put(buf, UINT64_C(1) << 63);
  write_bytes(path, buf, 16);
  EXPECT_INPUT_ERROR(st_load_and_free(path), "header length: 9223372036854775808 bytes, but only 8");
  /* A truncated copy of a good file: the data block ends early. */
  st_write_raw(path, "{\"a\":" T8 "}", 5);
  EXPECT_INPUT_ERROR(st_load_and_free(path), "tensor a: data_offsets: [0, 8] past the end of the 5-byte data");

  EXPECT_INPUT_ERROR(st_load_and_free(tmp_path("does-not-exist.safetensors")),
                     "does-not-exist.safetensors: cannot open");
  EXPECT_INPUT_ERROR(st_load_and_free(tmp_dir), "not a regular file");
}

/* Every tensor's bytes are covered: one flipped bit anywhere in the data is
 * an error naming the tensor; hb_st_try_load reports instead of exiting. */
static void test_st_checksums(void) {
  CHECK(hb_crc32("123456789", 9) == 0xcbf43926u, "CRC-32 check value %08x", hb_crc32("123456789", 9));
  CHECK(hb_crc32(NULL, 0) == 0, "CRC-32 of nothing");
  HbStTensor t[N_ST_TENSORS];
  st_make_tensors(t);
  const char *path = tmp_path("sums.safetensors"), *bad = tmp_path("flipped.safetensors");
  hb_st_save(path, t, N_ST_TENSORS, st_meta_keys, st_meta_values, 3);
  st_free_tensors(t);
  HbSafetensors st;
  char err[1024];
  CHECK(hb_st_try_load(&st, path, err, sizeof err) == 1, "a good file does not load");
  const char *sum = hb_st_meta(&st, "crc32.norm_f.weight");
  CHECK(sum && strlen(sum) == 8, "no checksum of norm_f.weight in the metadata");
  CHECK(st.n_meta == 3 + N_ST_TENSORS, "%d metadata keys, expected 3 + one per tensor", st.n_meta);
  const HbStEntry *e = hb_st_find(&st, "norm_f.weight");
  size_t at = e ? e->begin + 5 : 0, data_start = 0, len;
  hb_st_free(&st);
  unsigned char *file = (unsigned char *)hb_read_file(path, &len);
  for (int i = 7; i >= 0; i--) data_start = data_start << 8 | file[i];
  data_start += 8;
  for (size_t pos = data_start; pos < len; pos++) {
    file[pos] ^= 0x10;
    write_bytes(bad, file, len);
    file[pos] ^= 0x10;
    int loaded = hb_st_try_load(&st, bad, err, sizeof err);
    CHECK(!loaded && strstr(err, "flipped.safetensors: tensor ") && strstr(err, ": data damaged: its CRC-32 is "),
          "a flipped bit at data byte %zu: loaded %d, '%s'", pos - data_start, loaded, err);
    CHECK(st.n_entries == 0 && st.data == NULL, "a failed hb_st_try_load leaves *st empty");
    if (loaded) hb_st_free(&st);
  }
  file[data_start + at] ^= 0x01;
  write_bytes(bad, file, len);
  EXPECT_INPUT_ERROR(st_load_and_free(bad), "flipped.safetensors: tensor norm_f.weight: data damaged");
  write_bytes(bad, file, len - 3);
  CHECK(!hb_st_try_load(&st, bad, err, sizeof err) && strstr(err, "past the end"), "truncated: '%s'", err);
  CHECK(!hb_st_try_load(&st, tmp_path("none.safetensors"), err, sizeof err) &&
            strstr(err, "none.safetensors: cannot open"),
        "missing file: '%s'", err);
  CHECK(!hb_st_try_load(&st, tmp_dir, err, sizeof err) && strstr(err, "not a regular file"), "directory: '%s'", err);
  free(file);
}

/* Valid but unusual headers: escapes, padding, non-F32 dtypes. */
static void test_st_accepts(void) {
  const char *path = tmp_path("odd.safetensors");
  st_write_raw(path,
               "\t{ \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\n\" : {\"shape\":[1],\"data_offsets\":[0,4],"
               "\"dtype\":\"F32\"},\r\n \"__metadata__\": {\"k\": \"line1\\nline2 \\u00E9\\t\\b\\f\\r\"},"
               "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
               "\"bf\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[8,8]},"
               "\"m\":{\"dtype\":\"BOOL\",\"shape\":[1,1,1,1],\"data_offsets\":[8,9]},"
               "\"u\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[9,10]},"
               "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[10,18]}}   ",
               18);
  /* The leading tab is whitespace JSON allows but not where the format wants
   * '{': rewrite the header without it to test the rest. */
  EXPECT_INPUT_ERROR(st_load_and_free(path), "must start with '{'");
  st_write_raw(path,
               "{ \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\n\" : {\"shape\":[1],\"data_offsets\":[0,4],"
               "\"dtype\":\"F32\"},\r\n \"__metadata__\": {\"k\": \"line1\\nline2 \\u00E9\\t\\b\\f\\r\"},"
               "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
               "\"bf\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[8,8]},"
               "\"m\":{\"dtype\":\"BOOL\",\"shape\":[1,1,1,1],\"data_offsets\":[8,9]},"
               "\"u\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[9,10]},"
               "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[10,18]}}   ",
               18);
  HbSafetensors st;
  hb_st_load(&st, path);
  const char *name = "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ / \n";
  CHECK(hb_st_find(&st, name) != NULL, "unicode/escaped name not found");
  const char *k = hb_st_meta(&st, "k");
  CHECK(k && strcmp(k, "line1\nline2 \xc3\xa9\t\b\f\r") == 0, "metadata k = '%s'", k ? k : "(null)");
  int64_t one = 1, two = 2;
  CHECK(hb_st_get_f32(&st, name, 1, &one) == (const float *)(const void *)st.data, "first tensor not at data");
  const HbStEntry *m = hb_st_find(&st, "m");
  CHECK(m && m->ndim == 4 && strcmp(m->dtype, "BOOL") == 0, "BOOL entry");
  const HbStEntry *u = hb_st_find(&st, "u");
  CHECK(u && u->ndim == 0 && u->begin == 9 && u->end == 10, "scalar U8 entry");
  EXPECT_INPUT_ERROR(hb_st_get_f32(&st, "h", 1, &two), "odd.safetensors: tensor h: dtype is F16, expected F32");
  EXPECT_INPUT_ERROR(hb_st_get_f32(&st, "w", 1, &two), "tensor w: data offset 10 is not a multiple of 4");
  hb_st_free(&st);
}

/* ---------- .npy ---------- */

/* An .npy file: magic, version major.0, `header` padded with spaces and '\n'
 * to a multiple of 64 when pad, then data. */
static void npy_write_raw(const char *path, int major, const char *header, int pad, const void *data, size_t n) {
  size_t prefix = major == 1 ? 10 : 12, hlen = strlen(header);
  size_t total_h = pad ? ((prefix + hlen + 1 + 63) / 64 * 64) - prefix : hlen;
  unsigned char *buf = hb_calloc(prefix + total_h + n, 1);
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  if (major == 1) buf[8] = (unsigned char)(total_h & 0xff), buf[9] = (unsigned char)(total_h >> 8);
  else le32_put(buf + 8, (uint32_t)total_h);
  memcpy(buf + prefix, header, hlen);
  if (pad) {
    memset(buf + prefix + hlen, ' ', total_h - hlen - 1);
    buf[prefix + total_h - 1] = '\n';
  }
  if (n) memcpy(buf + prefix + total_h, data, n);
  write_bytes(path, buf, prefix + total_h + n);
  free(buf);
}

static void test_npy_read(void) {
  const char *path = tmp_path("tok.npy");
  int64_t rows, cols;
  const int64_t v8[6] = {-5, 0, 7, INT64_MAX, INT64_MIN, 1234567890123};
  npy_write_raw(path, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", 1, v8, sizeof v8);
  int64_t *x = hb_npy_read_int2d(path, &rows, &cols);
  CHECK(rows == 2 && cols == 3 && memcmp(x, v8, sizeof v8) == 0, "<i8 v1.0: (%lld, %lld)", (long long)rows,
        (long long)cols);
  free(x);

  const int32_t v4[6] = {-1, 2, INT32_MIN, INT32_MAX, 0, 255};
  npy_write_raw(path, 2, "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }", 1, v4, sizeof v4);
  x = hb_npy_read_int2d(path, &rows, &cols);
  int ok = rows == 3 && cols == 2;
  for (int i = 0; ok && i < 6; i++) ok = x[i] == v4[i];
  CHECK(ok, "<i4 v2.0 values differ");
  free(x);

  const uint16_t v2[4] = {0, 1, 40000, 65535};
  npy_write_raw(path, 3, "{\"descr\": \"<u2\", \"shape\": (1, 4), \"fortran_order\": False}", 0, v2, sizeof v2);
  x = hb_npy_read_int2d(path, &rows, &cols);
  CHECK(rows == 1 && cols == 4 && x[2] == 40000 && x[3] == 65535, "<u2 v3.0 unpadded: %lld", (long long)x[3]);
  free(x);

  const uint8_t v1[4] = {0, 200, 255, 7};
  npy_write_raw(path, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2)}", 1, v1, sizeof v1);
  x = hb_npy_read_int2d(path, &rows, &cols);
  CHECK(rows == 2 && cols == 2 && x[1] == 200 && x[2] == 255, "|u1: %lld", (long long)x[1]);
  free(x);

  npy_write_raw(path, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 5), }", 1, NULL, 0);
  x = hb_npy_read_int2d(path, &rows, &cols);
  CHECK(rows == 0 && cols == 5, "empty (0, 5)");
  free(x);
}

static const struct {
  int major;
  const char *header;
  size_t data_len;
  const char *expect;
} npy_bad_cases[] = {
    {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24,
     "tok.npy: descr: '<f4' is not an integer"},
    {1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3), }", 24, "tok.npy: descr: '>i4'"},
    {1, "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2, 3), }", 24,
     "tok.npy: descr: expected a quoted"},
    {1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", 24, "tok.npy: fortran_order: True"},
    {1, "{'descr': '<i4', 'fortran_order': Maybe, 'shape': (2, 3), }", 24,
     "tok.npy: fortran_order: expected True"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", 24,
     "tok.npy: shape: 1 dimensions, expected 2"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2, 3), }", 24, "tok.npy: shape: 3 dimensions"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }", 4, "tok.npy: shape: 0 dimensions"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2 3), }", 24, "tok.npy: shape: expected ','"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (-2, 3), }", 24, "tok.npy: shape: expected a non-neg"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999, 3), }", 24,
     "shape: dimension overflows"},
    {1, "{'descr': '<i8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 24,
     "shape: (4611686018427387904, 4) is too large"},
    {1, "{'descr': '<i4', 'fortran_order': False}", 24, "tok.npy: shape: missing"},
    {1, "{'fortran_order': False, 'shape': (2, 3)}", 24, "tok.npy: descr: missing"},
    {1, "{'descr': '<i4', 'shape': (2, 3)}", 24, "tok.npy: fortran_order: missing"},
    {1, "{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (2, 3)}", 24, "descr: given twice"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", 24,
     "header: unknown key 'extra'"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3)} junk", 24, "header: unexpected text after"},
    {1, "'descr': '<i4'", 24, "header: expected '{'"},
    {1, "{'descr': '<i4' 'fortran_order': False}", 24, "header: expected ',' or '}'"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 20,
     "tok.npy: data: truncated: shape (2, 3) of <i4 needs 24 bytes, file has 20"},
    {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 28, "tok.npy: data: 4 trailing bytes"},
};

static void test_npy_bad_files(void) {
  const char *path = tmp_path("tok.npy");
  unsigned char data[32] = {0};
  for (size_t i = 0; i < sizeof npy_bad_cases / sizeof npy_bad_cases[0]; i++) {
    npy_write_raw(path, npy_bad_cases[i].major, npy_bad_cases[i].header, 1, data, npy_bad_cases[i].data_len);
    EXPECT_INPUT_ERROR(npy_read_and_free(path), npy_bad_cases[i].expect);
  }
  unsigned char raw[80];
  memcpy(raw, "\x93NUMPX\x01\x00\x10\x00", 10);
  write_bytes(path, raw, 10);
  EXPECT_INPUT_ERROR(npy_read_and_free(path), "tok.npy: magic");
  write_bytes(path, "\x93NUMP", 5);
  EXPECT_INPUT_ERROR(npy_read_and_free(path), "tok.npy: magic");
  memcpy(raw, "\x93NUMPY\x04\x00\x10\x00", 10);
  write_bytes(path, raw, 10);
  EXPECT_INPUT_ERROR(npy_read_and_free(path), "tok.npy: version: 4.0, expected 1.0, 2.0 or 3.0");
  memcpy(raw, "\x93NUMPY\x01\x01\x10\x00", 10);
  write_bytes(path, raw, 10);
  EXPECT_INPUT_ERROR(npy_read_and_free(path), "tok.npy: version: 1.1");
  memcpy(raw, "\x93NUMPY\x01\x00\x40\x00{}", 12);
  write_bytes(path, raw, 12);
  EXPECT_INPUT_ERROR(npy_read_and_free(path), "tok.npy: header length: 64 bytes, but only 2 follow");
  memcpy(raw, "\x93NUMPY\x02\x00\x40\x00", 10);
  write_bytes(path, raw, 10);
  EXPECT_INPUT_ERROR(npy_read_and_free(path), "tok.npy: header length: file ends inside");
  EXPECT_INPUT_ERROR(npy_read_and_free(tmp_path("missing.npy")), "missing.npy: cannot open");
}

static void test_npy_write(void) {
  const char *path = tmp_path("logits.npy");
  float v[6] = {0.5f, -1.0f, 3.25f, 0.0f, -0.0f, 1e30f};
  const int64_t shapes[3][2] = {{2, 3}, {6}, {0}};
  const int ndims[3] = {2, 1, 0};
  const char *texts[3] = {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                          "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
                          "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"};
  for (int c = 0; c < 3; c++) {
    hb_npy_write_f32(path, v, ndims[c], shapes[c]);
    size_t len;
    unsigned char *f = (unsigned char *)hb_read_file(path, &len);
    size_t hlen = (size_t)f[8] | (size_t)f[9] << 8, n = strlen(texts[c]), count = c == 0 || c == 1 ? 6 : 1;
    CHECK(memcmp(f, "\x93NUMPY\x01\x00", 8) == 0, "case %d: magic/version", c);
    CHECK((10 + hlen) % 64 == 0, "case %d: data starts at %zu, not a multiple of 64", c, 10 + hlen);
    CHECK(hlen >= n + 1 && memcmp(f + 10, texts[c], n) == 0, "case %d: header '%.*s'", c, (int)n, f + 10);
    CHECK(f[10 + hlen - 1] == '\n' && f[10 + hlen - 2] == ' ', "case %d: header padding", c);
    CHECK(len == 10 + hlen + 4 * count && memcmp(f + 10 + hlen, v, 4 * count) == 0, "case %d: data", c);
    free(f);
  }
  /* int32 batches round-trip through the reader. */
  const int32_t ids[6] = {1, -2, 3, 2147483647, 0, 9};
  const int64_t shape[2] = {3, 2};
  hb_npy_write_i32(path, ids, 2, shape);
  int64_t rows, cols;
  int64_t *x = hb_npy_read_int2d(path, &rows, &cols);
  int ok = rows == 3 && cols == 2;
  for (int i = 0; ok && i < 6; i++) ok = x[i] == ids[i];
  CHECK(ok, "int32 round trip");
  free(x);
  CHECK(count_tmp_files() == 0, "temporary files left behind");
}

/* ---------- token files ---------- */

static void test_tokens_roundtrip(void) {
  const uint32_t vocabs[3] = {256, 65536, 70000};
  const size_t bytes_per_token[3] = {2, 2, 4};
  enum { N = 10000 };
  uint32_t *ids = hb_malloc(N * sizeof *ids);
  for (int c = 0; c < 3; c++) {
    for (int i = 0; i < N; i++) ids[i] = (uint32_t)((uint64_t)i * 7919 % vocabs[c]);
    ids[N - 1] = vocabs[c] - 1;
    const char *path = tmp_path("rt.tok");
    hb_tokens_write(path, ids, N, vocabs[c]);
    size_t len;
    unsigned char *f = (unsigned char *)hb_read_file(path, &len);
    CHECK(len == 32 + N * bytes_per_token[c], "vocab %u: %zu bytes", vocabs[c], len);
    CHECK(memcmp(f, "HBTOKENS\x01\0\0\0", 12) == 0 && f[12] == bytes_per_token[c], "vocab %u: header", vocabs[c]);
    free(f);
    HbTokens t;
    hb_tokens_read(&t, path, vocabs[c]);
    CHECK(t.count == N && t.vocab == vocabs[c], "count %llu vocab %u", (unsigned long long)t.count, t.vocab);
    CHECK(t.count == N && memcmp(t.ids, ids, N * sizeof *ids) == 0, "vocab %u: ids differ", vocabs[c]);
    hb_tokens_free(&t);
  }
  hb_tokens_write(tmp_path("empty.tok"), NULL, 0, 5);
  HbTokens t;
  hb_tokens_read(&t, tmp_path("empty.tok"), 0);
  CHECK(t.count == 0 && t.vocab == 5, "empty token file");
  hb_tokens_free(&t);
  CHECK(count_tmp_files() == 0, "temporary files left behind");
  free(ids);
}

/* Writes a copy of the 32-byte header h plus `n` ids of 2 bytes, patched. */
static void tok_write_patched(const char *path, const unsigned char *good, size_t len, size_t at, uint32_t value,
                              int width) {
  unsigned char *f = hb_malloc(len);
  memcpy(f, good, len);
  if (width == 4) le32_put(f + at, value);
  else if (width == 2) f[at] = (unsigned char)value, f[at + 1] = (unsigned char)(value >> 8);
  write_bytes(path, f, len);
  free(f);
}

static void test_tokens_bad_files(void) {
  uint32_t ids[40];
  for (int i = 0; i < 40; i++) ids[i] = (uint32_t)(i * 6);
  const char *good_path = tmp_path("good.tok"), *path = tmp_path("bad.tok");
  hb_tokens_write(good_path, ids, 40, 256);
  size_t len;
  unsigned char *good = (unsigned char *)hb_read_file(good_path, &len);

  write_bytes(path, good, len - 1);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: count: truncated: header says 40 tokens");
  write_bytes(path, good, 20);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: header: truncated: 20 bytes");
  unsigned char *longer = hb_calloc(len + 2, 1);
  memcpy(longer, good, len);
  write_bytes(path, longer, len + 2);
  free(longer);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: count: 2 trailing bytes after 40 tokens");
  tok_write_patched(path, good, len, 0, 0x544b4248, 4); /* "HBKT" */
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: magic");
  tok_write_patched(path, good, len, 8, 2, 4);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: version: 2, expected 1");
  tok_write_patched(path, good, len, 12, 3, 4);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: bytes per token: 3");
  tok_write_patched(path, good, len, 16, 0, 4);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: vocab: 0");
  tok_write_patched(path, good, len, 20, 1, 4);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: reserved: 1");
  tok_write_patched(path, good, len, 24, 41, 4);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "count: truncated: header says 41 tokens");
  tok_write_patched(path, good, len, 16, 100, 4); /* ids 0, 6, .., 234: id 17 is 102 */
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: token 17: id 102 >= vocab 100");
  tok_write_patched(path, good, len, 32 + 2 * 39, 256, 2);
  EXPECT_INPUT_ERROR(tokens_read_and_free(path, 0), "bad.tok: token 39: id 256 >= vocab 256");
  EXPECT_INPUT_ERROR(tokens_read_and_free(good_path, 128),
                     "good.tok: vocab: 256 is larger than the model's vocab 128");
  EXPECT_INPUT_ERROR(tokens_read_and_free(tmp_path("missing.tok"), 0), "missing.tok: cannot open");
  EXPECT_INPUT_ERROR(tokens_read_and_free(tmp_dir, 0), "file: not a regular file");
  tokens_read_and_free(good_path, 256);
  free(good);
}

/* ---------- cross-checks against Python ---------- */

static int run_python(const char *script_name, const char *script, const char *args) {
  const char *script_path = tmp_path(script_name);
  write_bytes(script_path, script, strlen(script));
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s %s %s", PYTHON, script_path, args);
  return system(cmd);
}

/* NumPy loads our float32 .npy with the right dtype, shape and values. */
static const char py_check_npy[] = "import sys, numpy as np\n"
                                   "a = np.load(sys.argv[1])\n"
                                   "want = (np.arange(24, dtype=np.float32) * 0.25 - 3).reshape(2, 3, 4)\n"
                                   "assert a.dtype == np.float32 and a.shape == (2, 3, 4), (a.dtype, a.shape)\n"
                                   "assert np.array_equal(a, want), a\n";

/* NumPy writes int64 / int32 / uint16 arrays (versions 1.0-3.0) we must read,
 * and a Fortran-ordered one we must reject. */
static const char py_write_npy[] =
    "import sys, numpy as np\n"
    "d = sys.argv[1]\n"
    "np.save(d + '/np_i8.npy', np.arange(15, dtype=np.int64).reshape(3, 5) * 1000003 - 7 * 10**12)\n"
    "np.save(d + '/np_i4.npy', np.arange(8, dtype=np.int32).reshape(4, 2) * -3 + 5)\n"
    "np.save(d + '/np_u2.npy', (np.arange(6, dtype=np.uint16) * 10000).reshape(2, 3))\n"
    "np.save(d + '/np_fortran.npy', np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)))\n"
    "np.save(d + '/np_f4.npy', np.zeros((2, 3), dtype=np.float32))\n"
    "for v in [(2, 0), (3, 0)]:\n"
    "    with open(d + '/np_v%d.npy' % v[0], 'wb') as f:\n"
    "        np.lib.format.write_array(f, np.arange(6, dtype=np.int64).reshape(2, 3) - 3, version=v)\n";

/* Python's json+struct parse our safetensors file: the header length is a
 * multiple of 8, tensors appear in the data block in the order given with the
 * values of st_value(), and the config metadata survives (written back raw for
 * the C side to compare). */
static const char py_check_st[] =
    "import json, struct, sys, zlib\n"
    "b = open(sys.argv[1], 'rb').read()\n"
    "n, = struct.unpack('<Q', b[:8])\n"
    "assert n % 8 == 0, n\n"
    "h = json.loads(b[8:8 + n].decode('utf-8'))\n"
    "data = b[8 + n:]\n"
    "meta = h.pop('__metadata__')\n"
    "assert meta['format'] == 'hybench-1', meta\n"
    "open(sys.argv[2], 'wb').write(meta['config'].encode('utf-8'))\n"
    "want = ['tok_emb.weight', 'norm_f.weight', 'layers.0.mamba2.conv1d.weight', 'empty', 'scalar']\n"
    "assert list(h) == want, list(h)\n"
    "pos = 0\n"
    "for k, name in enumerate(want):\n"
    "    t = h[name]\n"
    "    assert t['dtype'] == 'F32', t\n"
    "    numel = 1\n"
    "    for s in t['shape']: numel *= s\n"
    "    b0, e0 = t['data_offsets']\n"
    "    assert b0 == pos and e0 - b0 == 4 * numel, (name, t)\n"
    "    vals = struct.unpack('<%df' % numel, data[b0:e0])\n"
    "    assert list(vals) == [(k + 1) * 0.5 + i * 0.25 - 3.0 for i in range(numel)], (name, vals)\n"
    "    assert meta['crc32.' + name] == '%08x' % zlib.crc32(data[b0:e0]), (name, meta)\n"
    "    pos = e0\n"
    "assert pos == len(data), (pos, len(data))\n";

static void check_npy_file(const char *name, int64_t want_rows, int64_t want_cols, int64_t (*value)(int64_t)) {
  int64_t rows, cols;
  int64_t *x = hb_npy_read_int2d(tmp_path(name), &rows, &cols);
  int ok = rows == want_rows && cols == want_cols;
  for (int64_t i = 0; ok && i < rows * cols; i++) ok = x[i] == value(i);
  CHECK(ok, "%s: numpy-written values differ (shape %lld x %lld)", name, (long long)rows, (long long)cols);
  free(x);
}

static int64_t np_i8_value(int64_t i) { return i * 1000003 - INT64_C(7000000000000); }
static int64_t np_i4_value(int64_t i) { return i * -3 + 5; }
static int64_t np_u2_value(int64_t i) { return i * 10000; }
static int64_t np_v_value(int64_t i) { return i - 3; }

static void test_python_crosscheck(void) {
  if (system(PYTHON " -c 'import numpy' 2>/dev/null") != 0) {
    printf("SKIPPED python cross-checks: %s has no numpy\n", PYTHON);
    return;
  }
  float v[24];
  for (int i = 0; i < 24; i++) v[i] = (float)i * 0.25f - 3.0f;
  const int64_t shape[3] = {2, 3, 4};
  hb_npy_write_f32(tmp_path("c_f4.npy"), v, 3, shape);
  CHECK(run_python("check_npy.py", py_check_npy, tmp_path("c_f4.npy")) == 0, "numpy rejected our float32 .npy");

  CHECK(run_python("write_npy.py", py_write_npy, tmp_dir) == 0, "numpy could not write its test arrays");
  check_npy_file("np_i8.npy", 3, 5, np_i8_value);
  check_npy_file("np_i4.npy", 4, 2, np_i4_value);
  check_npy_file("np_u2.npy", 2, 3, np_u2_value);
  check_npy_file("np_v2.npy", 2, 3, np_v_value);
  check_npy_file("np_v3.npy", 2, 3, np_v_value);
  EXPECT_INPUT_ERROR(npy_read_and_free(tmp_path("np_fortran.npy")), "np_fortran.npy: fortran_order: True");
  EXPECT_INPUT_ERROR(npy_read_and_free(tmp_path("np_f4.npy")), "np_f4.npy: descr: '<f4'");

  HbStTensor t[N_ST_TENSORS];
  st_make_tensors(t);
  hb_st_save(tmp_path("py.safetensors"), t, N_ST_TENSORS, st_meta_keys, st_meta_values, 3);
  st_free_tensors(t);
  char args[1100];
  snprintf(args, sizeof args, "%s %s", tmp_path("py.safetensors"), tmp_path("py_config.txt"));
  int py_ok = run_python("check_st.py", py_check_st, args) == 0;
  CHECK(py_ok, "python json+struct rejected our safetensors");
  if (!py_ok) return;
  size_t len;
  char *config = hb_read_file(tmp_path("py_config.txt"), &len);
  CHECK(strcmp(config, st_meta_values[0]) == 0, "config metadata after Python: '%s'", config);
  free(config);
}

int main(void) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/hb_test_tensorio.XXXXXX");
  if (!mkdtemp(tmp_dir)) HB_FATAL("mkdtemp failed");
  test_st_roundtrip();
  test_st_matches_hf();
  test_st_bad_files();
  test_st_checksums();
  test_st_accepts();
  test_npy_read();
  test_npy_bad_files();
  test_npy_write();
  test_tokens_roundtrip();
  test_tokens_bad_files();
  test_python_crosscheck();
  remove_tmp_dir();
  TEST_MAIN_END();
}
