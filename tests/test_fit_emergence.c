/* Emergence fit: t50 recovered from noisy synthetic logistic curves (and its
 * standard error calibrated over many curves), flat curves reported as
 * not_risen with a lower bound instead of a number, curves still rising at
 * the last checkpoint, risen before the first, or stepping between two;
 * the threshold crossing; the per-hybrid summary rules. */
#include <stdlib.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "hybench/fit.h"
#include "testutil.h"

#define NPT 16 /* checkpoints 1e7 .. 1e10, log-spaced */

static void checkpoints(double *t) {
  for (int i = 0; i < NPT; i++) t[i] = 1e7 * pow(1e3, i / (double)(NPT - 1));
}

static void logistic(double *y, const double *t, double lo, double hi, double t50, double s, double sd,
                     gsl_rng *rng) {
  for (int i = 0; i < NPT; i++)
    y[i] = lo + (hi - lo) / (1 + exp(-(log(t[i]) - log(t50)) / s)) + (sd > 0 ? gsl_ran_gaussian(rng, sd) : 0);
}

static void test_recovery(gsl_rng *rng) {
  double t[NPT], y[NPT];
  checkpoints(t);
  static const double t50s[] = {5e7, 3e8, 1e9, 2e9};
  double max_rel = 0;
  for (size_t c = 0; c < sizeof t50s / sizeof t50s[0]; c++) {
    logistic(y, t, 0.05, 0.9, t50s[c], 0.5, 0.02, rng);
    HbEmergeFit f;
    hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
    double rel = fabs(f.t50 / t50s[c] - 1), z = (f.t50 - t50s[c]) / f.t50_se;
    max_rel = fmax(max_rel, rel);
    printf("  t50 %.4g: fitted %.4g +- %.2g (rel err %.3f, z %+.2f), lo %.3f hi %.3f s %.3f, %s, %d iterations, "
           "gsl %s\n",
           t50s[c], f.t50, f.t50_se, rel, z, f.lo, f.hi, f.s, hb_emergence_status_name(f.status), f.iterations,
           gsl_strerror(f.gsl_status));
    CHECK(f.status == HB_EMERGE_OK, "t50 %g: status %s", t50s[c], hb_emergence_status_name(f.status));
    CHECK(f.gsl_status == GSL_SUCCESS && f.iterations > 0, "t50 %g: GSL status recorded (%d)", t50s[c], f.gsl_status);
    CHECK(rel < 0.15 && fabs(z) < 3.5, "t50 %g recovered as %g +- %g", t50s[c], f.t50, f.t50_se);
    CHECK(isnan(f.t50_lower) && isnan(f.t50_upper), "an estimate carries no bounds");
  }
  printf("recovery: 4 curves (noise sd 0.02 on a 0.85 rise), max rel err of t50 %.3f\n", max_rel);

  /* Calibration: over many curves, |t50 - true| < t(0.975, n - 4) se about
   * 95% of the time (the delta-method se is approximate: allow 88%). */
  const double tq = gsl_cdf_tdist_Pinv(0.975, NPT - 4);
  int n_ok = 0, covered = 0;
  double z_sum = 0;
  for (int trial = 0; trial < 200; trial++) {
    double t50 = 1e8 * pow(30, gsl_rng_uniform(rng));
    logistic(y, t, 0.05, 0.9, t50, 0.5, 0.03, rng);
    HbEmergeFit f;
    hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
    if (f.status != HB_EMERGE_OK) continue;
    double z = (f.t50 - t50) / f.t50_se;
    n_ok++;
    z_sum += z;
    covered += fabs(z) < tq;
  }
  printf("calibration: %d of 200 curves ok (t50 1e8..3e9, checkpoints 1e7..1e10), %.3f within %.3f se (nominal "
         "0.95), mean z %+.3f\n",
         n_ok, covered / (double)n_ok, tq, z_sum / n_ok);
  CHECK(n_ok == 200, "every rising curve fitted (%d)", n_ok);
  CHECK(covered >= 0.88 * n_ok && fabs(z_sum / n_ok) < 0.25, "se calibrated: %d of %d covered, mean z %.3f", covered,
        n_ok, z_sum / n_ok);

  /* Input order does not matter. */
  logistic(y, t, 0.05, 0.9, 3e8, 0.5, 0.02, rng);
  HbEmergeFit a, b;
  hb_emergence_fit(&a, t, y, NPT, 0.01, 0);
  double tr[NPT], yr[NPT];
  for (int i = 0; i < NPT; i++) tr[i] = t[NPT - 1 - i], yr[i] = y[NPT - 1 - i];
  hb_emergence_fit(&b, tr, yr, NPT, 0.01, 0);
  CHECK(a.t50 == b.t50 && a.t50_se == b.t50_se, "reversed input gives the same fit (%.17g vs %.17g)", a.t50, b.t50);
}

