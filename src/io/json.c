/* A small JSON reader (src/io/json.h): RFC 8259 values into an arena-allocated
 * tree, with the first error and its byte offset. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"

/* One block of an arena: blocks are chained, newest first. */
struct JsonBlock {
  struct JsonBlock *next;
  size_t used, cap;
  max_align_t data[];
};

/* Recursion depth bound: a safetensors header nests three levels; the bound
 * keeps a hostile "[[[[..." from exhausting the stack. */
#define JSON_MAX_DEPTH 32

void *json_arena_alloc(JsonArena *a, size_t bytes) {
  const size_t align = _Alignof(max_align_t);
  bytes = (bytes + align - 1) / align * align;
  JsonBlock *b = a->blocks;
  if (!b || b->cap - b->used < bytes) {
    size_t cap = bytes > 65536 ? bytes : 65536;
    b = hb_malloc(sizeof *b + cap);
    b->next = a->blocks;
    b->used = 0;
    b->cap = cap;
    a->blocks = b;
  }
  void *p = (unsigned char *)b->data + b->used;
  b->used += bytes;
  return p;
}

void json_arena_free(JsonArena *a) {
  while (a->blocks) {
    JsonBlock *next = a->blocks->next;
    free(a->blocks);
    a->blocks = next;
  }
}

static JsonValue *json_fail(JsonParser *p, const char *fmt, ...) HB_PRINTF(2, 3);
static JsonValue *json_fail(JsonParser *p, const char *fmt, ...) {
  if (p->err[0]) return NULL;
  int n = snprintf(p->err, sizeof p->err, "byte %zu: ", p->pos);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err + n, sizeof p->err - (size_t)n, fmt, ap);
  va_end(ap);
  return NULL;
}

static int json_peek(const JsonParser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static void json_skip_ws(JsonParser *p) {
  int c;
  while ((c = json_peek(p)) == ' ' || c == '\t' || c == '\n' || c == '\r') p->pos++;
}

static JsonValue *json_new(JsonParser *p, JsonKind kind) {
  JsonValue *v = json_arena_alloc(p->arena, sizeof *v);
  memset(v, 0, sizeof *v);
  v->kind = kind;
  return v;
}

/* Describes the character at the cursor for messages, printable or not. */
static const char *json_char_name(const JsonParser *p, char *buf, size_t cap) {
  int c = json_peek(p);
  if (c < 0) snprintf(buf, cap, "end of header");
  else if (c > 0x20 && c < 0x7f) snprintf(buf, cap, "'%c'", c);
  else snprintf(buf, cap, "byte 0x%02x", c);
  return buf;
}

static JsonValue *json_parse_value(JsonParser *p);

static int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Four hex digits at the cursor, all before `end`. */
static int json_hex4(JsonParser *p, size_t end, unsigned *out) {
  if (end - p->pos < 4) return 0;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p->s[p->pos + (size_t)i];
    int d = hex_value(c);
    if (d < 0) return 0;
    v = v << 4 | (unsigned)d;
  }
  p->pos += 4;
  *out = v;
  return 1;
}

static char *utf8_put(char *dst, unsigned cp) {
  if (cp < 0x80) {
    *dst++ = (char)cp;
  } else if (cp < 0x800) {
    *dst++ = (char)(0xC0 | cp >> 6);
    *dst++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *dst++ = (char)(0xE0 | cp >> 12);
    *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *dst++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *dst++ = (char)(0xF0 | cp >> 18);
    *dst++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *dst++ = (char)(0x80 | (cp & 0x3F));
  }
  return dst;
}

/* \uXXXX at the cursor (after the backslash and 'u'), combining a UTF-16
 * surrogate pair into one code point. 0 on error (message set). */
