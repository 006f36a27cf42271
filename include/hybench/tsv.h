/* TSV tables: a reader (header row, columns looked up by name, cells as
 * strings or validated numbers) and a writer (header, rows, numbers as %.9g,
 * written atomically through hb_out_open / hb_out_commit).
 *
 * Reading: the first non-empty line is the header; every other non-empty line
 * is a data row with exactly as many tab-separated cells as the header (a
 * trailing '\r' is dropped; empty lines and lines starting with '#' are
 * skipped, so a hand-written table such as results/claims.tsv can carry its
 * documentation). Rows are numbered from 1 (the first data row) and errors
 * name the file, the data row, its line in the file and the column, e.g.
 *   hybench: runs.tsv:5 (row 4), column loss: 'abc' is not a number
 *
 *   HbTsv t;
 *   hb_tsv_read(&t, "runs.tsv");
 *   int loss_col = hb_tsv_require_col(&t, "loss");
 *   for (int r = 0; r < t.n_rows; r++) total += hb_tsv_double(&t, r, loss_col);
 *   hb_tsv_free(&t);
 *
 * Writing:
 *   const char *header[] = {"model", "seed", "loss"};
 *   HbTsvWriter w;
 *   hb_tsv_writer_open(&w, "out.tsv", header, 3);
 *   hb_tsv_put_str(&w, "sf"); hb_tsv_put_long(&w, 1); hb_tsv_put_double(&w, 2.5);
 *   hb_tsv_end_row(&w);
 *   hb_tsv_writer_commit(&w);   // the file appears only now, complete
 * Non-finite numbers are written as nan / inf / -inf. */
#ifndef HYBENCH_TSV_H
#define HYBENCH_TSV_H

#include <stddef.h>

#include "hybench/common.h"

typedef struct {
  char *path;       /* the file, as named in error messages */
  char *buf;        /* the file's text; header and cells point into it */
  int n_cols;
  int n_rows;       /* data rows, header excluded */
  int header_line;  /* 1-based line of the header (1 unless blank lines precede it) */
  char **header;    /* (n_cols) column names */
  char **cells;     /* (n_rows, n_cols) row-major */
  int *line;        /* (n_rows) 1-based line in the file of each data row */
} HbTsv;

/* Reads a whole table. Input error (nothing left allocated) when the file is
 * missing, has no header, repeats a column name, or a row has the wrong number
 * of cells. */
void hb_tsv_read(HbTsv *t, const char *path);
void hb_tsv_free(HbTsv *t);

/* Column index by exact name, or -1. */
int hb_tsv_col(const HbTsv *t, const char *name);
/* Column index by name; input error naming the file and the column if absent. */
int hb_tsv_require_col(const HbTsv *t, const char *name);

/* Cell text (row, col are 0-based). */
const char *hb_tsv_str(const HbTsv *t, int row, int col);
/* Cell as a finite number; input error naming file, row and column otherwise. */
double hb_tsv_double(const HbTsv *t, int row, int col);
/* Non-exiting form: 1 and *out set when the cell is a finite number, else 0. */
int hb_tsv_parse_double(const HbTsv *t, int row, int col, double *out);
/* Numbers the rows by the values of cols (n_cols) in order of first
 * appearance: group (n_rows) gets each row's group; returns the number of
 * groups. No columns: every row is in group 0. */
int hb_tsv_group_rows(int *group, const HbTsv *t, const int *cols, int n_cols);
/* "col=value col=value" for cols (n_cols) of one row, truncated to size;
 * "" when n_cols is 0. Returns buf. */
char *hb_tsv_key_text(char *buf, size_t size, const HbTsv *t, int row, const int *cols, int n_cols);
/* Formats the location of a cell, "FILE:LINE (row R), column NAME", for
 * callers that report their own errors about a cell (e.g. "must be > 0").
 * col < 0 leaves the column out. Returns buf. */
