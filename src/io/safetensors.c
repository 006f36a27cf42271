/* safetensors checkpoints (DESIGN.md section 3): full validation on load (the
 * header is parsed by the JSON reader, src/io/json.h), and an atomic writer whose
 * files PyTorch/HF tools read.
 *
 * File layout: u64 little-endian header length N | N bytes of UTF-8 JSON,
 * padded with spaces | data block. The format (huggingface/safetensors README)
 * also requires the data block to be covered exactly by the tensors, with no
 * holes and nothing after the last tensor, so a file cannot smuggle extra
 * bytes; the HF reader rejects such files and so do we.
 *
 * Every error path frees what it allocated before calling hb_input_error():
 * the unit tests longjmp out of it and run under LeakSanitizer. */
#include "hybench/tensorio.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hybench/common.h"
#include "json.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensor data is little-endian on disk and used in place: a big-endian host needs byte swapping"
#endif

/* ---------- small helpers ---------- */

static uint64_t le64_read(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void le64_write(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Length of the longest valid UTF-8 prefix of s (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF); n when all of s is valid. The HF
 * reader requires a valid UTF-8 header, so the writer must produce one. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], cp, min;
    size_t k;
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0) k = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) k = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) k = 3, cp = c & 0x07, min = 0x10000;
    else return i;
    if (n - i <= k) return i;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return i;
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += k + 1;
  }
  return n;
}

static int utf8_is_valid(const char *s) {
  size_t n = strlen(s);
  return utf8_valid_prefix((const unsigned char *)s, n) == n;
}

/* Error messages must stay one line even when a tensor name or dtype read
 * from the file contains control characters. */