static int json_parse_unicode(JsonParser *p, size_t end, unsigned *cp) {
  if (!json_hex4(p, end, cp)) return json_fail(p, "\\u needs four hex digits"), 0;
  if (*cp >= 0xDC00 && *cp <= 0xDFFF) return json_fail(p, "unpaired surrogate \\u%04x", *cp), 0;
  if (*cp >= 0xD800 && *cp <= 0xDBFF) {
    unsigned lo;
    if (end - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
      return json_fail(p, "unpaired surrogate \\u%04x", *cp), 0;
    p->pos += 2;
    if (!json_hex4(p, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
      return json_fail(p, "unpaired surrogate \\u%04x", *cp), 0;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
  }
  if (*cp == 0) return json_fail(p, "\\u0000 is not supported (names are C strings)"), 0;
  return 1;
}

static JsonValue *json_parse_string(JsonParser *p) {
  size_t start = p->pos + 1, end = start;
  /* Find the closing quote first: the unescaped text is never longer than the
   * escaped one (\uXXXX is 6 bytes for at most 3, a pair 12 for 4). */
  while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
  if (end >= p->len) return json_fail(p, "unterminated string");
  JsonValue *v = json_new(p, JSON_STRING);
  char *dst = json_arena_alloc(p->arena, end - start + 1);
  v->text = dst;
  p->pos = start;
  while (p->pos < end) {
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c < 0x20) return json_fail(p, "control character 0x%02x in a string must be escaped", c);
    p->pos++;
    if (c != '\\') {
      *dst++ = (char)c;
      continue;
    }
    char e = p->s[p->pos++];
    unsigned cp;
    switch (e) {
    case '"': *dst++ = '"'; break;
    case '\\': *dst++ = '\\'; break;
    case '/': *dst++ = '/'; break;
    case 'b': *dst++ = '\b'; break;
    case 'f': *dst++ = '\f'; break;
    case 'n': *dst++ = '\n'; break;
    case 'r': *dst++ = '\r'; break;
    case 't': *dst++ = '\t'; break;
    case 'u':
      if (!json_parse_unicode(p, end, &cp)) return NULL;
      dst = utf8_put(dst, cp);
      break;
    default: p->pos--; return json_fail(p, "invalid escape (byte 0x%02x after '\\')", (unsigned char)e);
    }
  }
  *dst = '\0';
  p->pos = end + 1;
  return v;
}

/* RFC 8259 number grammar; the literal is kept as text so integers up to
 * 2^64 - 1 convert exactly (a double would round above 2^53). */
static JsonValue *json_parse_number(JsonParser *p) {
  size_t start = p->pos;
  if (json_peek(p) == '-') p->pos++;
  if (json_peek(p) == '0') p->pos++;
  else if (is_digit(json_peek(p)))
    while (is_digit(json_peek(p))) p->pos++;
  else return json_fail(p, "invalid number");
  if (json_peek(p) == '.') {
    p->pos++;
    if (!is_digit(json_peek(p))) return json_fail(p, "invalid number: digits must follow '.'");
    while (is_digit(json_peek(p))) p->pos++;
  }
  if (json_peek(p) == 'e' || json_peek(p) == 'E') {
    p->pos++;
    if (json_peek(p) == '+' || json_peek(p) == '-') p->pos++;
    if (!is_digit(json_peek(p))) return json_fail(p, "invalid number: digits must follow the exponent");
    while (is_digit(json_peek(p))) p->pos++;
  }
  JsonValue *v = json_new(p, JSON_NUMBER);
  char *text = json_arena_alloc(p->arena, p->pos - start + 1);
  memcpy(text, p->s + start, p->pos - start);
  text[p->pos - start] = '\0';
  v->text = text;
  return v;
}

static JsonValue *json_parse_literal(JsonParser *p) {
  static const struct {
    const char *word;
    JsonKind kind;
  } literals[] = {{"true", JSON_BOOL}, {"false", JSON_BOOL}, {"null", JSON_NULL}};
  for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
    size_t n = strlen(literals[i].word);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, literals[i].word, n) == 0) {
      JsonValue *v = json_new(p, literals[i].kind);
      v->text = literals[i].word;
      p->pos += n;
      return v;
    }
  }
  return json_fail(p, "invalid literal (expected true, false or null)");
}

