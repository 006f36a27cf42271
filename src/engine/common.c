#define _POSIX_C_SOURCE 200809L
#include "hybench/common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static HbInputErrorHook input_error_hook;

void hb_set_input_error_hook(HbInputErrorHook hook) { input_error_hook = hook; }

void hb_fatal_at(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(HB_EXIT_INTERNAL);
}

void hb_input_error(const char *where, const char *fmt, ...) {
  char msg[1024];
  int n = snprintf(msg, sizeof msg, "hybench: %s: ", where);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof msg) vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
  va_end(ap);
  if (input_error_hook) input_error_hook(msg); /* tests longjmp out of here */
  fflush(stdout);
  fprintf(stderr, "%s\n", msg);
  exit(HB_EXIT_INPUT);
}

void *hb_malloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) HB_FATAL("out of memory allocating %zu bytes", bytes);
  return p;
}

void *hb_calloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) HB_FATAL("out of memory allocating %zu x %zu bytes", n, size);
  return p;
}

void *hb_aligned_alloc(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, rounded ? rounded : 64);
  if (!p) HB_FATAL("out of memory allocating %zu aligned bytes", bytes);
  memset(p, 0, rounded ? rounded : 64);
  return p;
}

char *hb_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = hb_malloc(n);
  memcpy(d, s, n);
  return d;
}

HbOut hb_out_open(const char *path, const char *mode) {
  HbOut out;
  size_t n = strlen(path) + 32;
  out.path = hb_strdup(path);
  out.tmp_path = hb_malloc(n);
  snprintf(out.tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
  out.fp = fopen(out.tmp_path, mode);
  if (!out.fp) hb_input_error(path, "cannot open for writing: %s", strerror(errno));
  return out;
}

static void out_free(HbOut *out) {
  free(out->path);
  free(out->tmp_path);
  out->path = out->tmp_path = NULL;
  out->fp = NULL;
}

void hb_out_commit(HbOut *out) {
  int bad = ferror(out->fp) != 0;
  if (fflush(out->fp) != 0) bad = 1;
  if (fsync(fileno(out->fp)) != 0 && errno != EINVAL) bad = 1;
  if (fclose(out->fp) != 0) bad = 1;
  if (bad) {
    remove(out->tmp_path);
    hb_input_error(out->path, "write failed: %s", strerror(errno));
  }
  if (rename(out->tmp_path, out->path) != 0) {
    int e = errno;
    remove(out->tmp_path);
    hb_input_error(out->path, "cannot rename into place: %s", strerror(e));
  }
  out_free(out);
}

void hb_out_abort(HbOut *out) {
  if (out->fp) fclose(out->fp);
  if (out->tmp_path) remove(out->tmp_path);
  out_free(out);
}

char *hb_read_file(const char *path, size_t *len_out) {
  struct stat st;
  if (stat(path, &st) != 0) hb_input_error(path, "cannot open: %s", strerror(errno));
  if (!S_ISREG(st.st_mode)) hb_input_error(path, "not a regular file");
  FILE *fp = fopen(path, "rb");
  if (!fp) hb_input_error(path, "cannot open: %s", strerror(errno));
  if (fseek(fp, 0, SEEK_END) != 0) hb_input_error(path, "cannot seek");
  long len = ftell(fp);
  if (len < 0) hb_input_error(path, "cannot tell size");
  rewind(fp);
  char *buf = hb_malloc((size_t)len + 1);
  if (fread(buf, 1, (size_t)len, fp) != (size_t)len) {
    fclose(fp);
    free(buf);
    hb_input_error(path, "read failed");
  }
  fclose(fp);
  buf[len] = '\0';
  if (len_out) *len_out = (size_t)len;
  return buf;
}

int hb_parse_long(const char *s, long *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end != '\0') return 0;
  *out = v;
  return 1;
}

int hb_parse_double(const char *s, double *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end != '\0' || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

int hb_parse_count(const char *s, long *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !isfinite(v)) return 0;
  double scale = 1;
  if (*end == 'k' || *end == 'K') scale = 1e3, end++;
  else if (*end == 'M' || *end == 'm') scale = 1e6, end++;
  else if (*end == 'G' || *end == 'g') scale = 1e9, end++;
  if (*end != '\0') return 0;
  v *= scale;
  if (v < 0 || v > 9e18 || v != floor(v)) return 0;
  *out = (long)v;
  return 1;
}

double hb_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int hb_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

void hb_mkdir_p(const char *path) {
  char *p = hb_strdup(path);
  for (char *c = p + 1; *c; c++) {
    if (*c != '/') continue;
    *c = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) HB_FATAL("mkdir %s: %s", p, strerror(errno));
    *c = '/';
  }
  if (mkdir(p, 0755) != 0 && errno != EEXIST) HB_FATAL("mkdir %s: %s", p, strerror(errno));
  free(p);
}
