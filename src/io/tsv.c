#include "hybench/tsv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---------------------------------------------------------- */

static int count_cells(const char *line) {
  int n = 1;
  for (const char *c = line; *c; c++) n += *c == '\t';
  return n;
}

/* Splits a NUL-terminated line in place into exactly n cells. */
static void split_cells(char **dst, char *line, int n) {
  int k = 0;
  dst[k++] = line;
  for (char *c = line; *c; c++)
    if (*c == '\t') {
      *c = '\0';
      HB_ASSERT(k < n, "the caller counted the cells of this line");
      dst[k++] = c + 1;
    }
  HB_ASSERT(k == n, "the caller counted the cells of this line");
}

static int is_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t') return 0;
  return 1;
}

void hb_tsv_read(HbTsv *t, const char *path) {
  memset(t, 0, sizeof *t);
  char *buf = hb_read_file(path, NULL);
  /* Pass 1: cut the text into lines, count the data rows. */
  size_t n_lines = 1;
  for (char *c = buf; *c; c++) n_lines += *c == '\n';
  char **lines = hb_malloc(n_lines * sizeof *lines); /* (n_lines) */
  int *line_no = hb_malloc(n_lines * sizeof *line_no);
  size_t kept = 0;
  char *start = buf;
  for (size_t i = 0; i < n_lines; i++) {
    char *nl = strchr(start, '\n');
    if (nl) *nl = '\0';
    size_t len = strlen(start);
    if (len > 0 && start[len - 1] == '\r') start[len - 1] = '\0';
    if (!is_blank(start) && start[0] != '#') {
      lines[kept] = start;
      line_no[kept] = (int)i + 1;
      kept++;
    }
    start = nl ? nl + 1 : start + len;
  }
  char where[512], msg[256] = "";
  snprintf(where, sizeof where, "%s", path);
  if (kept == 0) snprintf(msg, sizeof msg, "empty file (a TSV needs a header row)");
  int n_cols = kept ? count_cells(lines[0]) : 0;
  for (size_t r = 1; r < kept && !msg[0]; r++) {
    int n = count_cells(lines[r]);
    if (n != n_cols) {
      snprintf(where, sizeof where, "%s:%d (row %zu)", path, line_no[r], r);
      snprintf(msg, sizeof msg, "%d cells, the header has %d", n, n_cols);
    }
  }
  if (msg[0]) {
    free(lines);
    free(line_no);
    free(buf);
    hb_input_error(where, "%s", msg);
  }
  t->path = hb_strdup(path);
  t->buf = buf;
  t->n_cols = n_cols;
  t->n_rows = (int)kept - 1;
  t->header = hb_malloc((size_t)n_cols * sizeof *t->header);
  t->cells = hb_malloc((size_t)t->n_rows * (size_t)n_cols * sizeof *t->cells);
  t->line = hb_malloc((size_t)t->n_rows * sizeof *t->line);
  split_cells(t->header, lines[0], n_cols);
  for (int r = 0; r < t->n_rows; r++) {
    split_cells(t->cells + (size_t)r * (size_t)n_cols, lines[r + 1], n_cols);
    t->line[r] = line_no[r + 1];
  }
  t->header_line = line_no[0];
  int header_line = t->header_line;
  free(lines);
  free(line_no);
  for (int j = 0; j < n_cols && !msg[0]; j++) {
    if (!t->header[j][0]) {
      snprintf(where, sizeof where, "%s:%d (header)", path, header_line);
      snprintf(msg, sizeof msg, "column %d has no name", j + 1);
    }
    for (int k = 0; k < j && !msg[0]; k++)
      if (strcmp(t->header[j], t->header[k]) == 0) {
        snprintf(where, sizeof where, "%s:%d (header), column %s", path, header_line, t->header[j]);
        snprintf(msg, sizeof msg, "the name appears twice");
      }
  }
  if (msg[0]) {
    hb_tsv_free(t);
    hb_input_error(where, "%s", msg);
  }
}

void hb_tsv_free(HbTsv *t) {
  free(t->path);
  free(t->buf);
  free(t->header);
  free(t->cells);
  free(t->line);
  memset(t, 0, sizeof *t);
}

int hb_tsv_col(const HbTsv *t, const char *name) {
  for (int j = 0; j < t->n_cols; j++)
    if (strcmp(t->header[j], name) == 0) return j;
  return -1;
}

int hb_tsv_require_col(const HbTsv *t, const char *name) {
  int j = hb_tsv_col(t, name);
  if (j < 0) {
    char where[512], names[256] = "";
    size_t used = 0;
    for (int k = 0; k < t->n_cols && used + 1 < sizeof names; k++) {
      int n = snprintf(names + used, sizeof names - used, "%s%s", k ? " " : "", t->header[k]);
      if (n < 0) break;
      used += (size_t)n;
    }
    snprintf(where, sizeof where, "%s:%d (header), column %s", t->path, t->header_line, name);
    hb_input_error(where, "missing (the columns are: %s)", names);
  }
  return j;
}

const char *hb_tsv_str(const HbTsv *t, int row, int col) {
  HB_ASSERT(row >= 0 && row < t->n_rows && col >= 0 && col < t->n_cols, "cell index inside the table");
  return t->cells[(size_t)row * (size_t)t->n_cols + (size_t)col];
}

int hb_tsv_parse_double(const HbTsv *t, int row, int col, double *out) {
  return hb_parse_double(hb_tsv_str(t, row, col), out);
}

