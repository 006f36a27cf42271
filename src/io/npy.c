/* NumPy .npy arrays: the interop contract reads a token batch (B, T) as int32
 * or int64 and writes float32 logits (B, T, V).
 *
 * Format (numpy.lib.format): "\x93NUMPY", major, minor, header length (u16
 * for version 1.0, u32 for 2.0 and 3.0), then a Python dict literal such as
 *   {'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ending in '\n', then the raw C-ordered data. The
 * header parser below accepts exactly that literal subset: quoted strings,
 * True/False and tuples of integers. */
#include "hybench/tensorio.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hybench/common.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "arrays are written little-endian straight from memory: a big-endian host needs byte swapping"
#endif

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* NumPy itself allows 64 dimensions; we need 2, and 32 is plenty to parse
 * and report a wrong shape. */
#define NPY_MAX_DIMS 32

/* Integer dtypes a token batch may use; '<' little-endian, '|' single byte. */
static const struct {
  const char *descr;
  int size;
  int is_signed;
} npy_int_types[] = {
    {"<i8", 8, 1}, {"<i4", 4, 1}, {"<i2", 2, 1}, {"|i1", 1, 1}, {"<u4", 4, 0}, {"<u2", 2, 0}, {"|u1", 1, 0},
};

/* ---------- header literal ---------- */

typedef struct {
  const char *s; /* (len) header text, not NUL-terminated */
  size_t len, pos;
  const char *field; /* the header field an error concerns */
  char err[200];
} NpyLit;

typedef struct {
  char descr[32];
  int fortran_order;
  int ndim;
  int64_t shape[NPY_MAX_DIMS];
  int seen_descr, seen_fortran, seen_shape;
} NpyHeader;

static int lit_fail(NpyLit *p, const char *field, const char *fmt, ...) HB_PRINTF(3, 4);
static int lit_fail(NpyLit *p, const char *field, const char *fmt, ...) {
  p->field = field;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err, sizeof p->err, fmt, ap);
  va_end(ap);
  return 0;
}

static int lit_peek(const NpyLit *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static void lit_skip_ws(NpyLit *p) {
  while (lit_peek(p) == ' ' || lit_peek(p) == '\t' || lit_peek(p) == '\n' || lit_peek(p) == '\r') p->pos++;
}

static int lit_expect(NpyLit *p, char c, const char *field) {
  lit_skip_ws(p);
  if (lit_peek(p) != c) return lit_fail(p, field, "expected '%c' at byte %zu of the header", c, p->pos);
  p->pos++;
  return 1;
}

/* A quoted string without escapes (none occur in the keys and descrs NumPy
 * writes) into dst (cap). */
static int lit_string(NpyLit *p, char *dst, size_t cap, const char *field) {
  lit_skip_ws(p);
  int quote = lit_peek(p);
  if (quote != '\'' && quote != '"')
    return lit_fail(p, field, "expected a quoted string at byte %zu of the header", p->pos);
  size_t start = ++p->pos;
  while (p->pos < p->len && p->s[p->pos] != quote && p->s[p->pos] != '\\') p->pos++;
  if (lit_peek(p) != quote) return lit_fail(p, field, "unterminated or escaped string in the header");
  size_t n = p->pos - start;
  p->pos++;
  if (n >= cap) return lit_fail(p, field, "'%.*s...' is too long", 16, p->s + start);
  memcpy(dst, p->s + start, n);
  dst[n] = '\0';
  return 1;
}

static int lit_bool(NpyLit *p, int *out, const char *field) {
  lit_skip_ws(p);
  if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "True", 4) == 0) *out = 1, p->pos += 4;
  else if (p->len - p->pos >= 5 && memcmp(p->s + p->pos, "False", 5) == 0) *out = 0, p->pos += 5;
  else return lit_fail(p, field, "expected True or False");
  return 1;
}

static int lit_int(NpyLit *p, int64_t *out, const char *field) {
  lit_skip_ws(p);
  if (!(lit_peek(p) >= '0' && lit_peek(p) <= '9')) return lit_fail(p, field, "expected a non-negative integer");
  int64_t v = 0;
  while (lit_peek(p) >= '0' && lit_peek(p) <= '9') {
    int d = lit_peek(p) - '0';
    if (v > (INT64_MAX - d) / 10) return lit_fail(p, field, "dimension overflows 64 bits");
    v = v * 10 + d;
    p->pos++;
  }
  if (lit_peek(p) == 'L') p->pos++; /* Python 2 long suffix in old files */
  *out = v;
  return 1;
}

