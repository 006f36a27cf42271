/* `hybench fit`: GSL fits on result tables (the methods are in
 * include/hybench/fit.h).
 *
 * hybench fit scaling --in POINTS.tsv [--formula no_constant|default] [--longppl]
 *     [--validate] [--epsilon 1e-3] [--param-field n] [--bootstrap K] [--seed S]
 *     [--out FIT.tsv]
 *   POINTS.tsv: model_size, token_multiplier ("<number>n"), n, loss.
 *   FIT.tsv, one row per line below, identifying columns first:
 *     kind             fit (the fitted points), validation (the held-out
 *                      points, with --validate), train_point / validation_point
 *                      (one per point);
 *     model_size, token_multiplier, n, d   the point (summary rows: the sizes,
 *                      "-", nan, nan);
 *     formula, target (loss | log_longppl), epsilon, objective,
 *     [a], b, c, alpha, beta   the fit (every row repeats it); a only for
 *                      formula default. With limit a->0, a is 0 and b, c,
 *                      alpha, beta are the limit's values, not estimates of a
 *                      finite minimiser;
 *     at_bound         "alpha:upper,beta:lower" or "none";
 *     limit            "none", or "a->0" / "b->0" / "c->0": no finite
 *                      minimiser, the objective falls as that coefficient -> 0;
 *     r2, rmse, mae, n_points   on the row's set of points (nan on point rows),
 *                      in loss units (log LongPPL with --longppl), as the
 *                      reference script computes them;
 *     actual, predicted, diff   point rows (nan on summary rows);
 *     [actual_ppl, predicted_ppl, diff_ppl]   with --longppl: exp of the above;
 *     hess_eig_min, hess_eig_max   eigenvalues of the objective's Hessian over
 *                      the internal parameters (log coefficients, exponents);
 *     grad_norm, status (converged | not_converged), iterations (Newton),
 *     starts, starts_converged, starts_stalled, starts_capped, starts_failed
 *                      (BFGS2 outcomes), hess_status (GSL eigen solver);
 *     [a_lo, a_hi], b_lo, ..., beta_hi   95% bootstrap percentile intervals
 *                      (nan without --bootstrap), bootstrap_k, bootstrap_ok,
 *                      bootstrap_failed, bootstrap_limit, seed.
 *
 * hybench fit emergence --in METRICS.tsv --y COLUMN [--x tokens] [--group COLS]
 *     [--seed-col seed] [--threshold LEVEL [--sustained]] [--rise-p 0.01] [--min-rise 0]
 *     [--out OUT.tsv]
 *     [--summary-out SUMMARY.tsv]
 *   One logistic fit per group (the rows sharing the values of the --group
 *   columns; no --group: the whole table), at least 5 points each.
 *   OUT.tsv: the group columns, then n_points, t50, t50_se, t50_lower,
 *     t50_upper, lo, hi, s, status (ok | not_risen | early | unresolved |
 *     failed), iterations, gsl_status, rise_p (logistic vs constant), late_p /
 *     early_p (a midpoint beyond the last / before the first checkpoint vs the
 *     free fit), rmse, threshold, t_cross (the first crossing of the
 *     threshold; with --sustained the one after which the metric stays at or
 *     above it), cross_status (crossed | at_first | never | -), t_cross_cens
 *     (t_cross, or the group's last x when it never crossed: censored at the
 *     budget, a lower bound that claims can average). A not-risen
 *     run has t50 nan and t50_lower = its last checkpoint's tokens.
 *   SUMMARY.tsv (needs --seed-col among the --group columns): per hybrid (the
 *     group columns but the seed column): n_seeds, n_ok, n_not_risen, n_other,
 *     t50_mean, t50_sd, t50_min, t50_max, t50_mean_lower, status, threshold,
 *     n_cross, t_cross_mean, t_cross_sd. A seed that has not risen has only a
 *     lower bound on its t50: t50_mean and t50_sd need every seed ok; with
 *     some not risen, t50_mean_lower (the mean with each lower bound in place
 *     of its t50) bounds the hybrid's mean from below; see fit.h.
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

static void write_scaling_tsv(const char *path, const ScalingReport *r) {
  const HbScalingFit *fit = r->fit;
  const int has_a = fit->model.has_term[HB_TERM_A];
  const char *cols[64];
  int nc = 0;
#define COL(name) (cols[nc++] = (name))
  COL("kind"), COL("model_size"), COL("token_multiplier"), COL("n"), COL("d");
  COL("formula"), COL("target"), COL("epsilon"), COL("objective");
  if (has_a) COL("a");
  COL("b"), COL("c"), COL("alpha"), COL("beta"), COL("at_bound"), COL("limit");
  COL("r2"), COL("rmse"), COL("mae"), COL("n_points");
  COL("actual"), COL("predicted"), COL("diff");
  if (r->longppl) COL("actual_ppl"), COL("predicted_ppl"), COL("diff_ppl");
  COL("hess_eig_min"), COL("hess_eig_max"), COL("grad_norm"), COL("status"), COL("iterations");
  COL("starts"), COL("starts_converged"), COL("starts_stalled"), COL("starts_capped"), COL("starts_failed");
  COL("hess_status");
  if (has_a) COL("a_lo"), COL("a_hi");
  COL("b_lo"), COL("b_hi"), COL("c_lo"), COL("c_hi"), COL("alpha_lo"), COL("alpha_hi"), COL("beta_lo"),
      COL("beta_hi");
  COL("bootstrap_k"), COL("bootstrap_ok"), COL("bootstrap_failed"), COL("bootstrap_limit"), COL("seed");
#undef COL
  HB_ASSERT(nc <= 64, "the column list fits its array");

  double rep[HB_SC_NP];
  hb_scaling_reported(rep, fit->best.p);
  char bound_text[128], sizes_train[256], sizes_val[256];
  at_bound_text(bound_text, sizeof bound_text, fit);
  size_list(sizes_train, sizeof sizes_train, r->train);
  size_list(sizes_val, sizeof sizes_val, r->val);

  HbTsvWriter w;
  hb_tsv_writer_open(&w, path, cols, nc);
  /* kinds: 0 fit, 1 validation, 2 train_point, 3 validation_point */
  for (int kind = 0; kind < 4; kind++) {
    if ((kind == 1 || kind == 3) && !r->validate) continue;
    const HbScalingPoints *pts = kind == 0 || kind == 2 ? r->train : r->val;
    const double *pred = kind == 0 || kind == 2 ? r->pred_train : r->pred_val;
    const Quality *q = kind == 0 || kind == 2 ? &r->q_train : &r->q_val;
    int n_rows = kind < 2 ? 1 : pts->n;
    for (int i = 0; i < n_rows; i++) {
      const int point = kind >= 2;
      static const char *const kind_names[4] = {"fit", "validation", "train_point", "validation_point"};
      hb_tsv_put_str(&w, kind_names[kind]);
      hb_tsv_put_str(&w, point ? pts->model_size[i] : (kind == 0 ? sizes_train : sizes_val));
      hb_tsv_put_str(&w, point ? pts->token_multiplier[i] : "-");
      hb_tsv_put_double(&w, point ? pts->n_params[i] : NAN);
      hb_tsv_put_double(&w, point ? pts->tokens[i] : NAN);
      hb_tsv_put_str(&w, hb_scaling_formula_name(r->formula));
      hb_tsv_put_str(&w, r->longppl ? "log_longppl" : "loss");
      hb_tsv_put_double(&w, r->epsilon);
      hb_tsv_put_double(&w, fit->best.objective);
      if (has_a) hb_tsv_put_double(&w, rep[HB_SC_A]);
      hb_tsv_put_double(&w, rep[HB_SC_B]);
      hb_tsv_put_double(&w, rep[HB_SC_C]);
      hb_tsv_put_double(&w, rep[HB_SC_ALPHA]);
      hb_tsv_put_double(&w, rep[HB_SC_BETA]);
      hb_tsv_put_str(&w, bound_text);
      hb_tsv_put_str(&w, fit->limit_term >= 0 ? limit_names[fit->limit_term] : "none");
      hb_tsv_put_double(&w, point ? NAN : q->r2);
      hb_tsv_put_double(&w, point ? NAN : q->rmse);
      hb_tsv_put_double(&w, point ? NAN : q->mae);
      hb_tsv_put_long(&w, point ? 1 : pts->n);
      double a = point ? pts->loss[i] : NAN, p = point ? pred[i] : NAN;
      hb_tsv_put_double(&w, a);
      hb_tsv_put_double(&w, p);
      hb_tsv_put_double(&w, a - p);
      if (r->longppl) {
        hb_tsv_put_double(&w, exp(a));
        hb_tsv_put_double(&w, exp(p));
        hb_tsv_put_double(&w, exp(a) - exp(p));
      }
      hb_tsv_put_double(&w, fit->n_eig ? fit->hess_eig[0] : NAN);
      hb_tsv_put_double(&w, fit->n_eig ? fit->hess_eig[fit->n_eig - 1] : NAN);
      hb_tsv_put_double(&w, fit->best.grad_norm);
      hb_tsv_put_str(&w, fit->best.converged ? "converged" : "not_converged");
      hb_tsv_put_long(&w, fit->best.iterations);
      hb_tsv_put_long(&w, fit->starts);
      hb_tsv_put_long(&w, fit->starts_converged);
      hb_tsv_put_long(&w, fit->starts_stalled);
      hb_tsv_put_long(&w, fit->starts_capped);
      hb_tsv_put_long(&w, fit->starts_failed);
      hb_tsv_put_str(&w, gsl_status_name(fit->eig_status));
      for (int k = has_a ? HB_SC_A : HB_SC_B; k < HB_SC_NP; k++) {
        hb_tsv_put_double(&w, r->bs->lo[k]);
        hb_tsv_put_double(&w, r->bs->hi[k]);
      }
      hb_tsv_put_long(&w, r->bs->k);
      hb_tsv_put_long(&w, r->bs->n_ok);
      hb_tsv_put_long(&w, r->bs->n_failed);
      hb_tsv_put_long(&w, r->bs->n_limit);
      hb_tsv_put_long(&w, (long)r->bs->seed);
      hb_tsv_end_row(&w);
    }
  }
  hb_tsv_writer_commit(&w);
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
  hb_parse_args("fit scaling",
                "The scaling-law fit of the paper's released code (fit_scaling.py), found to its true\n"
                "optimum: log-space log-sum-exp form, Huber objective, a grid of BFGS2 starts, projected\n"
                "Newton polish. Reports parameters on a bound, parameters running off to a limit (no\n"
                "finite minimiser), Hessian eigenvalues and bootstrap intervals; --out columns are listed\n"
                "in src/cmd_fit.c.",
                opts, argc, argv);
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

