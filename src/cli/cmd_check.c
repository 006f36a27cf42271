/* `hybench check`: the paper's claims over fresh result tables, and the
 * regression of those tables against a committed reference (the rule is in
 * include/hybench/check.h). `make check-results` runs it.
 *
 * hybench check --fresh DIR [--claims CLAIMS.tsv] [--profile P] [--out CLAIMS_OUT.tsv]
 *     [--ref DIR] [--mode auto|bit|stat] [--tables A.tsv,B.tsv] [--only COL=V1|V2]
 * hybench check --print-bands
 *
 * Exit codes: 0 no regression, 1 a regression (a table cell outside its band
 * or not identical, a row or column missing, a claim verdict changed), 2 bad
 * input (a claim whose cell names nothing, a claim of the reference missing
 * from CLAIMS.tsv, a column without a kind, a bad flag). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/check.h"
#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/tsv.h"

static const char *mode_name(HbCheckMode m) { return m == HB_MODE_BIT ? "bit" : m == HB_MODE_STAT ? "stat" : "auto"; }

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends a copy of the first len bytes of name to names (n, capacity cap). */
static char **push_name(char **names, int *n, int *cap, const char *name, size_t len) {
  if (*n == *cap) {
    *cap = *cap ? 2 * *cap : 16;
    char **grown = realloc(names, (size_t)*cap * sizeof *names);
    if (!grown) HB_FATAL("out of memory listing %d tables", *n);
    names = grown;
  }
  names[*n] = hb_malloc(len + 1);
  memcpy(names[*n], name, len);
  names[(*n)++][len] = '\0';
  return names;
}

