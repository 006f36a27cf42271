/* Seed statistics and exact tests (include/hybench/stats.h): the header's
 * worked examples; seed statistics against sums of squares in long double,
 * with non-finite values skipped and the small-n edges; exact tests values
 * checked against an independent brute force over every relabelling (for
 * Mann-Whitney) or every table (for Fisher), ties and censored values, and
 * the symmetry of the two-sided p-values. */
#include <math.h>
#include <stdlib.h>

#include "hybench/stats.h"
#include "testutil.h"

/* Brute force: ranks with midranks, rank-sum form of U, all relabellings by
 * recursion: a second, independent route to the same p-value. */
static int brute_n, brute_na;
static double brute_vals[24], brute_u_obs, brute_centre;
static long brute_more_two, brute_more_one, brute_total;

static double midrank(int i) {
  double below = 0, equal = 0;
  for (int j = 0; j < brute_n; j++) {
    if (brute_vals[j] < brute_vals[i]) below++;
    else if (brute_vals[j] == brute_vals[i]) equal++;
  }
  return below + (equal + 1) / 2;
}

static void brute_walk(int next, int chosen, double rank_sum) {
  if (chosen == brute_na) {
    double u = rank_sum - brute_na * (brute_na + 1) / 2.0;
    brute_total++;
    brute_more_one += u >= brute_u_obs - 1e-9;
    brute_more_two += fabs(u - brute_centre) >= fabs(brute_u_obs - brute_centre) - 1e-9;
    return;
  }
  if (next == brute_n) return;
  brute_walk(next + 1, chosen + 1, rank_sum + midrank(next));
  brute_walk(next + 1, chosen, rank_sum);
}

static void check_mann_whitney(const double *a, int na, const double *b, int nb, const char *name) {
  brute_n = na + nb, brute_na = na;
  for (int i = 0; i < na; i++) brute_vals[i] = isnan(a[i]) ? INFINITY : a[i];
  for (int j = 0; j < nb; j++) brute_vals[na + j] = isnan(b[j]) ? INFINITY : b[j];
  double rs = 0;
  for (int i = 0; i < na; i++) rs += midrank(i);
  brute_u_obs = rs - na * (na + 1) / 2.0, brute_centre = na * nb / 2.0;
  brute_more_one = brute_more_two = brute_total = 0;
  brute_walk(0, 0, 0);
  double p2, p1, u = hb_mann_whitney(a, na, b, nb, HB_TAIL_TWO, &p2);
  hb_mann_whitney(a, na, b, nb, HB_TAIL_GREATER, &p1);
  CHECK(fabs(u - brute_u_obs) < 1e-12, "%s: U %g, brute force %g", name, u, brute_u_obs);
  CHECK(fabs(p2 - (double)brute_more_two / brute_total) < 1e-12, "%s: two-sided p %g vs %g", name, p2,
        (double)brute_more_two / brute_total);
  CHECK(fabs(p1 - (double)brute_more_one / brute_total) < 1e-12, "%s: one-sided p %g vs %g", name, p1,
        (double)brute_more_one / brute_total);
}

static void test_mann_whitney(void) {
  double a[] = {3, 4, 5}, b[] = {1, 2}, p;
  double u = hb_mann_whitney(a, 3, b, 2, HB_TAIL_GREATER, &p);
  CHECK(u == 6 && fabs(p - 0.1) < 1e-12, "worked example: U %g, one-sided p %g (want 6, 0.1)", u, p);
  hb_mann_whitney(a, 3, b, 2, HB_TAIL_TWO, &p);
  CHECK(fabs(p - 0.2) < 1e-12, "worked example: two-sided p %g (want 0.2)", p);
  /* 5 vs 5 completely separated: one-sided 1 / C(10, 5) = 1/252. */
  double c[] = {6, 7, 8, 9, 10}, d[] = {1, 2, 3, 4, 5};
  hb_mann_whitney(c, 5, d, 5, HB_TAIL_GREATER, &p);
  CHECK(fabs(p - 1.0 / 252) < 1e-12, "5 vs 5 separated: p %g (want 1/252)", p);
  /* Censored: seeds that never crossed (NaN) are later than every crossing. */
  double late[] = {NAN, NAN, 4.6e6}, early[] = {3.0e6, 3.2e6, 3.1e6};
  u = hb_mann_whitney(late, 3, early, 3, HB_TAIL_GREATER, &p);
  CHECK(u == 9 && fabs(p - 0.05) < 1e-12, "censored: U %g p %g (want 9, 1/20)", u, p);
  check_mann_whitney(late, 3, early, 3, "censored");
  double t1[] = {1, 2, 2, 3, NAN}, t2[] = {2, 2, 4, NAN};
  check_mann_whitney(t1, 5, t2, 4, "ties");
  double r1[] = {0.3, 1.7, 2.2, 0.9, 5.1, 3.3, 2.8}, r2[] = {1.1, 0.2, 0.4, 2.1, 0.8, 1.9};
  check_mann_whitney(r1, 7, r2, 6, "7 vs 6");
  /* Symmetry: swapping the samples keeps the two-sided p. */
  double p_ab, p_ba;
  hb_mann_whitney(r1, 7, r2, 6, HB_TAIL_TWO, &p_ab);
  hb_mann_whitney(r2, 6, r1, 7, HB_TAIL_TWO, &p_ba);
  CHECK(fabs(p_ab - p_ba) < 1e-12, "two-sided symmetric: %g vs %g", p_ab, p_ba);
}

