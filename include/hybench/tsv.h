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

#endif
