/* Shared helpers: error reporting, checked allocation, atomic file output.
 *
 * Error policy (STYLE.md rule 8):
 *   - bad user input (a config, checkpoint, data file, flag) -> hb_input_error():
 *     one line "hybench: FILE: FIELD: what is wrong" on stderr, exit 2;
 *   - internal errors (a broken invariant, a failed library call) -> HB_FATAL():
 *     "file:line: message" on stderr, exit 1.
 * Output files are written to a temporary name and renamed into place by
 * hb_out_commit(), so an interrupted or failed command never leaves a half file. */
#ifndef HYBENCH_COMMON_H
#define HYBENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define HB_PI 3.14159265358979323846
#define HB_EXIT_INPUT 2
#define HB_EXIT_INTERNAL 1

#if defined(__GNUC__)
#define HB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HB_NORETURN __attribute__((noreturn))
#else
#define HB_PRINTF(a, b)
#define HB_NORETURN
#endif

/* Internal error: prints file:line and the message, exits 1. */
#define HB_FATAL(...) hb_fatal_at(__FILE__, __LINE__, __VA_ARGS__)
/* Asserts an invariant; `why` says why it must hold. Active in every build. */
#define HB_ASSERT(cond, why)                                                   \
  do {                                                                         \
    if (!(cond)) HB_FATAL("assertion `%s` failed: %s", #cond, why);            \
  } while (0)

HB_NORETURN void hb_fatal_at(const char *file, int line, const char *fmt, ...)
    HB_PRINTF(3, 4);

/* Bad input: "hybench: <where>: <message>", exit 2. `where` names the file
 * (and line or field when known), e.g. "models/sf.conf:4: window". */
HB_NORETURN void hb_input_error(const char *where, const char *fmt, ...)
    HB_PRINTF(2, 3);

/* Lets tests intercept input errors instead of exiting: when a handler is set,
 * hb_input_error() formats the message into it and longjmps via the handler. */
typedef void (*HbInputErrorHook)(const char *message);
void hb_set_input_error_hook(HbInputErrorHook hook);

void *hb_malloc(size_t bytes);          /* never returns NULL */
void *hb_calloc(size_t n, size_t size); /* never returns NULL */
void *hb_aligned_alloc(size_t bytes);   /* 64-byte aligned, zeroed */
char *hb_strdup(const char *s);

/* Atomic output: hb_out_open writes to "<path>.tmp.<pid>", hb_out_commit
 * flushes, closes and renames it to path; hb_out_abort removes it. */
typedef struct {
  FILE *fp;
  char *path;
  char *tmp_path;
} HbOut;
HbOut hb_out_open(const char *path, const char *mode);
void hb_out_commit(HbOut *out);
void hb_out_abort(HbOut *out);

/* Reads a whole file; on failure an input error naming the file. */
char *hb_read_file(const char *path, size_t *len_out);

/* Parsing of numbers with full validation (no trailing garbage, no overflow).
 * Return 1 on success, 0 on a malformed value. */
int hb_parse_long(const char *s, long *out);
int hb_parse_double(const char *s, double *out);
/* Parses "1000", "1e6", "2.5M", "3k" as a token count. */
int hb_parse_count(const char *s, long *out);

/* Carving sub-buffers out of one arena: a first pass with base NULL only
 * counts the floats (used), a second with the arena as base hands out
 * pointers. Every piece is rounded up to 16 floats, so each is 64-byte
 * aligned when the base is (SIMD loads, doubles). */
typedef struct {
  float *base; /* NULL while only measuring */
  size_t used; /* floats handed out so far */
} HbCarver;

static inline float *hb_carve(HbCarver *cv, size_t floats) {
  float *p = cv->base ? cv->base + cv->used : NULL;
  cv->used += (floats + 15) / 16 * 16;
  return p;
}

double hb_now_seconds(void); /* monotonic clock */
int hb_file_exists(const char *path);
void hb_mkdir_p(const char *path); /* internal error when it fails */

#endif
