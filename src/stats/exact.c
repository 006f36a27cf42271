/* Exact two-sample tests (include/hybench/stats.h). */
#include <math.h>
#include <stdlib.h>

#include "hybench/common.h"
#include "hybench/stats.h"

/* Censored values (NaN, +inf: never crossed) sort above all finite ones. */
static double rank_key(double v) { return isnan(v) ? INFINITY : v; }

/* U of `a` against `b` over the pooled values, a given by a membership mask. */
static double u_of_split(const double *pooled, int n, unsigned mask) {
  double u = 0;
  for (int i = 0; i < n; i++) {
    if (!(mask >> i & 1)) continue;
    for (int j = 0; j < n; j++) {
      if (mask >> j & 1) continue;
      double x = pooled[i], y = pooled[j];
      u += x > y ? 1.0 : x == y ? 0.5 : 0.0;
    }
  }
  return u;
}

double hb_mann_whitney(const double *a, int na, const double *b, int nb, HbTail tail, double *p_out) {
  int n = na + nb;
  HB_ASSERT(na >= 1 && nb >= 1 && n <= 24, "exact enumeration of at most C(24, 12) relabellings");
  double pooled[24];
  for (int i = 0; i < na; i++) pooled[i] = rank_key(a[i]);
  for (int j = 0; j < nb; j++) pooled[na + j] = rank_key(b[j]);
  double u_obs = u_of_split(pooled, n, (1u << na) - 1), centre = 0.5 * na * nb;
  long extreme = 0, total = 0;
  /* Every subset of size na (Gosper's hack walks them in order). */
  for (unsigned mask = (1u << na) - 1; mask < (1u << n);) {
    double u = u_of_split(pooled, n, mask);
    /* A small tolerance: U is a multiple of 1/2, so equal values compare equal. */
    int more = tail == HB_TAIL_GREATER ? u >= u_obs - 1e-9 : fabs(u - centre) >= fabs(u_obs - centre) - 1e-9;
    extreme += more;
    total++;
    unsigned c = mask & -mask, r = mask + c;
    mask = (((r ^ mask) >> 2) / c) | r;
  }
  if (p_out) *p_out = (double)extreme / (double)total;
  return u_obs;
}

static double log_choose(int n, int k) { return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0); }

/* P(X = x) for the count of group 1's successes, margins fixed. */
static double hypergeometric(int x, int n1, int n2, int successes) {
  return exp(log_choose(n1, x) + log_choose(n2, successes - x) - log_choose(n1 + n2, successes));
}

double hb_fisher_exact(int x1, int n1, int x2, int n2, HbTail tail) {
  HB_ASSERT(n1 >= 1 && n2 >= 1 && x1 >= 0 && x1 <= n1 && x2 >= 0 && x2 <= n2, "counts inside their totals");
  int s = x1 + x2, lo = s - n2 > 0 ? s - n2 : 0, hi = s < n1 ? s : n1;
  double p_obs = hypergeometric(x1, n1, n2, s), p = 0;
  for (int x = lo; x <= hi; x++) {
    double px = hypergeometric(x, n1, n2, s);
    if (tail == HB_TAIL_GREATER ? x >= x1 : px <= p_obs * (1 + 1e-9)) p += px;
  }
  return p > 1 ? 1 : p;
}
