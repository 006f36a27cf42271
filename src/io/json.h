/* A small JSON reader for safetensors headers (src/io/safetensors.c):
 * RFC 8259 values (objects, arrays, strings with every escape, numbers kept as
 * their literal text, true, false, null) parsed into a tree whose nodes and
 * strings live in one arena, so every exit frees them with one
 * json_arena_free. Nesting is bounded (a hostile "[[[[..." cannot exhaust the
 * stack); the first error is kept with its byte offset, e.g.
 *   JsonArena arena = {0};
 *   JsonParser p = {.s = text, .len = n, .arena = &arena};
 *   JsonValue *root = json_parse(&p);       // NULL: p.err = "byte 7: expected ..."
 *   const JsonValue *shape = json_member(root, "shape");
 *   json_arena_free(&arena);
 * The text must already be valid UTF-8 (the caller checks). */
#ifndef HYBENCH_JSON_H
#define HYBENCH_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonKind;

typedef struct JsonValue JsonValue;
struct JsonValue {
  JsonKind kind;
  const char *text; /* STRING: unescaped UTF-8; NUMBER: the literal; BOOL: "true"/"false" */
  const char *key;  /* member name when this value sits in an object */
  JsonValue *first; /* ARRAY, OBJECT: first child */
  JsonValue *next;  /* next sibling */
  int count;        /* ARRAY, OBJECT: number of children */
};

typedef struct JsonBlock JsonBlock;

/* All nodes and strings of one parse (and whatever the caller adds with
 * json_arena_alloc) live here until json_arena_free. */
typedef struct {
  JsonBlock *blocks;
} JsonArena;

void *json_arena_alloc(JsonArena *a, size_t bytes); /* max_align_t-aligned, never NULL */
void json_arena_free(JsonArena *a);

typedef struct {
  const char *s; /* (len) header bytes, not NUL-terminated */
  size_t len, pos;
  int depth;
  JsonArena *arena;
  char err[200]; /* the first error, with its byte offset */
} JsonParser;

/* Parses all of p->s as one JSON value; NULL with p->err set on error. */
JsonValue *json_parse(JsonParser *p);
/* The member `key` of an object, or NULL. */
const JsonValue *json_member(const JsonValue *obj, const char *key);
/* A non-negative integer literal (no sign, fraction or exponent) that fits:
 * 1 and *out set, else 0. */
int json_to_u64(const JsonValue *v, uint64_t *out);

#endif
