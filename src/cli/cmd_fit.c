/* `hybench fit`: GSL fits on result tables (the methods, and the grouping and
 * summarising of emergence tables, are in include/hybench/fit.h; this file
 * parses options, prints the reports and writes the tables).
 *
 * hybench fit scaling --in POINTS.tsv [--formula no_constant|default] [--longppl]
 *     [--validate] [--epsilon 1e-3] [--param-field n] [--bootstrap K] [--seed S]
 *     [--out FIT.tsv]
 * hybench fit emergence --in METRICS.tsv --y COLUMN [--x tokens] [--group COLS]
 *     [--seed-col seed] [--threshold LEVEL [--sustained]] [--rise-p 0.01] [--min-rise 0]
 *     [--out OUT.tsv] [--summary-out SUMMARY.tsv]
 * hybench fit step --in POINTS.tsv [--validate] [--out FIT.tsv]
 * hybench fit seeds --in T.tsv [--group COLS] --cols COLS [--out STATS.tsv]
 * hybench fit trend --in T.tsv --x COL --y COL [--group COL] [--log2-x] [--log2-y]
 *     [--censored COL] [--out TREND.tsv]
 *
 * Each output table's columns are described once, in an X-macro list beside
 * its writer (SCALING_COLUMNS, EMERGENCE_RUN_COLUMNS, EMERGENCE_SUMMARY_COLUMNS,
 * STEP_COLUMNS, SEED_STAT_COLUMNS, TREND_COLUMNS; include/hybench/tsv.h): the header, the
 * row and the column list of `hybench fit KIND --help` all come from it.
 *
 * Exit codes: 0 done, 2 bad input (one line naming file, row and column),
 * 1 internal error. Output files are written atomically, only after the fit. */
#include "hybench/cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "hybench/common.h"
#include "hybench/fit.h"
#include "hybench/stats.h"
#include "hybench/tsv.h"

/* Short, tab-free names for GSL statuses in output tables. */
static const char *gsl_status_name(int status) {
  switch (status) {
  case GSL_SUCCESS: return "success";
  case GSL_EMAXITER: return "emaxiter";
  case GSL_ENOPROG: return "enoprog";
  case GSL_ENOPROGJ: return "enoprogj";
  case GSL_EBADFUNC: return "ebadfunc";
  case GSL_EDOM: return "edom";
  case GSL_ERANGE: return "erange";
  case GSL_ESING: return "esing";
  case GSL_ENOMEM: return "enomem";
  case GSL_EINVAL: return "einval";
  case GSL_CONTINUE: return "continue";
  default: return "gsl_error";
  }
}

/* ===== scaling ============================================================ */

static const char *const limit_names[HB_NTERMS] = {"a->0", "b->0", "c->0"};

typedef struct {
  double r2, rmse, mae; /* in loss units */
} Quality;

/* Predicted loss (or log LongPPL) of every point: pred (pts->n). */
static void predict_points(double *pred, const HbScalingFit *fit, const HbScalingPoints *pts) {
  for (int i = 0; i < pts->n; i++)
    pred[i] = exp(hb_scaling_log_predict(&fit->fitted, fit->best.p, pts->log_n[i], pts->log_d[i]));
}

static Quality quality(const double *actual, const double *pred, int n) {
  Quality q = {NAN, NAN, NAN};
  if (n == 0) return q;
  double mean = 0, ss_res = 0, ss_tot = 0, abs_sum = 0;
  for (int i = 0; i < n; i++) mean += actual[i];
  mean /= n;
  for (int i = 0; i < n; i++) {
    double r = actual[i] - pred[i];
    ss_res += r * r;
    ss_tot += (actual[i] - mean) * (actual[i] - mean);
    abs_sum += fabs(r);
  }
  q.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 0; /* as the reference script */
  q.rmse = sqrt(ss_res / n);
  q.mae = abs_sum / n;
  return q;
}

/* "S1,S2,S3": the distinct model sizes of pts, in order of appearance. */
static void size_list(char *buf, size_t size, const HbScalingPoints *pts) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < pts->n; i++) {
    int seen = 0;
    for (int j = 0; j < i && !seen; j++) seen = strcmp(pts->model_size[i], pts->model_size[j]) == 0;
    if (seen) continue;
    int w = snprintf(buf + used, size - used, "%s%s", used ? "," : "", pts->model_size[i]);
    if (w < 0 || (size_t)w >= size - used) break;
    used += (size_t)w;
  }
}

static void at_bound_text(char *buf, size_t size, const HbScalingFit *fit) {
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < HB_SC_NP; k++) {
    if (!fit->best.bound[k]) continue;
    int w = snprintf(buf + used, size - used, "%s%s:%s", used ? "," : "", hb_scaling_param_name(k),
                     fit->best.bound[k] < 0 ? "lower" : "upper");
    if (w < 0 || (size_t)w >= size - used) break;
    used += (size_t)w;
  }
  if (!used) snprintf(buf, size, "none");
}

typedef struct {
  const char *in_path;
  HbFormula formula;
  int longppl, validate;
  double epsilon;
  const HbScalingFit *fit;
  const HbScalingData *data; /* the fitted points */
  const HbScalingBootstrap *bs;
  const HbScalingPoints *train, *val;
  const double *pred_train, *pred_val;
  Quality q_train, q_val;
} ScalingReport;

static void print_param_line(const ScalingReport *r, int k, double value) {
  const HbScalingFit *fit = r->fit;
  const HbScalingModel *m = &fit->fitted;
  printf("  %-6s = %-12.6g", hb_scaling_param_name(k), value);
  if (r->bs->k > 0 && isfinite(r->bs->lo[k]))
    printf(" 95%% bootstrap interval [%.6g, %.6g]", r->bs->lo[k], r->bs->hi[k]);
  if (fit->best.bound[k]) {
    double g[HB_SC_NP];
    hb_scaling_objective(m, r->data, fit->best.p, g, NULL);
    printf("  ON ITS %s BOUND (d objective / d %s = %+.3g pushes beyond it): not an interior estimate",
           fit->best.bound[k] < 0 ? "LOWER" : "UPPER", hb_scaling_param_name(k), g[k]);
  }
  printf("\n");
}