/* A tuple of integers: "()", "(5,)", "(2, 3)", trailing comma allowed. */
static int lit_shape(NpyLit *p, NpyHeader *h) {
  if (!lit_expect(p, '(', "shape")) return 0;
  h->ndim = 0;
  for (;;) {
    lit_skip_ws(p);
    if (lit_peek(p) == ')') break;
    if (h->ndim == NPY_MAX_DIMS) return lit_fail(p, "shape", "more than %d dimensions", NPY_MAX_DIMS);
    if (!lit_int(p, &h->shape[h->ndim++], "shape")) return 0;
    lit_skip_ws(p);
    if (lit_peek(p) == ',') p->pos++;
    else if (lit_peek(p) != ')') return lit_fail(p, "shape", "expected ',' or ')' in the shape tuple");
  }
  p->pos++;
  return 1;
}

/* One "'key': value" pair into h. */
static int npy_parse_member(NpyLit *p, NpyHeader *h) {
  char key[32];
  if (!lit_string(p, key, sizeof key, "header") || !lit_expect(p, ':', "header")) return 0;
  if (strcmp(key, "descr") == 0) {
    if (h->seen_descr++) return lit_fail(p, "descr", "given twice");
    return lit_string(p, h->descr, sizeof h->descr, "descr");
  }
  if (strcmp(key, "fortran_order") == 0) {
    if (h->seen_fortran++) return lit_fail(p, "fortran_order", "given twice");
    return lit_bool(p, &h->fortran_order, "fortran_order");
  }
  if (strcmp(key, "shape") == 0) {
    if (h->seen_shape++) return lit_fail(p, "shape", "given twice");
    return lit_shape(p, h);
  }
  return lit_fail(p, "header", "unknown key '%s' (expected descr, fortran_order, shape)", key);
}

static int npy_parse_header(NpyLit *p, NpyHeader *h) {
  memset(h, 0, sizeof *h);
  if (!lit_expect(p, '{', "header")) return 0;
  for (;;) {
    lit_skip_ws(p);
    if (lit_peek(p) == '}') break;
    if (!npy_parse_member(p, h)) return 0;
    lit_skip_ws(p);
    if (lit_peek(p) == ',') p->pos++;
    else if (lit_peek(p) != '}') return lit_fail(p, "header", "expected ',' or '}' at byte %zu", p->pos);
  }
  p->pos++;
  lit_skip_ws(p);
  if (p->pos != p->len) return lit_fail(p, "header", "unexpected text after the dict at byte %zu", p->pos);
  if (!h->seen_descr) return lit_fail(p, "descr", "missing");
  if (!h->seen_fortran) return lit_fail(p, "fortran_order", "missing");
  if (!h->seen_shape) return lit_fail(p, "shape", "missing");
  return 1;
}

/* ---------- reading ---------- */

static HB_NORETURN void npy_fail(char *file, const char *path, const char *field, const char *fmt, ...)
    HB_PRINTF(4, 5);
static void npy_fail(char *file, const char *path, const char *field, const char *fmt, ...) {
  char where[512], msg[512];
  snprintf(where, sizeof where, "%s: %s", path, field);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *c = msg; *c; c++) /* header text from the file stays on one line */
    if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
  free(file);
  hb_input_error(where, "%s", msg);
}

