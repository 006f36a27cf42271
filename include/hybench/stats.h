/* Statistics over seeds (issue 15): every C table that averages over seeds
 * (emergence summaries, claims, the regression bands) uses hb_seed_stats, so
 * "the mean and sd over seeds" has one definition.
 *
 * Exact tests for seed-level comparisons (issue 14): claims about hybrids are
 * decided over a handful of seeds, so the statistics are exact, not
 * asymptotic.
 *
 * Mann-Whitney U (two samples of per-seed values, e.g. tokens to 90% far
 * accuracy): U counts the pairs (a_i, b_j) with a_i > b_j, ties counting 1/2.
 * A value that is NaN or +inf (a seed that never crossed within the budget)
 * ranks above every finite value and ties with the other such values: "not
 * by the budget" is later than any crossing. The p-value is exact: the share
 * of all C(na + nb, na) relabellings whose U is at least as extreme as the
 * observed one (two-sided: |U - na nb / 2| at least as large; one-sided:
 * U at least as large, i.e. a tends to exceed b). Worked toy example:
 * a = {3, 4, 5}, b = {1, 2} gives U = 6 = na nb, and one relabelling of the
 * C(5, 3) = 10 is that extreme: one-sided p = 0.1, two-sided p = 0.2.
 *
 * Fisher's exact test on a 2x2 table [[x1, n1 - x1], [x2, n2 - x2]] (e.g.
 * seeds that formed a retrieval head, out of n1 and n2): one-sided p =
 * P(X >= x1) under the hypergeometric law with the margins fixed (group 1
 * has more successes); two-sided p = the sum of the probabilities of all
 * tables no more likely than the observed one. Example: 3 of 3 vs 0 of 3
 * gives one-sided p = 0.05, two-sided 0.1. */
#ifndef HYBENCH_STATS_H
#define HYBENCH_STATS_H

/* Over the finite values of v (n): nan and inf (a seed that never crossed,
 * a cell that holds no number) are skipped, and `n` counts the rest. mean is
 * their sum in order over n (nan when n = 0); sd is the sample sd, n - 1 in
 * the denominator, from the deviations from that mean (two passes: a sum of
 * squares minus a squared sum cancels; nan when n < 2); min, max and median
 * (the mean of the middle two when n is even) are nan when n = 0. Worked toy
 * example: v = {3, nan, 1, 2, inf} gives n 3, mean 2, sd 1, min 1, max 3,
 * median 2. */
typedef struct {
  int n;
  double mean, sd, min, max, median;
} HbSeedStats;

HbSeedStats hb_seed_stats(const double *v, int n);

typedef enum { HB_TAIL_TWO, HB_TAIL_GREATER } HbTail;

/* U statistic and exact p-value (na + nb <= 24, both >= 1). */
double hb_mann_whitney(const double *a, int na, const double *b, int nb, HbTail tail, double *p_out);

/* Exact p-value of Fisher's test: x1 successes of n1 vs x2 of n2. */
double hb_fisher_exact(int x1, int n1, int x2, int n2, HbTail tail);

#endif