static void print_scaling_report(const ScalingReport *r, const HbScalingPoints *all) {
  const HbScalingFit *fit = r->fit;
  const HbScalingModel *m = &fit->model;
  const int has_a = m->has_term[HB_TERM_A];
  char sizes[256];
  printf("hybench fit scaling: %s\n", r->in_path);
  printf("formula %s: log L = LSE(%sB - alpha log N, C - beta log D), i.e. L = %sb N^-alpha + c D^-beta\n",
         hb_scaling_formula_name(r->formula), has_a ? "A, " : "", has_a ? "a + " : "");
  printf("target: %s; objective: sum of Huber(residual of log L), epsilon %g\n",
         r->longppl ? "log(LongPPL) (--longppl)" : "loss", r->epsilon);
  printf("bounds:");
  for (int k = 0; k < HB_SC_NP; k++) {
    if (!hb_scaling_param_used(m, k) || (!isfinite(m->lo[k]) && !isfinite(m->hi[k]))) continue;
    if (isfinite(m->hi[k])) printf(" %s in [%g, %g]", hb_scaling_param_name(k), m->lo[k], m->hi[k]);
    else printf(" %s >= %g", hb_scaling_param_name(k), m->lo[k]);
  }
  printf("\n");
  size_list(sizes, sizeof sizes, r->train);
  printf("points: %d in the file; fitted %d (%s)", all->n, r->train->n, sizes);
  if (r->validate) {
    size_list(sizes, sizeof sizes, r->val);
    printf("; held out %d (%s, the largest model)", r->val->n, sizes);
  }
  printf("\n");
  printf("minimiser: %d BFGS2 starts on a bound-respecting transform, over the formula's grid and the grids of\n"
         "  its limits without one term each (converged %d, stalled %d, capped %d, failed %d); %d endpoints\n"
         "  polished by projected Newton; %.2f s\n",
         fit->starts, fit->starts_converged, fit->starts_stalled, fit->starts_capped, fit->starts_failed,
         fit->polished, fit->seconds);

  double rep[HB_SC_NP];
  hb_scaling_reported(rep, fit->best.p);
  printf("\n");
  if (fit->limit_term >= 0) {
    printf("NO FINITE MINIMISER: the objective keeps falling as %s", limit_names[fit->limit_term]);
    if (fit->limit_term == HB_TERM_A) printf(" (A = log a -> -inf)");
    printf(".\n  infimum %.9g, reached only in the limit; the best point at finite parameters found has "
           "objective %.15g (%+.2g relative)\n",
           fit->best.objective, fit->interior_objective, fit->interior_objective / fit->best.objective - 1);
    if (fit->limit_term == HB_TERM_A)
      printf("  d objective / d a at a = 0: %+.3g (%s)\n", fit->limit_slope,
             fit->limit_slope > 0 ? "> 0: any a > 0 raises the objective" : "<= 0");
    printf("  the other parameters below are the limit's (the fit without that term), not estimates of a "
           "finite minimiser\n");
  } else {
    printf("objective %.9g\n", fit->best.objective);
  }
  printf("  converged: %s (gradient norm over free parameters %.2g, tolerance %g; %d Newton iterations)\n",
         fit->best.converged ? "yes" : "NO", fit->best.grad_norm, HB_SCALING_GTOL, fit->best.iterations);
  for (int k = 0; k < HB_SC_NP; k++) {
    if (!hb_scaling_param_used(m, k)) continue;
    if (fit->limit_term >= 0 && !hb_scaling_param_used(&fit->fitted, k)) {
      if (k == HB_SC_A || k == HB_SC_B || k == HB_SC_C)
        printf("  %-6s -> 0 (limit, not an estimate)\n", hb_scaling_param_name(k));
      else
        printf("  %-6s undetermined (its term vanished)\n", hb_scaling_param_name(k));
      continue;
    }
    print_param_line(r, k, rep[k]);
  }
  if (r->bs->k > 0)
    printf("  bootstrap: %d resamples (seed %lu), %d refits converged, %d did not, %d with a vanishing term\n",
           r->bs->k, r->bs->seed, r->bs->n_ok, r->bs->n_failed, r->bs->n_limit);

  printf("\nHessian of the objective at the optimum, eigenvalues over (");
  int first = 1;
  for (int k = 0; k < HB_SC_NP; k++)
    if (hb_scaling_param_used(&fit->fitted, k)) {
      printf("%s%s", first ? "" : ", ", k == HB_SC_A ? "A" : k == HB_SC_B ? "B" : k == HB_SC_C ? "C" : hb_scaling_param_name(k));
      first = 0;
    }
  printf("):");
  for (int i = 0; i < fit->n_eig; i++) printf(" %.3g", fit->hess_eig[i]);
  if (fit->eig_status != GSL_SUCCESS) printf(" (eigen solver: %s)", gsl_strerror(fit->eig_status));
  int on_bound = 0;
  for (int k = 0; k < HB_SC_NP; k++) on_bound |= fit->best.bound[k] != 0;
  if (on_bound) printf("\n  (with a parameter on its bound the full Hessian need not be positive definite)");
  printf("\n  over the free parameters:");
  for (int i = 0; i < fit->n_eig_free; i++) printf(" %.3g", fit->hess_eig_free[i]);
  if (fit->n_eig_free > 0 && fit->hess_eig_free[0] > 0) {
    double cond = fit->hess_eig_free[fit->n_eig_free - 1] / fit->hess_eig_free[0];
    printf("  (condition number %.2g%s)", cond,
           cond > 1e4 ? ": some directions are poorly determined by the data" : "");
  }
  printf("\n");

  if (fit->limit_term < 0 && fit->n_minima > 1) {
    printf("\nother local minima found by the multistart (objective within 1%% of the best are near-ties):\n");
    for (int i = 0; i < fit->n_minima; i++) {
      double mr[HB_SC_NP];
      hb_scaling_reported(mr, fit->minima[i].p);
      printf("  %s objective %.9g (%+.2e relative), reached by %d polished endpoints:", i == 0 ? "*" : " ",
             fit->minima[i].objective, fit->minima[i].objective / fit->minima[0].objective - 1,
             fit->minima[i].hits);
      for (int k = 0; k < HB_SC_NP; k++)
        if (hb_scaling_param_used(m, k)) printf(" %s=%.6g", hb_scaling_param_name(k), mr[k]);
      printf("\n");
    }
  }

  const char *unit = r->longppl ? "log LongPPL" : "loss";
  printf("\nfit quality on the %d fitted points (%s): R2 %.6f  RMSE %.6f  MAE %.6f\n", r->train->n, unit,
         r->q_train.r2, r->q_train.rmse, r->q_train.mae);
  if (r->validate) {
    printf("validation on the %d held-out points (%s): R2 %.6f  RMSE %.6f  MAE %.6f\n", r->val->n, unit,
           r->q_val.r2, r->q_val.rmse, r->q_val.mae);
    printf("  %-10s %-16s %12s %14s %10s %10s %10s", "model_size", "token_mult", "n", "D", "actual", "predicted",
           "diff");
    if (r->longppl) printf(" %10s %10s %10s", "actual_ppl", "pred_ppl", "diff_ppl");
    printf("\n");
    for (int i = 0; i < r->val->n; i++) {
      double a = r->val->loss[i], p = r->pred_val[i];
      printf("  %-10s %-16s %12.0f %14.6g %10.6f %10.6f %10.6f", r->val->model_size[i],
             r->val->token_multiplier[i], r->val->n_params[i], r->val->tokens[i], a, p, a - p);
      if (r->longppl) printf(" %10.4f %10.4f %10.4f", exp(a), exp(p), exp(a) - exp(p));
      printf("\n");
    }
  }
}

/* The scaling table: one row per set of points (fit, validation) and one per
 * point, written by write_scaling_tsv (the values are its loop's). */