static JsonValue *json_parse_array(JsonParser *p) {
  JsonValue *v = json_new(p, JSON_ARRAY), **tail = &v->first;
  p->pos++;
  json_skip_ws(p);
  if (json_peek(p) == ']') {
    p->pos++;
    return v;
  }
  for (;;) {
    JsonValue *item = json_parse_value(p);
    if (!item) return NULL;
    *tail = item;
    tail = &item->next;
    v->count++;
    json_skip_ws(p);
    char what[24];
    if (json_peek(p) == ',') p->pos++;
    else if (json_peek(p) == ']') return p->pos++, v;
    else return json_fail(p, "expected ',' or ']' in an array, found %s", json_char_name(p, what, sizeof what));
  }
}

static JsonValue *json_parse_object(JsonParser *p) {
  JsonValue *v = json_new(p, JSON_OBJECT), **tail = &v->first;
  char what[24];
  p->pos++;
  json_skip_ws(p);
  if (json_peek(p) == '}') {
    p->pos++;
    return v;
  }
  for (;;) {
    json_skip_ws(p);
    if (json_peek(p) != '"')
      return json_fail(p, "expected a member name in quotes, found %s", json_char_name(p, what, sizeof what));
    size_t key_pos = p->pos;
    JsonValue *key = json_parse_string(p);
    if (!key) return NULL;
    for (const JsonValue *m = v->first; m; m = m->next)
      if (strcmp(m->key, key->text) == 0) {
        p->pos = key_pos;
        return json_fail(p, "duplicate key \"%s\"", key->text);
      }
    json_skip_ws(p);
    if (json_peek(p) != ':') return json_fail(p, "expected ':', found %s", json_char_name(p, what, sizeof what));
    p->pos++;
    JsonValue *item = json_parse_value(p);
    if (!item) return NULL;
    item->key = key->text;
    *tail = item;
    tail = &item->next;
    v->count++;
    json_skip_ws(p);
    if (json_peek(p) == ',') p->pos++;
    else if (json_peek(p) == '}') return p->pos++, v;
    else return json_fail(p, "expected ',' or '}' in an object, found %s", json_char_name(p, what, sizeof what));
  }
}

static JsonValue *json_parse_value(JsonParser *p) {
  char what[24];
  json_skip_ws(p);
  int c = json_peek(p);
  if (c == '{' || c == '[') {
    if (p->depth >= JSON_MAX_DEPTH) return json_fail(p, "nested deeper than %d levels", JSON_MAX_DEPTH);
    p->depth++;
    JsonValue *v = c == '{' ? json_parse_object(p) : json_parse_array(p);
    p->depth--;
    return v;
  }
  if (c == '"') return json_parse_string(p);
  if (c == 't' || c == 'f' || c == 'n') return json_parse_literal(p);
  if (c == '-' || is_digit(c)) return json_parse_number(p);
  return json_fail(p, "expected a value, found %s", json_char_name(p, what, sizeof what));
}

JsonValue *json_parse(JsonParser *p) {
  JsonValue *root = json_parse_value(p);
  if (!root) return NULL;
  json_skip_ws(p);
  if (p->pos != p->len) return json_fail(p, "unexpected data after the JSON value");
  return root;
}

const JsonValue *json_member(const JsonValue *obj, const char *key) {
  for (const JsonValue *m = obj->first; m; m = m->next)
    if (strcmp(m->key, key) == 0) return m;
  return NULL;
}

int json_to_u64(const JsonValue *v, uint64_t *out) {
  if (v->kind != JSON_NUMBER) return 0;
  uint64_t x = 0;
  for (const char *c = v->text; *c; c++) {
    if (!is_digit(*c)) return 0;
    unsigned d = (unsigned)(*c - '0');
    if (x > (UINT64_MAX - d) / 10) return 0;
    x = x * 10 + d;
  }
  *out = x;
  return 1;
}

