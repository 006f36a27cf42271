/* The straight-line trend (include/hybench/fit.h): hb_trend_fit against
 * reference values computed without GSL, the too_few cases, an exact line,
 * a constant y, and the fit on log2 of windows and delays.
 *
 * Reference values: /usr/bin/python3 with numpy 1.24 (the textbook formulas
 * b = Sxy / Sxx, a = ybar - b xbar, se from RSS / (n - 2), in float64, which
 * agree with numpy.polyfit(x, y, 1, cov=True) to 1e-14) and mpmath 1.2 at 40
 * digits for the t distribution (scipy is not installed): the quantile by
 * findroot on the CDF 1 - I_{nu/(nu+t^2)}(nu/2, 1/2) / 2, the two-sided
 * p-value as I_{nu/(nu+t^2)}(nu/2, 1/2), nu = n - 2 = 6. */
#include <math.h>

#include "hybench/fit.h"
#include "testutil.h"

typedef struct {
  double intercept, intercept_se, slope, slope_se, resid_sd, r2, slope_lo95, slope_hi95, slope_p;
} Reference;

static void check_against(const char *what, const HbTrendFit *f, const Reference *ref) {
  const struct {
    const char *name;
    double got, want, tol;
  } rows[] = {
      {"intercept", f->intercept, ref->intercept, 1e-9}, {"intercept_se", f->intercept_se, ref->intercept_se, 1e-9},
      {"slope", f->slope, ref->slope, 1e-9},             {"slope_se", f->slope_se, ref->slope_se, 1e-9},
      {"resid_sd", f->resid_sd, ref->resid_sd, 1e-9},    {"r2", f->r2, ref->r2, 1e-9},
      {"slope_lo95", f->slope_lo95, ref->slope_lo95, 1e-6}, {"slope_hi95", f->slope_hi95, ref->slope_hi95, 1e-6},
      {"slope_p", f->slope_p, ref->slope_p, 1e-6},
  };
  double worst = 0;
  for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
    double err = tu_rel_err(rows[k].got, rows[k].want);
    worst = fmax(worst, err);
    CHECK(err <= rows[k].tol, "%s: %s %.17g, reference %.17g (relative error %.2g > %g)", what, rows[k].name,
          rows[k].got, rows[k].want, err, rows[k].tol);
  }
  printf("  %s: slope %.6g +- %.3g, p %.3g; largest relative error against the reference %.2g\n", what, f->slope,
         f->slope_se, f->slope_p, worst);
}