static void test_not_risen(gsl_rng *rng) {
  double t[NPT], y[NPT];
  checkpoints(t);
  HbEmergeFit f;
  /* Flat noise. */
  logistic(y, t, 0.05, 0.05, 1e9, 0.5, 0.02, rng);
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
  printf("flat curve: %s, t50 %g, t50_lower %.4g (last checkpoint %.4g), rise p %.2g, gsl %s\n",
         hb_emergence_status_name(f.status), f.t50, f.t50_lower, t[NPT - 1], f.rise_p, gsl_strerror(f.gsl_status));
  CHECK(f.status == HB_EMERGE_NOT_RISEN, "flat: status %s", hb_emergence_status_name(f.status));
  CHECK(isnan(f.t50) && isnan(f.t50_se), "flat: no made-up t50 (%g)", f.t50);
  CHECK(f.t50_lower == t[NPT - 1], "flat: lower bound is the last checkpoint (%g)", f.t50_lower);
  CHECK(isnan(f.hi) && isnan(f.s), "flat: hi and s undetermined");
  int nr = 0, ok = 0;
  for (int trial = 0; trial < 100; trial++) {
    logistic(y, t, 0.05, 0.05, 1e9, 0.5, 0.02, rng);
    hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
    nr += f.status == HB_EMERGE_NOT_RISEN;
    ok += f.status == HB_EMERGE_OK;
  }
  printf("100 flat curves: %d not_risen, %d ok (false emergence), %d other\n", nr, ok, 100 - nr - ok);
  CHECK(nr >= 95 && ok <= 2, "flat curves: %d not_risen, %d ok", nr, ok);

  /* Exactly constant. */
  for (int i = 0; i < NPT; i++) y[i] = 0.25;
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
  CHECK(f.status == HB_EMERGE_NOT_RISEN && f.lo == 0.25 && isnan(f.t50), "constant: %s lo %g",
        hb_emergence_status_name(f.status), f.lo);

  /* Starting to rise at the end: midpoint after the last checkpoint. */
  logistic(y, t, 0.05, 0.9, 3e10, 0.5, 0.01, rng);
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
  printf("rise beginning at the end (t50 3e10 > last 1e10): %s, t50 %g, t50_lower %.4g\n",
         hb_emergence_status_name(f.status), f.t50, f.t50_lower);
  CHECK(f.status == HB_EMERGE_NOT_RISEN && isnan(f.t50) && f.t50_lower == t[NPT - 1], "late rise: %s",
        hb_emergence_status_name(f.status));

  /* Risen before the first checkpoint. */
  logistic(y, t, 0.05, 0.9, 3e6, 0.5, 0.01, rng);
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
  printf("risen before the first checkpoint (t50 3e6 < 1e7): %s, t50_upper %.4g\n", hb_emergence_status_name(f.status),
         f.t50_upper);
  CHECK(f.status == HB_EMERGE_EARLY && isnan(f.t50) && f.t50_upper == t[0], "early: %s",
        hb_emergence_status_name(f.status));

  /* A small early climb to a no-skill plateau (far accuracy 0 -> 0.06, as a
   * hybrid without retrieval shows) is a significant rise; --min-rise keeps
   * it from being timed as the emergence, and leaves a full rise alone. */
  logistic(y, t, 0.0, 0.06, 1e8, 0.3, 0.005, rng);
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
  const HbEmergeStatus plateau_plain = f.status;
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0.3);
  printf("climb to a 0.06 plateau: %s without min_rise, %s with min_rise 0.3 (t50_lower %.4g)\n",
         hb_emergence_status_name(plateau_plain), hb_emergence_status_name(f.status), f.t50_lower);
  CHECK(plateau_plain == HB_EMERGE_OK, "plateau climb without min_rise: %s", hb_emergence_status_name(plateau_plain));
  CHECK(f.status == HB_EMERGE_NOT_RISEN && isnan(f.t50) && f.t50_lower == t[NPT - 1], "plateau climb with min_rise: %s",
        hb_emergence_status_name(f.status));
  logistic(y, t, 0.05, 0.9, 3e8, 0.5, 0.01, rng);
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0.3);
  CHECK(f.status == HB_EMERGE_OK && fabs(log(f.t50 / 3e8)) < 0.2, "full rise with min_rise 0.3: %s t50 %g",
        hb_emergence_status_name(f.status), f.t50);

  /* A step between two checkpoints: bracketed, no estimate. */
  double t50 = sqrt(t[7] * t[8]);
  logistic(y, t, 0.05, 0.9, t50, 0.01, 0.01, rng);
  hb_emergence_fit(&f, t, y, NPT, 0.01, 0);
  printf("step between checkpoints 8 and 9 (t50 %.4g): %s, in [%.4g, %.4g]\n", t50, hb_emergence_status_name(f.status),
         f.t50_lower, f.t50_upper);
  CHECK(f.status == HB_EMERGE_UNRESOLVED && isnan(f.t50) && f.t50_lower <= t50 && t50 <= f.t50_upper,
        "step: %s [%g, %g]", hb_emergence_status_name(f.status), f.t50_lower, f.t50_upper);
}

