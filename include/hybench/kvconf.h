/* `key = value` files (model configs, dataset specs): one table-driven
 * parser, so every such file has the same syntax and the same errors.
 * Syntax: one `key = value` per line, `#` starts a comment, blank lines are
 * ignored. Every key must be in the table and may appear once; values are
 * validated by type. Errors: "FILE:LINE: key: what is wrong", exit 2. */
#ifndef HYBENCH_KVCONF_H
#define HYBENCH_KVCONF_H

#include <stddef.h>

typedef enum {
  KV_INT,    /* int, non-negative */
  KV_LONG,   /* long, non-negative; accepts 1e6, 2.5M */
  KV_BOOL,   /* int: on/off, true/false, 1/0 */
  KV_DOUBLE, /* double, finite */
  KV_NAME,   /* char[KV_NAME_LEN]: letters, digits, - _ . */
  KV_STRING, /* char[KV_NAME_LEN]: any text without '#' */
  KV_TEXT,   /* char *: any text without '#', of any length; a heap copy the caller frees */
} KvType;

#define KV_NAME_LEN 64

typedef struct {
  const char *key;
  KvType type;
  size_t offset; /* of the field in the destination struct */
  int required;
} KvKey;

/* Parses `text` into dst (defaults must already be set). seen[k] is set for
 * every key k present (seen has n_keys entries). `origin` names the file. */
void kv_parse(void *dst, const KvKey *keys, size_t n_keys, const char *text, const char *origin, int *seen);

/* Such files are small; a larger one is an input error naming the file. */
#define KV_MAX_FILE_BYTES (64 * 1024)
/* Reads the file at `path` into text (KV_MAX_FILE_BYTES + 1 bytes), NUL-terminated.
 * Parsing from the caller's buffer leaves nothing allocated when a later
 * input error is intercepted (tests). */
void kv_read_file(char *text, const char *path);

#endif