typedef struct {
  int n_rows;
  int *rows; /* (n_rows) data rows of the group, 0-based */
} Group;

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

static int same_key(const HbTsv *t, int row_a, int row_b, const int *cols, int n_cols) {
  for (int j = 0; j < n_cols; j++)
    if (strcmp(hb_tsv_str(t, row_a, cols[j]), hb_tsv_str(t, row_b, cols[j])) != 0) return 0;
  return 1;
}

/* Groups rows by the values of cols, in order of first appearance: returns
 * the number of groups; groups (t->n_rows) must be zeroed. */
static int group_rows(Group *groups, const HbTsv *t, const int *cols, int n_cols) {
  int n_groups = 0;
  for (int r = 0; r < t->n_rows; r++) {
    int g = 0;
    while (g < n_groups && !same_key(t, groups[g].rows[0], r, cols, n_cols)) g++;
    if (g == n_groups) {
      groups[g].rows = hb_malloc((size_t)t->n_rows * sizeof(int));
      groups[g].n_rows = 0;
      n_groups++;
    }
    groups[g].rows[groups[g].n_rows++] = r;
  }
  return n_groups;
}

static void print_key(const HbTsv *t, int row, const int *cols, int n_cols) {
  if (n_cols == 0) printf("(all rows)");
  for (int j = 0; j < n_cols; j++)
    printf("%s%s=%s", j ? " " : "", t->header[cols[j]], hb_tsv_str(t, row, cols[j]));
}