char *hb_tsv_where(char *buf, size_t size, const HbTsv *t, int row, int col) {
  HB_ASSERT(row >= 0 && row < t->n_rows, "row index inside the table");
  if (col >= 0)
    snprintf(buf, size, "%s:%d (row %d), column %s", t->path, t->line[row], row + 1, t->header[col]);
  else
    snprintf(buf, size, "%s:%d (row %d)", t->path, t->line[row], row + 1);
  return buf;
}

double hb_tsv_double(const HbTsv *t, int row, int col) {
  double v;
  if (!hb_tsv_parse_double(t, row, col, &v)) {
    char where[512];
    hb_input_error(hb_tsv_where(where, sizeof where, t, row, col), "'%s' is not a number",
                   hb_tsv_str(t, row, col));
  }
  return v;
}

static int same_cells(const HbTsv *t, int row_a, int row_b, const int *cols, int n_cols) {
  for (int j = 0; j < n_cols; j++)
    if (strcmp(hb_tsv_str(t, row_a, cols[j]), hb_tsv_str(t, row_b, cols[j])) != 0) return 0;
  return 1;
}

int hb_tsv_group_rows(int *group, const HbTsv *t, const int *cols, int n_cols) {
  int *first = hb_malloc(((size_t)t->n_rows + 1) * sizeof *first); /* (n_groups) each group's first row */
  int n_groups = 0;
  for (int r = 0; r < t->n_rows; r++) {
    int g = 0;
    while (g < n_groups && !same_cells(t, first[g], r, cols, n_cols)) g++;
    if (g == n_groups) first[n_groups++] = r;
    group[r] = g;
  }
  free(first);
  return n_groups;
}

char *hb_tsv_key_text(char *buf, size_t size, const HbTsv *t, int row, const int *cols, int n_cols) {
  size_t used = 0;
  buf[0] = '\0';
  for (int j = 0; j < n_cols && used + 1 < size; j++) {
    int k = snprintf(buf + used, size - used, "%s%s=%s", j ? " " : "", t->header[cols[j]], hb_tsv_str(t, row, cols[j]));
    if (k < 0) break;
    used += (size_t)k;
  }
  return buf;
}

/* ---- writing ---------------------------------------------------------- */

static void put_sep(HbTsvWriter *w) {
  HB_ASSERT(w->col < w->n_cols, "a row has no more cells than the header");
  if (w->col > 0) fputc('\t', w->out.fp);
  w->col++;
}

void hb_tsv_writer_open(HbTsvWriter *w, const char *path, const char *const *header, int n_cols) {
  HB_ASSERT(n_cols > 0, "a table has at least one column");
  w->out = hb_out_open(path, "w");
  w->n_cols = n_cols;
  w->col = 0;
  for (int j = 0; j < n_cols; j++) hb_tsv_put_str(w, header[j]);
  hb_tsv_end_row(w);
}

void hb_tsv_put_str(HbTsvWriter *w, const char *s) {
  HB_ASSERT(s && !strpbrk(s, "\t\r\n"), "TSV cells hold no tabs or newlines");
  put_sep(w);
  fputs(s[0] ? s : "-", w->out.fp); /* an empty cell would read back as missing */
}

void hb_tsv_put_double(HbTsvWriter *w, double v) {
  put_sep(w);
  if (isnan(v)) fputs("nan", w->out.fp);
  else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", w->out.fp);
  else fprintf(w->out.fp, "%.9g", v);
}

void hb_tsv_put_long(HbTsvWriter *w, long v) {
  put_sep(w);
  fprintf(w->out.fp, "%ld", v);
}

void hb_tsv_end_row(HbTsvWriter *w) {
  HB_ASSERT(w->col == w->n_cols, "every row has as many cells as the header");
  fputc('\n', w->out.fp);
  w->col = 0;
}

void hb_tsv_writer_commit(HbTsvWriter *w) {
  HB_ASSERT(w->col == 0, "no row is left half written");
  hb_out_commit(&w->out);
}

void hb_tsv_writer_abort(HbTsvWriter *w) { hb_out_abort(&w->out); }

/* ---- output tables described once ------------------------------------- */

void hb_tsv_writer_open_columns(HbTsvWriter *w, const char *path, const char *const *keys, int n_keys,
                                const HbColumn *cols, int n_cols) {
  const char **header = hb_malloc((size_t)(n_keys + n_cols) * sizeof *header);
  int n = 0;
  for (int j = 0; j < n_keys; j++) header[n++] = keys[j];
  for (int j = 0; j < n_cols; j++)
    if (cols[j].on) header[n++] = cols[j].name;
  hb_tsv_writer_open(w, path, header, n);
  free(header);
}

char *hb_usage_with_tables(const char *text, const HbTableDoc *tables, int n_tables) {
  char *buf = NULL;
  size_t size = 0;
  FILE *fp = open_memstream(&buf, &size);
  if (!fp) HB_FATAL("open_memstream failed");
  fputs(text, fp);
  for (int i = 0; i < n_tables; i++) {
    fprintf(fp, "\n\n%s:", tables[i].title);
    for (int j = 0; j < tables[i].n_cols; j++)
      fprintf(fp, "\n  %-18s %s", tables[i].cols[j].name, tables[i].cols[j].help);
  }
  if (fclose(fp) != 0) HB_FATAL("open_memstream failed");
  return buf;
}