static void test_cross(void) {
  const double t[] = {1e10, 1e8, 1e9}; /* any order */
  const double y[] = {0.7, 0.1, 0.3};
  int at_first;
  double tc = hb_emergence_cross(t, y, 3, 0.5, 0, &at_first);
  double want = 1e9 * sqrt(10); /* halfway from 0.3 to 0.7, halfway in log tokens */
  printf("threshold 0.5 on (1e8 0.1, 1e9 0.3, 1e10 0.7): crossing %.6g (want %.6g)\n", tc, want);
  CHECK(fabs(tc / want - 1) < 1e-12 && !at_first, "crossing %.17g, want %.17g", tc, want);
  tc = hb_emergence_cross(t, y, 3, 0.05, 0, &at_first);
  CHECK(tc == 1e8 && at_first, "already above at the first checkpoint: %g, at_first %d", tc, at_first);
  tc = hb_emergence_cross(t, y, 3, 0.8, 0, &at_first);
  CHECK(isnan(tc) && !at_first, "never reached: %g", tc);

  /* A transient: up to 0.6 at 1e8, back to 0.2, then 0.4 -> 0.8 for good. */
  const double t2[] = {1e7, 1e8, 1e9, 1e10, 1e11};
  const double y2[] = {0.1, 0.6, 0.2, 0.4, 0.8};
  const double first = hb_emergence_cross(t2, y2, 5, 0.5, 0, &at_first);
  const double held = hb_emergence_cross(t2, y2, 5, 0.5, 1, &at_first);
  const double want_held = 1e10 * pow(10, 0.25); /* a quarter of the way from 0.4 to 0.8 */
  printf("transient above 0.5 at 1e8, held from %.6g (want %.6g); first crossing %.4g\n", held, want_held, first);
  CHECK(first < 1e8 && fabs(held / want_held - 1) < 1e-12 && !at_first, "sustained crossing %.17g, first %g", held,
        first);
  const double y3[] = {0.1, 0.6, 0.7, 0.9, 0.4}; /* lost again at the end */
  CHECK(isnan(hb_emergence_cross(t2, y3, 5, 0.5, 1, &at_first)), "a level lost at the last checkpoint is not held");
  const double y4[] = {0.6, 0.1, 0.7, 0.9, 0.9};
  CHECK(hb_emergence_cross(t2, y4, 5, 0.5, 0, &at_first) == 1e7 && at_first, "first crossing at the first checkpoint");
  CHECK(hb_emergence_cross(t2, y4, 5, 0.5, 1, &at_first) > 1e8 && !at_first, "held only after the dip");
}

