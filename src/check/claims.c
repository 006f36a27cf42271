/* The paper's claims as inequalities over result tables (results/claims.tsv;
 * the format and the verdict rule are in include/hybench/check.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/check.h"
#include "hybench/stats.h"
#include "hybench/tsv.h"
#include "internal.h"

#define MAX_SAMPLES 24

typedef struct {
  double mean, sd;
  int n;
  /* For the claim's test: every matching row's value, NaN included (a seed
   * that never crossed is censored, not missing), and the rows' n_seeds. */
  double samples[MAX_SAMPLES];
  int n_samples, n_rows, seeds_total;
} CellValue;

/* Where a claim's cell reference is: claims file, row and column, for errors. */
typedef struct {
  const HbTsv *claims;
  int row, col;
} RefSite;

HB_PRINTF(2, 3) HB_NORETURN static void ref_error(const RefSite *site, const char *fmt, ...) {
  char where[512], msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  hb_input_error(hb_tsv_where(where, sizeof where, site->claims, site->row, site->col), "%s", msg);
}

typedef struct {
  char column[128], value[256];
} Filter;

/* Splits "a=1,b=max" into filters; returns their count. */
static int parse_filters(Filter *f, int max, const char *text, const RefSite *site) {
  int n = 0;
  for (const char *p = text; *p;) {
    size_t len = strcspn(p, ",");
    const char *eq = memchr(p, '=', len);
    if (!eq || eq == p || n == max) ref_error(site, "filter '%.*s' is not column=value", (int)len, p);
    snprintf(f[n].column, sizeof f[n].column, "%.*s", (int)(eq - p), p);
    snprintf(f[n].value, sizeof f[n].value, "%.*s", (int)(p + len - eq - 1), eq + 1);
    n++;
    p += len + (p[len] == ',');
  }
  return n;
}

