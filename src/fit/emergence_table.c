/* Emergence over a metrics table: rows grouped into runs, each run fitted and
 * crossed, runs grouped into hybrids and summarised across seeds
 * (include/hybench/fit.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hybench/common.h"
#include "hybench/fit.h"

/* The largest x of a run (the budget it reached). */
static double last_x(const double *x, int n) {
  double m = x[0];
  for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

/* Every row's x and y are numbers, x > 0 (input errors name the cell). */
static void check_points(const HbTsv *t, int x_col, int y_col) {
  for (int r = 0; r < t->n_rows; r++) {
    double x = hb_tsv_double(t, r, x_col);
    hb_tsv_double(t, r, y_col);
    if (!(x > 0)) {
      char where[512];
      hb_input_error(hb_tsv_where(where, sizeof where, t, r, x_col), "%s must be > 0 (tokens, fitted in log)",
                     hb_tsv_str(t, r, x_col));
    }
  }
}

/* Every run has HB_EMERGE_MIN_POINTS rows or more; else an input error naming
 * the first short run's rows (run_of is freed first: nothing is left allocated). */
static void check_run_sizes(int *run_of, int n_runs, const HbTsv *t, const HbEmergeSpec *spec) {
  for (int g = 0; g < n_runs; g++) {
    int n = 0, first_row = -1, last_row = -1;
    for (int r = 0; r < t->n_rows; r++)
      if (run_of[r] == g) first_row = first_row < 0 ? r : first_row, last_row = r, n++;
    if (n >= HB_EMERGE_MIN_POINTS) continue;
    free(run_of);
    char where[512], key[256];
    hb_tsv_key_text(key, sizeof key, t, first_row, spec->key_cols, spec->n_keys);
    snprintf(where, sizeof where, "%s: rows %d-%d, column %s", t->path, first_row + 1, last_row + 1,
             t->header[spec->y_col]);
    hb_input_error(where, "%d point%s in group %s; the logistic fit needs at least %d", n, n == 1 ? "" : "s",
                   spec->n_keys ? key : "the whole table", HB_EMERGE_MIN_POINTS);
  }
}

/* Fits and crosses run `index`: the rows with run_of[r] == index. */
static void fit_run(HbEmergeRun *run, int index, const int *run_of, const HbTsv *t, const HbEmergeSpec *spec,
                    double *rx, double *ry) {
  int n = 0;
  for (int r = 0; r < t->n_rows; r++)
    if (run_of[r] == index) rx[n] = hb_tsv_double(t, r, spec->x_col), ry[n] = hb_tsv_double(t, r, spec->y_col), n++;
  run->n_rows = n;
  hb_emergence_fit(&run->fit, rx, ry, n, spec->rise_p_max, spec->min_rise);
  const int crossing = isfinite(spec->threshold);
  run->t_cross = crossing ? hb_emergence_cross(rx, ry, n, spec->threshold, spec->sustained, &run->cross_at_first) : NAN;
  run->t_cross_cens = !crossing ? NAN : isnan(run->t_cross) ? last_x(rx, n) : run->t_cross;
  run->cross_status = !crossing ? "-" : isnan(run->t_cross) ? "never" : run->cross_at_first ? "at_first" : "crossed";
}

/* Each hybrid's summary over its runs (its seeds). */
static void summarize_hybrids(HbEmergeTable *et, const int *hybrid_of_run, int crossing) {
  const HbEmergeFit **fits = hb_malloc((size_t)et->n_runs * sizeof *fits);  /* (n_runs) one hybrid's */
  double *t_cross = hb_malloc((size_t)et->n_runs * sizeof *t_cross);     /* (n_runs) */
  int *at_first = hb_malloc((size_t)et->n_runs * sizeof *at_first);      /* (n_runs) */
  for (int h = 0; h < et->n_hybrids; h++) {
    int n = 0;
    for (int g = 0; g < et->n_runs; g++) {
      if (hybrid_of_run[g] != h) continue;
      fits[n] = &et->runs[g].fit, t_cross[n] = et->runs[g].t_cross, at_first[n] = et->runs[g].cross_at_first;
      n++;
    }
    hb_emergence_summarize(&et->hybrids[h].summary, fits, crossing ? t_cross : NULL, at_first, n);
  }
  free(at_first);
  free(t_cross);
  free(fits);
}

void hb_emergence_table(HbEmergeTable *et, const HbTsv *t, const HbEmergeSpec *spec) {
  HB_ASSERT(spec->n_keys >= 0 && spec->n_keys <= HB_EMERGE_MAX_KEYS, "at most HB_EMERGE_MAX_KEYS key columns");
  if (t->n_rows == 0) {
    char where[512];
    snprintf(where, sizeof where, "%s:%d (header), column %s", t->path, t->header_line, t->header[spec->y_col]);
    hb_input_error(where, "no data rows");
  }
  check_points(t, spec->x_col, spec->y_col);
  const size_t n = (size_t)t->n_rows;
  int *run_of = hb_malloc(n * sizeof *run_of); /* (n_rows) */
  et->n_runs = hb_tsv_group_rows(run_of, t, spec->key_cols, spec->n_keys);
  check_run_sizes(run_of, et->n_runs, t, spec);
  et->runs = hb_calloc((size_t)et->n_runs, sizeof *et->runs);
  for (int r = (int)n - 1; r >= 0; r--) et->runs[run_of[r]].row = r;
  double *rx = hb_malloc(n * sizeof *rx), *ry = hb_malloc(n * sizeof *ry); /* one run's points */
  for (int g = 0; g < et->n_runs; g++) fit_run(&et->runs[g], g, run_of, t, spec, rx, ry);

  et->n_hybrid_cols = 0;
  for (int j = 0; j < spec->n_keys; j++)
    if (j != spec->seed_key) et->hybrid_cols[et->n_hybrid_cols++] = spec->key_cols[j];
  int *hybrid_of = hb_malloc(n * sizeof *hybrid_of); /* (n_rows) */
  et->n_hybrids = hb_tsv_group_rows(hybrid_of, t, et->hybrid_cols, et->n_hybrid_cols);
  et->hybrids = hb_calloc((size_t)et->n_hybrids, sizeof *et->hybrids);
  for (int r = (int)n - 1; r >= 0; r--) et->hybrids[hybrid_of[r]].row = r;
  int *hybrid_of_run = hb_malloc((size_t)et->n_runs * sizeof *hybrid_of_run); /* (n_runs) */
  for (int g = 0; g < et->n_runs; g++) hybrid_of_run[g] = hybrid_of[et->runs[g].row];
  summarize_hybrids(et, hybrid_of_run, isfinite(spec->threshold));

  free(hybrid_of_run);
  free(hybrid_of);
  free(ry);
  free(rx);
  free(run_of);
}

void hb_emergence_table_free(HbEmergeTable *et) {
  free(et->runs);
  free(et->hybrids);
  et->runs = NULL, et->hybrids = NULL;
  et->n_runs = et->n_hybrids = 0;
}