static HbEmergeFit fake(HbEmergeStatus status, double t50, double lower) {
  HbEmergeFit f;
  memset(&f, 0, sizeof f);
  f.status = status;
  f.t50 = status == HB_EMERGE_OK ? t50 : NAN;
  f.t50_lower = lower;
  return f;
}

static void test_summary(void) {
  HbEmergeFit a = fake(HB_EMERGE_OK, 1e9, NAN), b = fake(HB_EMERGE_OK, 2e9, NAN), c = fake(HB_EMERGE_OK, 3e9, NAN);
  HbEmergeFit nr = fake(HB_EMERGE_NOT_RISEN, NAN, 1e10), bad = fake(HB_EMERGE_FAILED, NAN, NAN);
  HbEmergeSummary s;
  const HbEmergeFit *all_ok[] = {&a, &b, &c};
  const double tc[] = {1.5e9, 2.5e9, 3.5e9};
  const int first[] = {0, 0, 0};
  hb_emergence_summarize(&s, all_ok, tc, first, 3);
  printf("summary, 3 ok seeds (1e9 2e9 3e9): %s mean %.4g sd %.4g, crossing mean %.4g\n", s.status, s.t50_mean, s.t50_sd,
         s.t_cross_mean);
  CHECK(strcmp(s.status, "ok") == 0 && fabs(s.t50_mean - 2e9) < 1 && fabs(s.t50_sd - 1e9) < 1, "all ok: mean %g sd %g",
        s.t50_mean, s.t50_sd);
  CHECK(s.t50_min == 1e9 && s.t50_max == 3e9 && isnan(s.t50_mean_lower), "min/max over ok seeds");
  CHECK(s.n_cross == 3 && fabs(s.t_cross_mean - 2.5e9) < 1, "crossing mean %g", s.t_cross_mean);

  const HbEmergeFit *mixed[] = {&a, &b, &nr};
  hb_emergence_summarize(&s, mixed, NULL, NULL, 3);
  printf("summary, 2 ok + 1 not risen (t50 > 1e10): %s, mean %g, mean >= %.4g\n", s.status, s.t50_mean,
         s.t50_mean_lower);
  CHECK(strcmp(s.status, "lower_bound") == 0 && isnan(s.t50_mean) && isnan(s.t50_sd), "partial: no mean");
  CHECK(fabs(s.t50_mean_lower - (1e9 + 2e9 + 1e10) / 3) < 1, "mean lower bound %g", s.t50_mean_lower);
  CHECK(s.n_ok == 2 && s.n_not_risen == 1 && s.t50_max == 2e9, "counts and min/max over ok seeds");

  const HbEmergeFit *broken[] = {&a, &nr, &bad};
  hb_emergence_summarize(&s, broken, NULL, NULL, 3);
  CHECK(strcmp(s.status, "incomplete") == 0 && isnan(s.t50_mean) && isnan(s.t50_mean_lower) && s.n_other == 1,
        "a failed seed: %s", s.status);
}

/* A metrics table: two hybrids (a, b) x two seeds, 6 checkpoints each, rows
 * interleaved; a's seeds rise (t50 near 1e8 and 3e8), b's stay flat. */
