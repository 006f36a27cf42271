/* Result checks (include/hybench/check.h): the column kinds, the band rule
 * in stat mode (a cell at 0.1, 2.4, 2.6 and 3 seed spreads; the floor; the
 * log scale; a summary's companion sd; detail tables; changed outcomes),
 * bit mode, row pairing, the mode from the sidecars, and the claims (verdict,
 * margin, spread, marginal, "max" filters, another profile's claims). */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hybench/check.h"
#include "testutil.h"

static char dir[] = "/tmp/hb_test_check_XXXXXX";

static void write_text(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  if (!fp) HB_FATAL("cannot write %s", path);
  fputs(text, fp);
  fclose(fp);
}

static const char *in_dir(const char *name) {
  static char path[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
  return path[k];
}

/* Three seeds of model a; far_acc at 2000 has seed sd 0.1. */
static const char *REF =
    "model\tseed\ttokens\tshort_loss\tfar_acc\tlongppl\n"
    "a\t1\t2000\t1.70\t0.60\t10\n"
    "a\t2\t2000\t1.70\t0.70\t10\n"
    "a\t3\t2000\t1.70\t0.80\t10\n";

/* REF with seed 2's far_acc replaced by `far` and its longppl by `ppl`. */
static void write_fresh(const char *name, double far, double ppl) {
  char text[512];
  snprintf(text, sizeof text,
           "model\tseed\ttokens\tshort_loss\tfar_acc\tlongppl\n"
           "a\t1\t2000\t1.70\t0.60\t10\n"
           "a\t2\t2000\t1.70\t%.9g\t%.9g\n"
           "a\t3\t2000\t1.70\t0.80\t10\n",
           far, ppl);
  write_text(name, text);
}

static HbTableCheck check_table(const char *ref, const char *fresh, HbCheckMode mode) {
  HbTableCheck res;
  FILE *sink = fopen("/dev/null", "w");
  hb_table_check(&res, in_dir(ref), in_dir(fresh), mode, NULL, 10, sink);
  fclose(sink);
  return res;
}

static void test_kinds(void) {
  CHECK(hb_column_kind("far_acc") == HB_KIND_ACCURACY, "far_acc is an accuracy");
  CHECK(hb_column_kind("t_cross_sd") == HB_KIND_BIT_ONLY, "*_sd is bit-only");
  CHECK(hb_column_kind("alpha_lo") == HB_KIND_FIT, "*_lo is a fit bound");
  CHECK(hb_column_kind("seed") == HB_KIND_EXACT, "seed identifies");
  CHECK(hb_column_kind("no_such_column") == HB_KIND_UNKNOWN, "an unlisted column has no kind");
  CHECK(hb_column_kind("delay") == HB_KIND_MAGNITUDE && hb_column_kind("slope_se") == HB_KIND_BIT_ONLY &&
            hb_column_kind("t50_se") == HB_KIND_BIT_ONLY &&
            hb_column_kind("slope_lo95") == HB_KIND_FIT && hb_column_kind("censored") == HB_KIND_CATEGORY,
        "the w/T tables' columns have kinds");
  CHECK(hb_table_is_detail("wt_delays.tsv") && hb_table_is_detail("wt_fit_ratio_e4.tsv"),
        "the w/T delays and fits are trajectory detail (per-seed emergence points)");
  /* hybench fit seeds: C_mean, C_median, C_min, C_max take C's kind, C_n is an outcome */
  CHECK(hb_column_kind("tokens_to_90_median") == HB_KIND_TOKENS, "a seed median of tokens is tokens");
  CHECK(hb_column_kind("final_far_acc_mean") == HB_KIND_ACCURACY, "a seed mean of an accuracy is an accuracy");
  CHECK(hb_column_kind("tokens_to_50_n") == HB_KIND_CATEGORY, "how many seeds crossed is an outcome");
  CHECK(hb_column_kind("no_such_column_max") == HB_KIND_UNKNOWN, "a statistic of an unlisted column has no kind");
  CHECK(hb_band_rule(HB_KIND_PPL)->log_scale && !hb_band_rule(HB_KIND_LOSS)->log_scale, "scales");
}

static void test_bands(void) {
  write_text("ref.tsv", REF);
  /* (0.7 + f * 0.1) against band 2.5 * 0.1 */
  const double factors[] = {0.1, 2.4, 2.6, 3.0};
  const int fails[] = {0, 0, 1, 1};
  for (int i = 0; i < 4; i++) {
    write_fresh("fresh.tsv", 0.7 + factors[i] * 0.1, 10);
    HbTableCheck r = check_table("ref.tsv", "fresh.tsv", HB_MODE_STAT);
    CHECK(r.failures == fails[i], "moved by %.1f spreads: %d failures, want %d", factors[i], r.failures, fails[i]);
    CHECK(fabs(r.widest - factors[i] / HB_BAND_K) < 1e-6, "widest %.6f bands, want %.6f", r.widest,
          factors[i] / HB_BAND_K);
  }
  /* longppl has no seed spread: the floor, 0.05 on the log scale, band 0.125. */
  write_fresh("fresh.tsv", 0.7, 10.5);
  HbTableCheck r = check_table("ref.tsv", "fresh.tsv", HB_MODE_STAT);
  CHECK(r.failures == 0 && fabs(r.widest - log(1.05) / 0.125) < 1e-6, "ppl x1.05: %.4f bands", r.widest);
  write_fresh("fresh.tsv", 0.7, 14);
  r = check_table("ref.tsv", "fresh.tsv", HB_MODE_STAT);
  CHECK(r.failures == 1, "ppl x1.4 is outside the floor's band: %d failures", r.failures);
  /* Bit mode: the smallest change fails; identical passes. */
  write_fresh("fresh.tsv", 0.700000001, 10);
  r = check_table("ref.tsv", "fresh.tsv", HB_MODE_BIT);
  CHECK(r.failures == 1, "bit mode: one changed cell fails (%d)", r.failures);
  write_text("same.tsv", REF);
  r = check_table("ref.tsv", "same.tsv", HB_MODE_BIT);
  CHECK(r.failures == 0 && r.cells == 18, "bit mode: identical passes (%d failures, %d cells)", r.failures, r.cells);
  /* A missing and an extra row. */
  write_text("rows.tsv",
             "model\tseed\ttokens\tshort_loss\tfar_acc\tlongppl\n"
             "a\t1\t2000\t1.70\t0.60\t10\n"
             "a\t2\t2000\t1.70\t0.70\t10\n"
             "a\t4\t2000\t1.70\t0.80\t10\n");
  r = check_table("ref.tsv", "rows.tsv", HB_MODE_STAT);
  CHECK(r.failures == 2, "seed 3 missing and seed 4 extra: %d failures", r.failures);
}

/* One run of a model on another machine class is another draw: a cell with no
 * seed spread (its model has one seed in the reference, or a mean over one
 * seed) is reported beyond its band, not failed; the same move of a model
 * with seeds still fails. */
static void test_one_run(void) {
  write_text("one_ref.tsv", "model\tseed\tshort_loss\na\t1\t1.70\na\t2\t1.71\nb\t1\t1.80\n");
  write_text("one_b.tsv", "model\tseed\tshort_loss\na\t1\t1.70\na\t2\t1.71\nb\t1\t2.10\n");
  write_text("one_a.tsv", "model\tseed\tshort_loss\na\t1\t2.00\na\t2\t1.71\nb\t1\t1.80\n");
  HbTableCheck r = check_table("one_ref.tsv", "one_b.tsv", HB_MODE_STAT);
  CHECK(r.failures == 0 && r.beyond == 1, "one seed of b moved 0.3 nats: reported (%d failures, %d beyond)",
        r.failures, r.beyond);
  r = check_table("one_ref.tsv", "one_a.tsv", HB_MODE_STAT);
  CHECK(r.failures == 1, "a seed of a (2 seeds) moved 0.3 nats: fails (%d)", r.failures);
  r = check_table("one_ref.tsv", "one_b.tsv", HB_MODE_BIT);
  CHECK(r.failures == 1, "bit mode: the one-seed cell must still be identical (%d)", r.failures);
  write_text("sum1_ref.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t1\t1000000\tnan\n");
  write_text("sum1.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t1\t2000000\tnan\n");
  r = check_table("sum1_ref.tsv", "sum1.tsv", HB_MODE_STAT);
  CHECK(r.failures == 0 && r.beyond == 1, "a mean over one crossing seed moved x2: reported (%d failures, %d beyond)",
        r.failures, r.beyond);
}

static void test_summary_detail_outcome(void) {
  /* A summary row: t_cross_mean's spread is its companion t_cross_sd (log: sd / mean = 0.1);
   * with n_cross 2 the standard error of two 2-seed means, sd sqrt(2 / 2), is that sd. */
  write_text("sum_ref.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t2\t1000000\t100000\n");
  write_text("sum_in.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t2\t1200000\t50000\n");
  write_text("sum_out.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t2\t1300000\t50000\n");
  write_text("sum_flip.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t3\t1300000\t50000\n");
  HbTableCheck r = check_table("sum_ref.tsv", "sum_in.tsv", HB_MODE_STAT);
  CHECK(r.failures == 0 && fabs(r.widest - log(1.2) / 0.25) < 1e-6, "x1.2 within 2.5 x 0.1: %.4f", r.widest);
  r = check_table("sum_ref.tsv", "sum_out.tsv", HB_MODE_STAT);
  CHECK(r.failures == 1, "x1.3 outside 2.5 x 0.1 (log 1.3 = 0.262 > 0.25): %d", r.failures);
  r = check_table("sum_ref.tsv", "sum_flip.tsv", HB_MODE_STAT);
  CHECK(r.failures == 0 && r.notes == 1 && r.beyond == 1, "n_cross changed: a note, the mean reported (%d %d %d)",
        r.failures, r.notes, r.beyond);
  /* n_ok decides the t50 family only: a t_cross_mean outside its band still fails. */
  write_text("sum_ok.tsv", "model\tn_ok\tt_cross_mean\tt_cross_sd\na\t2\t1300000\t50000\n");
  write_text("sum_ok_ref.tsv", "model\tn_ok\tt_cross_mean\tt_cross_sd\na\t3\t1000000\t100000\n");
  r = check_table("sum_ok_ref.tsv", "sum_ok.tsv", HB_MODE_STAT);
  CHECK(r.failures == 1 && r.notes == 1, "n_ok changed, t_cross outside: %d failures, %d notes", r.failures, r.notes);
  /* Over 8 seeds the standard error is sd / 2: x1.2 (log 0.182) is outside 2.5 x 0.05. */
  write_text("sum8_ref.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t8\t1000000\t100000\n");
  write_text("sum8.tsv", "model\tn_cross\tt_cross_mean\tt_cross_sd\na\t8\t1200000\t100000\n");
  r = check_table("sum8_ref.tsv", "sum8.tsv", HB_MODE_STAT);
  CHECK(r.failures == 1 && fabs(r.widest - log(1.2) / 0.125) < 1e-6, "8 seeds: %.4f bands", r.widest);
  /* A detail table: cells outside their band are reported, not failed. */
  write_text("e1_curves.tsv", REF);
  write_fresh("fresh_curves.tsv", 1.0, 10);
  HbTableCheck d;
  FILE *sink = fopen("/dev/null", "w");
  char fresh_dir[600];
  snprintf(fresh_dir, sizeof fresh_dir, "%s/fresh", dir);
  mkdir(fresh_dir, 0700);
  rename(in_dir("fresh_curves.tsv"), in_dir("fresh/e1_curves.tsv"));
  hb_table_check(&d, in_dir("e1_curves.tsv"), in_dir("fresh/e1_curves.tsv"), HB_MODE_STAT, NULL, 10, sink);
  fclose(sink);
  CHECK(hb_table_is_detail("e1_curves.tsv") && hb_table_is_detail("e4_laziness_alltok.tsv") &&
            hb_table_is_detail("e1_emergence.tsv") && hb_table_is_detail("e4_emergence_alltok.tsv") &&
            !hb_table_is_detail("e1_final.tsv") && !hb_table_is_detail("e1_emergence_summary.tsv"),
        "detail list: per-seed emergence and head formation are detail, final values and crossing means not");
  CHECK(d.failures == 0 && d.beyond == 1, "detail: %d failures, %d beyond", d.failures, d.beyond);
}

static void test_mode(void) {
  const char *meta = "cpu_vendor = X\ncpu_family = 6\ncpu_model = 1\ncpu_stepping = 2\nonednn_isa = avx2\n"
                     "compiler = gcc 12\nhybench_build_flags = -O3\n";
  write_text("m1.tsv.meta", meta);
  write_text("m2.tsv.meta", meta);
  write_text("m3.tsv.meta", "cpu_vendor = X\ncpu_family = 6\ncpu_model = 2\ncpu_stepping = 2\nonednn_isa = avx2\n"
                            "compiler = gcc 12\nhybench_build_flags = -O3\n");
  write_text("m4.tsv.meta", "cpu = Intel x 2\n");
  char why[256];
  CHECK(hb_check_mode(in_dir("m1.tsv"), in_dir("m2.tsv"), why, sizeof why) == HB_MODE_BIT, "same class: bit (%s)", why);
  CHECK(hb_check_mode(in_dir("m1.tsv"), in_dir("m3.tsv"), why, sizeof why) == HB_MODE_STAT &&
            strstr(why, "cpu_model 1 vs 2"),
        "another model: stat (%s)", why);
  CHECK(hb_check_mode(in_dir("m4.tsv"), in_dir("m1.tsv"), why, sizeof why) == HB_MODE_STAT &&
            strstr(why, "reference sidecar names no cpu_vendor"),
        "an old sidecar: stat (%s)", why);
}

static void test_claims(void) {
  write_text("t.tsv", "model\tseed\ttokens\tfar_acc\n"
                      "a\t1\t1000\t0.1\na\t2\t1000\t0.1\n"
                      "a\t1\t2000\t0.6\na\t2\t2000\t0.8\n"
                      "b\t1\t2000\t0.5\nb\t2\t2000\tnan\n"
                      "c\t1\t2000\tnan\n");
  write_text("claims.tsv", "# a comment line\n"
                           "id\tclaim\tleft\top\tright\tmargin\tfactor\tprofiles\ttest\n"
                           "H\tholds\tt.tsv:model=a,tokens=max:far_acc\t>\tt.tsv:model=a,tokens=1000:far_acc\t0\t1\tall\tmannwhitney\n"
                           "N\tdoes not hold\tt.tsv:model=b,tokens=2000:far_acc\t>\t0.9\t0\t1\tall\t-\n"
                           "M\tmarginal\tt.tsv:model=a,tokens=2000:far_acc\t<\t0.8\t0\t1\tall\t-\n"
                           "U\tunknown\tt.tsv:model=c:far_acc\t>\t0.5\t0\t1\tall\t-\n"
                           "F\tfull only\tt.tsv:model=zz:far_acc\t>\t0.5\t0\t1\tfull\t-\n");
  HbClaims c;
  hb_claims_eval(&c, in_dir("claims.tsv"), dir, "quick");
  CHECK(c.n == 5, "%d claims", c.n);
  const HbClaim *h = &c.items[0], *n = &c.items[1], *m = &c.items[2], *u = &c.items[3], *f = &c.items[4];
  /* The inequality holds, but 2 vs 2 seeds cannot reach p < 0.05: not decided. */
  CHECK(!strcmp(h->holds, "not_decided") && h->marginal && fabs(h->left - 0.7) < 1e-12 && h->n_left == 2,
        "H: %s marginal %d %g n %d", h->holds, h->marginal, h->left, h->n_left);
  CHECK(fabs(h->sd_left - sqrt(0.02)) < 1e-12 && fabs(h->margin - 0.6) < 1e-12, "H: sd %g margin %g", h->sd_left,
        h->margin);
  /* 0.6, 0.8 above 0.1, 0.1: U 4 of 4, one-sided p 1 / C(4, 2). */
  CHECK(!strcmp(h->test, "mannwhitney") && h->statistic == 4 && fabs(h->p - 1.0 / 6) < 1e-12, "H: %s U %g p %g",
        h->test, h->statistic, h->p);
  CHECK(!strcmp(n->test, "-") && isnan(n->p), "N: no test");
  CHECK(!strcmp(n->holds, "does_not_hold") && n->n_left == 1, "N: %s n %d (nan skipped)", n->holds, n->n_left);
  CHECK(!strcmp(m->holds, "holds") && m->marginal, "M: %s marginal %d (margin %g < spread %g)", m->holds,
        m->marginal, m->margin, m->spread);
  CHECK(!strcmp(u->holds, "unknown"), "U: %s", u->holds);
  CHECK(!f->applies && !strcmp(f->holds, "n/a"), "F: another profile's claim is not evaluated");
  hb_claims_write(&c, in_dir("out_claims.tsv"));
  hb_claims_free(&c);

  /* Fisher on seed counts out of n_seeds. */
  write_text("s.tsv", "model\tn_seeds\tn_cross\nw8\t3\t3\nw64\t3\t0\n");
  write_text("fisher.tsv", "id\tclaim\tleft\top\tright\tmargin\tfactor\tprofiles\ttest\n"
                           "L\tfewer heads\ts.tsv:model=w64:n_cross\t<\ts.tsv:model=w8:n_cross\t0\t1\tall\tfisher\n");
  hb_claims_eval(&c, in_dir("fisher.tsv"), dir, NULL);
  CHECK(!strcmp(c.items[0].test, "fisher") && fabs(c.items[0].p - 0.05) < 1e-12 &&
            !strcmp(c.items[0].holds, "not_decided"),
        "Fisher 3/3 vs 0/3: p %g (not below 0.05: %s)", c.items[0].p, c.items[0].holds);
  hb_claims_free(&c);

  /* 4 vs 4 seeds, every one ordered as claimed: p 1 / C(8, 4) = 0.014, holds. */
  write_text("d.tsv", "model\tseed\tt_cross\nw8\t1\t1\nw8\t2\t2\nw8\t3\t3\nw8\t4\t4\n"
                      "w64\t1\t5\nw64\t2\t6\nw64\t3\t7\nw64\t4\tnan\n");
  write_text("decided.tsv", "id\tclaim\tleft\top\tright\tmargin\tfactor\tprofiles\ttest\n"
                            "D\tlater\td.tsv:model=w64:t_cross\t>\td.tsv:model=w8:t_cross\t0\t1\tall\tmannwhitney\n");
  hb_claims_eval(&c, in_dir("decided.tsv"), dir, NULL);
  CHECK(!strcmp(c.items[0].holds, "holds") && fabs(c.items[0].p - 1.0 / 70) < 1e-12 && c.items[0].marginal,
        "D: %s p %g marginal %d", c.items[0].holds, c.items[0].p, c.items[0].marginal);
  hb_claims_free(&c);
  /* Input errors (a cell matching no row, a missing column, a duplicate id,
   * a bad operator) exit 2 from inside the evaluation, leaving its buffers to
   * the process's end: tests/cli/check.sh checks them as a user meets them. */
}

int main(void) {
  if (!mkdtemp(dir)) HB_FATAL("mkdtemp failed");
  test_kinds();
  test_bands();
  test_summary_detail_outcome();
  test_one_run();
  test_mode();
  test_claims();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  TEST_MAIN_END();
}