/* Brute force for Fisher: every table with the margins, by direct counting. */
static double choose(int n, int k) {
  double c = 1;
  for (int i = 1; i <= k; i++) c = c * (n - k + i) / i;
  return c;
}

static void test_fisher(void) {
  CHECK(fabs(hb_fisher_exact(3, 3, 0, 3, HB_TAIL_GREATER) - 0.05) < 1e-12, "3/3 vs 0/3 one-sided 0.05");
  CHECK(fabs(hb_fisher_exact(3, 3, 0, 3, HB_TAIL_TWO) - 0.1) < 1e-12, "3/3 vs 0/3 two-sided 0.1");
  CHECK(fabs(hb_fisher_exact(3, 3, 1, 3, HB_TAIL_GREATER) - 0.2) < 1e-12, "3/3 vs 1/3 one-sided 0.2 (%g)",
        hb_fisher_exact(3, 3, 1, 3, HB_TAIL_GREATER));
  /* Brute force on a larger table: 7 of 10 vs 2 of 9. */
  int x1 = 7, n1 = 10, x2 = 2, n2 = 9, s = x1 + x2;
  double total = choose(n1 + n2, s), p_obs = choose(n1, x1) * choose(n2, x2) / total, one = 0, two = 0;
  for (int x = 0; x <= s; x++) {
    if (x > n1 || s - x > n2) continue;
    double px = choose(n1, x) * choose(n2, s - x) / total;
    if (x >= x1) one += px;
    if (px <= p_obs * (1 + 1e-9)) two += px;
  }
  CHECK(fabs(hb_fisher_exact(x1, n1, x2, n2, HB_TAIL_GREATER) - one) < 1e-12, "7/10 vs 2/9 one-sided %g",
        one);
  CHECK(fabs(hb_fisher_exact(x1, n1, x2, n2, HB_TAIL_TWO) - two) < 1e-12, "7/10 vs 2/9 two-sided %g", two);
  CHECK(fabs(hb_fisher_exact(2, 9, 7, 10, HB_TAIL_TWO) - two) < 1e-12, "two-sided symmetric");
}

static void test_seed_stats(void) {
  double toy[] = {3, NAN, 1, 2, INFINITY};
  HbSeedStats s = hb_seed_stats(toy, 5);
  CHECK(s.n == 3 && s.mean == 2 && s.sd == 1 && s.min == 1 && s.max == 3 && s.median == 2,
        "worked example: n %d mean %g sd %g min %g max %g median %g (want 3 2 1 1 3 2)", s.n, s.mean, s.sd, s.min,
        s.max, s.median);
  /* Values with a large common offset: a one-pass sum of squares loses the sd, two passes keep it. */
  double v[] = {1e8 + 3, 1e8 - 1, -INFINITY, 1e8 + 2, 1e8 + 8, NAN};
  s = hb_seed_stats(v, 6);
  long double m = (3.0L - 1 + 2 + 8) / 4, ss = 0;
  for (int i = 0; i < 6; i++)
    if (isfinite(v[i])) ss += (v[i] - 1e8L - m) * (v[i] - 1e8L - m);
  double want_sd = (double)sqrtl(ss / 3);
  CHECK(s.n == 4 && s.mean == 1e8 + 3 && fabs(s.sd - want_sd) < 1e-12 * want_sd,
        "offset values: n %d mean %.17g sd %.17g (want 4, 1e8 + 3, %.17g)", s.n, s.mean, s.sd, want_sd);
  CHECK(s.min == 1e8 - 1 && s.max == 1e8 + 8 && s.median == 1e8 + 2.5, "offset values: min %.17g max %.17g median %.17g",
        s.min, s.max, s.median);
  double one[] = {NAN, 5};
  s = hb_seed_stats(one, 2);
  CHECK(s.n == 1 && s.mean == 5 && isnan(s.sd) && s.median == 5, "one finite value: sd nan, got %g", s.sd);
  s = hb_seed_stats(one, 1);
  CHECK(s.n == 0 && isnan(s.mean) && isnan(s.sd) && isnan(s.min) && isnan(s.median), "no finite value: all nan");
  s = hb_seed_stats(NULL, 0);
  CHECK(s.n == 0 && isnan(s.mean), "no values: mean nan");
}

int main(void) {
  test_seed_stats();
  test_mann_whitney();
  test_fisher();
  TEST_MAIN_END();
}