#define SCALING_COLUMNS(X, X_IF)                                                                                     \
  X("kind", str, kind_names[kind], "fit | validation (the row's set of points) | train_point | validation_point")    \
  X("model_size", str, point ? pts->model_size[i] : set_sizes, "the point's model size; on set rows the set's")      \
  X("token_multiplier", str, point ? pts->token_multiplier[i] : "-", "the point's (as in the input); - on set rows") \
  X("n", double, point ? pts->n_params[i] : NAN, "the point's parameters N; nan on set rows")                        \
  X("d", double, point ? pts->tokens[i] : NAN, "the point's training tokens D; nan on set rows")                     \
  X("formula", str, hb_scaling_formula_name(r->formula), "no_constant | default (every row repeats the fit)")        \
  X("target", str, r->longppl ? "log_longppl" : "loss", "loss | log_longppl (--longppl)")                            \
  X("epsilon", double, r->epsilon, "Huber threshold on log residuals")                                               \
  X("objective", double, fit->best.objective, "the minimum (with a limit: the infimum)")                             \
  X_IF(has_a, "a", double, rep[HB_SC_A], "formula default only: the constant a (0 with limit a->0)")                 \
  X("b", double, rep[HB_SC_B], "coefficient of N^-alpha in L = [a +] b N^-alpha + c D^-beta")                        \
  X("c", double, rep[HB_SC_C], "coefficient of D^-beta")                                                             \
  X("alpha", double, rep[HB_SC_ALPHA], "exponent of N")                                                              \
  X("beta", double, rep[HB_SC_BETA], "exponent of D")                                                                \
  X("at_bound", str, bound_text, "parameters on a bound, e.g. alpha:upper,beta:lower; or none")                      \
  X("limit", str, fit->limit_term >= 0 ? limit_names[fit->limit_term] : "none",                                      \
    "none, or a->0 / b->0 / c->0: no finite minimiser, the objective falls as that coefficient -> 0; "               \
    "the other parameters are then the limit's, not estimates of a finite minimiser")                                \
  X("r2", double, point ? NAN : q->r2,                                                                               \
    "R2 on the row's set, in loss units (log LongPPL with --longppl); nan on point rows")                            \
  X("rmse", double, point ? NAN : q->rmse, "RMSE on the row's set; nan on point rows")                               \
  X("mae", double, point ? NAN : q->mae, "MAE on the row's set; nan on point rows")                                  \
  X("n_points", long, point ? 1 : pts->n, "points in the row's set; 1 on point rows")                                \
  X("actual", double, actual, "the point's loss (log LongPPL with --longppl); nan on set rows")                      \
  X("predicted", double, predicted, "the fit's prediction at the point; nan on set rows")                            \
  X("diff", double, actual - predicted, "actual - predicted")                                                        \
  X_IF(r->longppl, "actual_ppl", double, exp(actual), "with --longppl: exp(actual)")                                 \
  X_IF(r->longppl, "predicted_ppl", double, exp(predicted), "with --longppl: exp(predicted)")                        \
  X_IF(r->longppl, "diff_ppl", double, exp(actual) - exp(predicted), "with --longppl: actual_ppl - predicted_ppl")   \
  X("hess_eig_min", double, fit->n_eig ? fit->hess_eig[0] : NAN,                                                     \
    "smallest eigenvalue of the objective's Hessian over the internal parameters (log coefficients, exponents)")     \
  X("hess_eig_max", double, fit->n_eig ? fit->hess_eig[fit->n_eig - 1] : NAN, "largest eigenvalue of that Hessian")  \
  X("grad_norm", double, fit->best.grad_norm, "gradient norm over the free parameters")                              \
  X("status", str, fit->best.converged ? "converged" : "not_converged", "converged | not_converged")                 \
  X("iterations", long, fit->best.iterations, "Newton iterations of the polish")                                     \
  X("starts", long, fit->starts, "BFGS2 starts over the formula and its limits")                                     \
  X("starts_converged", long, fit->starts_converged, "starts that converged")                                        \
  X("starts_stalled", long, fit->starts_stalled, "starts that stalled (GSL_ENOPROG)")                                \
  X("starts_capped", long, fit->starts_capped, "starts stopped by the iteration limit")                              \
  X("starts_failed", long, fit->starts_failed, "starts with another status or a non-finite objective")               \
  X("hess_status", str, gsl_status_name(fit->eig_status), "status of the GSL eigen solver")                          \
  X_IF(has_a, "a_lo", double, r->bs->lo[HB_SC_A], "formula default only: 2.5% bootstrap percentile of a")            \
  X_IF(has_a, "a_hi", double, r->bs->hi[HB_SC_A], "formula default only: 97.5% bootstrap percentile of a")           \
  X("b_lo", double, r->bs->lo[HB_SC_B], "2.5% bootstrap percentile of b (nan without --bootstrap)")                  \
  X("b_hi", double, r->bs->hi[HB_SC_B], "97.5% bootstrap percentile of b")                                           \
  X("c_lo", double, r->bs->lo[HB_SC_C], "2.5% bootstrap percentile of c")                                            \
  X("c_hi", double, r->bs->hi[HB_SC_C], "97.5% bootstrap percentile of c")                                           \
  X("alpha_lo", double, r->bs->lo[HB_SC_ALPHA], "2.5% bootstrap percentile of alpha")                                \
  X("alpha_hi", double, r->bs->hi[HB_SC_ALPHA], "97.5% bootstrap percentile of alpha")                               \
  X("beta_lo", double, r->bs->lo[HB_SC_BETA], "2.5% bootstrap percentile of beta")                                   \
  X("beta_hi", double, r->bs->hi[HB_SC_BETA], "97.5% bootstrap percentile of beta")                                  \
  X("bootstrap_k", long, r->bs->k, "resamples drawn (--bootstrap)")                                                  \
  X("bootstrap_ok", long, r->bs->n_ok, "resamples whose refit converged (they make the intervals)")                  \
  X("bootstrap_failed", long, r->bs->n_failed, "resamples whose refit did not converge")                             \
  X("bootstrap_limit", long, r->bs->n_limit, "converged resamples in which a term vanished")                         \
  X("seed", long, (long)r->bs->seed, "the bootstrap's seed (--seed)")

static const HbColumn scaling_columns_doc[] = {SCALING_COLUMNS(HB_COLUMN, HB_COLUMN_DOC_IF)};

static void write_scaling_tsv(const char *path, const ScalingReport *r) {
  static const char *const kind_names[4] = {"fit", "validation", "train_point", "validation_point"};
  const HbScalingFit *fit = r->fit;
  const int has_a = fit->model.has_term[HB_TERM_A];
  double rep[HB_SC_NP];
  hb_scaling_reported(rep, fit->best.p);
  char bound_text[128], sizes_train[256], sizes_val[256];
  at_bound_text(bound_text, sizeof bound_text, fit);
  size_list(sizes_train, sizeof sizes_train, r->train);
  size_list(sizes_val, sizeof sizes_val, r->val);

  HbTsvWriter writer, *w = &writer;
  const HbColumn cols[] = {SCALING_COLUMNS(HB_COLUMN, HB_COLUMN_IF)};
  hb_tsv_writer_open_columns(w, path, NULL, 0, cols, HB_NCOLS(cols));
  /* kinds: 0 fit, 1 validation, 2 train_point, 3 validation_point */
  for (int kind = 0; kind < 4; kind++) {
    if ((kind == 1 || kind == 3) && !r->validate) continue;
    const HbScalingPoints *pts = kind == 0 || kind == 2 ? r->train : r->val;
    const double *pred = kind == 0 || kind == 2 ? r->pred_train : r->pred_val;
    const Quality *q = kind == 0 || kind == 2 ? &r->q_train : &r->q_val;
    const char *set_sizes = kind == 0 ? sizes_train : sizes_val;
    int n_rows = kind < 2 ? 1 : pts->n;
    for (int i = 0; i < n_rows; i++) {
      const int point = kind >= 2;
      double actual = point ? pts->loss[i] : NAN, predicted = point ? pred[i] : NAN;
      SCALING_COLUMNS(HB_PUT, HB_PUT_IF)
      hb_tsv_end_row(w);
    }
  }
  hb_tsv_writer_commit(w);
}

/* train = the points to fit; val = the largest model's points when validate
 * (held out and predicted), else none. */
static void split_held_out(HbScalingPoints *train, HbScalingPoints *val, const HbScalingPoints *all, int validate) {
  int *keep = hb_malloc((size_t)(all->n + 1) * sizeof *keep);
  int largest = 0;
  for (int i = 0; i < all->n; i++)
    if (all->n_params[i] > all->n_params[largest]) largest = i;
  for (int i = 0; i < all->n; i++)
    keep[i] = !validate || strcmp(all->model_size[i], all->model_size[largest]) != 0;
  hb_scaling_points_select(train, all, keep);
  for (int i = 0; i < all->n; i++) keep[i] = !keep[i];
  hb_scaling_points_select(val, all, keep);
  free(keep);
}

static int cmd_fit_scaling(int argc, char **argv) {
  const char *in_path = NULL, *out_path = NULL, *formula_name = "no_constant", *param_field = "n";
  int longppl = 0, validate = 0;
  double epsilon = 1e-3;
  long bootstrap = 0, seed = 1;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in_path, "scaling points TSV: model_size, token_multiplier (e.g. 200n), n, loss", 1},
      {"formula", HB_OPT_STR, &formula_name, "no_constant (b N^-alpha + c D^-beta) or default (a + ...)", 0},
      {"longppl", HB_OPT_FLAG, &longppl, "the loss column is LongPPL: fit log(LongPPL)", 0},
      {"validate", HB_OPT_FLAG, &validate, "hold out the largest model and predict it", 0},
      {"epsilon", HB_OPT_DOUBLE, &epsilon, "Huber threshold on log residuals", 0},
      {"param-field", HB_OPT_STR, &param_field, "column holding the parameter count N", 0},
      {"bootstrap", HB_OPT_LONG, &bootstrap, "resamples for 95% parameter intervals (0: none)", 0},
      {"seed", HB_OPT_LONG, &seed, "seed of the bootstrap's gsl_rng_mt19937", 0},
      {"out", HB_OPT_STR, &out_path, "write the fit table here (atomically)", 0},
      {0},
  };
  const HbTableDoc tables[] = {{"--out FIT.tsv, one row per set of points and one per point",
                                scaling_columns_doc, HB_NCOLS(scaling_columns_doc)}};
  char *usage = hb_usage_with_tables(
      "The scaling-law fit of the paper's released code (fit_scaling.py), found to its true\n"
      "optimum: log-space log-sum-exp form, Huber objective, a grid of BFGS2 starts, projected\n"
      "Newton polish. Reports parameters on a bound, parameters running off to a limit (no\n"
      "finite minimiser), Hessian eigenvalues and bootstrap intervals.",
      tables, 1);
  hb_parse_args("fit scaling", usage, opts, argc, argv);
  free(usage);
  HbFormula formula;
  if (strcmp(formula_name, "no_constant") == 0) formula = HB_FORMULA_NO_CONSTANT;
  else if (strcmp(formula_name, "default") == 0) formula = HB_FORMULA_DEFAULT;
  else hb_input_error("fit scaling --formula", "'%s' is not a formula (no_constant or default)", formula_name);
  if (!(epsilon > 0)) hb_input_error("fit scaling --epsilon", "%g must be > 0", epsilon);
  if (bootstrap < 0 || bootstrap > 1000000) hb_input_error("fit scaling --bootstrap", "%ld is not in [0, 1e6]", bootstrap);
  if (seed < 0) hb_input_error("fit scaling --seed", "%ld must be >= 0", seed);

  HbScalingPoints all, train, val;
  hb_scaling_points_read(&all, in_path, param_field, longppl);
  split_held_out(&train, &val, &all, validate);

  HbScalingModel model;
  hb_scaling_model_init(&model, formula, epsilon);
  const int n_par = hb_scaling_nparams(&model);
  if (train.n <= n_par) {
    char where[512];
    if (train.n > 0)
      snprintf(where, sizeof where, "%s: rows %d-%d, column loss", in_path, train.row[0], train.row[train.n - 1]);
    else
      snprintf(where, sizeof where, "%s: column %s", in_path, param_field);
    hb_input_error(where, "%d point%s to fit%s; formula %s has %d parameters and needs more points than that",
                   train.n, train.n == 1 ? "" : "s",
                   validate ? " after --validate holds out the largest model" : "", formula_name, n_par);
  }

  HbScalingData data = hb_scaling_points_data(&train);
  HbScalingFit fit;
  hb_scaling_fit(&fit, &model, &data);
  HbScalingBootstrap bs;
  hb_scaling_bootstrap(&bs, &fit, &data, (int)bootstrap, (unsigned long)seed);

  double *pred_train = hb_malloc((size_t)(train.n + 1) * sizeof(double));
  double *pred_val = hb_malloc((size_t)(val.n + 1) * sizeof(double));
  predict_points(pred_train, &fit, &train);
  predict_points(pred_val, &fit, &val);
  ScalingReport r = {
      .in_path = in_path, .formula = formula, .longppl = longppl, .validate = validate, .epsilon = epsilon,
      .fit = &fit, .data = &data, .bs = &bs, .train = &train, .val = &val, .pred_train = pred_train, .pred_val = pred_val,
      .q_train = quality(train.loss, pred_train, train.n), .q_val = quality(val.loss, pred_val, val.n)};
  print_scaling_report(&r, &all);
  if (out_path) {
    write_scaling_tsv(out_path, &r);
    printf("\nwrote %s\n", out_path);
  }
  free(pred_train);
  free(pred_val);
  hb_scaling_points_free(&train);
  hb_scaling_points_free(&val);
  hb_scaling_points_free(&all);
  return 0; /* a fit that did not converge says so in its status column */
}