static void write_metrics(const char *path, int points_b2) {
  FILE *fp = fopen(path, "w");
  if (!fp) HB_FATAL("cannot write %s", path);
  fprintf(fp, "model\tseed\ttokens\tacc\n");
  for (int i = 0; i < 6; i++) {
    double t = 1e7 * pow(10, 0.5 * i);
    fprintf(fp, "a\t1\t%.9g\t%.9g\n", t, 1 / (1 + exp(-(log(t) - log(1e8)) / 0.4)));
    fprintf(fp, "b\t1\t%.9g\t%.9g\n", t, 0.1 + 0.001 * (i % 2));
    fprintf(fp, "a\t2\t%.9g\t%.9g\n", t, 1 / (1 + exp(-(log(t) - log(3e8)) / 0.4)));
    if (i < points_b2) fprintf(fp, "b\t2\t%.9g\t%.9g\n", t, 0.1 - 0.001 * (i % 2));
  }
  fclose(fp);
}

static void test_table(void) {
  char path[] = "/tmp/hb_test_emergence_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) HB_FATAL("mkstemp failed");
  close(fd);
  write_metrics(path, 6);
  HbTsv t;
  hb_tsv_read(&t, path);
  HbEmergeSpec spec = {.x_col = 2, .y_col = 3, .n_keys = 2, .key_cols = {0, 1}, .seed_key = 1, .threshold = 0.5,
                       .rise_p_max = 0.01, .min_rise = 0};
  HbEmergeTable et;
  hb_emergence_table(&et, &t, &spec);
  CHECK(et.n_runs == 4 && et.runs[0].row == 0 && et.runs[1].row == 1 && et.runs[2].row == 2 && et.runs[3].row == 3,
        "runs in order of first appearance: %d", et.n_runs);
  CHECK(et.runs[0].n_rows == 6 && et.runs[0].fit.status == HB_EMERGE_OK && fabs(et.runs[0].fit.t50 / 1e8 - 1) < 0.01,
        "a seed 1: %s t50 %g", hb_emergence_status_name(et.runs[0].fit.status), et.runs[0].fit.t50);
  CHECK(et.runs[1].fit.status == HB_EMERGE_NOT_RISEN && strcmp(et.runs[1].cross_status, "never") == 0 &&
            fabs(et.runs[1].t_cross_cens / (1e7 * pow(10, 2.5)) - 1) < 1e-8,
        "b seed 1: %s, %s, censored at %g", hb_emergence_status_name(et.runs[1].fit.status), et.runs[1].cross_status,
        et.runs[1].t_cross_cens);
  CHECK(strcmp(et.runs[0].cross_status, "crossed") == 0 && fabs(et.runs[0].t_cross / 1e8 - 1) < 0.01,
        "a seed 1 crosses 0.5 at %g", et.runs[0].t_cross);
  CHECK(et.n_hybrids == 2 && et.n_hybrid_cols == 1 && et.hybrid_cols[0] == 0 && et.hybrids[1].row == 1,
        "hybrids: %d", et.n_hybrids);
  const HbEmergeSummary *a = &et.hybrids[0].summary, *b = &et.hybrids[1].summary;
  CHECK(a->n_seeds == 2 && strcmp(a->status, "ok") == 0 && fabs(a->t50_mean / 2e8 - 1) < 0.01 && a->n_cross == 2,
        "hybrid a: %d seeds, %s, mean t50 %g", a->n_seeds, a->status, a->t50_mean);
  CHECK(b->n_seeds == 2 && strcmp(b->status, "lower_bound") == 0 && b->n_cross == 0, "hybrid b: %s", b->status);
  hb_emergence_table_free(&et);
  hb_tsv_free(&t);

  write_metrics(path, 4);
  hb_tsv_read(&t, path);
  EXPECT_INPUT_ERROR(hb_emergence_table(&et, &t, &spec), "rows 4-16, column acc: 4 points in group model=b seed=2");
  hb_tsv_free(&t);
  remove(path);
  printf("table: runs and hybrids in order of first appearance, fits, crossings, summaries, a short run\n");
}

int main(void) {
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 2024);
  test_recovery(rng);
  test_not_risen(rng);
  test_cross();
  test_summary();
  test_table();
  gsl_rng_free(rng);
  TEST_MAIN_END();
}