/* The reference's tables (every *.tsv but claims.tsv), sorted; or the --tables list. */
static char **table_names(const char *ref_dir, const char *list, int *n_out) {
  char **names = NULL;
  int n = 0, cap = 0;
  if (list && *list) {
    for (const char *p = list; *p;) {
      size_t len = strcspn(p, ",");
      names = push_name(names, &n, &cap, p, len);
      p += len + (p[len] == ',');
    }
  } else {
    DIR *d = opendir(ref_dir);
    if (!d) hb_input_error(ref_dir, "cannot open the reference directory");
    struct dirent *e;
    while ((e = readdir(d))) {
      size_t len = strlen(e->d_name);
      if (len < 5 || strcmp(e->d_name + len - 4, ".tsv") != 0 || strcmp(e->d_name, "claims.tsv") == 0) continue;
      names = push_name(names, &n, &cap, e->d_name, len);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
  }
  *n_out = n;
  return names;
}

static void print_claims(const HbClaims *c, const char *dir) {
  printf("== claims (%s)\n", dir);
  for (int i = 0; i < c->n; i++) {
    const HbClaim *k = &c->items[i];
    if (!k->applies) {
      printf("%-30s %-13s (not decided by this profile's tables)  %s\n", k->id, k->holds, k->claim);
      continue;
    }
    char test[96] = "";
    if (strcmp(k->test, "mannwhitney") == 0)
      snprintf(test, sizeof test, "; Mann-Whitney U %g, p %.3g (seeds %d/%d)", k->statistic, k->p, k->n_a, k->n_b);
    else if (strcmp(k->test, "fisher") == 0)
      snprintf(test, sizeof test, "; Fisher p %.3g (of %d/%d seeds)", k->p, k->n_a, k->n_b);
    printf("%-30s %-13s %.6g %s %.6g  margin %.3g, spread %.3g%s (n %d/%d)%s  %s\n", k->id, k->holds, k->left,
           k->op, k->threshold, k->margin, k->spread, k->marginal ? " MARGINAL" : "", k->n_left, k->n_right, test,
           k->claim);
  }
}

/* Verdicts against the reference's claims table: every reference claim must
 * still be claimed; a verdict may change only in stat mode, on a claim the
 * reference marks marginal or one that rests on one run per side. Returns the
 * number of regressions. */
static int compare_verdicts(const HbClaims *fresh, const char *ref_claims, const char *claims_path, HbCheckMode mode) {
  HbTsv t;
  hb_tsv_read(&t, ref_claims);
  int id_col = hb_tsv_require_col(&t, "id"), holds_col = hb_tsv_require_col(&t, "holds");
  int marginal_col = hb_tsv_col(&t, "marginal");
  int n_left_col = hb_tsv_col(&t, "n_left"), n_right_col = hb_tsv_col(&t, "n_right"), test_col = hb_tsv_col(&t, "test");
  int bad = 0;
  printf("== claim verdicts vs %s (%s mode)\n", ref_claims, mode_name(mode));
  for (int r = 0; r < t.n_rows; r++) {
    const char *id = hb_tsv_str(&t, r, id_col), *was = hb_tsv_str(&t, r, holds_col);
    int marginal = marginal_col >= 0 && strcmp(hb_tsv_str(&t, r, marginal_col), "yes") == 0;
    /* One number per side and no test (a seed-1 constraint, say): on another
     * machine class its verdict is one more draw, with no spread to judge it by. */
    double n_left, n_right;
    int one_run = n_left_col >= 0 && n_right_col >= 0 && test_col >= 0 &&
                  hb_tsv_parse_double(&t, r, n_left_col, &n_left) && hb_tsv_parse_double(&t, r, n_right_col, &n_right) &&
                  n_left <= 1 && n_right <= 1 && strcmp(hb_tsv_str(&t, r, test_col), "-") == 0;
    const HbClaim *now = NULL;
    for (int i = 0; i < fresh->n && !now; i++)
      if (strcmp(fresh->items[i].id, id) == 0) now = &fresh->items[i];
    if (!now) {
      char where[512];  /* a claim the table no longer states: a check nobody disabled on purpose */
      hb_input_error(hb_tsv_where(where, sizeof where, &t, r, id_col),
                     "claim %s of the reference is missing from %s", id, claims_path);
    }
    if (!now->applies) {
      char where[512];
      hb_input_error(hb_tsv_where(where, sizeof where, &t, r, id_col),
                     "claim %s of the reference does not apply to this profile in %s", id, claims_path);
    }
    if (strcmp(now->holds, was) == 0) continue;
    if (mode == HB_MODE_STAT && marginal) {
      printf("note claim %s: %s in the reference, %s now; the reference marks it marginal (|margin| < spread)\n", id,
             was, now->holds);
      continue;
    }
    if (mode == HB_MODE_STAT && one_run) {
      printf("note claim %s: %s in the reference, %s now; one run per side: on another machine class another draw\n",
             id, was, now->holds);
      continue;
    }
    printf("REGRESSION claim %s: %s in the reference, %s now (margin %.3g, spread %.3g)\n", id, was, now->holds,
           now->margin, now->spread);
    bad++;
  }
  if (!bad) printf("ok   %d verdicts as in the reference, or marginal or of one run there\n", t.n_rows);
  hb_tsv_free(&t);
  return bad;
}

int cmd_check(int argc, char **argv) {
  const char *fresh = NULL, *ref = NULL, *claims = NULL, *out = NULL, *mode_text = "auto", *tables = NULL,
             *only = NULL, *profile = NULL;
  int print_bands = 0;
  long max_print = 10;
  HbOpt opts[] = {
      {"fresh", HB_OPT_STR, &fresh, "directory of the fresh tables (results/PROFILE)", 0},
      {"claims", HB_OPT_STR, &claims, "the claims (results/claims.tsv); evaluated on the fresh tables", 0},
      {"profile", HB_OPT_STR, &profile, "evaluate only the claims whose profiles column names this profile", 0},
      {"out", HB_OPT_STR, &out, "where the evaluated claims go (default FRESH/claims.tsv)", 0},
      {"ref", HB_OPT_STR, &ref, "directory of the reference tables (results/reference/PROFILE)", 0},
      {"mode", HB_OPT_STR, &mode_text, "auto (from the .meta sidecars), bit or stat", 0},
      {"tables", HB_OPT_STR, &tables, "compare only these tables (comma-separated names); default all of REF", 0},
      {"only", HB_OPT_STR, &only, "compare only rows whose COL is one of V1|V2 (tables without COL: all rows)", 0},
      {"max-print", HB_OPT_LONG, &max_print, "failing cells printed per table", 0},
      {"print-bands", HB_OPT_FLAG, &print_bands, "print the band rule and every column's kind, then exit", 0},
      {0}};
  const HbTableDoc tables_doc[] = {
      {"--out CLAIMS_OUT.tsv, one row per claim of the profile", hb_claims_columns, hb_claims_n_columns}};
  char *usage = hb_usage_with_tables(
      "check --fresh DIR [--claims CLAIMS.tsv] [--ref DIR] [--mode auto|bit|stat] [--tables LIST] [--only COL=V1|V2]\n"
      "check --print-bands\n\n"
      "Evaluates the claims on the fresh tables and compares every reference table with its fresh\n"
      "counterpart: identical cells on the same machine class, else each number inside its band\n"
      "(include/hybench/check.h). Exit 0 no regression, 1 regression, 2 bad input.",
      tables_doc, 1);
  hb_parse_args("check", usage, opts, argc, argv);
  free(usage);
  if (print_bands) {
    hb_bands_print(stdout);
    return 0;
  }
  if (!fresh) hb_input_error("check", "--fresh is required");
  HbCheckMode forced = HB_MODE_AUTO;
  if (strcmp(mode_text, "bit") == 0) forced = HB_MODE_BIT;
  else if (strcmp(mode_text, "stat") == 0) forced = HB_MODE_STAT;
  else if (strcmp(mode_text, "auto") != 0) hb_input_error("check --mode", "'%s' is not auto, bit or stat", mode_text);
  if (max_print < 0) hb_input_error("check --max-print", "%ld is negative", max_print);
  HbRowFilter filter = {0};
  char only_col[128];
  if (only) {
    const char *eq = strchr(only, '=');
    if (!eq || eq == only || !eq[1]) hb_input_error("check --only", "'%s' is not COL=V1|V2", only);
    snprintf(only_col, sizeof only_col, "%.*s", (int)(eq - only), only);
    filter.column = only_col;
    filter.values = eq + 1;
  }

  HbClaims evaluated = {0};
  char out_path[1024];
  if (claims) {
    hb_claims_eval(&evaluated, claims, fresh, profile);
    snprintf(out_path, sizeof out_path, "%s", out ? out : "");
    if (!out) snprintf(out_path, sizeof out_path, "%s/claims.tsv", fresh);
    hb_claims_write(&evaluated, out_path);
    print_claims(&evaluated, fresh);
  }
  int regressions = 0, n_bit = 0, n_stat = 0;
  long cells = 0;
  if (ref) {
    int n;
    char **names = table_names(ref, tables, &n);
    printf("== tables vs %s\n", ref);
    for (int i = 0; i < n; i++) {
      char ref_path[1024], fresh_path[1024], why[512];
      snprintf(ref_path, sizeof ref_path, "%s/%s", ref, names[i]);
      snprintf(fresh_path, sizeof fresh_path, "%s/%s", fresh, names[i]);
      if (!hb_file_exists(ref_path)) hb_input_error(ref_path, "no such reference table");
      if (!hb_file_exists(fresh_path)) {
        printf("REGRESSION %s: missing from %s\n", names[i], fresh);
        regressions++;
        continue;
      }
      HbCheckMode mode = hb_check_mode(ref_path, fresh_path, why, sizeof why);
      if (forced != HB_MODE_AUTO) {
        mode = forced;
        snprintf(why, sizeof why, "forced by --mode");
      }
      n_bit += mode == HB_MODE_BIT;
      n_stat += mode == HB_MODE_STAT;
      HbTableCheck res;
      hb_table_check(&res, ref_path, fresh_path, mode, &filter, (int)max_print, stdout);
      cells += res.cells;
      printf("%s %s: %s mode (%s): %d cells", res.failures ? "FAIL" : "ok  ", names[i], mode_name(mode), why,
             res.cells);
      if (mode == HB_MODE_STAT) {
        printf(", widest %.2f bands%s%s, %d outcome changes", res.widest, res.widest_at[0] ? " at " : "",
               res.widest_at, res.notes);
        if (res.beyond)
          printf("; %d cells beyond their band reported (%s)", res.beyond,
                 hb_table_is_detail(names[i]) ? "trajectory detail" : "rows whose outcome changed");
      }
      else
        printf(" identical");
      printf(res.failures ? ", %d failing\n" : "\n", res.failures);
      regressions += res.failures > 0;
      free(names[i]);
    }
    free(names);
    char ref_claims[1024];
    snprintf(ref_claims, sizeof ref_claims, "%s/claims.tsv", ref);
    if (claims && hb_file_exists(ref_claims)) {
      HbCheckMode claims_mode = forced != HB_MODE_AUTO ? forced : n_stat > 0 ? HB_MODE_STAT : HB_MODE_BIT;
      regressions += compare_verdicts(&evaluated, ref_claims, claims, claims_mode);
    }
  }
  hb_claims_free(&evaluated);
  if (ref)
    printf("check: %s (%ld cells; %d tables in bit mode, %d in stat mode)\n",
           regressions ? "REGRESSIONS" : "no regression", cells, n_bit, n_stat);
  return regressions ? 1 : 0;
}