/* The largest x of a group (the budget its run reached). */
static double last_x(const double *x, int n) {
  double m = x[0];
  for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

static int cmd_fit_emergence(int argc, char **argv) {
  const char *in_path = NULL, *x_name = "tokens", *y_name = NULL, *group_opt = "", *seed_col = "seed";
  const char *out_path = NULL, *summary_path = NULL;
  double threshold = NAN, rise_p = 0.01, min_rise = 0;
  int sustained = 0;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in_path, "metrics TSV (one row per checkpoint)", 1},
      {"y", HB_OPT_STR, &y_name, "metric column (e.g. far_acc)", 1},
      {"x", HB_OPT_STR, &x_name, "training-token column (> 0)", 0},
      {"group", HB_OPT_STR, &group_opt, "comma-separated columns naming a run (e.g. model,seed)", 0},
      {"seed-col", HB_OPT_STR, &seed_col, "the seed column; the other --group columns name a hybrid", 0},
      {"threshold", HB_OPT_DOUBLE, &threshold, "also report the first crossing of this metric level", 0},
      {"sustained", HB_OPT_FLAG, &sustained, "the crossing after which the metric stays at or above the level", 0},
      {"rise-p", HB_OPT_DOUBLE, &rise_p, "F-test p-value below which the curve counts as risen", 0},
      {"min-rise", HB_OPT_DOUBLE, &min_rise, "a fitted rise hi - lo below this counts as not risen", 0},
      {"out", HB_OPT_STR, &out_path, "per-run table (atomically)", 0},
      {"summary-out", HB_OPT_STR, &summary_path, "per-hybrid table across seeds (atomically)", 0},
      {0},
  };
  hb_parse_args("fit emergence",
                "Per run (the rows sharing the --group values), a logistic in log tokens fitted with\n"
                "gsl_multifit_nlinear: t50 (tokens at half rise) with its standard error, lo, hi, s and\n"
                "the status (ok; not_risen: t50 is only a lower bound; early; unresolved; failed). Per\n"
                "hybrid (the --group columns but --seed-col), mean and spread of t50 over seeds. Output\n"
                "columns and summary rules: src/cmd_fit.c and include/hybench/fit.h.",
                opts, argc, argv);
  if (!(rise_p > 0 && rise_p < 1)) hb_input_error("fit emergence --rise-p", "%g is not in (0, 1)", rise_p);
  if (!(min_rise >= 0)) hb_input_error("fit emergence --min-rise", "%g is not >= 0", min_rise);
  char *group_list = hb_strdup(group_opt);
  char *group_names[16];
  int n_keys = split_names(group_names, 16, group_list, "fit emergence --group");

  HbTsv t;
  hb_tsv_read(&t, in_path);
  int x_col = hb_tsv_require_col(&t, x_name), y_col = hb_tsv_require_col(&t, y_name);
  int key_cols[16], seed_key = -1;
  for (int j = 0; j < n_keys; j++) {
    key_cols[j] = hb_tsv_require_col(&t, group_names[j]);
    if (strcmp(group_names[j], seed_col) == 0) seed_key = j;
  }
  if (summary_path && seed_key < 0)
    hb_input_error("fit emergence --summary-out", "the seed column '%s' (--seed-col) is not one of --group '%s'",
                   seed_col, group_opt);
  if (t.n_rows == 0) {
    char where[512];
    snprintf(where, sizeof where, "%s:%d (header), column %s", in_path, t.header_line, y_name);
    hb_input_error(where, "no data rows");
  }
  double *x = hb_malloc((size_t)t.n_rows * sizeof *x), *y = hb_malloc((size_t)t.n_rows * sizeof *y);
  for (int r = 0; r < t.n_rows; r++) {
    x[r] = hb_tsv_double(&t, r, x_col);
    y[r] = hb_tsv_double(&t, r, y_col);
    if (!(x[r] > 0)) {
      char where[512];
      hb_input_error(hb_tsv_where(where, sizeof where, &t, r, x_col), "%s must be > 0 (tokens, fitted in log)",
                     hb_tsv_str(&t, r, x_col));
    }
  }
  Group *groups = hb_calloc((size_t)t.n_rows, sizeof *groups);
  int n_groups = group_rows(groups, &t, key_cols, n_keys);

  HbEmergeFit *fits = hb_calloc((size_t)n_groups, sizeof *fits);
  double *t_cross = hb_malloc((size_t)n_groups * sizeof *t_cross);
  double *t_cens = hb_malloc((size_t)n_groups * sizeof *t_cens);
  int *at_first = hb_calloc((size_t)n_groups, sizeof *at_first);
  double *gx = hb_malloc((size_t)t.n_rows * sizeof *gx), *gy = hb_malloc((size_t)t.n_rows * sizeof *gy);
  for (int g = 0; g < n_groups; g++) {
    const Group *grp = &groups[g];
    if (grp->n_rows < HB_EMERGE_MIN_POINTS) {
      char where[512];
      int r0 = grp->rows[0], r1 = grp->rows[grp->n_rows - 1];
      char key[256] = "the whole table";
      size_t used = 0;
      for (int j = 0; j < n_keys && used + 1 < sizeof key; j++) {
        int k = snprintf(key + used, sizeof key - used, "%s%s=%s", j ? " " : "", t.header[key_cols[j]],
                         hb_tsv_str(&t, r0, key_cols[j]));
        if (k < 0) break;
        used += (size_t)k;
      }
      snprintf(where, sizeof where, "%s: rows %d-%d, column %s", in_path, r0 + 1, r1 + 1, y_name);
      hb_input_error(where, "%d point%s in group %s; the logistic fit needs at least %d", grp->n_rows,
                     grp->n_rows == 1 ? "" : "s", key, HB_EMERGE_MIN_POINTS);
    }
    for (int i = 0; i < grp->n_rows; i++) gx[i] = x[grp->rows[i]], gy[i] = y[grp->rows[i]];
    hb_emergence_fit(&fits[g], gx, gy, grp->n_rows, rise_p, min_rise);
    t_cross[g] = isfinite(threshold) ? hb_emergence_cross(gx, gy, grp->n_rows, threshold, sustained, &at_first[g]) : NAN;
    t_cens[g] = !isfinite(threshold) ? NAN : isnan(t_cross[g]) ? last_x(gx, grp->n_rows) : t_cross[g];
  }

  printf("hybench fit emergence: %s, %s against %s, %d group%s", in_path, y_name, x_name, n_groups,
         n_groups == 1 ? "" : "s");
  if (isfinite(threshold)) printf(", threshold %g", threshold);
  printf("\n");
  for (int g = 0; g < n_groups; g++) {
    const HbEmergeFit *f = &fits[g];
    printf("  ");
    print_key(&t, groups[g].rows[0], key_cols, n_keys);
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
      if (isnan(t_cross[g])) printf(", %s %g", sustained ? "does not end at or above" : "never reaches", threshold);
      else printf(", %s %g at %s%.4g", sustained ? "stays at or above" : "crosses", threshold, at_first[g] ? "or before " : "",
                  t_cross[g]);
    }
    printf("\n");
  }

  /* Hybrids: groups sharing every key column but the seed. */
  int hyb_cols[16], n_hyb_cols = 0;
  for (int j = 0; j < n_keys; j++)
    if (j != seed_key) hyb_cols[n_hyb_cols++] = key_cols[j];
  int *hybrid_of = hb_malloc((size_t)n_groups * sizeof(int)), n_hybrids = 0;
  int *hyb_first = hb_malloc((size_t)n_groups * sizeof(int));
  for (int g = 0; g < n_groups; g++) {
    int h = 0;
    while (h < n_hybrids && !same_key(&t, groups[hyb_first[h]].rows[0], groups[g].rows[0], hyb_cols, n_hyb_cols)) h++;
    if (h == n_hybrids) hyb_first[n_hybrids++] = g;
    hybrid_of[g] = h;
  }
  HbEmergeSummary *sums = hb_calloc((size_t)n_hybrids, sizeof *sums);
  const HbEmergeFit **members = hb_malloc((size_t)n_groups * sizeof *members);
  double *m_cross = hb_malloc((size_t)n_groups * sizeof *m_cross);
  int *m_first = hb_malloc((size_t)n_groups * sizeof *m_first);
  for (int h = 0; h < n_hybrids; h++) {
    int n = 0;
    for (int g = 0; g < n_groups; g++)
      if (hybrid_of[g] == h) members[n] = &fits[g], m_cross[n] = t_cross[g], m_first[n] = at_first[g], n++;
    hb_emergence_summarize(&sums[h], members, isfinite(threshold) ? m_cross : NULL, m_first, n);
  }
  if (seed_key >= 0) {
    printf("per hybrid, across seeds (%s):\n", seed_col);
    for (int h = 0; h < n_hybrids; h++) {
      const HbEmergeSummary *s = &sums[h];
      printf("  ");
      print_key(&t, groups[hyb_first[h]].rows[0], hyb_cols, n_hyb_cols);
      printf(": %d seeds (%d ok, %d not risen, %d other), %s", s->n_seeds, s->n_ok, s->n_not_risen, s->n_other,
             s->status);
      if (isfinite(s->t50_mean)) printf(", t50 mean %.4g sd %.2g [min %.4g, max %.4g]", s->t50_mean, s->t50_sd, s->t50_min, s->t50_max);
      if (isfinite(s->t50_mean_lower)) printf(", mean t50 >= %.4g", s->t50_mean_lower);
      if (isfinite(s->t_cross_mean)) printf(", crossing mean %.4g sd %.2g", s->t_cross_mean, s->t_cross_sd);
      printf("\n");
    }
  }

  if (out_path) {
    const char *cols[40];
    int nc = 0;
    for (int j = 0; j < n_keys; j++) cols[nc++] = t.header[key_cols[j]];
    static const char *const rest[] = {"n_points",  "t50",     "t50_se",       "t50_lower", "t50_upper",
                                       "lo",        "hi",      "s",            "status",    "iterations",
                                       "gsl_status", "rise_p", "late_p",       "early_p",   "rmse",
                                       "threshold", "t_cross", "cross_status", "t_cross_cens"};
    for (size_t j = 0; j < sizeof rest / sizeof rest[0]; j++) cols[nc++] = rest[j];
    HbTsvWriter w;
    hb_tsv_writer_open(&w, out_path, cols, nc);
    for (int g = 0; g < n_groups; g++) {
      const HbEmergeFit *f = &fits[g];
      for (int j = 0; j < n_keys; j++) hb_tsv_put_str(&w, hb_tsv_str(&t, groups[g].rows[0], key_cols[j]));
      hb_tsv_put_long(&w, f->n);
      hb_tsv_put_double(&w, f->t50);
      hb_tsv_put_double(&w, f->t50_se);
      hb_tsv_put_double(&w, f->t50_lower);
      hb_tsv_put_double(&w, f->t50_upper);
      hb_tsv_put_double(&w, f->lo);
      hb_tsv_put_double(&w, f->hi);
      hb_tsv_put_double(&w, f->s);
      hb_tsv_put_str(&w, hb_emergence_status_name(f->status));
      hb_tsv_put_long(&w, f->iterations);
      hb_tsv_put_str(&w, gsl_status_name(f->gsl_status));
      hb_tsv_put_double(&w, f->rise_p);
      hb_tsv_put_double(&w, f->late_p);
      hb_tsv_put_double(&w, f->early_p);
      hb_tsv_put_double(&w, f->rmse);
      hb_tsv_put_double(&w, threshold);
      hb_tsv_put_double(&w, t_cross[g]);
      hb_tsv_put_str(&w, !isfinite(threshold) ? "-" : isnan(t_cross[g]) ? "never" : at_first[g] ? "at_first" : "crossed");
      hb_tsv_put_double(&w, t_cens[g]);
      hb_tsv_end_row(&w);
    }
    hb_tsv_writer_commit(&w);
    printf("wrote %s\n", out_path);
  }
  if (summary_path) {
    const char *cols[40];
    int nc = 0;
    for (int j = 0; j < n_hyb_cols; j++) cols[nc++] = t.header[hyb_cols[j]];
    static const char *const rest[] = {"n_seeds", "n_ok",    "n_not_risen", "n_other", "t50_mean",
                                       "t50_sd",  "t50_min", "t50_max",     "t50_mean_lower", "status",
                                       "threshold", "n_cross", "t_cross_mean", "t_cross_sd"};
    for (size_t j = 0; j < sizeof rest / sizeof rest[0]; j++) cols[nc++] = rest[j];
    HbTsvWriter w;
    hb_tsv_writer_open(&w, summary_path, cols, nc);
    for (int h = 0; h < n_hybrids; h++) {
      const HbEmergeSummary *s = &sums[h];
      for (int j = 0; j < n_hyb_cols; j++) hb_tsv_put_str(&w, hb_tsv_str(&t, groups[hyb_first[h]].rows[0], hyb_cols[j]));
      hb_tsv_put_long(&w, s->n_seeds);
      hb_tsv_put_long(&w, s->n_ok);
      hb_tsv_put_long(&w, s->n_not_risen);
      hb_tsv_put_long(&w, s->n_other);
      hb_tsv_put_double(&w, s->t50_mean);
      hb_tsv_put_double(&w, s->t50_sd);
      hb_tsv_put_double(&w, s->t50_min);
      hb_tsv_put_double(&w, s->t50_max);
      hb_tsv_put_double(&w, s->t50_mean_lower);
      hb_tsv_put_str(&w, s->status);
      hb_tsv_put_double(&w, threshold);
      hb_tsv_put_long(&w, s->n_cross);
      hb_tsv_put_double(&w, s->t_cross_mean);
      hb_tsv_put_double(&w, s->t_cross_sd);
      hb_tsv_end_row(&w);
    }
    hb_tsv_writer_commit(&w);
    printf("wrote %s\n", summary_path);
  }

  free(m_first);
  free(m_cross);
  free(members);
  free(sums);
  free(hyb_first);
  free(hybrid_of);
  free(gy);
  free(gx);
  free(at_first);
  free(t_cross);
  free(t_cens);
  free(fits);
  for (int g = 0; g < n_groups; g++) free(groups[g].rows);
  free(groups);
  free(y);
  free(x);
  hb_tsv_free(&t);
  free(group_list);
  return 0;
}