/* Evaluates a literal number or TABLE:FILTERS:COLUMN over the tables in dir. */
static CellValue cell_value(const char *ref, const char *dir, const RefSite *site) {
  CellValue v = {.mean = NAN};
  double lit;
  if (hb_parse_double(ref, &lit)) {
    v.mean = lit;
    v.n = 1;
    return v;
  }
  const char *c1 = strchr(ref, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!c1 || !c2 || strchr(c2 + 1, ':')) ref_error(site, "'%s' is neither a number nor TABLE:FILTERS:COLUMN", ref);
  char path[1024], filters_text[512], column[128];
  snprintf(path, sizeof path, "%s/%.*s", dir, (int)(c1 - ref), ref);
  snprintf(filters_text, sizeof filters_text, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
  snprintf(column, sizeof column, "%s", c2 + 1);
  if (!hb_file_exists(path)) ref_error(site, "table %s does not exist", path);
  HbTsv t;
  hb_tsv_read(&t, path);
  Filter f[16];
  int nf = parse_filters(f, 16, filters_text, site), fcol[16];
  for (int k = 0; k < nf; k++)
    if ((fcol[k] = hb_tsv_col(&t, f[k].column)) < 0) ref_error(site, "%s has no column %s", path, f[k].column);
  int col = hb_tsv_col(&t, column);
  if (col < 0) ref_error(site, "%s has no column %s", path, column);
  /* Rows matching the plain filters, then the "max" filters among them. */
  int *match = hb_calloc((size_t)t.n_rows + 1, sizeof *match), n_match = 0;
  for (int r = 0; r < t.n_rows; r++) {
    match[r] = 1;
    for (int k = 0; k < nf; k++)
      if (strcmp(f[k].value, "max") != 0 && strcmp(hb_tsv_str(&t, r, fcol[k]), f[k].value) != 0) match[r] = 0;
  }
  for (int k = 0; k < nf; k++) {
    if (strcmp(f[k].value, "max") != 0) continue;
    double best = -INFINITY, x;
    for (int r = 0; r < t.n_rows; r++)
      if (match[r] && hb_tsv_parse_double(&t, r, fcol[k], &x) && x > best) best = x;
    for (int r = 0; r < t.n_rows; r++)
      if (match[r] && !(hb_tsv_parse_double(&t, r, fcol[k], &x) && x == best)) match[r] = 0;
  }
  for (int r = 0; r < t.n_rows; r++) n_match += match[r];
  if (n_match == 0) ref_error(site, "'%s' matches no row of %s", ref, path);
  double *values = hb_malloc((size_t)n_match * sizeof *values); /* (n_match) nan where no number */
  int last = -1, seeds_col = hb_tsv_col(&t, "n_seeds");
  for (int r = 0; r < t.n_rows; r++) {
    if (!match[r]) continue;
    double seeds, x;
    if (seeds_col >= 0 && hb_tsv_parse_double(&t, r, seeds_col, &seeds)) v.seeds_total += (int)seeds;
    int number = hb_tsv_parse_double(&t, r, col, &x);
    if (v.n_rows < MAX_SAMPLES) v.samples[v.n_samples++] = number ? x : NAN;
    values[v.n_rows++] = number ? x : NAN;
    if (number) last = r;
  }
  HbSeedStats stats = hb_seed_stats(values, v.n_rows);
  v.n = stats.n;
  v.mean = stats.mean;
  if (v.n >= 2) {
    v.sd = stats.sd;
  } else if (v.n == 1) {
    int sd_col = check_companion_sd_col(&t, column);
    double sd;
    if (sd_col >= 0 && hb_tsv_parse_double(&t, last, sd_col, &sd) && sd > 0) v.sd = sd;
  }
  free(values);
  free(match);
  hb_tsv_free(&t);
  return v;
}

/* The claims table's columns (include/hybench/check.h), looked up by name. */
enum { IN_ID, IN_CLAIM, IN_LEFT, IN_OP, IN_RIGHT, IN_MARGIN, IN_FACTOR, IN_PROFILES, IN_TEST, N_IN_COLUMNS };
static const char *const claim_columns[N_IN_COLUMNS] = {
    [IN_ID] = "id",         [IN_CLAIM] = "claim",   [IN_LEFT] = "left",         [IN_OP] = "op",    [IN_RIGHT] = "right",
    [IN_MARGIN] = "margin", [IN_FACTOR] = "factor", [IN_PROFILES] = "profiles", [IN_TEST] = "test"};

/* The claim's test on the seeds behind its two sides (include/hybench/stats.h),
 * one-sided in the claimed direction: "mannwhitney" on the per-seed values
 * (NaN = never crossed = later than any crossing), "fisher" on counts of
 * seeds out of the rows' n_seeds. */
static void claim_test(HbClaim *c, const char *test, const CellValue *left, const CellValue *right,
                       const RefSite *site) {
  const CellValue *hi = strcmp(c->op, ">") == 0 ? left : right, *lo = hi == left ? right : left;
  c->statistic = c->p = NAN;
  c->test = "-";
  if (strcmp(test, "-") == 0) return;
  if (strcmp(test, "mannwhitney") == 0) {
    if (left->n_rows > MAX_SAMPLES || right->n_rows > MAX_SAMPLES || left->n_rows + right->n_rows > MAX_SAMPLES)
      ref_error(site, "mannwhitney: at most %d seeds in all", MAX_SAMPLES);
    if (left->n_rows < 1 || right->n_rows < 1) ref_error(site, "mannwhitney: both sides must be cells");
    c->test = "mannwhitney";
    c->statistic = hb_mann_whitney(hi->samples, hi->n_samples, lo->samples, lo->n_samples, HB_TAIL_GREATER, &c->p);
    c->n_a = left->n_samples, c->n_b = right->n_samples;
  } else if (strcmp(test, "fisher") == 0) {
    if (left->n_rows != 1 || right->n_rows != 1 || left->seeds_total < 1 || right->seeds_total < 1)
      ref_error(site, "fisher: each side must be one row with an n_seeds column");
    int x1 = (int)hi->mean, x2 = (int)lo->mean;
    if (x1 < 0 || x1 > hi->seeds_total || x2 < 0 || x2 > lo->seeds_total)
      ref_error(site, "fisher: counts %d and %d outside their n_seeds", x1, x2);
    c->test = "fisher";
    c->statistic = x1 - x2;
    c->p = hb_fisher_exact(x1, hi->seeds_total, x2, lo->seeds_total, HB_TAIL_GREATER);
    c->n_a = left->seeds_total, c->n_b = right->seeds_total;
  } else {
    ref_error(site, "'%s' is not -, mannwhitney or fisher", test);
  }
}

/* The pre-registered verdict rule (check.h): the inequality on the means,
 * and with a test also p < HB_CLAIM_ALPHA. */
static void claim_verdict(HbClaim *c) {
  int tested = strcmp(c->test, "-") != 0;
  c->marginal = 0;
  if (isnan(c->margin)) {
    c->holds = "unknown";
    return;
  }
  if (c->margin <= 0) c->holds = "does_not_hold";
  /* An exact p of 1/20 computed as a product of ratios can land a rounding
   * error below 0.05: compare with a relative tolerance, so that 3 vs 3
   * seeds (smallest p exactly 0.05) never decide. */
  else c->holds = tested && !(c->p < HB_CLAIM_ALPHA * (1 - 1e-9)) ? "not_decided" : "holds";
  c->marginal = fabs(c->margin) < c->spread || (tested && c->p >= HB_CLAIM_P_NEAR_LO && c->p < HB_CLAIM_P_NEAR_HI);
}

/* Whether a comma-separated profile list names `profile` ("all" names every one). */
static int names_profile(const char *list, const char *profile) {
  size_t n = strlen(profile);
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    if ((len == 3 && strncmp(p, "all", 3) == 0) || (len == n && strncmp(p, profile, n) == 0)) return 1;
    p += len + (p[len] == ',');
  }
  return 0;
}