static uint32_t le_read(const unsigned char *p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Little-endian integer of `size` bytes, sign-extended when signed. */
static int64_t npy_decode_int(const unsigned char *p, int size, int is_signed) {
  uint64_t u = 0;
  for (int i = size - 1; i >= 0; i--) u = u << 8 | p[i];
  if (is_signed && size < 8 && (u >> (8 * size - 1) & 1)) u |= ~UINT64_C(0) << (8 * size);
  int64_t v;
  memcpy(&v, &u, sizeof v); /* two's complement reinterpretation, no implementation-defined cast */
  return v;
}

int64_t *hb_npy_read_int2d(const char *path, int64_t *rows, int64_t *cols) {
  struct stat sb;
  if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) hb_input_error(path, "not a regular file");
  size_t len;
  char *file = hb_read_file(path, &len);
  const unsigned char *u = (const unsigned char *)file;
  if (len < 10 || memcmp(file, npy_magic, sizeof npy_magic) != 0)
    npy_fail(file, path, "magic", "not a NumPy .npy file (no \\x93NUMPY signature)");
  int major = u[6], minor = u[7];
  if (!(major >= 1 && major <= 3 && minor == 0))
    npy_fail(file, path, "version", "%d.%d, expected 1.0, 2.0 or 3.0", major, minor);
  size_t start = major == 1 ? 10 : 12; /* version 1.0 has a u16 length, 2.0+ a u32 */
  if (len < start) npy_fail(file, path, "header length", "file ends inside the header length");
  size_t header_len = le_read(u + 8, major == 1 ? 2 : 4);
  if (header_len > len - start)
    npy_fail(file, path, "header length", "%zu bytes, but only %zu follow", header_len, len - start);

  NpyLit lit = {.s = file + start, .len = header_len};
  NpyHeader h;
  if (!npy_parse_header(&lit, &h)) npy_fail(file, path, lit.field, "%s", lit.err);
  int type = -1;
  for (int i = 0; i < (int)(sizeof npy_int_types / sizeof npy_int_types[0]); i++)
    if (strcmp(h.descr, npy_int_types[i].descr) == 0) type = i;
  if (type < 0) npy_fail(file, path, "descr", "'%s' is not an integer type (expected '<i4' or '<i8')", h.descr);
  if (h.fortran_order) npy_fail(file, path, "fortran_order", "True; only C-ordered arrays are supported");
  if (h.ndim != 2) npy_fail(file, path, "shape", "%d dimensions, expected 2 (batch, seq_len)", h.ndim);

  int size = npy_int_types[type].size;
  int64_t r = h.shape[0], c = h.shape[1];
  if (c != 0 && r > (int64_t)(SIZE_MAX / 8) / c)
    npy_fail(file, path, "shape", "(%" PRId64 ", %" PRId64 ") is too large", r, c);
  size_t count = (size_t)(r * c), need = count * (size_t)size, have = len - start - header_len;
  if (have < need)
    npy_fail(file, path, "data", "truncated: shape (%" PRId64 ", %" PRId64 ") of %s needs %zu bytes, file has %zu",
             r, c, h.descr, need, have);
  if (have > need)
    npy_fail(file, path, "data", "%zu trailing bytes after the (%" PRId64 ", %" PRId64 ") array", have - need, r,
             c);

  int64_t *values = hb_malloc(count * sizeof *values); /* (rows, cols) */
  const unsigned char *data = u + start + header_len;
  for (size_t i = 0; i < count; i++)
    values[i] = npy_decode_int(data + i * (size_t)size, size, npy_int_types[type].is_signed);
  free(file);
  *rows = r;
  *cols = c;
  return values;
}

/* ---------- writing ---------- */

/* Version 1.0 header, padded like numpy.lib.format does: spaces, then '\n',
 * so the data starts at a multiple of 64 bytes. */
static void npy_write(const char *path, const char *descr, size_t item_size, const void *data, int ndim,
                      const int64_t *shape) {
  HB_ASSERT(ndim >= 0 && ndim <= NPY_MAX_DIMS, "the shape tuple fits the header buffer");
  char header[1024];
  size_t n = (size_t)snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  size_t count = 1;
  for (int d = 0; d < ndim; d++) {
    HB_ASSERT(shape[d] >= 0, "dimensions are non-negative");
    HB_ASSERT(shape[d] == 0 || count <= SIZE_MAX / item_size / (uint64_t)shape[d], "array size fits in size_t");
    count *= (size_t)shape[d];
    n += (size_t)snprintf(header + n, sizeof header - n, d ? " %" PRId64 "," : "%" PRId64 ",", shape[d]);
  }
  if (ndim > 1) n--; /* Python writes "(5,)" but "(2, 3)" */
  n += (size_t)snprintf(header + n, sizeof header - n, "), }");
  size_t pad = 64 - (sizeof npy_magic + 4 + n + 1) % 64;
  HB_ASSERT(n + pad + 1 < sizeof header && n + pad + 1 <= 65535, "a version 1.0 header is short");
  memset(header + n, ' ', pad);
  n += pad;
  header[n++] = '\n';
  HB_ASSERT(data || count == 0, "a non-empty array has data");

  unsigned char prefix[10];
  memcpy(prefix, npy_magic, sizeof npy_magic);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix[8] = (unsigned char)(n & 0xff);
  prefix[9] = (unsigned char)(n >> 8);
  HbOut out = hb_out_open(path, "wb");
  fwrite(prefix, 1, sizeof prefix, out.fp);
  fwrite(header, 1, n, out.fp);
  if (count) fwrite(data, item_size, count, out.fp);
  hb_out_commit(&out); /* a short write shows up in ferror() there */
}

void hb_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape) {
  npy_write(path, "<f4", sizeof(float), data, ndim, shape);
}

void hb_npy_write_i32(const char *path, const int32_t *data, int ndim, const int64_t *shape) {
  npy_write(path, "<i4", sizeof(int32_t), data, ndim, shape);
}
