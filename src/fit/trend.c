/* A least-squares line with its uncertainty (include/hybench/fit.h): the
 * estimates are gsl_fit_linear's, the interval and p-value come from the
 * t distribution with n - 2 degrees of freedom. No I/O. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/fit.h"

static int cmp_double(const void *a, const void *b) {
  double u = *(const double *)a, v = *(const double *)b;
  return (u > v) - (u < v);
}

/* Distinct values among x (n), compared exactly. */
static int count_distinct(const double *x, int n) {
  if (n == 0) return 0;
  double *sorted = hb_malloc((size_t)n * sizeof *sorted); /* (n) */
  memcpy(sorted, x, (size_t)n * sizeof *sorted);
  qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
  int distinct = 1;
  for (int i = 1; i < n; i++) distinct += sorted[i] != sorted[i - 1];
  free(sorted);
  return distinct;
}

void hb_trend_fit(HbTrendFit *fit, const double *x, const double *y, int n) {
  hb_fit_gsl_init();
  *fit = (HbTrendFit){.n = n, .intercept = NAN, .intercept_se = NAN, .slope = NAN, .slope_se = NAN,
                      .slope_lo95 = NAN, .slope_hi95 = NAN, .slope_p = NAN, .resid_sd = NAN, .r2 = NAN,
                      .status = HB_TREND_TOO_FEW};
  HB_ASSERT(n >= 0, "a count of points");
  for (int i = 0; i < n; i++) HB_ASSERT(isfinite(x[i]) && isfinite(y[i]), "the caller rejects non-finite input");
  fit->n_x = count_distinct(x, n);
  if (fit->n_x < HB_TREND_MIN_X) return;

  double c0, c1, cov00, cov01, cov11, rss;
  int status = gsl_fit_linear(x, 1, y, 1, (size_t)n, &c0, &c1, &cov00, &cov01, &cov11, &rss);
  double ybar = 0, tss = 0;
  for (int i = 0; i < n; i++) ybar += y[i];
  ybar /= n;
  for (int i = 0; i < n; i++) tss += (y[i] - ybar) * (y[i] - ybar);
  if (status != GSL_SUCCESS || !isfinite(c0) || !isfinite(c1) || !(cov00 >= 0) || !(cov11 >= 0) ||
      !isfinite(cov00) || !isfinite(cov11) || !isfinite(rss) || !isfinite(tss)) {
    fit->status = HB_TREND_FAILED;
    return;
  }
  const double dof = n - 2.0; /* n >= n_x >= 3 */
  fit->status = HB_TREND_OK;
  fit->intercept = c0, fit->intercept_se = sqrt(cov00);
  fit->slope = c1, fit->slope_se = sqrt(cov11);
  fit->resid_sd = sqrt(rss / dof);
  fit->r2 = tss > 0 ? 1 - rss / tss : NAN;
  const double t975 = gsl_cdf_tdist_Pinv(0.975, dof);
  fit->slope_lo95 = c1 - t975 * fit->slope_se;
  fit->slope_hi95 = c1 + t975 * fit->slope_se;
  /* Residuals exactly zero: the line is exact, the slope certain. */
  if (fit->slope_se > 0) fit->slope_p = fmin(1.0, 2 * gsl_cdf_tdist_Q(fabs(c1) / fit->slope_se, dof));
  else fit->slope_p = c1 != 0 ? 0.0 : 1.0;
}

const char *hb_trend_status_name(HbTrendStatus status) {
  switch (status) {
  case HB_TREND_OK: return "ok";
  case HB_TREND_TOO_FEW: return "too_few";
  case HB_TREND_FAILED: return "failed";
  }
  return "?";
}
