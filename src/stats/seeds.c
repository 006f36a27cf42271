/* Statistics over seeds (include/hybench/stats.h). */
#include <math.h>
#include <stdlib.h>

#include "hybench/common.h"
#include "hybench/stats.h"

static int by_value(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

HbSeedStats hb_seed_stats(const double *v, int n) {
  HbSeedStats s = {0, NAN, NAN, NAN, NAN, NAN};
  double *sorted = hb_malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted); /* (s.n) the finite values */
  double sum = 0;
  for (int i = 0; i < n; i++) {
    if (!isfinite(v[i])) continue;
    sum += v[i];
    sorted[s.n++] = v[i];
  }
  if (s.n > 0) {
    s.mean = sum / s.n;
    qsort(sorted, (size_t)s.n, sizeof *sorted, by_value);
    s.min = sorted[0];
    s.max = sorted[s.n - 1];
    s.median = s.n % 2 ? sorted[s.n / 2] : (sorted[s.n / 2 - 1] + sorted[s.n / 2]) / 2;
  }
  if (s.n > 1) {
    double ss = 0;
    for (int i = 0; i < n; i++)
      if (isfinite(v[i])) ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = sqrt(ss / (s.n - 1));
  }
  free(sorted);
  return s;
}