static void line_sanitize(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

static void shape_format(char *dst, size_t cap, int ndim, const int64_t *shape) {
  size_t n = (size_t)snprintf(dst, cap, "[");
  for (int i = 0; i < ndim && n < cap; i++)
    n += (size_t)snprintf(dst + n, cap - n, i ? ", %" PRId64 : "%" PRId64, shape[i]);
  if (n < cap) snprintf(dst + n, cap - n, "]");
}

/* ---------- checksums ---------- */

/* CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial and
 * final value 0xFFFFFFFF), so the Python bridge gets the same sums from
 * zlib.crc32. The table is rebuilt per call (2,048 steps, nothing next to a
 * tensor's bytes) to keep the function free of shared state. */
uint32_t hb_crc32(const void *data, size_t n) {
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  const unsigned char *p = data;
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

/* A checksum value: exactly 8 lowercase hex digits, as the writers print it. */
static int checksum_parse(const char *text, uint32_t *sum) {
  uint32_t v = 0;
  int i = 0;
  for (; text[i] && i < 9; i++) {
    char c = text[i];
    if (c >= '0' && c <= '9') v = v << 4 | (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v = v << 4 | (uint32_t)(c - 'a' + 10);
    else return 0;
  }
  *sum = v;
  return i == 8 && text[8] == '\0';
}

/* ---------- loading ---------- */

static const struct {
  const char *name;
  size_t size;
} st_dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
};

/* Bytes per element, 0 for a dtype we do not know. */
static size_t st_dtype_size(const char *dtype) {
  for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
    if (strcmp(st_dtypes[i].name, dtype) == 0) return st_dtypes[i].size;
  return 0;
}

/* Everything hb_st_load owns while it works; st_fail releases all of it. */
typedef struct {
  const char *path;
  char *file; /* (file_len) the whole file; becomes st->data on success */
  size_t file_len;
  size_t data_len; /* bytes after the header */
  JsonArena arena;
  HbSafetensors *st;
  jmp_buf *on_error; /* hb_st_try_load: st_fail jumps here with the message in err */
  char *err;
  size_t err_cap;
} StLoad;

static HB_NORETURN void st_fail(StLoad *ld, const char *tensor, const char *field, const char *fmt, ...)
    HB_PRINTF(4, 5);
static void st_fail(StLoad *ld, const char *tensor, const char *field, const char *fmt, ...) {
  char where[512], msg[512];
  int n = snprintf(where, sizeof where, "%s", ld->path);
  if (tensor && n >= 0 && (size_t)n < sizeof where)
    n += snprintf(where + n, sizeof where - (size_t)n, ": tensor %s", tensor);
  if (field && n >= 0 && (size_t)n < sizeof where) snprintf(where + n, sizeof where - (size_t)n, ": %s", field);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  line_sanitize(where);
  line_sanitize(msg);
  /* where and msg may point into the arena or the file: formatted first. */
  json_arena_free(&ld->arena);
  free(ld->file);
  ld->file = NULL;
  hb_st_free(ld->st);
  if (ld->on_error) {
    snprintf(ld->err, ld->err_cap, "%s: %s", where, msg);
    longjmp(*ld->on_error, 1);
  }
  hb_input_error(where, "%s", msg);
}

/* shape: up to HB_MAX_DIMS non-negative integers; returns the element count,
 * or fails on overflow of `elem_size * count` bytes. */
static uint64_t st_read_shape(StLoad *ld, const char *name, const JsonValue *shape, size_t elem_size, int *ndim,
                              int64_t *dims) {
  if (!shape) st_fail(ld, name, "shape", "missing");
  if (shape->kind != JSON_ARRAY) st_fail(ld, name, "shape", "must be an array of integers");
  if (shape->count > HB_MAX_DIMS)
    st_fail(ld, name, "shape", "%d dimensions, at most %d are supported", shape->count, HB_MAX_DIMS);
  uint64_t numel = 1, max_numel = UINT64_MAX / elem_size;
  int i = 0;
  for (const JsonValue *d = shape->first; d; d = d->next, i++) {
    uint64_t x;
    if (!json_to_u64(d, &x) || x > INT64_MAX)
      st_fail(ld, name, "shape", "element %d is %s, not a non-negative integer", i,
              d->text ? d->text : "an array or object");
    if (x != 0 && numel > max_numel / x) st_fail(ld, name, "shape", "the size in bytes overflows 64 bits");
    numel *= x;
    dims[i] = (int64_t)x;
  }
  *ndim = shape->count;
  return numel;
}

/* data_offsets: [begin, end] within the data block, end - begin == bytes. */
static void st_read_offsets(StLoad *ld, const char *name, const JsonValue *offs, uint64_t bytes,
                            const char *shape_text, const char *dtype, HbStEntry *e) {
  uint64_t begin, end;
  if (!offs) st_fail(ld, name, "data_offsets", "missing");
  if (offs->kind != JSON_ARRAY || offs->count != 2 || !json_to_u64(offs->first, &begin) ||
      !json_to_u64(offs->first->next, &end))
    st_fail(ld, name, "data_offsets", "must be [begin, end], two non-negative integers");
  if (begin > end) st_fail(ld, name, "data_offsets", "[%" PRIu64 ", %" PRIu64 "]: begin after end", begin, end);
  if (end > ld->data_len)
    st_fail(ld, name, "data_offsets", "[%" PRIu64 ", %" PRIu64 "] past the end of the %zu-byte data block", begin,
            end, ld->data_len);
  if (end - begin != bytes)
    st_fail(ld, name, "data_offsets",
            "[%" PRIu64 ", %" PRIu64 "] spans %" PRIu64 " bytes but shape %s of %s needs %" PRIu64, begin, end,
            end - begin, shape_text, dtype, bytes);
  e->begin = (size_t)begin;
  e->end = (size_t)end;
}

/* One header member {"dtype", "shape", "data_offsets"} into *e. */
static void st_read_entry(StLoad *ld, const JsonValue *v, HbStEntry *e) {
  const char *name = v->key;
  if (v->kind != JSON_OBJECT) st_fail(ld, name, NULL, "must be an object with dtype, shape and data_offsets");
  for (const JsonValue *m = v->first; m; m = m->next)
    if (strcmp(m->key, "dtype") && strcmp(m->key, "shape") && strcmp(m->key, "data_offsets"))
      st_fail(ld, name, m->key, "unknown field (expected dtype, shape, data_offsets)");
  const JsonValue *dtype = json_member(v, "dtype");
  if (!dtype) st_fail(ld, name, "dtype", "missing");
  if (dtype->kind != JSON_STRING) st_fail(ld, name, "dtype", "must be a string");
  size_t elem_size = st_dtype_size(dtype->text);
  if (!elem_size)
    st_fail(ld, name, "dtype", "unknown dtype '%s' (known: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)", dtype->text);

  HbStEntry tmp = {0};
  uint64_t numel = st_read_shape(ld, name, json_member(v, "shape"), elem_size, &tmp.ndim, tmp.shape);
  char shape_text[160];
  shape_format(shape_text, sizeof shape_text, tmp.ndim, tmp.shape);
  st_read_offsets(ld, name, json_member(v, "data_offsets"), numel * elem_size, shape_text, dtype->text, &tmp);
  snprintf(tmp.dtype, sizeof tmp.dtype, "%s", dtype->text);
  tmp.name = hb_strdup(name);
  *e = tmp;
}

/* __metadata__: an object whose values are all strings (HF: map<str, str>). */
static void st_read_meta(StLoad *ld, const JsonValue *meta) {
  HbSafetensors *st = ld->st;
  if (meta->kind != JSON_OBJECT) st_fail(ld, NULL, "__metadata__", "must be an object of strings");
  st->meta_keys = hb_calloc((size_t)meta->count, sizeof *st->meta_keys);
  st->meta_values = hb_calloc((size_t)meta->count, sizeof *st->meta_values);
  for (const JsonValue *m = meta->first; m; m = m->next) {
    if (m->kind != JSON_STRING) {
      char field[256];
      snprintf(field, sizeof field, "__metadata__: %s", m->key);
      st_fail(ld, NULL, field, "value must be a string");
    }
    st->meta_keys[st->n_meta] = hb_strdup(m->key);
    st->meta_values[st->n_meta] = hb_strdup(m->text);
    st->n_meta++;
  }
}

static void st_read_header(StLoad *ld, const JsonValue *root) {
  HbSafetensors *st = ld->st;
  if (root->kind != JSON_OBJECT) st_fail(ld, NULL, "header", "must be a JSON object");
  st->entries = hb_calloc((size_t)root->count, sizeof *st->entries);
  for (const JsonValue *m = root->first; m; m = m->next) {
    if (strcmp(m->key, "__metadata__") == 0) {
      st_read_meta(ld, m);
    } else {
      st_read_entry(ld, m, &st->entries[st->n_entries]);
      st->n_entries++;
    }
  }
}

typedef struct {
  size_t begin, end;
  int index;
} StSpan;

static int st_span_cmp(const void *a, const void *b) {
  const StSpan *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return x->index - y->index;
}

/* The tensors must tile the data block: sorted by offset, each one starts
 * where the previous ended, and the last ends at the end of the block. */
static void st_check_layout(StLoad *ld) {
  HbSafetensors *st = ld->st;
  int n = st->n_entries;
  StSpan *spans = json_arena_alloc(&ld->arena, (size_t)n * sizeof *spans + 1);
  for (int i = 0; i < n; i++) spans[i] = (StSpan){st->entries[i].begin, st->entries[i].end, i};
  qsort(spans, (size_t)n, sizeof *spans, st_span_cmp);
  size_t pos = 0;
  int prev = -1;
  for (int i = 0; i < n; i++) {
    const HbStEntry *e = &st->entries[spans[i].index];
    if (e->begin < pos) {
      const HbStEntry *p = &st->entries[prev];
      st_fail(ld, e->name, "data_offsets", "[%zu, %zu] overlaps tensor %s [%zu, %zu]", e->begin, e->end, p->name,
              p->begin, p->end);
    }
    if (e->begin > pos)
      st_fail(ld, e->name, "data_offsets",
              "[%zu, %zu] leaves data bytes [%zu, %zu) unused (holes are not allowed)", e->begin, e->end, pos,
              e->begin);
    pos = e->end;
    prev = spans[i].index;
  }
  if (pos != ld->data_len)
    st_fail(ld, NULL, "data", "%zu bytes after the last tensor (the tensors cover %zu of %zu bytes)",
            ld->data_len - pos, pos, ld->data_len);
}

static int st_entry_index(const HbSafetensors *st, const char *name) {
  for (int i = 0; i < st->n_entries; i++)
    if (strcmp(st->entries[i].name, name) == 0) return i;
  return -1;
}

/* Each "crc32.NAME" of __metadata__ must name a tensor and match its bytes in
 * data (the data block). Files written before checksums existed have none
 * and load unchecked; a file with any must have one for every tensor, so a
 * damaged key cannot switch the check off for one tensor. */
static void st_verify_checksums(StLoad *ld, const unsigned char *data) {
  HbSafetensors *st = ld->st;
  const size_t prefix_len = strlen(HB_ST_CHECKSUM_PREFIX);
  char *has_sum = json_arena_alloc(&ld->arena, (size_t)st->n_entries + 1);
  memset(has_sum, 0, (size_t)st->n_entries + 1);
  int n_sums = 0;
  for (int i = 0; i < st->n_meta; i++) {
    const char *key = st->meta_keys[i], *value = st->meta_values[i];
    if (strncmp(key, HB_ST_CHECKSUM_PREFIX, prefix_len) != 0) continue;
    char field[300];
    snprintf(field, sizeof field, "__metadata__: %s", key);
    int k = st_entry_index(st, key + prefix_len);
    if (k < 0) st_fail(ld, NULL, field, "the checksum of a tensor the file does not hold");
    uint32_t want;
    if (!checksum_parse(value, &want)) st_fail(ld, NULL, field, "'%s' is not 8 lowercase hex digits", value);
    const HbStEntry *e = &st->entries[k];
    uint32_t got = hb_crc32(data + e->begin, e->end - e->begin);
    if (got != want)
      st_fail(ld, e->name, NULL, "data damaged: its CRC-32 is %08" PRIx32 ", __metadata__ %s says %08" PRIx32, got,
              key, want);
    has_sum[k] = 1;
    n_sums++;
  }
  for (int k = 0; n_sums > 0 && k < st->n_entries; k++)
    if (!has_sum[k])
      st_fail(ld, st->entries[k].name, NULL, "no checksum (__metadata__ %s%s) although the other tensors have one",
              HB_ST_CHECKSUM_PREFIX, st->entries[k].name);
}

/* A directory or device would otherwise reach hb_read_file and fail oddly;
 * checked here so that hb_st_try_load reports a missing file too. */
static void st_require_regular_file(StLoad *ld) {
  struct stat sb;
  if (stat(ld->path, &sb) != 0) st_fail(ld, NULL, NULL, "cannot open: %s", strerror(errno));
  if (!S_ISREG(sb.st_mode)) st_fail(ld, NULL, NULL, "not a regular file");
}

/* hb_st_load; with on_error set, a bad file longjmps there (err holds the
 * message) instead of exiting. */
static void st_load(HbSafetensors *st, const char *path, jmp_buf *on_error, char *err, size_t err_cap) {
  memset(st, 0, sizeof *st);
  StLoad ld = {.path = path, .st = st, .on_error = on_error, .err = err, .err_cap = err_cap};
  st_require_regular_file(&ld);
  ld.file = hb_read_file(path, &ld.file_len);
  if (ld.file_len < 8)
    st_fail(&ld, NULL, "header length", "file is %zu bytes, too short for the 8-byte header length", ld.file_len);
  uint64_t header_len = le64_read((const unsigned char *)ld.file);
  if (header_len > ld.file_len - 8)
    st_fail(&ld, NULL, "header length", "%" PRIu64 " bytes, but only %zu bytes follow it", header_len,
            ld.file_len - 8);
  const char *header = ld.file + 8;
  size_t n = (size_t)header_len;
  ld.data_len = ld.file_len - 8 - n;
  size_t valid = utf8_valid_prefix((const unsigned char *)header, n);
  if (valid != n) st_fail(&ld, NULL, "header", "byte %zu is not valid UTF-8", valid);
  if (n == 0 || header[0] != '{') st_fail(&ld, NULL, "header", "must start with '{'");

  JsonParser parser = {.s = header, .len = n, .arena = &ld.arena};
  JsonValue *root = json_parse(&parser);
  if (!root) st_fail(&ld, NULL, "header", "bad JSON at %s", parser.err);
  st->path = hb_strdup(path);
  st_read_header(&ld, root);
  st_check_layout(&ld);
  st_verify_checksums(&ld, (const unsigned char *)header + n);
  json_arena_free(&ld.arena);

  /* The data block moves to the start of the allocation, so it is
   * malloc-aligned and tensor pointers are aligned whenever offsets are. */
  memmove(ld.file, ld.file + 8 + n, ld.data_len);
  st->data = (unsigned char *)ld.file;
  st->data_len = ld.data_len;
}

void hb_st_load(HbSafetensors *st, const char *path) { st_load(st, path, NULL, NULL, 0); }

int hb_st_try_load(HbSafetensors *st, const char *path, char *err, size_t err_cap) {
  jmp_buf on_error;
  if (setjmp(on_error)) return 0; /* st_fail freed everything before jumping */
  st_load(st, path, &on_error, err, err_cap);
  return 1;
}

const HbStEntry *hb_st_find(const HbSafetensors *st, const char *name) {
  for (int i = 0; i < st->n_entries; i++)
    if (strcmp(st->entries[i].name, name) == 0) return &st->entries[i];
  return NULL;
}

const char *hb_st_meta(const HbSafetensors *st, const char *key) {
  for (int i = 0; i < st->n_meta; i++)
    if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
  return NULL;
}

const float *hb_st_get_f32(const HbSafetensors *st, const char *name, int ndim, const int64_t *shape) {
  char where[512];
  snprintf(where, sizeof where, "%s: tensor %s", st->path, name);
  const HbStEntry *e = hb_st_find(st, name);
  if (!e) hb_input_error(where, "missing");
  if (strcmp(e->dtype, "F32") != 0) hb_input_error(where, "dtype is %s, expected F32", e->dtype);
  int same = e->ndim == ndim;
  for (int i = 0; same && i < ndim; i++) same = e->shape[i] == shape[i];
  if (!same) {
    char got[160], want[160];
    shape_format(got, sizeof got, e->ndim, e->shape);
    shape_format(want, sizeof want, ndim, shape);
    hb_input_error(where, "shape %s, expected %s", got, want);
  }
  if (e->begin % sizeof(float) != 0)
    hb_input_error(where, "data offset %zu is not a multiple of 4, cannot be read as F32 in place", e->begin);
  return (const float *)(const void *)(st->data + e->begin);
}

void hb_st_free(HbSafetensors *st) {
  for (int i = 0; i < st->n_entries; i++) free(st->entries[i].name);
  for (int i = 0; i < st->n_meta; i++) {
    free(st->meta_keys[i]);
    free(st->meta_values[i]);
  }
  free(st->entries);
  free(st->meta_keys);
  free(st->meta_values);
  free(st->data);
  free(st->path);
  memset(st, 0, sizeof *st);
}

/* ---------- saving ---------- */

typedef struct {
  char *buf; /* (cap) NUL-terminated text of length len */
  size_t len, cap;
} StrBuf;

static void sb_put(StrBuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap) cap *= 2;
    char *grown = hb_malloc(cap);
    if (b->buf) memcpy(grown, b->buf, b->len);
    free(b->buf);
    b->buf = grown;
    b->cap = cap;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = '\0';
}

static void sb_puts(StrBuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string literal; s is valid UTF-8 (checked by the caller), so only
 * quotes, backslashes and control characters need escapes. */
static void sb_put_json_string(StrBuf *b, const char *s) {
  sb_puts(b, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char esc[8];
    switch (c) {
    case '"': sb_puts(b, "\\\""); break;
    case '\\': sb_puts(b, "\\\\"); break;
    case '\n': sb_puts(b, "\\n"); break;
    case '\r': sb_puts(b, "\\r"); break;
    case '\t': sb_puts(b, "\\t"); break;
    case '\b': sb_puts(b, "\\b"); break;
    case '\f': sb_puts(b, "\\f"); break;
    default:
      if (c < 0x20) {
        snprintf(esc, sizeof esc, "\\u%04x", c);
        sb_puts(b, esc);
      } else {
        sb_put(b, s, 1);
      }
    }
  }
  sb_puts(b, "\"");
}

/* Bytes of tensor t's data; the caller's shapes are program state, so a bad
 * one is an internal error. */
static size_t st_tensor_bytes(const HbStTensor *t) {
  HB_ASSERT(t->ndim >= 0 && t->ndim <= HB_MAX_DIMS, "a tensor has at most HB_MAX_DIMS dimensions");
  size_t bytes = sizeof(float);
  for (int d = 0; d < t->ndim; d++) {
    HB_ASSERT(t->shape[d] >= 0, "dimensions are non-negative");
    HB_ASSERT(t->shape[d] == 0 || bytes <= SIZE_MAX / (uint64_t)t->shape[d], "tensor size fits in size_t");
    bytes *= (size_t)t->shape[d];
  }
  HB_ASSERT(t->data || bytes == 0, "a non-empty tensor has data");
  return bytes;
}

static void st_check_save_args(const char *path, const HbStTensor *tensors, int n, const char *const *meta_keys,
                               const char *const *meta_values, int n_meta) {
  HB_ASSERT(n >= 0 && n_meta >= 0, "counts are non-negative");
  for (int i = 0; i < n; i++) {
    const char *name = tensors[i].name;
    HB_ASSERT(name && utf8_is_valid(name), "tensor names are UTF-8 strings");
    HB_ASSERT(strcmp(name, "__metadata__") != 0, "__metadata__ is reserved for the metadata");
    for (int j = 0; j < i; j++) HB_ASSERT(strcmp(tensors[j].name, name) != 0, "tensor names are unique");
  }
  for (int i = 0; i < n_meta; i++) {
    HB_ASSERT(meta_keys[i] && meta_values[i] && utf8_is_valid(meta_keys[i]), "metadata keys are UTF-8 strings");
    HB_ASSERT(strncmp(meta_keys[i], HB_ST_CHECKSUM_PREFIX, strlen(HB_ST_CHECKSUM_PREFIX)) != 0,
              "the checksum keys are the writer's own");
    for (int j = 0; j < i; j++) HB_ASSERT(strcmp(meta_keys[j], meta_keys[i]) != 0, "metadata keys are unique");
    /* Values carry user text (the config file), so bad bytes are bad input. */
    if (!utf8_is_valid(meta_values[i])) {
      char where[512];
      snprintf(where, sizeof where, "%s: __metadata__: %s", path, meta_keys[i]);
      hb_input_error(where, "value is not valid UTF-8 text");
    }
  }
}

/* {"__metadata__":{..},"NAME":{"dtype":"F32","shape":[..],"data_offsets":[b,e]},..}
 * padded with spaces to a multiple of 8 bytes, as the HF writer does, so the
 * data block starts 8-aligned in the file. */
static void st_build_header(StrBuf *h, const HbStTensor *tensors, int n, const char *const *meta_keys,
                            const char *const *meta_values, int n_meta) {
  char num[64];
  sb_puts(h, "{");
  if (n_meta > 0) {
    sb_puts(h, "\"__metadata__\":{");
    for (int i = 0; i < n_meta; i++) {
      if (i) sb_puts(h, ",");
      sb_put_json_string(h, meta_keys[i]);
      sb_puts(h, ":");
      sb_put_json_string(h, meta_values[i]);
    }
    sb_puts(h, "}");
  }
  size_t offset = 0;
  for (int i = 0; i < n; i++) {
    const HbStTensor *t = &tensors[i];
    size_t bytes = st_tensor_bytes(t);
    if (i || n_meta > 0) sb_puts(h, ",");
    sb_put_json_string(h, t->name);
    sb_puts(h, ":{\"dtype\":\"F32\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) {
      snprintf(num, sizeof num, d ? ",%" PRId64 : "%" PRId64, t->shape[d]);
      sb_puts(h, num);
    }
    HB_ASSERT(offset <= SIZE_MAX - bytes, "total data size fits in size_t");
    snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", offset, offset + bytes);
    sb_puts(h, num);
    offset += bytes;
  }
  sb_puts(h, "}");
  while (h->len % 8 != 0) sb_puts(h, " ");
}

/* The caller's metadata, then "crc32.NAME" = the tensor's CRC-32 as 8
 * lowercase hex digits, one per tensor in the given order (the Python
 * bridge writes the same keys in the same order). Free with
 * st_checksummed_meta_free. */
static void st_checksummed_meta(char ***keys, char ***values, const HbStTensor *tensors, int n,
                                const char *const *meta_keys, const char *const *meta_values, int n_meta) {
  *keys = hb_malloc((size_t)(n_meta + n) * sizeof **keys + 1);
  *values = hb_malloc((size_t)(n_meta + n) * sizeof **values + 1);
  for (int i = 0; i < n_meta; i++) {
    (*keys)[i] = hb_strdup(meta_keys[i]);
    (*values)[i] = hb_strdup(meta_values[i]);
  }
  for (int i = 0; i < n; i++) {
    size_t len = strlen(HB_ST_CHECKSUM_PREFIX) + strlen(tensors[i].name) + 1;
    char *key = hb_malloc(len), *value = hb_malloc(16);
    snprintf(key, len, "%s%s", HB_ST_CHECKSUM_PREFIX, tensors[i].name);
    snprintf(value, 16, "%08" PRIx32, hb_crc32(tensors[i].data, st_tensor_bytes(&tensors[i])));
    (*keys)[n_meta + i] = key;
    (*values)[n_meta + i] = value;
  }
}

static void st_checksummed_meta_free(char **keys, char **values, int count) {
  for (int i = 0; i < count; i++) {
    free(keys[i]);
    free(values[i]);
  }
  free(keys);
  free(values);
}

void hb_st_save(const char *path, const HbStTensor *tensors, int n, const char *const *meta_keys,
                const char *const *meta_values, int n_meta) {
  st_check_save_args(path, tensors, n, meta_keys, meta_values, n_meta);
  char **keys, **values;
  st_checksummed_meta(&keys, &values, tensors, n, meta_keys, meta_values, n_meta);
  StrBuf header = {0};
  st_build_header(&header, tensors, n, (const char *const *)keys, (const char *const *)values, n_meta + n);
  st_checksummed_meta_free(keys, values, n_meta + n);
  unsigned char len_bytes[8];
  le64_write(len_bytes, header.len);

  HbOut out = hb_out_open(path, "wb");
  fwrite(len_bytes, 1, sizeof len_bytes, out.fp);
  fwrite(header.buf, 1, header.len, out.fp);
  for (int i = 0; i < n; i++) {
    size_t bytes = st_tensor_bytes(&tensors[i]);
    if (bytes) fwrite(tensors[i].data, 1, bytes, out.fp);
  }
  free(header.buf);
  hb_out_commit(&out); /* a short write shows up in ferror() there */
}
