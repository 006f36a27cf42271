/* The logistic-step law of long-context loss (include/hybench/fit.h):
 * log LongPPL falls as a step in log D whose midpoint moves with log N. */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <math.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/fit.h"
#include "nlinear.h"

/* Internal parameters: log lo (LongPPL >= 1, so the lower plateau of log
 * LongPPL is positive), hi, log k, m0, g. */
enum { S_LLO, S_HI, S_LK, S_M0, S_G, S_NP };
#define STEP_MAXITER 500
#define STEP_XTOL 1e-10
#define STEP_GTOL 1e-10

typedef struct {
  const double *log_n, *log_d, *y; /* (n) */
  int n;
  double n_center;
} StepData;

/* y(x, n) = lo + (hi - lo) / (1 + exp(e^lk (x - m0 + g (n - n_center)))), lo = e^llo */
static double step_eval(const double *p, double log_n, double log_d, double n_center, double *u_out, double *s_out) {
  double k = exp(p[S_LK]);
  double u = k * (log_d - p[S_M0] + p[S_G] * (log_n - n_center));
  double s = u > 0 ? exp(-u) / (1 + exp(-u)) : 1 / (1 + exp(u)); /* 1 / (1 + e^u), no overflow */
  if (u_out) *u_out = u;
  if (s_out) *s_out = s;
  double lo = exp(p[S_LLO]);
  return lo + (p[S_HI] - lo) * s;
}

static void params_of(double *p, const gsl_vector *x) {
  for (int k = 0; k < S_NP; k++) p[k] = gsl_vector_get(x, (size_t)k);
}

static int step_f(const gsl_vector *x, void *ctx, gsl_vector *f) {
  const StepData *d = ctx;
  double p[S_NP];
  params_of(p, x);
  for (int i = 0; i < d->n; i++)
    gsl_vector_set(f, (size_t)i, step_eval(p, d->log_n[i], d->log_d[i], d->n_center, NULL, NULL) - d->y[i]);
  return GSL_SUCCESS;
}

static int step_df(const gsl_vector *x, void *ctx, gsl_matrix *J) {
  const StepData *d = ctx;
  double p[S_NP];
  params_of(p, x);
  double k = exp(p[S_LK]);
  for (int i = 0; i < d->n; i++) {
    double u, s;
    step_eval(p, d->log_n[i], d->log_d[i], d->n_center, &u, &s);
    double lo = exp(p[S_LLO]), dy_du = -(p[S_HI] - lo) * s * (1 - s);
    gsl_matrix_set(J, (size_t)i, S_LLO, (1 - s) * lo);
    gsl_matrix_set(J, (size_t)i, S_HI, s);
    gsl_matrix_set(J, (size_t)i, S_LK, dy_du * u);
    gsl_matrix_set(J, (size_t)i, S_M0, -dy_du * k);
    gsl_matrix_set(J, (size_t)i, S_G, dy_du * k * (d->log_n[i] - d->n_center));
  }
  return GSL_SUCCESS;
}

double hb_step_predict(const HbStepFit *fit, double log_n, double log_d) {
  const double p[S_NP] = {log(fit->lo), fit->hi, log(fit->k), fit->m0, fit->g};
  return step_eval(p, log_n, log_d, fit->n_center, NULL, NULL);
}

