#include "hybench/kvconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "hybench/common.h"

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* The text is copied so error paths can report lines; the copy is freed
 * before any error is raised, so callers that intercept errors leak nothing. */
static void fail_with(char *copy, const char *where, const char *msg) {
  char where_copy[600];
  snprintf(where_copy, sizeof where_copy, "%s", where);
  char msg_copy[300];
  snprintf(msg_copy, sizeof msg_copy, "%s", msg);
  free(copy);
  hb_input_error(where_copy, "%s", msg_copy);
}

static void fail(char *copy, const char *where, const char *key, const char *what, const char *value) {
  char msg[300];
  snprintf(msg, sizeof msg, "%s: '%s' %s", key, value, what);
  fail_with(copy, where, msg);
}

static void copy_text(char *copy, char *field, const KvKey *spec, const char *value, const char *where) {
  if (strlen(value) >= KV_NAME_LEN || !*value) fail(copy, where, spec->key, "must be 1-63 characters", value);
  strcpy(field, value);
}

static void parse_value(char *copy, void *dst, const KvKey *spec, const char *value, const char *where) {
  char *field = (char *)dst + spec->offset;
  long v;
  double d;
  switch (spec->type) {
  case KV_INT:
    if (!hb_parse_long(value, &v) || v < 0 || v > 1L << 30) fail(copy, where, spec->key, "is not a non-negative integer", value);
    *(int *)field = (int)v;
    break;
  case KV_LONG:
    if (!hb_parse_count(value, &v)) fail(copy, where, spec->key, "is not a non-negative count", value);
    *(long *)field = v;
    break;
  case KV_BOOL:
    if (!strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "1")) *(int *)field = 1;
    else if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "0")) *(int *)field = 0;
    else fail(copy, where, spec->key, "is not on/off", value);
    break;
  case KV_DOUBLE:
    if (!hb_parse_double(value, &d)) fail(copy, where, spec->key, "is not a number", value);
    *(double *)field = d;
    break;
  case KV_NAME:
    for (const char *c = value; *c; c++)
      if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
        fail(copy, where, spec->key, "may hold only letters, digits, '-', '_', '.'", value);
    copy_text(copy, field, spec, value, where);
    break;
  case KV_STRING: copy_text(copy, field, spec, value, where); break;
  case KV_TEXT: *(char **)field = hb_strdup(value); break;
  }
}

void kv_read_file(char *text, const char *path) {
  size_t len;
  char *file_text = hb_read_file(path, &len);
  if (len > KV_MAX_FILE_BYTES) {
    free(file_text);
    hb_input_error(path, "%zu bytes; a key = value file is at most %d bytes", len, KV_MAX_FILE_BYTES);
  }
  memcpy(text, file_text, len + 1);
  free(file_text);
}

void kv_parse(void *dst, const KvKey *keys, size_t n_keys, const char *text, const char *origin, int *seen) {
  memset(seen, 0, n_keys * sizeof *seen);
  char *copy = hb_strdup(text), *next = NULL;
  int lineno = 0;
  char where[600];
  for (char *line = copy; line; line = next) {
    lineno++;
    char *nl = strchr(line, '\n');
    next = nl ? nl + 1 : NULL;
    if (nl) *nl = '\0';
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *s = trim(line);
    if (!*s) continue;
    snprintf(where, sizeof where, "%s:%d", origin, lineno);
    char *eq = strchr(s, '=');
    if (!eq) fail_with(copy, where, "expected 'key = value'");
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    size_t k = 0;
    while (k < n_keys && strcmp(keys[k].key, key) != 0) k++;
    if (k == n_keys) {
      char msg[300];
      snprintf(msg, sizeof msg, "%s: unknown key", key);
      fail_with(copy, where, msg);
    }
    if (seen[k]) fail(copy, where, key, "is given twice", value);
    seen[k] = 1;
    parse_value(copy, dst, &keys[k], value, where);
  }
  free(copy);
  for (size_t k = 0; k < n_keys; k++)
    if (keys[k].required && !seen[k]) hb_input_error(origin, "%s: missing required key", keys[k].key);
}
