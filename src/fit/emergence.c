/* Emergence points: logistic fits of a metric against log tokens with
 * gsl_multifit_nlinear, threshold crossings, and the per-hybrid summary
 * across seeds. The status rules are in fit.h. */
#include "hybench/fit.h"
#include "hybench/stats.h"
#include "nlinear.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_multimin.h>

#include "hybench/common.h"

/* Parameters: lo, hi, x50 = log t50, ls = log s. */
enum { P_LO, P_HI, P_X50, P_LS, NPAR };

#define NL_MAXITER 500
#define NL_XTOL 1e-10
#define NL_GTOL 1e-10

const char *hb_emergence_status_name(HbEmergeStatus status) {
  switch (status) {
  case HB_EMERGE_OK: return "ok";
  case HB_EMERGE_NOT_RISEN: return "not_risen";
  case HB_EMERGE_EARLY: return "early";
  case HB_EMERGE_UNRESOLVED: return "unresolved";
  case HB_EMERGE_FAILED: return "failed";
  }
  return "?";
}

typedef struct {
  double t, x, y; /* tokens, log tokens, metric */
} Point;

static int cmp_point(const void *a, const void *b) {
  double xa = ((const Point *)a)->x, xb = ((const Point *)b)->x;
  return (xa > xb) - (xa < xb);
}

/* Sorted copy in log tokens: (n) */
static Point *sorted_points(const double *tokens, const double *metric, int n) {
  Point *pts = hb_malloc((size_t)n * sizeof *pts);
  for (int i = 0; i < n; i++) {
    HB_ASSERT(tokens[i] > 0, "token counts are positive (the caller validates its input)");
    pts[i].t = tokens[i];
    pts[i].x = log(tokens[i]);
    pts[i].y = metric[i];
  }
  qsort(pts, (size_t)n, sizeof *pts, cmp_point);
  return pts;
}

typedef struct {
  const Point *pts;
  int n;
} Curve;

/* g = 1 / (1 + exp(-z)), z = (x - x50) / s */
static int logistic_f(const gsl_vector *p, void *data, gsl_vector *f) {
  const Curve *c = data;
  double lo = gsl_vector_get(p, P_LO), hi = gsl_vector_get(p, P_HI);
  double x50 = gsl_vector_get(p, P_X50), s = exp(gsl_vector_get(p, P_LS));
  for (int i = 0; i < c->n; i++) {
    double g = 1 / (1 + exp(-(c->pts[i].x - x50) / s));
    gsl_vector_set(f, (size_t)i, lo + (hi - lo) * g - c->pts[i].y);
  }
  return GSL_SUCCESS;
}

static int logistic_df(const gsl_vector *p, void *data, gsl_matrix *J) {
  const Curve *c = data;
  double lo = gsl_vector_get(p, P_LO), hi = gsl_vector_get(p, P_HI);
  double x50 = gsl_vector_get(p, P_X50), s = exp(gsl_vector_get(p, P_LS));
  for (int i = 0; i < c->n; i++) {
    double z = (c->pts[i].x - x50) / s;
    double g = 1 / (1 + exp(-z));
    double slope = (hi - lo) * g * (1 - g); /* d m / d z */
    gsl_matrix_set(J, (size_t)i, P_LO, 1 - g);
    gsl_matrix_set(J, (size_t)i, P_HI, g);
    gsl_matrix_set(J, (size_t)i, P_X50, -slope / s);
    gsl_matrix_set(J, (size_t)i, P_LS, -slope * z);
  }
  return GSL_SUCCESS;
}

/* ---- the midpoint outside the checkpoints --------------------------------
 * For fixed (x50, s) the logistic is linear in (lo, hi): m = lo (1 - g) + hi g.
 * ssr_at() solves that 2x2 least-squares problem; constrained_ssr() minimises
 * it over s > 0 and x50 beyond one end of the checkpoints (a grid, then
 * gsl_multimin Nelder-Mead from the best grid point). */