void hb_step_fit(HbStepFit *fit, const double *log_n, const double *log_d, const double *y, int n) {
  hb_fit_gsl_init();
  memset(fit, 0, sizeof *fit);
  fit->n = n;
  fit->lo = fit->hi = fit->k = fit->m0 = fit->g = fit->r2 = fit->rmse = fit->step_p = NAN;
  fit->gsl_status = GSL_SUCCESS;
  HB_ASSERT(n >= HB_STEP_MIN_POINTS, "the caller checks the number of points");
  double nc = 0, ybar = 0, ymin = y[0], ymax = y[0], xmin = log_d[0], xmax = log_d[0];
  for (int i = 0; i < n; i++) {
    nc += log_n[i], ybar += y[i];
    ymin = fmin(ymin, y[i]), ymax = fmax(ymax, y[i]);
    xmin = fmin(xmin, log_d[i]), xmax = fmax(xmax, log_d[i]);
  }
  nc /= n, ybar /= n;
  fit->n_center = nc;
  double sst = 0;
  for (int i = 0; i < n; i++) sst += (y[i] - ybar) * (y[i] - ybar);
  StepData data = {log_n, log_d, y, n, nc};
  gsl_multifit_nlinear_fdf fdf = {.f = step_f, .df = step_df, .fvv = NULL, .n = (size_t)n, .p = S_NP, .params = &data};
  gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
  gsl_multifit_nlinear_workspace *w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, (size_t)n, S_NP);
  gsl_vector *p0 = gsl_vector_alloc(S_NP);
  if (!w || !p0) HB_FATAL("gsl allocation of a %d-point step fit failed", n);
  /* Starts: the plateaus from the data's range; the midpoint at fractions of
   * the log-token range; two steepnesses; the midpoint moving with size
   * towards fewer tokens (g > 0: larger models emerge earlier), not at all,
   * or the other way. */
  /* The best end point; a start whose steepness runs off (a step between two
   * neighbouring points, k -> inf) ends unconverged but finite, and counts. */
  double best[S_NP], best_ssr = INFINITY;
  int best_converged = 0;
  for (double q = 0.2; q < 0.9; q += 0.2)
    for (int b = 0; b < 2; b++)
      for (int c = -1; c <= 1; c++) {
        double start[S_NP] = {log(fmax(ymin, 1e-3)), ymax, log(b ? 5.0 : 1.0), xmin + q * (xmax - xmin), (double)c};
        for (int k = 0; k < S_NP; k++) gsl_vector_set(p0, (size_t)k, start[k]);
        fit->starts++;
        double ssr;
        int finite, status = hb_nlinear_run(w, &fdf, p0, STEP_MAXITER, STEP_XTOL, STEP_GTOL, &ssr, &finite);
        const gsl_vector *x = gsl_multifit_nlinear_position(w);
        if (status != GSL_SUCCESS) {
          fit->starts_failed++;
          fit->gsl_status = status;
        }
        if (!finite) continue;
        if (ssr < best_ssr - 1e-12 || (ssr <= best_ssr + 1e-12 && status == GSL_SUCCESS && !best_converged)) {
          best_ssr = ssr;
          best_converged = status == GSL_SUCCESS;
          params_of(best, x);
          fit->iterations = (int)gsl_multifit_nlinear_niter(w);
        }
      }
  gsl_vector_free(p0);
  gsl_multifit_nlinear_free(w);
  if (!isfinite(best_ssr)) {
    fit->status = HB_STEP_FAILED;
    return;
  }
  fit->lo = exp(best[S_LLO]), fit->hi = best[S_HI], fit->k = exp(best[S_LK]), fit->m0 = best[S_M0], fit->g = best[S_G];
  fit->rmse = sqrt(best_ssr / n);
  fit->r2 = sst > 0 ? 1 - best_ssr / sst : NAN;
  /* A step needs both plateaus inside the data: a midpoint outside the
   * tokens fitted is a trend, not a step, and its plateau is extrapolated. */
  double mid_lo = INFINITY, mid_hi = -INFINITY;
  for (int i = 0; i < n; i++) {
    double mid = fit->m0 - fit->g * (log_n[i] - nc);
    mid_lo = fmin(mid_lo, mid), mid_hi = fmax(mid_hi, mid);
  }
  /* F test of the step against a constant: a step fitted to noise is no step. */
  double f_stat = sst > best_ssr && n > S_NP ? ((sst - best_ssr) / (S_NP - 1)) / (best_ssr / (n - S_NP)) : 0;
  fit->step_p = best_ssr > 0 && n > S_NP ? gsl_cdf_fdist_Q(f_stat, S_NP - 1, n - S_NP) : (sst > 0 ? 0 : 1);
  if (fit->step_p > HB_STEP_MAX_P) fit->status = HB_STEP_FLAT;
  else fit->status = mid_hi < xmin || mid_lo > xmax ? HB_STEP_OUTSIDE : best_converged ? HB_STEP_OK : HB_STEP_NOT_CONVERGED;
}

const char *hb_step_status_name(HbStepStatus s) {
  switch (s) {
    case HB_STEP_OK: return "ok";
    case HB_STEP_OUTSIDE: return "midpoint_outside";
    case HB_STEP_NOT_CONVERGED: return "not_converged";
    case HB_STEP_FLAT: return "no_step";
    case HB_STEP_FAILED: return "failed";
  }
  return "?";
}