char *hb_tsv_where(char *buf, size_t size, const HbTsv *t, int row, int col);

typedef struct {
  HbOut out;
  int n_cols;
  int col; /* cells written in the current row */
} HbTsvWriter;

/* Opens "<path>.tmp.<pid>" and writes the header line. */
void hb_tsv_writer_open(HbTsvWriter *w, const char *path, const char *const *header, int n_cols);
void hb_tsv_put_str(HbTsvWriter *w, const char *s); /* no tabs or newlines */
void hb_tsv_put_double(HbTsvWriter *w, double v);   /* %.9g */
void hb_tsv_put_long(HbTsvWriter *w, long v);
void hb_tsv_end_row(HbTsvWriter *w); /* asserts the row has n_cols cells */
/* Renames the finished file into place (asserts no row is half written). */
void hb_tsv_writer_commit(HbTsvWriter *w);
/* Removes the temporary file; nothing appears at path. */
void hb_tsv_writer_abort(HbTsvWriter *w);

/* ---- Output tables described once ----------------------------------------
 * A table's columns are written down once, as an X-macro list, one column a
 * line: name, the cell's kind (str, double or long: the hb_tsv_put_KIND that
 * writes it), its value (an expression in the scope of the row writer) and
 * one line of help. A column present only under a condition uses the second
 * form, with the condition first:
 *   #define LOSS_COLUMNS(X, X_IF)                                         \
 *     X("model", str, run->model, "the model's name")                      \
 *     X("loss", double, run->loss, "mean cross-entropy, nats")             \
 *     X_IF(with_ppl, "ppl", double, exp(run->loss), "with --ppl: e^loss")
 * From that one list:
 *   the --help text:  static const HbColumn doc[] = {LOSS_COLUMNS(HB_COLUMN, HB_COLUMN_DOC_IF)};
 *                     usage = hb_usage_with_tables(text, tables, n)   (HbTableDoc: a title and doc)
 *   the header:       const HbColumn cols[] = {LOSS_COLUMNS(HB_COLUMN, HB_COLUMN_IF)};
 *                     hb_tsv_writer_open_columns(&w, path, NULL, 0, cols, HB_NCOLS(cols));
 *   one row:          HbTsvWriter *w = &writer; LOSS_COLUMNS(HB_PUT, HB_PUT_IF) hb_tsv_end_row(w);
 * A table without conditional columns takes X only. HB_PUT writes to the
 * HbTsvWriter pointer named `w` in scope. */
typedef struct {
  const char *name;
  const char *help;
  int on; /* 0: left out of this table (its condition is false) */
} HbColumn;

#define HB_COLUMN(name, kind, value, help) {name, help, 1},
#define HB_COLUMN_IF(cond, name, kind, value, help) {name, help, (cond) != 0},
#define HB_COLUMN_DOC_IF(cond, name, kind, value, help) {name, help, 1},
#define HB_PUT(name, kind, value, help) hb_tsv_put_##kind(w, value);
#define HB_PUT_IF(cond, name, kind, value, help) \
  if (cond) hb_tsv_put_##kind(w, value);
#define HB_NCOLS(cols) ((int)(sizeof(cols) / sizeof((cols)[0])))

/* Opens the table with the header: the key columns (e.g. the --group columns
 * a table is keyed by; keys may be NULL when n_keys is 0), then the columns
 * that are on. */
void hb_tsv_writer_open_columns(HbTsvWriter *w, const char *path, const char *const *keys, int n_keys,
                                const HbColumn *cols, int n_cols);

/* One output table for --help: a title (which option writes it, what a row is)
 * and its columns. */
typedef struct {
  const char *title;
  const HbColumn *cols;
  int n_cols;
} HbTableDoc;

/* A command's --help text: `text`, then per table its title and the columns,
 * one a line (name, help). Returns a malloc'd string. */
char *hb_usage_with_tables(const char *text, const HbTableDoc *tables, int n_tables);

#endif