static double ssr_at(const Point *pts, int n, double x50, double s) {
  double a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0, ybar = 0;
  for (int i = 0; i < n; i++) {
    double g = 1 / (1 + exp(-(pts[i].x - x50) / s)), h = 1 - g;
    a11 += h * h, a12 += h * g, a22 += g * g, b1 += h * pts[i].y, b2 += g * pts[i].y;
    ybar += pts[i].y;
  }
  ybar /= n;
  double det = a11 * a22 - a12 * a12, lo, hi;
  if (!(det > 1e-14 * a11 * a22)) { /* g (nearly) the same at every point: a constant */
    lo = hi = ybar;
  } else {
    lo = (a22 * b1 - a12 * b2) / det;
    hi = (a11 * b2 - a12 * b1) / det;
  }
  double ssr = 0;
  for (int i = 0; i < n; i++) {
    double g = 1 / (1 + exp(-(pts[i].x - x50) / s));
    double r = lo + (hi - lo) * g - pts[i].y;
    ssr += r * r;
  }
  return ssr;
}

typedef struct {
  const Point *pts;
  int n;
  double edge; /* x_max (side +1) or x_min (side -1) */
  int side;
} Beyond;

/* v = (log distance of x50 beyond the edge, log s) */
static double beyond_f(const gsl_vector *v, void *params) {
  const Beyond *b = params;
  double x50 = b->edge + b->side * exp(gsl_vector_get(v, 0)), s = exp(gsl_vector_get(v, 1));
  double ssr = ssr_at(b->pts, b->n, x50, s);
  return isfinite(ssr) ? ssr : GSL_POSINF;
}

/* Smallest residual sum of squares of a logistic whose midpoint lies beyond
 * the last checkpoint (side +1) or before the first (side -1). */
static double constrained_ssr(const Point *pts, int n, int side, int *status) {
  const double width = pts[n - 1].x - pts[0].x;
  Beyond b = {.pts = pts, .n = n, .edge = side > 0 ? pts[n - 1].x : pts[0].x, .side = side};
  double best = INFINITY, best_u = 0, best_v = 0;
  for (int i = 0; i <= 24; i++)     /* distance beyond the edge: width * 1e-3 .. 1e1 */
    for (int j = 0; j <= 24; j++) { /* s: width * 2e-3 .. 5 */
      double u = log(width) + log(1e-3) + i * log(1e4) / 24, v = log(width) + log(2e-3) + j * log(2.5e3) / 24;
      gsl_vector_view vv = gsl_vector_view_array((double[]){u, v}, 2);
      double f = beyond_f(&vv.vector, &b);
      if (f < best) best = f, best_u = u, best_v = v;
    }
  gsl_multimin_function fn = {.f = beyond_f, .n = 2, .params = &b};
  gsl_multimin_fminimizer *m = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 2);
  gsl_vector *v0 = gsl_vector_alloc(2), *step = gsl_vector_alloc(2);
  if (!m || !v0 || !step) HB_FATAL("gsl allocation of a 2-parameter simplex failed");
  gsl_vector_set(v0, 0, best_u), gsl_vector_set(v0, 1, best_v);
  gsl_vector_set_all(step, 0.3);
  *status = gsl_multimin_fminimizer_set(m, &fn, v0, step);
  for (int it = 0; *status == GSL_SUCCESS && it < 500; it++) {
    *status = gsl_multimin_fminimizer_iterate(m);
    if (*status != GSL_SUCCESS) break;
    if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(m), 1e-8) == GSL_SUCCESS) break;
  }
  if (*status == GSL_SUCCESS && gsl_multimin_fminimizer_minimum(m) < best) best = gsl_multimin_fminimizer_minimum(m);
  gsl_vector_free(step);
  gsl_vector_free(v0);
  gsl_multimin_fminimizer_free(m);
  /* also the midpoint exactly on the edge, over the s grid */
  for (int j = 0; j <= 24; j++) {
    double ssr = ssr_at(pts, n, b.edge, exp(log(width) + log(2e-3) + j * log(2.5e3) / 24));
    if (ssr < best) best = ssr;
  }
  return best;
}

/* p-value of the F test (1 numerator degree of freedom) of a constrained fit
 * against the unconstrained one. */
static double constraint_p(double ssr_constrained, double ssr_free, int dof) {
  if (!(ssr_free > 0)) return ssr_constrained > 0 ? 0.0 : 1.0;
  double F = (ssr_constrained - ssr_free) / (ssr_free / dof);
  return F > 0 ? gsl_cdf_fdist_Q(F, 1, dof) : 1.0;
}