/* ===== dispatch =========================================================== */

/* ===== the logistic-step law ============================================== */

/* hybench fit step --in POINTS.tsv [--validate] [--out FIT.tsv]: the law of
 * include/hybench/fit.h on y = log LongPPL. FIT.tsv, one row per set and one
 * per point: kind (fit | validation | train_point | validation_point),
 * model_size, token_multiplier, n, d (point rows; summary rows: the sizes,
 * "-", nan, nan), lo, hi, k, m0, g, n_center (every row repeats the fit),
 * r2, rmse, n_points (the row's set; nan on point rows), actual, predicted
 * (log LongPPL; point rows), status, step_p (F test against a constant),
 * iterations, starts, starts_failed. */
static const char *const STEP_COLUMNS[] = {"kind", "model_size", "token_multiplier", "n", "d", "lo", "hi", "k",
                                           "m0", "g", "n_center", "r2", "rmse", "n_points", "actual", "predicted",
                                           "status", "step_p", "iterations", "starts", "starts_failed"};
#define N_STEP_COLUMNS (int)(sizeof STEP_COLUMNS / sizeof STEP_COLUMNS[0])

static void step_row(HbTsvWriter *w, const HbStepFit *f, const char *kind, const char *size, const char *mult,
                     double n, double d, Quality q, int n_points, double actual, double predicted) {
  hb_tsv_put_str(w, kind);
  hb_tsv_put_str(w, size);
  hb_tsv_put_str(w, mult);
  hb_tsv_put_double(w, n);
  hb_tsv_put_double(w, d);
  const double params[] = {f->lo, f->hi, f->k, f->m0, f->g, f->n_center, q.r2, q.rmse};
  for (int k = 0; k < 8; k++) hb_tsv_put_double(w, params[k]);
  hb_tsv_put_double(w, n_points >= 0 ? n_points : NAN);
  hb_tsv_put_double(w, actual);
  hb_tsv_put_double(w, predicted);
  hb_tsv_put_str(w, hb_step_status_name(f->status));
  hb_tsv_put_double(w, f->step_p);
  hb_tsv_put_long(w, f->iterations);
  hb_tsv_put_long(w, f->starts);
  hb_tsv_put_long(w, f->starts_failed);
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
  hb_parse_args("fit step",
                "fit step --in POINTS.tsv [--validate] [--out FIT.tsv]\n\n"
                "The logistic-step law of LongPPL (include/hybench/fit.h), fitted beside the paper's power law:\n"
                "log LongPPL = lo + (hi - lo) / (1 + exp(k (log D - m0 + g (log N - n_center)))). Least\n"
                "squares from 24 starts; R2 and RMSE in log LongPPL on the fitted points and, with\n"
                "--validate, on the held-out largest model. Columns listed in src/cmd_fit.c.",
                opts, argc, argv);
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
    hb_tsv_writer_open(&w, out_path, STEP_COLUMNS, N_STEP_COLUMNS);
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

static void fit_usage(FILE *fp) {
  fprintf(fp,
          "usage: hybench fit KIND [options]   (hybench fit KIND --help for each)\n\n"
          "kinds:\n"
          "  scaling    scaling-law fit of loss (or LongPPL) against parameters and tokens:\n"
          "             the paper's method to its true optimum, bounds, limits, Hessian, bootstrap\n"
          "  emergence  logistic fit of a metric against log tokens per run: emergence point t50\n"
          "             with its standard error, threshold crossings, mean and spread over seeds\n"
          "  step       the logistic-step law of LongPPL against parameters and tokens (beside the\n"
          "             power law: emergence is a step)\n");
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
  hb_input_error("fit", "unknown kind '%s' (scaling, emergence or step; see hybench fit --help)", kind);
}
