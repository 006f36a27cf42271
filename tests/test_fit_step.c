/* The logistic-step law (include/hybench/fit.h): recovery of known
 * parameters from synthetic LongPPL points (3 sizes x 8 token budgets,
 * noise 0.02 in log LongPPL), the held-out size predicted, and a curve with
 * no step in its range flagged. */
#include <math.h>
#include <stdlib.h>

#include "hybench/fit.h"
#include "testutil.h"

static double noise(unsigned *state) { /* uniform in [-1, 1], deterministic */
  *state = *state * 1103515245u + 12345u;
  return ((*state >> 8) & 0xffff) / 32767.5 - 1.0;
}

static void synth(double *log_n, double *log_d, double *y, int *n, const double *sizes, int n_sizes, double lo,
                  double hi, double k, double m0, double g, double n_center, double amp) {
  unsigned state = 7;
  *n = 0;
  for (int a = 0; a < n_sizes; a++)
    for (int b = 0; b < 8; b++) {
      double ln = log(sizes[a]), ld = log(2e5) + b * 0.45; /* 0.2M .. 4.7M tokens */
      log_n[*n] = ln, log_d[*n] = ld;
      y[*n] = lo + (hi - lo) / (1 + exp(k * (ld - m0 + g * (ln - n_center)))) + amp * noise(&state);
      (*n)++;
    }
}

int main(void) {
  const double sizes[] = {4e4, 9e4, 1.4e5}, lo = 0.01, hi = 2.8, k = 4, g = 0.9;
  double log_n[64], log_d[64], y[64];
  int n;
  double n_center = (log(4e4) + log(9e4) + log(1.4e5)) / 3, m0 = log(1.5e6);
  synth(log_n, log_d, y, &n, sizes, 3, lo, hi, k, m0, g, n_center, 0.02);
  HbStepFit fit;
  hb_step_fit(&fit, log_n, log_d, y, n);
  printf("  recovered: lo %.4f hi %.4f k %.3f m0 %.4f g %.3f (true %.2f %.2f %.1f %.4f %.1f), R2 %.4f, %s\n", fit.lo,
         fit.hi, fit.k, fit.m0, fit.g, lo, hi, k, m0, g, fit.r2, hb_step_status_name(fit.status));
  CHECK(fit.status == HB_STEP_OK, "status %s", hb_step_status_name(fit.status));
  CHECK(fabs(fit.n_center - n_center) < 1e-12, "n_center %g", fit.n_center);
  CHECK(fabs(fit.hi - hi) < 0.05 && fabs(fit.lo - lo) < 0.05, "plateaus %g %g", fit.lo, fit.hi);
  CHECK(fabs(fit.k - k) / k < 0.15, "steepness %g (true %g)", fit.k, k);
  CHECK(fabs(fit.m0 - m0) < 0.05 && fabs(fit.g - g) < 0.15, "midpoint %g, its size slope %g", fit.m0, fit.g);
  CHECK(fit.r2 > 0.99 && fit.rmse < 0.03, "R2 %g RMSE %g", fit.r2, fit.rmse);
  /* A held-out larger size, noise-free: predicted within 0.1 everywhere. */
  const double big = 2.1e5;
  double worst = 0;
  for (int b = 0; b < 8; b++) {
    double ln = log(big), ld = log(2e5) + b * 0.45;
    double truth = lo + (hi - lo) / (1 + exp(k * (ld - m0 + g * (ln - n_center))));
    worst = fmax(worst, fabs(hb_step_predict(&fit, ln, ld) - truth));
  }
  CHECK(worst < 0.1, "held-out size: worst error %g", worst);
  /* The same curve with its step far beyond the tokens fitted: a trend, flagged. */
  synth(log_n, log_d, y, &n, sizes, 3, lo, hi, k, log(5e8), g, n_center, 0.02);
  hb_step_fit(&fit, log_n, log_d, y, n);
  CHECK(fit.status != HB_STEP_OK, "no step in range: status %s", hb_step_status_name(fit.status));
  TEST_MAIN_END();
}