/* ===== emergence ========================================================== */

/* Splits "a,b,c" into names (at most max); input error on an empty name. */
static int split_names(char **names, int max, char *list, const char *option) {
  int n = 0;
  if (!list[0]) return 0;
  for (char *tok = list;; tok = NULL) {
    char *name = strtok(tok, ",");
    if (!name) break;
    if (n == max) hb_input_error(option, "more than %d columns", max);
    names[n++] = name;
  }
  return n;
}

static void print_key(const HbTsv *t, int row, const int *cols, int n_cols) {
  char key[4096];
  printf("%s", n_cols ? hb_tsv_key_text(key, sizeof key, t, row, cols, n_cols) : "(all rows)");
}

/* The per-run table, after the --group columns (a run's values are its
 * HbEmergeRun `run` and the fit `f`; include/hybench/fit.h says how each is
 * found). */
#define EMERGENCE_RUN_COLUMNS(X)                                                                                  \
  X("n_points", long, f->n, "checkpoints fitted")                                                                 \
  X("t50", double, f->t50, "tokens at half rise (status ok; else nan)")                                           \
  X("t50_se", double, f->t50_se, "its standard error")                                                            \
  X("t50_lower", double, f->t50_lower, "not_risen, unresolved: t50 is above this (the last checkpoint's tokens)") \
  X("t50_upper", double, f->t50_upper, "early, unresolved: t50 is below this")                                    \
  X("lo", double, f->lo, "the logistic's start level")                                                            \
  X("hi", double, f->hi, "its end level")                                                                         \
  X("s", double, f->s, "its width in log tokens")                                                                 \
  X("status", str, hb_emergence_status_name(f->status), "ok | not_risen | early | unresolved | failed")           \
  X("iterations", long, f->iterations, "of the chosen start")                                                     \
  X("gsl_status", str, gsl_status_name(f->gsl_status), "GSL status of the chosen start")                          \
  X("rise_p", double, f->rise_p, "F test, logistic against a constant")                                           \
  X("late_p", double, f->late_p, "F test of a midpoint beyond the last checkpoint against the free fit")          \
  X("early_p", double, f->early_p, "F test of a midpoint before the first checkpoint")                            \
  X("rmse", double, f->rmse, "of the logistic fit")                                                               \
  X("threshold", double, spec->threshold, "--threshold (nan: none)")                                              \
  X("t_cross", double, run->t_cross, "tokens at the first crossing of the threshold (with --sustained: the one "  \
                                     "after which the metric stays at or above it); nan if never")                \
  X("cross_status", str, run->cross_status, "crossed | at_first (at or before the first checkpoint) | never | -") \
  X("t_cross_cens", double, run->t_cross_cens, "t_cross, or the run's last tokens when it never crossed "         \
                                               "(censored at the budget: a lower bound claims can average)")

/* The per-hybrid table, after the --group columns but the seed (a hybrid's
 * summary `s`; the rules are hb_emergence_summarize's). */
#define EMERGENCE_SUMMARY_COLUMNS(X)                                                                            \
  X("n_seeds", long, s->n_seeds, "runs of the hybrid")                                                          \
  X("n_ok", long, s->n_ok, "seeds with status ok")                                                              \
  X("n_not_risen", long, s->n_not_risen, "seeds not risen by their last checkpoint")                            \
  X("n_other", long, s->n_other, "seeds early, unresolved or failed")                                           \
  X("t50_mean", double, s->t50_mean, "mean t50 over the seeds, only when every seed is ok")                     \
  X("t50_sd", double, s->t50_sd, "its sample sd")                                                               \
  X("t50_min", double, s->t50_min, "smallest t50 of the ok seeds")                                              \
  X("t50_max", double, s->t50_max, "largest t50 of the ok seeds")                                               \
  X("t50_mean_lower", double, s->t50_mean_lower, "with some seeds not risen (the rest ok): the mean with each " \
                                                 "lower bound in place of its t50, a lower bound on the mean")  \
  X("status", str, s->status, "ok | lower_bound | incomplete")                                                  \
  X("threshold", double, spec->threshold, "--threshold (nan: none)")                                            \
  X("n_cross", long, s->n_cross, "seeds that crossed after their first checkpoint")                             \
  X("t_cross_mean", double, s->t_cross_mean, "mean crossing, only when every seed crossed so")                  \
  X("t_cross_sd", double, s->t_cross_sd, "its sample sd")

static const HbColumn emergence_run_columns[] = {EMERGENCE_RUN_COLUMNS(HB_COLUMN)};
static const HbColumn emergence_summary_columns[] = {EMERGENCE_SUMMARY_COLUMNS(HB_COLUMN)};