void hb_claims_eval(HbClaims *out, const char *claims_path, const char *dir, const char *profile) {
  HbTsv t;
  hb_tsv_read(&t, claims_path);
  int col[N_IN_COLUMNS];
  for (int k = 0; k < N_IN_COLUMNS; k++) col[k] = hb_tsv_require_col(&t, claim_columns[k]);
  out->n = t.n_rows;
  out->items = hb_calloc((size_t)t.n_rows + 1, sizeof *out->items);
  for (int r = 0; r < t.n_rows; r++) {
    HbClaim *c = &out->items[r];
    RefSite site = {&t, r, col[IN_ID]};
    const char *id = hb_tsv_str(&t, r, col[IN_ID]), *op = hb_tsv_str(&t, r, col[IN_OP]);
    for (int q = 0; q < r; q++)
      if (strcmp(out->items[q].id, id) == 0) ref_error(&site, "claim id %s appears twice", id);
    c->id = hb_strdup(id);
    c->claim = hb_strdup(hb_tsv_str(&t, r, col[IN_CLAIM]));
    c->op = hb_strdup(op);
    c->applies = !profile || names_profile(hb_tsv_str(&t, r, col[IN_PROFILES]), profile);
    if (!c->applies) {
      c->holds = "n/a";
      c->test = "-";
      continue;
    }
    site.col = col[IN_OP];
    if (strcmp(op, "<") != 0 && strcmp(op, ">") != 0) ref_error(&site, "'%s' is not < or >", op);
    site.col = col[IN_FACTOR];
    double factor = hb_tsv_double(&t, r, col[IN_FACTOR]);
    site.col = col[IN_LEFT];
    CellValue left = cell_value(hb_tsv_str(&t, r, col[IN_LEFT]), dir, &site);
    site.col = col[IN_RIGHT];
    CellValue right = cell_value(hb_tsv_str(&t, r, col[IN_RIGHT]), dir, &site);
    site.col = col[IN_MARGIN];
    CellValue margin = cell_value(hb_tsv_str(&t, r, col[IN_MARGIN]), dir, &site);
    c->left = left.mean;
    c->sd_left = left.sd;
    c->n_left = left.n;
    c->right = right.mean;
    c->sd_right = right.sd;
    c->n_right = right.n;
    c->threshold = right.mean * factor + margin.mean;
    c->margin = strcmp(op, "<") == 0 ? c->threshold - c->left : c->left - c->threshold;
    c->spread = sqrt(left.sd * left.sd + factor * factor * right.sd * right.sd);
    site.col = col[IN_TEST];
    claim_test(c, hb_tsv_str(&t, r, col[IN_TEST]), &left, &right, &site);
    claim_verdict(c);
  }
  hb_tsv_free(&t);
}

/* The evaluated claims' table: one row per claim that applies (`k`). */
#define CLAIM_OUT_COLUMNS(X)                                                                                      \
  X("id", str, k->id, "the claim's id")                                                                           \
  X("holds", str, k->holds, "holds | does_not_hold | not_decided (it holds, its test's p is not below 0.05) | "   \
                            "unknown (a cell holds no number)")                                                   \
  X("left", double, k->left, "LEFT: the number, or the mean of its cells")                                        \
  X("n_left", long, k->n_left, "numbers behind left")                                                             \
  X("sd_left", double, k->sd_left, "their sd (one number: its companion sd column; else 0)")                      \
  X("op", str, k->op, "< or >")                                                                                   \
  X("threshold", double, k->threshold, "RIGHT x factor + MARGIN")                                                 \
  X("right", double, k->right, "RIGHT: the number, or the mean of its cells")                                     \
  X("n_right", long, k->n_right, "numbers behind right")                                                          \
  X("sd_right", double, k->sd_right, "their sd")                                                                  \
  X("margin", double, k->margin, "how far left is past the threshold on the holding side (< 0: does not hold)")   \
  X("spread", double, k->spread, "sqrt(sd_left^2 + (factor sd_right)^2): the comparison's seed-to-seed spread")   \
  X("marginal", str, k->marginal ? "yes" : "no", "yes when |margin| < spread, or the test's p is in [0.01, 0.2)") \
  X("test", str, k->test, "- | mannwhitney | fisher (one-sided, as claimed)")                                     \
  X("statistic", double, k->statistic, "U (mannwhitney) or the difference of counts (fisher); nan without")       \
  X("p", double, k->p, "the test's p-value; nan without")                                                         \
  X("claim", str, k->claim, "the claim, in words")

const HbColumn hb_claims_columns[] = {CLAIM_OUT_COLUMNS(HB_COLUMN)};
const int hb_claims_n_columns = HB_NCOLS(hb_claims_columns);

void hb_claims_write(const HbClaims *c, const char *path) {
  HbTsvWriter writer, *w = &writer;
  hb_tsv_writer_open_columns(w, path, NULL, 0, hb_claims_columns, hb_claims_n_columns);
  for (int i = 0; i < c->n; i++) {
    const HbClaim *k = &c->items[i];
    if (!k->applies) continue;
    CLAIM_OUT_COLUMNS(HB_PUT)
    hb_tsv_end_row(w);
  }
  hb_tsv_writer_commit(w);
}

void hb_claims_free(HbClaims *c) {
  for (int i = 0; i < c->n; i++) {
    free(c->items[i].id);
    free(c->items[i].claim);
    free(c->items[i].op);
  }
  free(c->items);
  c->items = NULL;
  c->n = 0;
}
