/* Token files (.tok): the training corpora. Layout in include/hybench/tensorio.h:
 * a 32-byte little-endian header (magic "HBTOKENS", version 1, bytes per
 * token 2 or 4, vocab, reserved 0, u64 count), then `count` ids.
 *
 * Corpora can be large, so the reader streams the ids through a small buffer
 * instead of holding the raw file and the decoded ids at once. */
#include "hybench/tensorio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hybench/common.h"

#define TOK_HEADER_BYTES 32
#define TOK_VERSION 1
static const char tok_magic[8] = {'H', 'B', 'T', 'O', 'K', 'E', 'N', 'S'};

static uint32_t le32_read(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64_read(const unsigned char *p) { return le32_read(p) | (uint64_t)le32_read(p + 4) << 32; }

static void le32_write(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void le64_write(unsigned char *p, uint64_t v) {
  le32_write(p, (uint32_t)v);
  le32_write(p + 4, (uint32_t)(v >> 32));
}

/* ---------- reading ---------- */

/* What hb_tokens_read owns while it works; tok_fail releases it. */
typedef struct {
  const char *path;
  FILE *fp;
  HbTokens *tokens;
} TokRead;

static HB_NORETURN void tok_fail(TokRead *r, const char *field, const char *fmt, ...) HB_PRINTF(3, 4);
static void tok_fail(TokRead *r, const char *field, const char *fmt, ...) {
  char where[512], msg[512];
  snprintf(where, sizeof where, "%s: %s", r->path, field);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (r->fp) fclose(r->fp);
  hb_tokens_free(r->tokens);
  hb_input_error(where, "%s", msg);
}

typedef struct {
  uint32_t bytes_per_token, vocab;
  uint64_t count;
} TokHeader;

static TokHeader tok_read_header(TokRead *r, uint64_t file_size, uint32_t model_vocab) {
  unsigned char h[TOK_HEADER_BYTES];
  if (file_size < TOK_HEADER_BYTES)
    tok_fail(r, "header", "truncated: %" PRIu64 " bytes, the header alone is %d", file_size, TOK_HEADER_BYTES);
  if (fread(h, 1, sizeof h, r->fp) != sizeof h) tok_fail(r, "header", "read failed");
  if (memcmp(h, tok_magic, sizeof tok_magic) != 0)
    tok_fail(r, "magic", "not a token file (no HBTOKENS signature)");
  uint32_t version = le32_read(h + 8), reserved = le32_read(h + 20);
  TokHeader t = {le32_read(h + 12), le32_read(h + 16), le64_read(h + 24)};
  if (version != TOK_VERSION) tok_fail(r, "version", "%" PRIu32 ", expected %d", version, TOK_VERSION);
  if (t.bytes_per_token != 2 && t.bytes_per_token != 4)
    tok_fail(r, "bytes per token", "%" PRIu32 ", expected 2 or 4", t.bytes_per_token);
  if (t.vocab == 0) tok_fail(r, "vocab", "0; a vocabulary has at least one id");
  if (model_vocab > 0 && t.vocab > model_vocab)
    tok_fail(r, "vocab", "%" PRIu32 " is larger than the model's vocab %" PRIu32, t.vocab, model_vocab);
  if (reserved != 0) tok_fail(r, "reserved", "%" PRIu32 ", expected 0", reserved);
  uint64_t body = file_size - TOK_HEADER_BYTES;
  if (t.count > body / t.bytes_per_token)
    tok_fail(r, "count", "truncated: header says %" PRIu64 " tokens but the file holds %" PRIu64 " bytes of ids",
             t.count, body);
  if (body != t.count * t.bytes_per_token)
    tok_fail(r, "count", "%" PRIu64 " trailing bytes after %" PRIu64 " tokens", body - t.count * t.bytes_per_token,
             t.count);
  if (t.count > SIZE_MAX / sizeof(uint32_t))
    tok_fail(r, "count", "%" PRIu64 " tokens do not fit in memory", t.count);
  return t;
}

void hb_tokens_read(HbTokens *tokens, const char *path, uint32_t model_vocab) {
  memset(tokens, 0, sizeof *tokens);
  TokRead r = {.path = path, .tokens = tokens};
  r.fp = fopen(path, "rb");
  if (!r.fp) hb_input_error(path, "cannot open: %s", strerror(errno));
  struct stat sb;
  if (fstat(fileno(r.fp), &sb) != 0) tok_fail(&r, "file", "cannot stat: %s", strerror(errno));
  if (!S_ISREG(sb.st_mode)) tok_fail(&r, "file", "not a regular file");
  TokHeader h = tok_read_header(&r, (uint64_t)sb.st_size, model_vocab);

  tokens->vocab = h.vocab;
  tokens->ids = hb_malloc((size_t)h.count * sizeof *tokens->ids); /* (count) */
  unsigned char chunk[1 << 14];
  const size_t per_chunk = sizeof chunk / h.bytes_per_token;
  for (uint64_t done = 0; done < h.count;) {
    size_t n = h.count - done < per_chunk ? (size_t)(h.count - done) : per_chunk;
    if (fread(chunk, h.bytes_per_token, n, r.fp) != n)
      tok_fail(&r, "count", "read failed after %" PRIu64 " tokens", done);
    for (size_t i = 0; i < n; i++) {
      const unsigned char *p = chunk + i * h.bytes_per_token;
      uint32_t id = h.bytes_per_token == 2 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : le32_read(p);
      if (id >= h.vocab) {
        char field[64];
        snprintf(field, sizeof field, "token %" PRIu64, done + i);
        tok_fail(&r, field, "id %" PRIu32 " >= vocab %" PRIu32, id, h.vocab);
      }
      tokens->ids[done + i] = id;
    }
    done += n;
  }
  fclose(r.fp);
  tokens->count = h.count;
}

void hb_tokens_free(HbTokens *tokens) {
  free(tokens->ids);
  memset(tokens, 0, sizeof *tokens);
}

/* ---------- writing ---------- */

void hb_tokens_write(const char *path, const uint32_t *ids, uint64_t count, uint32_t vocab) {
  HB_ASSERT(vocab >= 1, "every id must be < vocab, so vocab >= 1");
  HB_ASSERT(ids || count == 0, "a non-empty token file has ids");
  /* Checked before the output exists, so a bad id leaves no temporary file. */
  for (uint64_t i = 0; i < count; i++) HB_ASSERT(ids[i] < vocab, "callers validate ids against the vocab");
  const uint32_t bytes_per_token = vocab <= 65536 ? 2 : 4; /* u16 halves the size of byte and BPE corpora */

  unsigned char h[TOK_HEADER_BYTES] = {0};
  memcpy(h, tok_magic, sizeof tok_magic);
  le32_write(h + 8, TOK_VERSION);
  le32_write(h + 12, bytes_per_token);
  le32_write(h + 16, vocab);
  le64_write(h + 24, count);

  HbOut out = hb_out_open(path, "wb");
  fwrite(h, 1, sizeof h, out.fp);
  unsigned char chunk[1 << 14];
  const size_t per_chunk = sizeof chunk / bytes_per_token;
  for (uint64_t done = 0; done < count;) {
    size_t n = count - done < per_chunk ? (size_t)(count - done) : per_chunk;
    for (size_t i = 0; i < n; i++) {
      unsigned char *p = chunk + i * bytes_per_token;
      if (bytes_per_token == 2) p[0] = (unsigned char)ids[done + i], p[1] = (unsigned char)(ids[done + i] >> 8);
      else le32_write(p, ids[done + i]);
    }
    fwrite(chunk, bytes_per_token, n, out.fp);
    done += n;
  }
  hb_out_commit(&out); /* a short write shows up in ferror() there */
}