static void print_emergence_report(const HbEmergeTable *et, const HbTsv *t, const HbEmergeSpec *spec,
                                   const char *seed_col) {
  const double threshold = spec->threshold;
  printf("hybench fit emergence: %s, %s against %s, %d group%s", t->path, t->header[spec->y_col],
         t->header[spec->x_col], et->n_runs, et->n_runs == 1 ? "" : "s");
  if (isfinite(threshold)) printf(", threshold %g", threshold);
  printf("\n");
  for (int g = 0; g < et->n_runs; g++) {
    const HbEmergeRun *run = &et->runs[g];
    const HbEmergeFit *f = &run->fit;
    printf("  ");
    print_key(t, run->row, spec->key_cols, spec->n_keys);
    printf(": %d points, %s", f->n, hb_emergence_status_name(f->status));
    switch (f->status) {
    case HB_EMERGE_OK:
      printf(" t50 %.4g +- %.2g (lo %.4g, hi %.4g, s %.3g)", f->t50, f->t50_se, f->lo, f->hi, f->s);
      break;
    case HB_EMERGE_NOT_RISEN: printf(" t50 > %.4g (no rise seen by the last checkpoint)", f->t50_lower); break;
    case HB_EMERGE_EARLY: printf(" t50 < %.4g (risen before the first checkpoint)", f->t50_upper); break;
    case HB_EMERGE_UNRESOLVED: printf(" t50 in [%.4g, %.4g] (a step between checkpoints)", f->t50_lower, f->t50_upper); break;
    case HB_EMERGE_FAILED: printf(" (gsl: %s)", gsl_strerror(f->gsl_status)); break;
    }
    printf(", rise p %.2g", f->rise_p);
    if (isfinite(f->late_p)) printf(", midpoint-beyond-the-ends p %.2g / %.2g", f->late_p, f->early_p);
    if (isfinite(threshold)) {
      if (isnan(run->t_cross)) printf(", %s %g", spec->sustained ? "does not end at or above" : "never reaches", threshold);
      else printf(", %s %g at %s%.4g", spec->sustained ? "stays at or above" : "crosses", threshold,
                  run->cross_at_first ? "or before " : "", run->t_cross);
    }
    printf("\n");
  }
  if (spec->seed_key < 0) return;
  printf("per hybrid, across seeds (%s):\n", seed_col);
  for (int h = 0; h < et->n_hybrids; h++) {
    const HbEmergeSummary *s = &et->hybrids[h].summary;
    printf("  ");
    print_key(t, et->hybrids[h].row, et->hybrid_cols, et->n_hybrid_cols);
    printf(": %d seeds (%d ok, %d not risen, %d other), %s", s->n_seeds, s->n_ok, s->n_not_risen, s->n_other,
           s->status);
    if (isfinite(s->t50_mean)) printf(", t50 mean %.4g sd %.2g [min %.4g, max %.4g]", s->t50_mean, s->t50_sd, s->t50_min, s->t50_max);
    if (isfinite(s->t50_mean_lower)) printf(", mean t50 >= %.4g", s->t50_mean_lower);
    if (isfinite(s->t_cross_mean)) printf(", crossing mean %.4g sd %.2g", s->t_cross_mean, s->t_cross_sd);
    printf("\n");
  }
}

/* The per-run table, or (per_hybrid) the per-hybrid one: the key cells of
 * each run's (hybrid's) first row, then the table's columns. */
static void write_emergence_table(const char *path, int per_hybrid, const HbEmergeTable *et, const HbTsv *t,
                                  const HbEmergeSpec *spec) {
  const int *key_cols = per_hybrid ? et->hybrid_cols : spec->key_cols;
  const int n_keys = per_hybrid ? et->n_hybrid_cols : spec->n_keys, n_items = per_hybrid ? et->n_hybrids : et->n_runs;
  const char *keys[HB_EMERGE_MAX_KEYS];
  for (int j = 0; j < n_keys; j++) keys[j] = t->header[key_cols[j]];
  HbTsvWriter writer, *w = &writer;
  if (per_hybrid)
    hb_tsv_writer_open_columns(w, path, keys, n_keys, emergence_summary_columns, HB_NCOLS(emergence_summary_columns));
  else
    hb_tsv_writer_open_columns(w, path, keys, n_keys, emergence_run_columns, HB_NCOLS(emergence_run_columns));
  for (int i = 0; i < n_items; i++) {
    const int row = per_hybrid ? et->hybrids[i].row : et->runs[i].row;
    for (int j = 0; j < n_keys; j++) hb_tsv_put_str(w, hb_tsv_str(t, row, key_cols[j]));
    if (per_hybrid) {
      const HbEmergeSummary *s = &et->hybrids[i].summary;
      EMERGENCE_SUMMARY_COLUMNS(HB_PUT)
    } else {
      const HbEmergeRun *run = &et->runs[i];
      const HbEmergeFit *f = &run->fit;
      EMERGENCE_RUN_COLUMNS(HB_PUT)
    }
    hb_tsv_end_row(w);
  }
  hb_tsv_writer_commit(w);
}

static int cmd_fit_emergence(int argc, char **argv) {
  const char *in_path = NULL, *x_name = "tokens", *y_name = NULL, *group_opt = "", *seed_col = "seed";
  const char *out_path = NULL, *summary_path = NULL;
  HbEmergeSpec spec = {.threshold = NAN, .rise_p_max = 0.01, .min_rise = 0, .seed_key = -1};
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in_path, "metrics TSV (one row per checkpoint)", 1},
      {"y", HB_OPT_STR, &y_name, "metric column (e.g. far_acc)", 1},
      {"x", HB_OPT_STR, &x_name, "training-token column (> 0)", 0},
      {"group", HB_OPT_STR, &group_opt, "comma-separated columns naming a run (e.g. model,seed)", 0},
      {"seed-col", HB_OPT_STR, &seed_col, "the seed column; the other --group columns name a hybrid", 0},
      {"threshold", HB_OPT_DOUBLE, &spec.threshold, "also report the first crossing of this metric level", 0},
      {"sustained", HB_OPT_FLAG, &spec.sustained, "the crossing after which the metric stays at or above the level", 0},
      {"rise-p", HB_OPT_DOUBLE, &spec.rise_p_max, "F-test p-value below which the curve counts as risen", 0},
      {"min-rise", HB_OPT_DOUBLE, &spec.min_rise, "a fitted rise hi - lo below this counts as not risen", 0},
      {"out", HB_OPT_STR, &out_path, "per-run table (atomically)", 0},
      {"summary-out", HB_OPT_STR, &summary_path, "per-hybrid table across seeds (atomically)", 0},
      {0},
  };
  const HbTableDoc tables[] = {
      {"--out OUT.tsv, one row per run: the --group columns, then", emergence_run_columns,
       HB_NCOLS(emergence_run_columns)},
      {"--summary-out SUMMARY.tsv, one row per hybrid: the --group columns but --seed-col, then",
       emergence_summary_columns, HB_NCOLS(emergence_summary_columns)}};
  char *usage = hb_usage_with_tables(
      "Per run (the rows sharing the --group values), a logistic in log tokens fitted with\n"
      "gsl_multifit_nlinear: t50 (tokens at half rise) with its standard error, lo, hi, s and\n"
      "the status (ok; not_risen: t50 is only a lower bound; early; unresolved; failed). Per\n"
      "hybrid (the --group columns but --seed-col), mean and spread of t50 over seeds. Summary\n"
      "rules: include/hybench/fit.h.",
      tables, 2);
  hb_parse_args("fit emergence", usage, opts, argc, argv);
  free(usage);
  if (!(spec.rise_p_max > 0 && spec.rise_p_max < 1))
    hb_input_error("fit emergence --rise-p", "%g is not in (0, 1)", spec.rise_p_max);
  if (!(spec.min_rise >= 0)) hb_input_error("fit emergence --min-rise", "%g is not >= 0", spec.min_rise);
  char *group_list = hb_strdup(group_opt);
  char *group_names[HB_EMERGE_MAX_KEYS];
  spec.n_keys = split_names(group_names, HB_EMERGE_MAX_KEYS, group_list, "fit emergence --group");

  HbTsv t;
  hb_tsv_read(&t, in_path);
  spec.x_col = hb_tsv_require_col(&t, x_name);
  spec.y_col = hb_tsv_require_col(&t, y_name);
  for (int j = 0; j < spec.n_keys; j++) {
    spec.key_cols[j] = hb_tsv_require_col(&t, group_names[j]);
    if (strcmp(group_names[j], seed_col) == 0) spec.seed_key = j;
  }
  if (summary_path && spec.seed_key < 0)
    hb_input_error("fit emergence --summary-out", "the seed column '%s' (--seed-col) is not one of --group '%s'",
                   seed_col, group_opt);
  HbEmergeTable et;
  hb_emergence_table(&et, &t, &spec);
  print_emergence_report(&et, &t, &spec, seed_col);
  if (out_path) {
    write_emergence_table(out_path, 0, &et, &t, &spec);
    printf("wrote %s\n", out_path);
  }
  if (summary_path) {
    write_emergence_table(summary_path, 1, &et, &t, &spec);
    printf("wrote %s\n", summary_path);
  }
  hb_emergence_table_free(&et);
  hb_tsv_free(&t);
  free(group_list);
  return 0;
}

/* ===== the logistic-step law ============================================== */

/* hybench fit step --in POINTS.tsv [--validate] [--out FIT.tsv]: the law of
 * include/hybench/fit.h on y = log LongPPL. FIT.tsv: one row per set of
 * points and one per point, the columns below (step_row's arguments). */