void hb_emergence_fit(HbEmergeFit *fit, const double *tokens, const double *metric, int n, double rise_p_max,
                      double min_rise) {
  hb_fit_gsl_init();
  HB_ASSERT(n >= HB_EMERGE_MIN_POINTS, "the caller checks the number of points");
  memset(fit, 0, sizeof *fit);
  fit->n = n;
  fit->t50 = fit->t50_se = fit->t50_lower = fit->t50_upper = NAN;
  fit->lo = fit->hi = fit->s = fit->rise_p = fit->rmse = fit->late_p = fit->early_p = NAN;
  fit->gsl_status = GSL_SUCCESS;
  Point *pts = sorted_points(tokens, metric, n);
  const double x_min = pts[0].x, x_max = pts[n - 1].x;
  const double t_min = pts[0].t, t_max = pts[n - 1].t;
  double ybar = 0, ymin = pts[0].y, ymax = pts[0].y;
  for (int i = 0; i < n; i++) {
    ybar += pts[i].y;
    ymin = fmin(ymin, pts[i].y), ymax = fmax(ymax, pts[i].y);
  }
  ybar /= n;
  double ssr0 = 0; /* residual sum of squares of a constant */
  for (int i = 0; i < n; i++) ssr0 += (pts[i].y - ybar) * (pts[i].y - ybar);
  if (ssr0 == 0 || x_max == x_min) { /* a constant curve, or one checkpoint repeated */
    fit->status = HB_EMERGE_NOT_RISEN;
    fit->lo = ybar;
    fit->t50_lower = t_max;
    fit->rise_p = 1;
    free(pts);
    return;
  }

  /* Starts: lo, hi from the data's range; the midpoint at the first crossing
   * of the mid level and at fixed fractions of the token range; two widths. */
  double x50_starts[6];
  int n_x50 = 0;
  double mid = 0.5 * (ymin + ymax);
  for (int i = 1; i < n; i++)
    if (pts[i - 1].y < mid && pts[i].y >= mid) {
      x50_starts[n_x50++] = 0.5 * (pts[i - 1].x + pts[i].x);
      break;
    }
  for (double q = 0.2; q < 0.9; q += 0.2) x50_starts[n_x50++] = x_min + q * (x_max - x_min);
  const double width = x_max - x_min;
  const double s_starts[2] = {width / 20, width / 5};

  Curve curve = {.pts = pts, .n = n};
  gsl_multifit_nlinear_fdf fdf = {
      .f = logistic_f, .df = logistic_df, .fvv = NULL, .n = (size_t)n, .p = NPAR, .params = &curve};
  gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
  gsl_multifit_nlinear_workspace *w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, (size_t)n, NPAR);
  gsl_vector *p0 = gsl_vector_alloc(NPAR);
  gsl_matrix *covar = gsl_matrix_alloc(NPAR, NPAR);
  if (!w || !p0 || !covar) HB_FATAL("gsl allocation of a %d-point logistic fit failed", n);
  /* The best converged start, and the best endpoint of any start (on a flat
   * or straight curve the logistic runs off towards a limit, s -> inf, and
   * no start converges). */
  double best[NPAR], best_ssr = INFINITY, best_var_x50 = NAN, any_ssr = INFINITY;
  int best_iter = 0;
  for (int a = 0; a < n_x50; a++)
    for (int b = 0; b < 2; b++) {
      fit->starts++;
      gsl_vector_set(p0, P_LO, ymin);
      gsl_vector_set(p0, P_HI, ymax);
      gsl_vector_set(p0, P_X50, x50_starts[a]);
      gsl_vector_set(p0, P_LS, log(s_starts[b]));
      double ssr;
      int finite, status = hb_nlinear_run(w, &fdf, p0, NL_MAXITER, NL_XTOL, NL_GTOL, &ssr, &finite);
      const gsl_vector *x = gsl_multifit_nlinear_position(w);
      if (finite && ssr < any_ssr) any_ssr = ssr;
      if (status != GSL_SUCCESS || !finite) {
        fit->starts_failed++;
        fit->gsl_status = status != GSL_SUCCESS ? status : GSL_EBADFUNC;
        continue;
      }
      if (ssr < best_ssr) {
        best_ssr = ssr;
        for (int k = 0; k < NPAR; k++) best[k] = gsl_vector_get(x, (size_t)k);
        best_iter = (int)gsl_multifit_nlinear_niter(w);
        int cs = gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, covar);
        best_var_x50 = cs == GSL_SUCCESS ? gsl_matrix_get(covar, P_X50, P_X50) : NAN;
      }
    }
  gsl_matrix_free(covar);
  gsl_vector_free(p0);
  gsl_multifit_nlinear_free(w);

  const int dof = n - NPAR;
  const int converged = isfinite(best_ssr);
  const double ssr1 = converged ? best_ssr : any_ssr;
  if (isfinite(ssr1)) {
    fit->rmse = sqrt(ssr1 / n);
    if (ssr1 <= 0) fit->rise_p = 0;
    else {
      double F = ((ssr0 - ssr1) / (NPAR - 1)) / (ssr1 / dof);
      fit->rise_p = F > 0 ? gsl_cdf_fdist_Q(F, NPAR - 1, dof) : 1.0;
    }
  }
  if (!converged) {
    /* No start converged (the best logistic runs off to a limit). A constant
     * explaining the data as well as the best endpoint found -> not risen; a
     * midpoint beyond either end explaining them as well -> not risen /
     * early; otherwise the fit failed. */
    if (isfinite(ssr1) && fit->rise_p < rise_p_max) {
      int st_late, st_early;
      fit->late_p = constraint_p(constrained_ssr(pts, n, +1, &st_late), ssr1, dof);
      fit->early_p = constraint_p(constrained_ssr(pts, n, -1, &st_early), ssr1, dof);
    }
    if (isfinite(ssr1) && !(fit->rise_p < rise_p_max)) {
      fit->status = HB_EMERGE_NOT_RISEN;
      fit->lo = ybar;
      fit->t50_lower = t_max;
    } else if (fit->late_p >= rise_p_max && !(fit->early_p > fit->late_p)) {
      fit->status = HB_EMERGE_NOT_RISEN;
      fit->t50_lower = t_max;
    } else if (fit->early_p >= rise_p_max) {
      fit->status = HB_EMERGE_EARLY;
      fit->t50_upper = t_min;
    } else {
      fit->status = HB_EMERGE_FAILED;
    }
    free(pts);
    return;
  }
  fit->gsl_status = GSL_SUCCESS; /* the chosen start's */
  fit->iterations = best_iter;
  const double lo = best[P_LO], hi = best[P_HI], x50 = best[P_X50], s = exp(best[P_LS]);
  /* Checkpoints on the slope (between 5% and 95% of the rise). */
  int on_slope = 0, gap = 0;
  for (int i = 0; i < n; i++) {
    double g = 1 / (1 + exp(-(pts[i].x - x50) / s));
    on_slope += g > 0.05 && g < 0.95;
    if (pts[i].x <= x50) gap = i;
  }
  const int risen = fit->rise_p < rise_p_max && hi > lo && hi - lo >= min_rise;
  if (risen && x50 >= x_min && x50 <= x_max) {
    /* Do the data place the midpoint inside the checkpoints? A small
     * completed rise at the end can fit as well as the start of a large one
     * whose midpoint is still ahead (and the mirror image at the start). */
    int st_late, st_early;
    fit->late_p = constraint_p(constrained_ssr(pts, n, +1, &st_late), best_ssr, dof);
    fit->early_p = constraint_p(constrained_ssr(pts, n, -1, &st_early), best_ssr, dof);
    if (st_late != GSL_SUCCESS) fit->gsl_status = st_late;
    else if (st_early != GSL_SUCCESS) fit->gsl_status = st_early;
  }
  if (!risen) {
    fit->status = HB_EMERGE_NOT_RISEN;
    fit->lo = ybar;
    fit->t50_lower = t_max;
  } else if (x50 > x_max || (fit->late_p >= rise_p_max && !(fit->early_p > fit->late_p))) {
    fit->status = HB_EMERGE_NOT_RISEN;
    fit->lo = lo;
    fit->t50_lower = t_max;
  } else if (x50 < x_min || fit->early_p >= rise_p_max) {
    fit->status = HB_EMERGE_EARLY;
    fit->hi = hi;
    fit->t50_upper = t_min;
  } else if (on_slope < 2) { /* one point on the slope cannot fix both t50 and s */
    fit->status = HB_EMERGE_UNRESOLVED;
    fit->lo = lo, fit->hi = hi;
    fit->t50_lower = pts[gap].t;
    fit->t50_upper = pts[gap + 1 < n ? gap + 1 : gap].t;
  } else {
    fit->status = HB_EMERGE_OK;
    fit->lo = lo, fit->hi = hi, fit->s = s;
    fit->t50 = exp(x50);
    /* covar = (J^T J)^-1; scaled by the residual variance; delta method. */
    fit->t50_se = fit->t50 * sqrt(best_var_x50 * best_ssr / dof);
  }
  free(pts);
}