int main(void) {
  HbTrendFit f;
  /* 8 points around y = 1.5 + 0.8 x with fixed noise; x repeats (6 distinct). */
  const double x[] = {3, 4, 4, 5, 6, 7, 7, 8};
  const double y[] = {4.21, 4.28, 4.87, 6.05, 5.67, 7.18, 6.86, 8.26};
  const Reference noisy = {
      .intercept = 1.6050000000000004, .intercept_se = 0.54438038171851844, .slope = 0.78499999999999981,
      .slope_se = 0.094764460797827715, .resid_sd = 0.44448472039730069, .r2 = 0.91959219527415914,
      .slope_lo95 = 0.55311971780643221, .slope_hi95 = 1.0168802821935674, .slope_p = 0.00016760832529170197};
  hb_trend_fit(&f, x, y, 8);
  CHECK(f.status == HB_TREND_OK, "status %s", hb_trend_status_name(f.status));
  CHECK(f.n == 8 && f.n_x == 6, "n %d, n_x %d (want 8, 6)", f.n, f.n_x);
  check_against("noisy line", &f, &noisy);

  /* Same x, a weak slope: p far from 0, the interval straddles 0. */
  const double y_weak[] = {5.1, 4.6, 5.9, 5.2, 4.8, 5.7, 5.0, 5.5};
  const Reference weak = {
      .intercept = 4.9499999999999993, .intercept_se = 0.57879184513951154, .slope = 0.050000000000000044,
      .slope_se = 0.10075472768815942, .resid_sd = 0.47258156262526102, .r2 = 0.039426523297491078,
      .slope_lo95 = -0.19653793723904148, .slope_hi95 = 0.29653793723904159, .slope_p = 0.63736785058993484};
  hb_trend_fit(&f, x, y_weak, 8);
  check_against("weak slope", &f, &weak);

  /* log2: delays (tokens) against windows, both fitted in log2 (what
   * --log2-x --log2-y do); the reference fitted numpy.log2 of the same values. */
  const double window[] = {16, 32, 32, 64, 128, 256, 256, 512};
  const double delay[] = {1.3e6, 2.2e6, 1.9e6, 2.6e6, 4.1e6, 5.0e6, 6.3e6, 7.7e6};
  const Reference logs = {
      .intercept = 18.369851156706158, .intercept_se = 0.1912658552048406, .slope = 0.50523130324607557,
      .slope_se = 0.028512230267510368, .resid_sd = 0.13373421419444523, .r2 = 0.98124951170924191,
      .slope_lo95 = 0.43546438910193014, .slope_hi95 = 0.57499821739022106, .slope_p = 2.0747480185201415e-06};
  double lx[8], ly[8];
  for (int i = 0; i < 8; i++) lx[i] = log2(window[i]), ly[i] = log2(delay[i]);
  hb_trend_fit(&f, lx, ly, 8);
  CHECK(f.n_x == 6, "log2: n_x %d", f.n_x);
  check_against("log2 delay against log2 window", &f, &logs);

  /* An exact line y = -2 + 0.25 x (binary fractions: no rounding): residual
   * sd 0 (or rounding), the slope certain, p 0 or tiny, r2 1. */
  const double xe[] = {1, 2, 4, 8, 16};
  double ye[5];
  for (int i = 0; i < 5; i++) ye[i] = -2 + 0.25 * xe[i];
  hb_trend_fit(&f, xe, ye, 5);
  CHECK(f.status == HB_TREND_OK, "exact line: status %s", hb_trend_status_name(f.status));
  CHECK(fabs(f.slope - 0.25) < 1e-14 && fabs(f.intercept + 2) < 1e-14, "exact line: a %.17g b %.17g", f.intercept,
        f.slope);
  CHECK(f.resid_sd < 1e-14 && f.slope_se < 1e-14, "exact line: resid_sd %g slope_se %g", f.resid_sd, f.slope_se);
  CHECK(f.slope_p < 1e-12, "exact line: p %g", f.slope_p);
  CHECK(fabs(f.r2 - 1) < 1e-14, "exact line: r2 %.17g", f.r2);
  CHECK(fabs(f.slope_hi95 - f.slope_lo95) < 1e-12, "exact line: interval [%g, %g]", f.slope_lo95, f.slope_hi95);

  /* A constant y: slope exactly 0 with no scatter: p 1, r2 undefined (nan). */
  const double yc[] = {3, 3, 3, 3, 3};
  hb_trend_fit(&f, xe, yc, 5);
  CHECK(f.status == HB_TREND_OK && f.slope == 0 && f.slope_se == 0 && f.slope_p == 1 && isnan(f.r2),
        "constant y: status %s slope %g se %g p %g r2 %g", hb_trend_status_name(f.status), f.slope, f.slope_se,
        f.slope_p, f.r2);

  /* too_few: two points; all x equal; two distinct x among many points;
   * no points. Every estimate nan, and not an error. */
  struct {
    const char *what;
    double x[6], y[6];
    int n, n_x;
  } few[] = {
      {"two points", {1, 2}, {1, 3}, 2, 2},
      {"all x equal", {5, 5, 5, 5}, {1, 2, 3, 4}, 4, 1},
      {"two distinct x", {1, 1, 1, 2, 2, 2}, {1, 2, 3, 4, 5, 6}, 6, 2},
      {"no points", {0}, {0}, 0, 0},
  };
  for (size_t k = 0; k < sizeof few / sizeof few[0]; k++) {
    hb_trend_fit(&f, few[k].x, few[k].y, few[k].n);
    CHECK(f.status == HB_TREND_TOO_FEW, "%s: status %s", few[k].what, hb_trend_status_name(f.status));
    CHECK(f.n == few[k].n && f.n_x == few[k].n_x, "%s: n %d n_x %d", few[k].what, f.n, f.n_x);
    CHECK(isnan(f.intercept) && isnan(f.intercept_se) && isnan(f.slope) && isnan(f.slope_se) &&
              isnan(f.slope_lo95) && isnan(f.slope_hi95) && isnan(f.slope_p) && isnan(f.resid_sd) && isnan(f.r2),
          "%s: estimates not nan (slope %g)", few[k].what, f.slope);
  }
  CHECK(strcmp(hb_trend_status_name(HB_TREND_TOO_FEW), "too_few") == 0 &&
            strcmp(hb_trend_status_name(HB_TREND_OK), "ok") == 0,
        "status names");
  TEST_MAIN_END();
}