#define STEP_COLUMNS(X)                                                                                        \
  X("kind", str, kind, "fit | validation (the row's set of points) | train_point | validation_point")          \
  X("model_size", str, size, "the point's model size; on set rows the set's sizes")                            \
  X("token_multiplier", str, mult, "the point's tokens per parameter, as in the input; - on set rows")         \
  X("n", double, n, "the point's parameters N; nan on set rows")                                               \
  X("d", double, d, "the point's training tokens D; nan on set rows")                                          \
  X("lo", double, f->lo, "the law's parameters, repeated on every row: log LongPPL after the step")            \
  X("hi", double, f->hi, "log LongPPL before the step")                                                        \
  X("k", double, f->k, "the step's steepness in log tokens")                                                   \
  X("m0", double, f->m0, "the step's midpoint in log tokens at log N = n_center")                              \
  X("g", double, f->g, "how much earlier (log tokens per log parameter) a larger model steps")                 \
  X("n_center", double, f->n_center, "the fitted points' mean log N")                                          \
  X("r2", double, q.r2, "R2 in log LongPPL on the row's set; nan on point rows")                               \
  X("rmse", double, q.rmse, "RMSE in log LongPPL on the row's set; nan on point rows")                         \
  X("n_points", double, n_points >= 0 ? n_points : NAN, "points in the row's set; nan on point rows")          \
  X("actual", double, actual, "the point's log LongPPL; nan on set rows")                                      \
  X("predicted", double, predicted, "the law's log LongPPL at the point; nan on set rows")                     \
  X("status", str, hb_step_status_name(f->status), "ok | midpoint_outside | not_converged | no_step | failed") \
  X("step_p", double, f->step_p, "F test of the step against a constant")                                      \
  X("iterations", long, f->iterations, "of the best start")                                                    \
  X("starts", long, f->starts, "least-squares starts")                                                         \
  X("starts_failed", long, f->starts_failed, "starts that did not converge")

static const HbColumn step_columns[] = {STEP_COLUMNS(HB_COLUMN)};

static void step_row(HbTsvWriter *w, const HbStepFit *f, const char *kind, const char *size, const char *mult,
                     double n, double d, Quality q, int n_points, double actual, double predicted) {
  STEP_COLUMNS(HB_PUT)
  hb_tsv_end_row(w);
}

static int cmd_fit_step(int argc, char **argv) {
  const char *in_path = NULL, *out_path = NULL;
  int validate = 0;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in_path, "scaling points TSV: model_size, token_multiplier (e.g. 200n), n, loss (LongPPL)", 1},
      {"validate", HB_OPT_FLAG, &validate, "hold out the largest model and predict it", 0},
      {"out", HB_OPT_STR, &out_path, "write the fit table here (atomically)", 0},
      {0},
  };
  const HbTableDoc tables[] = {
      {"--out FIT.tsv, one row per set of points and one per point", step_columns, HB_NCOLS(step_columns)}};
  char *usage = hb_usage_with_tables(
      "fit step --in POINTS.tsv [--validate] [--out FIT.tsv]\n\n"
      "The logistic-step law of LongPPL (include/hybench/fit.h), fitted beside the paper's power law:\n"
      "log LongPPL = lo + (hi - lo) / (1 + exp(k (log D - m0 + g (log N - n_center)))). Least\n"
      "squares from 24 starts; R2 and RMSE in log LongPPL on the fitted points and, with\n"
      "--validate, on the held-out largest model.",
      tables, 1);
  hb_parse_args("fit step", usage, opts, argc, argv);
  free(usage);
  HbScalingPoints all, train, val;
  hb_scaling_points_read(&all, in_path, "n", 1);
  split_held_out(&train, &val, &all, validate);
  if (train.n < HB_STEP_MIN_POINTS)
    hb_input_error(in_path, "%d points to fit%s; the step law has 5 parameters and needs at least %d", train.n,
                   validate ? " after --validate holds out the largest model" : "", HB_STEP_MIN_POINTS);
  HbStepFit fit;
  hb_step_fit(&fit, train.log_n, train.log_d, train.loss, train.n);
  double *pred_train = hb_malloc((size_t)(train.n + 1) * sizeof(double));
  double *pred_val = hb_malloc((size_t)(val.n + 1) * sizeof(double));
  for (int i = 0; i < train.n; i++) pred_train[i] = hb_step_predict(&fit, train.log_n[i], train.log_d[i]);
  for (int i = 0; i < val.n; i++) pred_val[i] = hb_step_predict(&fit, val.log_n[i], val.log_d[i]);
  Quality q_train = quality(train.loss, pred_train, train.n), q_val = quality(val.loss, pred_val, val.n);
  printf("step law on %d points of %s: lo %.4g hi %.4g k %.4g m0 %.4g (%.3gM tokens at log N %.3f) g %.4g; %s "
         "(step vs constant: p %.2g)\n",
         train.n, in_path, fit.lo, fit.hi, fit.k, fit.m0, exp(fit.m0) / 1e6, fit.n_center, fit.g,
         hb_step_status_name(fit.status), fit.step_p);
  printf("fit quality (log LongPPL): R2 %.4f RMSE %.4f", q_train.r2, q_train.rmse);
  if (val.n) printf("; held-out %s: R2 %.4f RMSE %.4f", val.model_size[0], q_val.r2, q_val.rmse);
  printf("\n");
  if (out_path) {
    HbTsvWriter w;
    hb_tsv_writer_open_columns(&w, out_path, NULL, 0, step_columns, HB_NCOLS(step_columns));
    char sizes[512];
    size_list(sizes, sizeof sizes, &train);
    step_row(&w, &fit, "fit", sizes, "-", NAN, NAN, q_train, train.n, NAN, NAN);
    if (val.n) {
      size_list(sizes, sizeof sizes, &val);
      step_row(&w, &fit, "validation", sizes, "-", NAN, NAN, q_val, val.n, NAN, NAN);
    }
    Quality none = {NAN, NAN, NAN};
    for (int i = 0; i < train.n; i++)
      step_row(&w, &fit, "train_point", train.model_size[i], train.token_multiplier[i], train.n_params[i],
               train.tokens[i], none, -1, train.loss[i], pred_train[i]);
    for (int i = 0; i < val.n; i++)
      step_row(&w, &fit, "validation_point", val.model_size[i], val.token_multiplier[i], val.n_params[i],
               val.tokens[i], none, -1, val.loss[i], pred_val[i]);
    hb_tsv_writer_commit(&w);
    printf("wrote %s\n", out_path);
  }
  free(pred_train);
  free(pred_val);
  hb_scaling_points_free(&train);
  hb_scaling_points_free(&val);
  hb_scaling_points_free(&all);
  return 0; /* a fit that failed says so in its status column */
}

/* ===== statistics over seeds ============================================= */

/* The statistics of each --cols column C, written as C_<name> (`s`: the
 * column's HbSeedStats over one group's rows). */
#define SEED_STAT_COLUMNS(X)                                                                           \
  X("n", long, s.n, "cells of C that are numbers (nan, inf and - are missing: e.g. never crossed)") \
  X("mean", double, s.mean, "their mean (nan when there are none)")                                  \
  X("sd", double, s.sd, "their sample sd (nan below two)")                                           \
  X("median", double, s.median, "their median (the mean of the middle two when n is even)")          \
  X("min", double, s.min, "the smallest")                                                            \
  X("max", double, s.max, "the largest")

static const HbColumn seed_stat_columns[] = {SEED_STAT_COLUMNS(HB_COLUMN)};

/* A cell for the statistics: its number, or nan when it is missing (nan,
 * inf, -inf or -); anything else is an input error naming the cell. */
static double seed_cell(const HbTsv *t, int row, int col) {
  const char *text = hb_tsv_str(t, row, col);
  char *end;
  double v = strtod(text, &end);
  if (strcmp(text, "-") == 0) return NAN;
  if (end == text || *end != '\0') {
    char where[512];
    hb_input_error(hb_tsv_where(where, sizeof where, t, row, col), "'%s' is not a number (nor nan, inf or -)", text);
  }
  return v;
}

/* Header: the group columns, n_rows, then C_<stat> for each value column C. */
static char **seed_stats_header(int *n_out, const HbTsv *t, const int *key_cols, int n_keys, const int *val_cols,
                                int n_vals) {
  const int n_stats = HB_NCOLS(seed_stat_columns);
  char **header = hb_malloc((size_t)(n_keys + 1 + n_vals * n_stats) * sizeof *header);
  int n = 0;
  for (int j = 0; j < n_keys; j++) header[n++] = hb_strdup(t->header[key_cols[j]]);
  header[n++] = hb_strdup("n_rows");
  for (int v = 0; v < n_vals; v++)
    for (int k = 0; k < n_stats; k++) {
      size_t len = strlen(t->header[val_cols[v]]) + strlen(seed_stat_columns[k].name) + 2;
      header[n] = hb_malloc(len);
      snprintf(header[n++], len, "%s_%s", t->header[val_cols[v]], seed_stat_columns[k].name);
    }
  *n_out = n;
  return header;
}