/* The checkpoint index where the crossing ends: the first at or above level,
 * or (sustained) the first of the final run at or above it; n when none. */
static int crossing_index(const Point *pts, int n, double level, int sustained) {
  if (!sustained) {
    for (int i = 0; i < n; i++)
      if (pts[i].y >= level) return i;
    return n;
  }
  int i = n;
  while (i > 0 && pts[i - 1].y >= level) i--;
  return i;
}

double hb_emergence_cross(const double *tokens, const double *metric, int n, double level, int sustained,
                          int *at_first) {
  *at_first = 0;
  if (n <= 0) return NAN;
  Point *pts = sorted_points(tokens, metric, n);
  const int i = crossing_index(pts, n, level, sustained);
  double t = NAN;
  if (i == 0) {
    *at_first = 1;
    t = pts[0].t;
  } else if (i < n) { /* pts[i - 1].y < level <= pts[i].y */
    double frac = (level - pts[i - 1].y) / (pts[i].y - pts[i - 1].y);
    t = exp(pts[i - 1].x + frac * (pts[i].x - pts[i - 1].x));
  }
  free(pts);
  return t;
}

void hb_emergence_summarize(HbEmergeSummary *sum, const HbEmergeFit *const *fits, const double *t_cross,
                            const int *cross_at_first, int n) {
  memset(sum, 0, sizeof *sum);
  sum->t50_mean = sum->t50_sd = sum->t50_mean_lower = NAN;
  sum->t_cross_mean = sum->t_cross_sd = NAN;
  sum->n_seeds = n;
  double *v = hb_malloc((size_t)(n > 0 ? n : 1) * sizeof *v);       /* (n_ok) t50 of the ok seeds */
  double *bounded = hb_malloc((size_t)(n > 0 ? n : 1) * sizeof *bounded); /* (n) t50, or its lower bound */
  for (int i = 0; i < n; i++) {
    const HbEmergeFit *f = fits[i];
    if (f->status == HB_EMERGE_OK) {
      v[sum->n_ok++] = f->t50;
      bounded[i] = f->t50;
    } else if (f->status == HB_EMERGE_NOT_RISEN) {
      sum->n_not_risen++;
      bounded[i] = f->t50_lower;
    } else {
      sum->n_other++;
    }
  }
  HbSeedStats ok = hb_seed_stats(v, sum->n_ok);
  sum->t50_min = ok.min, sum->t50_max = ok.max;
  if (n > 0 && sum->n_ok == n) {
    sum->t50_mean = ok.mean, sum->t50_sd = ok.sd;
    sum->status = "ok";
  } else if (n > 0 && sum->n_other == 0) {
    sum->t50_mean_lower = hb_seed_stats(bounded, n).mean;
    sum->status = "lower_bound";
  } else {
    sum->status = "incomplete";
  }
  if (t_cross) {
    for (int i = 0; i < n; i++)
      if (isfinite(t_cross[i]) && !(cross_at_first && cross_at_first[i])) v[sum->n_cross++] = t_cross[i];
    if (n > 0 && sum->n_cross == n) {
      HbSeedStats cross = hb_seed_stats(v, n);
      sum->t_cross_mean = cross.mean, sum->t_cross_sd = cross.sd;
    }
  }
  free(bounded);
  free(v);
}