static int cmd_fit_seeds(int argc, char **argv) {
  const char *in_path = NULL, *group_opt = "", *cols_opt = NULL, *out_path = NULL;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in_path, "table with one row per seed (e.g. per run's final checkpoint)", 1},
      {"group", HB_OPT_STR, &group_opt, "comma-separated columns naming a group (e.g. mask,model)", 0},
      {"cols", HB_OPT_STR, &cols_opt, "comma-separated columns to summarise (e.g. tokens_to_50,far_acc)", 1},
      {"out", HB_OPT_STR, &out_path, "write the statistics table here (atomically)", 0},
      {0},
  };
  const HbTableDoc tables[] = {{"--out STATS.tsv, one row per group: the --group columns, n_rows (the group's "
                                "rows), then for each --cols column C, C_ followed by",
                                seed_stat_columns, HB_NCOLS(seed_stat_columns)}};
  char *usage = hb_usage_with_tables(
      "fit seeds --in T.tsv [--group COLS] --cols COLS [--out STATS.tsv]\n\n"
      "Per group (the rows sharing the --group values, in order of first appearance; no --group:\n"
      "the whole table), the statistics over seeds that every C table uses (hb_seed_stats,\n"
      "include/hybench/stats.h): count, mean, sample sd, median, min and max of each --cols\n"
      "column over the cells that are numbers.",
      tables, 1);
  hb_parse_args("fit seeds", usage, opts, argc, argv);
  free(usage);
  char *group_list = hb_strdup(group_opt), *cols_list = hb_strdup(cols_opt);
  char *group_names[HB_EMERGE_MAX_KEYS], *col_names[64];
  int n_keys = split_names(group_names, HB_EMERGE_MAX_KEYS, group_list, "fit seeds --group");
  int n_vals = split_names(col_names, 64, cols_list, "fit seeds --cols");
  if (n_vals == 0) hb_input_error("fit seeds --cols", "names no column");
  HbTsv t;
  hb_tsv_read(&t, in_path);
  int key_cols[HB_EMERGE_MAX_KEYS], val_cols[64];
  for (int j = 0; j < n_keys; j++) key_cols[j] = hb_tsv_require_col(&t, group_names[j]);
  for (int v = 0; v < n_vals; v++) val_cols[v] = hb_tsv_require_col(&t, col_names[v]);
  double *cell = hb_malloc(((size_t)t.n_rows * n_vals + 1) * sizeof *cell); /* (n_rows, n_vals) */
  for (int r = 0; r < t.n_rows; r++)
    for (int v = 0; v < n_vals; v++) cell[(size_t)r * n_vals + v] = seed_cell(&t, r, val_cols[v]);
  int *group = hb_malloc(((size_t)t.n_rows + 1) * sizeof *group), n_groups = hb_tsv_group_rows(group, &t, key_cols, n_keys);
  double *values = hb_malloc(((size_t)t.n_rows + 1) * sizeof *values); /* one group's cells of one column */

  int n_cols;
  char **header = seed_stats_header(&n_cols, &t, key_cols, n_keys, val_cols, n_vals);
  HbTsvWriter writer, *w = &writer;
  if (out_path) hb_tsv_writer_open(w, out_path, (const char *const *)header, n_cols);
  printf("hybench fit seeds: %s, %d group%s\n", in_path, n_groups, n_groups == 1 ? "" : "s");
  for (int g = 0; g < n_groups; g++) {
    int first = 0, n_rows = 0;
    while (group[first] != g) first++;
    for (int r = first; r < t.n_rows; r++) n_rows += group[r] == g;
    char key[1024];
    printf("  %s: %d rows", n_keys ? hb_tsv_key_text(key, sizeof key, &t, first, key_cols, n_keys) : "(all rows)", n_rows);
    if (out_path) {
      for (int j = 0; j < n_keys; j++) hb_tsv_put_str(w, hb_tsv_str(&t, first, key_cols[j]));
      hb_tsv_put_long(w, n_rows);
    }
    for (int v = 0; v < n_vals; v++) {
      int k = 0;
      for (int r = first; r < t.n_rows; r++)
        if (group[r] == g) values[k++] = cell[(size_t)r * n_vals + v];
      HbSeedStats s = hb_seed_stats(values, k);
      printf("; %s mean %.4g sd %.2g median %.4g (%d)", col_names[v], s.mean, s.sd, s.median, s.n);
      if (out_path) {
        SEED_STAT_COLUMNS(HB_PUT)
      }
    }
    printf("\n");
    if (out_path) hb_tsv_end_row(w);
  }
  if (out_path) {
    hb_tsv_writer_commit(w);
    printf("wrote %s\n", out_path);
  }
  for (int j = 0; j < n_cols; j++) free(header[j]);
  free(header);
  free(values);
  free(group);
  free(cell);
  hb_tsv_free(&t);
  free(cols_list);
  free(group_list);
  return 0;
}

/* ===== straight-line trend ================================================ */

/* One row per --group value, then the pooled fit `all` (a row's fit `f`, its
 * name and its count of censored rows; include/hybench/fit.h says how each
 * number is found). */
#define TREND_COLUMNS(X)                                                                                          \
  X("group", str, name, "the --group value (in order of first appearance); all: every row, pooled")              \
  X("n", long, f->n, "rows fitted")                                                                              \
  X("n_censored", long, n_censored, "of them with --censored 1: y only a lower bound, fitted as given")         \
  X("n_x", long, f->n_x, "distinct x values (a fit needs at least 3)")                                           \
  X("intercept", double, f->intercept, "a in y = a + b x (x, y after --log2-x / --log2-y); nan unless ok")       \
  X("intercept_se", double, f->intercept_se, "its standard error")                                               \
  X("slope", double, f->slope, "b")                                                                              \
  X("slope_se", double, f->slope_se, "its standard error")                                                       \
  X("slope_lo95", double, f->slope_lo95, "95% interval of b: slope - t(0.975, n-2) slope_se")                    \
  X("slope_hi95", double, f->slope_hi95, "slope + t(0.975, n-2) slope_se")                                       \
  X("slope_p", double, f->slope_p, "two-sided p-value of b = 0 (t statistic, n-2 degrees of freedom)")           \
  X("resid_sd", double, f->resid_sd, "residual sd, sqrt(RSS/(n-2))")                                             \
  X("r2", double, f->r2, "1 - RSS/TSS (nan when y is constant)")                                                 \
  X("status", str, hb_trend_status_name(f->status), "ok | too_few (fewer than 3 distinct x: nan estimates) | " \
                                                    "failed (gsl_fit_linear error or overflow)")

static const HbColumn trend_columns[] = {TREND_COLUMNS(HB_COLUMN)};

static void trend_row(HbTsvWriter *w, const char *name, const HbTrendFit *f, int n_censored) {
  TREND_COLUMNS(HB_PUT)
  hb_tsv_end_row(w);
}

static void print_trend_line(const char *name, const HbTrendFit *f, int n_censored) {
  printf("  %s: n %d", name, f->n);
  if (n_censored) printf(" (%d censored)", n_censored);
  printf(", %d x value%s: ", f->n_x, f->n_x == 1 ? "" : "s");
  if (f->status == HB_TREND_OK)
    printf("slope %.4g +- %.2g (95%% [%.4g, %.4g], p %.2g), intercept %.4g +- %.2g, resid sd %.3g, r2 %.3f\n",
           f->slope, f->slope_se, f->slope_lo95, f->slope_hi95, f->slope_p, f->intercept, f->intercept_se,
           f->resid_sd, f->r2);
  else if (f->status == HB_TREND_TOO_FEW)
    printf("too_few (a line with its uncertainty needs %d distinct x)\n", HB_TREND_MIN_X);
  else
    printf("failed (gsl_fit_linear error or overflow)\n");
}

/* A cell of --x or --y as fitted: its number, or with `log2` (the flag's name,
 * or NULL) the log2 of a number > 0. Input error naming the cell otherwise. */
static double trend_cell(const HbTsv *t, int row, int col, const char *log2_flag) {
  double v = hb_tsv_double(t, row, col);
  if (log2_flag && !(v > 0)) {
    char where[512];
    hb_input_error(hb_tsv_where(where, sizeof where, t, row, col), "%s must be > 0 (%s fits its log2)",
                   hb_tsv_str(t, row, col), log2_flag);
  }
  return log2_flag ? log2(v) : v;
}

static int cmd_fit_trend(int argc, char **argv) {
  const char *in_path = NULL, *x_name = NULL, *y_name = NULL, *group_name = NULL, *censored_name = NULL;
  const char *out_path = NULL;
  int log2_x = 0, log2_y = 0;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in_path, "table with a header (e.g. one row per run)", 1},
      {"x", HB_OPT_STR, &x_name, "numeric column of the predictor (e.g. window)", 1},
      {"y", HB_OPT_STR, &y_name, "numeric column of the response (e.g. t_cross_cens)", 1},
      {"group", HB_OPT_STR, &group_name, "a column whose values each get their own fit (e.g. T)", 0},
      {"log2-x", HB_OPT_FLAG, &log2_x, "fit on log2 of x (values must be > 0)", 0},
      {"log2-y", HB_OPT_FLAG, &log2_y, "fit on log2 of y (values must be > 0)", 0},
      {"censored", HB_OPT_STR, &censored_name, "a 0/1 column: 1 marks a y that is only a lower bound", 0},
      {"out", HB_OPT_STR, &out_path, "write the trend table here (atomically)", 0},
      {0},
  };
  const HbTableDoc tables[] = {
      {"--out TREND.tsv, one row per --group value, then the pooled row all", trend_columns, HB_NCOLS(trend_columns)}};
  char *usage = hb_usage_with_tables(
      "fit trend --in T.tsv --x COL --y COL [--group COL] [--log2-x] [--log2-y] [--censored COL]\n"
      "    [--out TREND.tsv]\n\n"
      "Ordinary least squares y = a + b x (gsl_fit_linear) with standard errors, the slope's 95%\n"
      "interval and the p-value of slope 0 (t distribution, n-2 degrees of freedom), per --group\n"
      "value and pooled over all rows; e.g. does the delay of emergence grow with log2 w or with\n"
      "log2(w/T)? Rows with --censored 1 (runs that never crossed, y censored at the budget) are\n"
      "fitted as given and counted in n_censored: a slope resting on them is a bound, not an estimate.",
      tables, 1);
  hb_parse_args("fit trend", usage, opts, argc, argv);
  free(usage);

  HbTsv t;
  hb_tsv_read(&t, in_path);
  const int x_col = hb_tsv_require_col(&t, x_name), y_col = hb_tsv_require_col(&t, y_name);
  const int group_col = group_name ? hb_tsv_require_col(&t, group_name) : -1;
  const int censored_col = censored_name ? hb_tsv_require_col(&t, censored_name) : -1;
  const size_t n_rows = (size_t)t.n_rows;
  double *x = hb_malloc((n_rows + 1) * sizeof *x), *y = hb_malloc((n_rows + 1) * sizeof *y); /* (n_rows) */
  int *censored = hb_malloc((n_rows + 1) * sizeof *censored);                               /* (n_rows) 0/1 */
  for (int r = 0; r < t.n_rows; r++) {
    x[r] = trend_cell(&t, r, x_col, log2_x ? "--log2-x" : NULL);
    y[r] = trend_cell(&t, r, y_col, log2_y ? "--log2-y" : NULL);
    censored[r] = 0;
    if (censored_col >= 0) {
      double c;
      if (!hb_tsv_parse_double(&t, r, censored_col, &c) || (c != 0 && c != 1)) {
        char where[512];
        hb_input_error(hb_tsv_where(where, sizeof where, &t, r, censored_col),
                       "'%s' is not 0 or 1 (--censored: 1 marks a y that is only a lower bound)",
                       hb_tsv_str(&t, r, censored_col));
      }
      censored[r] = c == 1;
    }
    if (group_col >= 0 && strcmp(hb_tsv_str(&t, r, group_col), "all") == 0) {
      char where[512];
      hb_input_error(hb_tsv_where(where, sizeof where, &t, r, group_col),
                     "'all' is the name of the pooled fit; rename this group");
    }
  }
  int *group = hb_malloc((n_rows + 1) * sizeof *group); /* (n_rows) */
  const int n_groups = group_col >= 0 ? hb_tsv_group_rows(group, &t, &group_col, 1) : 0;
  /* Fits: one per group, then the pooled one (index n_groups). */
  HbTrendFit *fits = hb_malloc(((size_t)n_groups + 1) * sizeof *fits);
  int *n_censored = hb_calloc((size_t)n_groups + 1, sizeof *n_censored);
  const char **names = hb_malloc(((size_t)n_groups + 1) * sizeof *names);
  double *gx = hb_malloc((n_rows + 1) * sizeof *gx), *gy = hb_malloc((n_rows + 1) * sizeof *gy); /* (n) one group's */
  for (int g = 0; g <= n_groups; g++) {
    int n = 0;
    names[g] = "all";
    for (int r = 0; r < t.n_rows; r++) {
      if (g < n_groups && group[r] != g) continue;
      if (g < n_groups && n == 0) names[g] = hb_tsv_str(&t, r, group_col);
      gx[n] = x[r], gy[n] = y[r], n_censored[g] += censored[r];
      n++;
    }
    hb_trend_fit(&fits[g], gx, gy, n);
  }

  printf("hybench fit trend: %s, %s%s%s = a + b %s%s%s", in_path, log2_y ? "log2(" : "", y_name, log2_y ? ")" : "",
         log2_x ? "log2(" : "", x_name, log2_x ? ")" : "");
  if (group_col >= 0) printf(", per %s (%d group%s) and pooled", group_name, n_groups, n_groups == 1 ? "" : "s");
  if (censored_col >= 0) printf("; %s = 1: y is a lower bound", censored_name);
  printf("\n");
  for (int g = 0; g <= n_groups; g++) print_trend_line(names[g], &fits[g], n_censored[g]);
  if (out_path) {
    HbTsvWriter w;
    hb_tsv_writer_open_columns(&w, out_path, NULL, 0, trend_columns, HB_NCOLS(trend_columns));
    for (int g = 0; g <= n_groups; g++) trend_row(&w, names[g], &fits[g], n_censored[g]);
    hb_tsv_writer_commit(&w);
    printf("wrote %s\n", out_path);
  }
  free(gx);
  free(gy);
  free(names);
  free(n_censored);
  free(fits);
  free(group);
  free(censored);
  free(y);
  free(x);
  hb_tsv_free(&t);
  return 0; /* a group with too few points says so in its status column */
}

/* ===== dispatch =========================================================== */

static void fit_usage(FILE *fp) {
  fprintf(fp,
          "usage: hybench fit KIND [options]   (hybench fit KIND --help for each)\n\n"
          "kinds:\n"
          "  scaling    scaling-law fit of loss (or LongPPL) against parameters and tokens:\n"
          "             the paper's method to its true optimum, bounds, limits, Hessian, bootstrap\n"
          "  emergence  logistic fit of a metric against log tokens per run: emergence point t50\n"
          "             with its standard error, threshold crossings, mean and spread over seeds\n"
          "  step       the logistic-step law of LongPPL against parameters and tokens (beside the\n"
          "             power law: emergence is a step)\n"
          "  seeds      count, mean, sd, median, min and max over seeds per group (hb_seed_stats)\n"
          "  trend      least-squares line y = a + b x with standard errors, the slope's 95%% interval\n"
          "             and p-value, per group and pooled (e.g. emergence delay against log2 window)\n");
}

int cmd_fit(int argc, char **argv) {
  hb_fit_gsl_init();
  if (argc < 2) {
    fit_usage(stderr);
    return HB_EXIT_INPUT;
  }
  const char *kind = argv[1];
  if (strcmp(kind, "--help") == 0 || strcmp(kind, "-h") == 0 || strcmp(kind, "help") == 0) {
    fit_usage(stdout);
    return 0;
  }
  if (strcmp(kind, "scaling") == 0) return cmd_fit_scaling(argc - 1, argv + 1);
  if (strcmp(kind, "emergence") == 0) return cmd_fit_emergence(argc - 1, argv + 1);
  if (strcmp(kind, "step") == 0) return cmd_fit_step(argc - 1, argv + 1);
  if (strcmp(kind, "seeds") == 0) return cmd_fit_seeds(argc - 1, argv + 1);
  if (strcmp(kind, "trend") == 0) return cmd_fit_trend(argc - 1, argv + 1);
  hb_input_error("fit", "unknown kind '%s' (scaling, emergence, step, seeds or trend; see hybench fit --help)", kind);
}
