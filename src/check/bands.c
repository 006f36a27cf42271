/* Regression of a fresh result table against its reference: the two modes
 * and the band rule of include/hybench/check.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/check.h"
#include "hybench/stats.h"
#include "hybench/tsv.h"
#include "internal.h"

/* ---- the band rule: one row per kind -------------------------------------- */
static const HbBandRule band_rules[HB_KIND_COUNT_] = {
    [HB_KIND_EXACT] = {HB_KIND_EXACT, "exact", 0, 0, 0, "identifies the row or is fixed by code and data"},
    [HB_KIND_CATEGORY] = {HB_KIND_CATEGORY, "category", 0, 0, 0, "an outcome that may flip: listed, decided by the claims"},
    [HB_KIND_BIT_ONLY] = {HB_KIND_BIT_ONLY, "bit-only", 0, 0, 0, "fit internals and seed sds: same machine class only"},
    [HB_KIND_BY_METRIC] = {HB_KIND_BY_METRIC, "by-metric", 0, 0, 0, "the kind of the row's metric"},
    [HB_KIND_LOSS] = {HB_KIND_LOSS, "loss", 0, 0, 0.01, "nats; 0.01 is 0.6% of a final text loss of ~1.7"},
    [HB_KIND_ACCURACY] = {HB_KIND_ACCURACY, "accuracy", 0, 0, 0.02, "fractions; 0.02 is ~4 answers in 176 NIAH samples"},
    [HB_KIND_PPL] = {HB_KIND_PPL, "ppl", 1, 0, 0.05, "log scale: 5% of a perplexity"},
    [HB_KIND_TOKENS] = {HB_KIND_TOKENS, "tokens", 1, 0, 0.05, "log scale: 5% of a token count (one 250k checkpoint at 5M)"},
    [HB_KIND_MAGNITUDE] = {HB_KIND_MAGNITUDE, "magnitude", 1, 0, 0.05, "log scale: 5% of a positive magnitude"},
    [HB_KIND_LOGLOSS] = {HB_KIND_LOGLOSS, "logloss", 0, 0, 0.05, "log LongPPL units: 5% of the perplexity"},
    [HB_KIND_FIT] = {HB_KIND_FIT, "fit", 0, 1, 0.1, "fitted parameters: 10% of the reference value"},
};

typedef struct {
  const char *column; /* exact name, or "*suffix" */
  HbColumnKind kind;
} KindName;

/* Every column of every result table, and every metric name of the long
 * tables (their `value` takes the metric's kind). */
static const KindName kind_names[] = {
    /* identifying, or fixed by code and data */
    {"run", HB_KIND_EXACT}, {"model", HB_KIND_EXACT}, {"seed", HB_KIND_EXACT}, {"tokens", HB_KIND_EXACT},
    {"ckpt", HB_KIND_EXACT}, {"set", HB_KIND_EXACT}, {"layers", HB_KIND_EXACT}, {"r", HB_KIND_EXACT},
    {"metric", HB_KIND_EXACT}, {"group", HB_KIND_EXACT}, {"length", HB_KIND_EXACT}, {"distance", HB_KIND_EXACT},
    {"rank", HB_KIND_EXACT}, {"hybrid", HB_KIND_EXACT}, {"model_size", HB_KIND_EXACT},
    {"token_multiplier", HB_KIND_EXACT}, {"n", HB_KIND_EXACT}, {"d", HB_KIND_EXACT}, {"formula", HB_KIND_EXACT},
    {"target", HB_KIND_EXACT}, {"epsilon", HB_KIND_EXACT}, {"threshold", HB_KIND_EXACT}, {"kind", HB_KIND_EXACT},
    {"n_samples", HB_KIND_EXACT}, {"n_seqs", HB_KIND_EXACT}, {"n_train", HB_KIND_EXACT}, {"n_test", HB_KIND_EXACT},
    {"n_classes", HB_KIND_EXACT}, {"chance", HB_KIND_EXACT}, {"majority", HB_KIND_EXACT}, {"lambda", HB_KIND_EXACT},
    {"n_points", HB_KIND_EXACT}, {"n_seeds", HB_KIND_EXACT}, {"n_fit", HB_KIND_EXACT}, {"n_val", HB_KIND_EXACT},
    {"last", HB_KIND_EXACT}, {"uniform_needle", HB_KIND_EXACT}, {"uniform_relay", HB_KIND_EXACT},
    {"bootstrap_k", HB_KIND_EXACT}, {"mask", HB_KIND_EXACT}, {"n_center", HB_KIND_EXACT},
    {"min_distance", HB_KIND_EXACT}, {"n_rows", HB_KIND_EXACT}, {"pattern", HB_KIND_EXACT},
    {"final_tokens", HB_KIND_EXACT},
    /* the w/T delays and their trend fits (wt_delays.tsv, wt_fit_*.tsv) */
    {"scale", HB_KIND_EXACT}, {"T", HB_KIND_EXACT}, {"placement", HB_KIND_EXACT}, {"window", HB_KIND_EXACT},
    {"w_over_T", HB_KIND_EXACT}, {"measure", HB_KIND_EXACT}, {"n_x", HB_KIND_EXACT},
    /* outcomes that may flip with the trajectory */
    {"status", HB_KIND_CATEGORY}, {"cross_status", HB_KIND_CATEGORY}, {"gsl_status", HB_KIND_CATEGORY},
    {"hess_status", HB_KIND_CATEGORY}, {"at_bound", HB_KIND_CATEGORY}, {"limit", HB_KIND_CATEGORY},
    {"layer", HB_KIND_CATEGORY}, {"head", HB_KIND_CATEGORY}, {"status_shuffled", HB_KIND_CATEGORY},
    {"n_ok", HB_KIND_CATEGORY}, {"n_not_risen", HB_KIND_CATEGORY}, {"n_other", HB_KIND_CATEGORY},
    {"n_cross", HB_KIND_CATEGORY}, {"bootstrap_ok", HB_KIND_CATEGORY}, {"bootstrap_failed", HB_KIND_CATEGORY},
    {"bootstrap_limit", HB_KIND_CATEGORY}, {"done", HB_KIND_CATEGORY}, {"diverged", HB_KIND_CATEGORY},
    {"censored", HB_KIND_CATEGORY}, {"n_censored", HB_KIND_CATEGORY},
    /* fit internals */
    {"iterations", HB_KIND_BIT_ONLY}, {"iters", HB_KIND_BIT_ONLY}, {"iters_shuffled", HB_KIND_BIT_ONLY},
    {"rise_p", HB_KIND_BIT_ONLY}, {"late_p", HB_KIND_BIT_ONLY}, {"early_p", HB_KIND_BIT_ONLY},
    {"hess_eig_min", HB_KIND_BIT_ONLY}, {"hess_eig_max", HB_KIND_BIT_ONLY},
    {"grad_norm", HB_KIND_BIT_ONLY}, {"starts", HB_KIND_BIT_ONLY}, {"starts_converged", HB_KIND_BIT_ONLY},
    {"starts_stalled", HB_KIND_BIT_ONLY}, {"starts_capped", HB_KIND_BIT_ONLY}, {"starts_failed", HB_KIND_BIT_ONLY},
    {"objective", HB_KIND_BIT_ONLY}, {"diff_ppl", HB_KIND_BIT_ONLY}, {"*_sd", HB_KIND_BIT_ONLY},
    {"*_se", HB_KIND_BIT_ONLY}, {"slope_p", HB_KIND_BIT_ONLY},
    /* the logistic's shape and fits' in-sample quality: the decision quantities
       are t50, t_cross and the held-out val_rmse */
    {"lo", HB_KIND_BIT_ONLY}, {"hi", HB_KIND_BIT_ONLY}, {"s", HB_KIND_BIT_ONLY}, {"rmse", HB_KIND_BIT_ONLY},
    {"mae", HB_KIND_BIT_ONLY}, {"r2", HB_KIND_BIT_ONLY}, {"step_p", HB_KIND_BIT_ONLY},
    /* measured quantities */
    {"value", HB_KIND_BY_METRIC},
    {"short_loss", HB_KIND_LOSS}, {"answer_loss", HB_KIND_LOSS}, {"entropy", HB_KIND_LOSS},
    {"far_acc", HB_KIND_ACCURACY}, {"far_acc_fact", HB_KIND_ACCURACY}, {"near_acc", HB_KIND_ACCURACY},
    {"answer_acc", HB_KIND_ACCURACY},
    {"acc_dist", HB_KIND_ACCURACY}, {"niah_acc", HB_KIND_ACCURACY}, {"acc_test", HB_KIND_ACCURACY},
    {"acc_train", HB_KIND_ACCURACY}, {"acc_shuffled", HB_KIND_ACCURACY}, {"score_needle", HB_KIND_ACCURACY},
    {"score_relay", HB_KIND_ACCURACY}, {"entropy_norm", HB_KIND_ACCURACY},
    {"longppl", HB_KIND_PPL}, {"longppl_fact", HB_KIND_PPL}, {"loss", HB_KIND_PPL}, {"actual_ppl", HB_KIND_PPL}, {"predicted_ppl", HB_KIND_PPL},
    {"t50", HB_KIND_TOKENS}, {"t50_lower", HB_KIND_TOKENS}, {"t50_upper", HB_KIND_TOKENS},
    {"t50_mean", HB_KIND_TOKENS}, {"t50_min", HB_KIND_TOKENS}, {"t50_max", HB_KIND_TOKENS},
    {"t50_mean_lower", HB_KIND_TOKENS}, {"t_cross", HB_KIND_TOKENS}, {"t_cross_mean", HB_KIND_TOKENS},
    {"t_cross_cens", HB_KIND_TOKENS}, {"tokens_to_50", HB_KIND_TOKENS}, {"tokens_to_90", HB_KIND_TOKENS},
    {"t", HB_KIND_TOKENS}, {"baseline_t", HB_KIND_TOKENS}, {"delay", HB_KIND_MAGNITUDE},
    {"final_far_acc", HB_KIND_ACCURACY}, {"far_acc_2T", HB_KIND_ACCURACY}, {"final_short_loss", HB_KIND_LOSS},
    {"influence", HB_KIND_MAGNITUDE}, {"influence_rel", HB_KIND_MAGNITUDE}, {"qk_l2", HB_KIND_MAGNITUDE},
    {"qk_rel_l2", HB_KIND_MAGNITUDE}, {"short_loss_rel", HB_KIND_MAGNITUDE}, {"longppl_rel", HB_KIND_MAGNITUDE},
    {"actual", HB_KIND_LOGLOSS}, {"predicted", HB_KIND_LOGLOSS}, {"diff", HB_KIND_LOGLOSS},
    {"a", HB_KIND_FIT}, {"b", HB_KIND_FIT}, {"c", HB_KIND_FIT}, {"alpha", HB_KIND_FIT}, {"beta", HB_KIND_FIT},
    {"*_lo", HB_KIND_FIT}, {"*_hi", HB_KIND_FIT}, {"val_r2", HB_KIND_FIT},
    {"val_rmse", HB_KIND_FIT}, {"k", HB_KIND_FIT}, {"m0", HB_KIND_FIT}, {"g", HB_KIND_FIT},
    {"intercept", HB_KIND_FIT}, {"slope", HB_KIND_FIT}, {"slope_lo95", HB_KIND_FIT}, {"slope_hi95", HB_KIND_FIT},
};

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n > k && strcmp(s + n - k, suffix) == 0;
}

static HbColumnKind listed_kind(const char *column) {
  for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
    if (kind_names[i].column[0] != '*' && strcmp(kind_names[i].column, column) == 0) return kind_names[i].kind;
  for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
    if (kind_names[i].column[0] == '*' && ends_with(column, kind_names[i].column + 1)) return kind_names[i].kind;
  return HB_KIND_UNKNOWN;
}

/* The columns of `hybench fit seeds`, C_mean, C_median, C_min, C_max, take the
 * kind of C; C_n (how many seeds had a value, e.g. crossed) is an outcome. */
static HbColumnKind seed_stat_kind(const char *column) {
  static const char *const stats[] = {"_mean", "_median", "_min", "_max"};
  char base[256];
  for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
    if (!ends_with(column, stats[i]) || strlen(column) >= sizeof base) continue;
    snprintf(base, sizeof base, "%.*s", (int)(strlen(column) - strlen(stats[i])), column);
    return listed_kind(base);
  }
  if (ends_with(column, "_n") && strlen(column) < sizeof base) {
    snprintf(base, sizeof base, "%.*s", (int)(strlen(column) - 2), column);
    if (listed_kind(base) != HB_KIND_UNKNOWN) return HB_KIND_CATEGORY;
  }
  return HB_KIND_UNKNOWN;
}

HbColumnKind hb_column_kind(const char *column) {
  HbColumnKind kind = listed_kind(column);
  return kind != HB_KIND_UNKNOWN ? kind : seed_stat_kind(column);
}

int check_companion_sd_col(const HbTsv *t, const char *column) {
  char name[256];
  size_t len = strlen(column);
  if (ends_with(column, "_mean")) len -= 5;
  snprintf(name, sizeof name, "%.*s_sd", (int)len, column);
  return hb_tsv_col(t, name);
}

const HbBandRule *hb_band_rule(HbColumnKind kind) {
  HB_ASSERT(kind > HB_KIND_UNKNOWN && kind < HB_KIND_COUNT_, "a kind from the table");
  return &band_rules[kind];
}

/* Tables of trajectory detail: per-checkpoint curves and head traces, per-
 * distance and per-depth buckets of 1-16 answers, analyses of one seed's
 * final checkpoint. Measured on a second machine class (REPRODUCE.md), their
 * cells move by up to 9-99 bands: another machine is another trajectory,
 * and a 2-seed spread at one checkpoint does not bound a shift of when
 * retrieval emerges, nor which head ranks first. In stat mode their cells are
 * compared and reported, and decided through the tables derived from them
 * (final values, emergence points, their summaries) and the claims.
 * A third machine class (AMD family 25, AVX2; REPRODUCE.md) added the
 * per-seed emergence points: one seed's crossing is one draw there (sf_w8
 * seed 3 crossed 0.9 far accuracy 12% earlier, 1.01 bands), decided through
 * the means over seeds (e1_emergence_summary) and the claims; and the head
 * formation tables: sf_w8's rank-1 head crossed 0.5 at 1.82-2.57M tokens in
 * its 3 seeds against 3.04-3.13M in the reference (a 1.4% seed spread), while
 * the far-accuracy emergence of the same runs moved -12% to +3%: a threshold
 * on a score that hovers near it for a million tokens. Head formation is
 * decided by the claims (P-C3-head counts the seeds that form a head).
 * The w/T delays are those per-seed points over full attention's mean, and
 * their trend fits rest on them: decided by the S-WT claims. */
static const char *const detail_tables[] = {"curves.tsv",
                                            "e1_curves.tsv",
                                            "e1_curves_alltok.tsv",
                                            "e1_emergence.tsv",
                                            "e1_emergence_alltok.tsv",
                                            "e3_constraint.tsv",
                                            "e4_emergence.tsv",
                                            "e4_emergence_alltok.tsv",
                                            "e4_emergence_summary.tsv",
                                            "e4_emergence_alltok_summary.tsv",
                                            "e4_laziness.tsv",
                                            "e4_laziness_all_needles.tsv",
                                            "e4_laziness_alltok.tsv",
                                            "e5_nope.tsv",
                                            "mech_gradient.tsv",
                                            "mech_probe.tsv",
                                            "mech_probe_all_needles.tsv",
                                            "wt_delays.tsv",
                                            "wt_fit_ratio_e1.tsv",
                                            "wt_fit_ratio_e4.tsv",
                                            "wt_fit_window_e1.tsv",
                                            "wt_fit_window_e4.tsv"};

int hb_table_is_detail(const char *name) {
  for (size_t i = 0; i < sizeof detail_tables / sizeof detail_tables[0]; i++)
    if (strcmp(name, detail_tables[i]) == 0) return 1;
  return 0;
}

void hb_bands_print(FILE *fp) {
  fprintf(fp, "band: |t(fresh) - t(ref)| <= %.2g * max(spread, floor); spread = the reference's sd over seeds\n"
              "of the cell (else its companion _sd column), on the kind's scale t\n\n",
          HB_BAND_K);
  fprintf(fp, "trajectory detail (stat mode: compared and reported, not failed):");
  for (size_t i = 0; i < sizeof detail_tables / sizeof detail_tables[0]; i++) fprintf(fp, " %s", detail_tables[i]);
  fprintf(fp, "\n\nkind\tscale\tfloor\tcolumns\twhy\n");
  for (int k = HB_KIND_EXACT; k < HB_KIND_COUNT_; k++) {
    const HbBandRule *r = &band_rules[k];
    const char *scale = k < HB_KIND_LOSS ? "-" : r->log_scale ? "log" : r->relative_floor ? "relative" : "absolute";
    fprintf(fp, "%s\t%s\t", r->name, scale);
    if (k < HB_KIND_LOSS) fprintf(fp, "-\t");
    else fprintf(fp, "%g%s\t", r->floor, r->relative_floor ? " x |ref|" : "");
    const char *sep = "";
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
      if (kind_names[i].kind == (HbColumnKind)k) {
        fprintf(fp, "%s%s", sep, kind_names[i].column);
        sep = ",";
      }
    fprintf(fp, "\t%s\n", r->why);
  }
}

/* ---- the mode, from the sidecars ----------------------------------------- */
static const char *const class_keys[] = {"cpu_vendor", "cpu_family", "cpu_model", "cpu_stepping",
                                         "onednn_isa", "compiler", "hybench_build_flags"};

/* A table's sidecar text (TABLE.meta), or NULL when it has none. */
static char *read_sidecar(const char *table) {
  char path[4096];
  snprintf(path, sizeof path, "%s.meta", table);
  return hb_file_exists(path) ? hb_read_file(path, NULL) : NULL;
}

/* The value of a `key = value` line of a sidecar's text into out; 0 if absent. */
static int meta_value(char *out, size_t size, const char *text, const char *key) {
  size_t k = strlen(key);
  for (const char *line = text; line && *line;) {
    size_t len = strcspn(line, "\n");
    if (len > k + 3 && strncmp(line, key, k) == 0 && strncmp(line + k, " = ", 3) == 0) {
      snprintf(out, size, "%.*s", (int)(len - k - 3), line + k + 3);
      return 1;
    }
    line += len + (line[len] == '\n');
  }
  return 0;
}

static HbCheckMode mode_from_sidecars(const char *ref_meta, const char *fresh_meta, char *why, size_t why_size) {
  char a[1024], b[1024];
  for (size_t i = 0; i < sizeof class_keys / sizeof class_keys[0]; i++) {
    int has_a = meta_value(a, sizeof a, ref_meta, class_keys[i]);
    int has_b = meta_value(b, sizeof b, fresh_meta, class_keys[i]);
    if (!has_a || !has_b) {
      snprintf(why, why_size, "%s sidecar names no %s", !has_a ? "reference" : "fresh", class_keys[i]);
      return HB_MODE_STAT;
    }
    if (strcmp(a, b) != 0) {
      snprintf(why, why_size, "%s %s vs %s", class_keys[i], a, b);
      return HB_MODE_STAT;
    }
  }
  /* Sidecars older than the bf16 path name no precision: they are fp32. */
  if (!meta_value(a, sizeof a, ref_meta, "precision")) snprintf(a, sizeof a, "fp32");
  if (!meta_value(b, sizeof b, fresh_meta, "precision")) snprintf(b, sizeof b, "fp32");
  if (strcmp(a, b) != 0) {
    snprintf(why, why_size, "precision %s vs %s", a, b);
    return HB_MODE_STAT;
  }
  if (meta_value(a, sizeof a, ref_meta, "cpu_model_name"))
    snprintf(why, why_size, "same class: %s", a);
  else
    snprintf(why, why_size, "same class");
  return HB_MODE_BIT;
}

HbCheckMode hb_check_mode(const char *ref_table, const char *fresh_table, char *why, size_t why_size) {
  char *ref_meta = read_sidecar(ref_table), *fresh_meta = read_sidecar(fresh_table);
  HbCheckMode mode = mode_from_sidecars(ref_meta, fresh_meta, why, why_size);
  free(ref_meta);
  free(fresh_meta);
  return mode;
}

/* ---- one table ------------------------------------------------------------ */
typedef struct {
  HbTsv t;
  HbColumnKind *kind; /* (n_cols) */
  int *keep;          /* (n_rows) 1 unless filtered out */
  int metric_col, seed_col;
  char **key;         /* (n_rows) the exact columns' cells, joined */
  int *group;         /* (n_rows) rows equal on every exact column but the seed share a group */
} Table;

/* The seed column, and the columns whose values name the seed's run (a run
 * directory, a checkpoint path): left out of a seed group's key. */
static int embeds_seed(const Table *tb, int col) {
  const char *h = tb->t.header[col];
  return col == tb->seed_col || strcmp(h, "run") == 0 || strcmp(h, "ckpt") == 0;
}

/* A run or checkpoint path as it identifies a row: below the profile's runs
 * directory (results/runs/PROFILE[-bf16]/MODEL/sSEED/... -> MODEL/sSEED/...),
 * so that a profile's bf16 tables line up with its fp32 reference. */
static const char *run_identity(const Table *tb, int col, const char *cell) {
  if (col == tb->seed_col || !embeds_seed(tb, col) || strncmp(cell, "results/runs/", 13) != 0) return cell;
  const char *rest = strchr(cell + 13, '/');
  return rest ? rest + 1 : cell;
}

/* The exact columns' cells of a row joined by \x1f, the seed column left out
 * when skip_seed; named columns so that two tables with the same exact
 * columns in another order still agree. */
static char *row_key(const Table *tb, int row, int skip_seed) {
  size_t len = 1;
  for (int c = 0; c < tb->t.n_cols; c++)
    if (tb->kind[c] == HB_KIND_EXACT) len += strlen(tb->t.header[c]) + strlen(hb_tsv_str(&tb->t, row, c)) + 2;
  char *k = hb_malloc(len);
  size_t n = 0;
  for (int c = 0; c < tb->t.n_cols; c++) {
    if (tb->kind[c] != HB_KIND_EXACT || (skip_seed && embeds_seed(tb, c))) continue;
    n += (size_t)snprintf(k + n, len - n, "%s=%s\x1f", tb->t.header[c], run_identity(tb, c, hb_tsv_str(&tb->t, row, c)));
  }
  k[n] = '\0';
  return k;
}

static char **sort_keys;
static int by_key_then_row(const void *pa, const void *pb) {
  int a = *(const int *)pa, b = *(const int *)pb;
  int c = strcmp(sort_keys[a], sort_keys[b]);
  return c ? c : (a > b) - (a < b);
}

/* Row indices (kept rows only) sorted by key, then by row. */
static int *sorted_rows(const Table *tb, char **keys, int *n_out) {
  int *idx = hb_malloc(((size_t)tb->t.n_rows + 1) * sizeof *idx), n = 0;
  for (int r = 0; r < tb->t.n_rows; r++)
    if (tb->keep[r]) idx[n++] = r;
  sort_keys = keys;
  qsort(idx, (size_t)n, sizeof *idx, by_key_then_row);
  *n_out = n;
  return idx;
}

static void table_load(Table *tb, const char *path, const HbRowFilter *filter) {
  hb_tsv_read(&tb->t, path);
  int n = tb->t.n_rows;
  tb->kind = hb_calloc((size_t)tb->t.n_cols, sizeof *tb->kind);
  tb->keep = hb_calloc((size_t)n + 1, sizeof *tb->keep);
  tb->key = hb_calloc((size_t)n + 1, sizeof *tb->key);
  tb->group = hb_calloc((size_t)n + 1, sizeof *tb->group);
  tb->metric_col = hb_tsv_col(&tb->t, "metric");
  tb->seed_col = hb_tsv_col(&tb->t, "seed");
  for (int c = 0; c < tb->t.n_cols; c++) {
    tb->kind[c] = hb_column_kind(tb->t.header[c]);
    if (tb->kind[c] == HB_KIND_UNKNOWN)
      hb_input_error(path, "column %s has no kind in the band rule (src/check/bands.c kind_names)", tb->t.header[c]);
    if (tb->kind[c] == HB_KIND_BY_METRIC && tb->metric_col < 0)
      hb_input_error(path, "column %s takes its kind from a metric column, and the table has none", tb->t.header[c]);
  }
  int fcol = filter && filter->column ? hb_tsv_col(&tb->t, filter->column) : -1;
  for (int r = 0; r < n; r++) {
    tb->keep[r] = 1;
    if (fcol < 0) continue;
    const char *v = hb_tsv_str(&tb->t, r, fcol);
    size_t len = strlen(v);
    int match = 0;
    for (const char *p = filter->values; *p;) {
      size_t k = strcspn(p, "|");
      if (k == len && strncmp(p, v, len) == 0) match = 1;
      p += k + (p[k] == '|');
    }
    tb->keep[r] = match;
  }
  for (int r = 0; r < n; r++) tb->key[r] = row_key(tb, r, 0);
  /* Seed groups: the k-th row with a key pairs across seeds with the k-th
   * row of the same key but the seed (rows that no exact column tells apart,
   * e.g. one per layer, stay apart); sort on that, number the runs. */
  char **noseed = hb_calloc((size_t)n + 1, sizeof *noseed);
  int m;
  int *by_key = sorted_rows(tb, tb->key, &m);
  for (int i = 0, k = 0; i < m; i++) {
    k = i > 0 && strcmp(tb->key[by_key[i]], tb->key[by_key[i - 1]]) == 0 ? k + 1 : 0;
    char *base = row_key(tb, by_key[i], 1);
    size_t len = strlen(base) + 16;
    noseed[by_key[i]] = hb_malloc(len);
    snprintf(noseed[by_key[i]], len, "%s#%d", base, k);
    free(base);
  }
  free(by_key);
  for (int r = 0; r < n; r++)
    if (!noseed[r]) noseed[r] = hb_strdup(""); /* filtered out: in no group that counts */
  int *idx = sorted_rows(tb, noseed, &m);
  for (int i = 0, g = -1; i < m; i++) {
    if (i == 0 || strcmp(noseed[idx[i]], noseed[idx[i - 1]]) != 0) g++;
    tb->group[idx[i]] = g;
  }
  for (int r = 0; r < n; r++) free(noseed[r]);
  free(noseed);
  free(idx);
}

static void table_free(Table *tb) {
  for (int r = 0; r < tb->t.n_rows; r++) free(tb->key[r]);
  free(tb->key);
  free(tb->group);
  hb_tsv_free(&tb->t);
  free(tb->kind);
  free(tb->keep);
}

/* The kind of one cell (a long table's value takes its metric's kind). */
static HbColumnKind cell_kind(const Table *tb, int row, int col) {
  if (tb->kind[col] != HB_KIND_BY_METRIC) return tb->kind[col];
  const char *metric = hb_tsv_str(&tb->t, row, tb->metric_col);
  HbColumnKind k = hb_column_kind(metric);
  if (k < HB_KIND_LOSS) {
    char where[512];
    hb_input_error(hb_tsv_where(where, sizeof where, &tb->t, row, tb->metric_col),
                   "metric '%s' has no measured kind in the band rule", metric);
  }
  return k;
}

/* The row's short identifying cells, for messages. */
static void key_text(char *buf, size_t size, const Table *tb, int row) {
  size_t n = 0;
  buf[0] = '\0';
  for (int c = 0; c < tb->t.n_cols && n + 1 < size; c++) {
    if (tb->kind[c] != HB_KIND_EXACT) continue;
    const char *v = hb_tsv_str(&tb->t, row, c);
    if (strlen(v) > 40) continue; /* paths: the short columns name the row */
    n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", n ? " " : "", tb->t.header[c], v);
  }
}

static int to_scale(double *out, double v, const HbBandRule *rule) {
  if (!isfinite(v)) return 0;
  if (rule->log_scale) {
    if (v <= 0) return 0;
    v = log(v);
  }
  *out = v;
  return 1;
}

/* The kept rows ordered by seed group, in row order within a group: group g
 * is rows[first[g]] .. rows[first[g + 1] - 1]. Returns rows (n_rows);
 * *first gets (n_groups + 1) offsets. */
static int *rows_by_group(const Table *ref, int *n_groups, int **first) {
  int n = ref->t.n_rows, ng = 0;
  for (int r = 0; r < n; r++)
    if (ref->keep[r] && ref->group[r] >= ng) ng = ref->group[r] + 1;
  int *start = hb_calloc((size_t)ng + 1, sizeof *start), *next = hb_calloc((size_t)ng + 1, sizeof *next);
  int *rows = hb_malloc(((size_t)n + 1) * sizeof *rows);
  for (int r = 0; r < n; r++)
    if (ref->keep[r]) start[ref->group[r] + 1]++;
  for (int g = 0; g < ng; g++) start[g + 1] += start[g], next[g] = start[g];
  for (int r = 0; r < n; r++)
    if (ref->keep[r]) rows[next[ref->group[r]]++] = r;
  free(next);
  *n_groups = ng;
  *first = start;
  return rows;
}

/* The reference's seed-to-seed spread of every cell, on its kind's scale:
 * (n_rows, n_cols), 0 where there is none, NAN where the cell's model has
 * one seed in the reference. */
static double *seed_spreads(const Table *ref) {
  int n = ref->t.n_rows, nc = ref->t.n_cols, n_groups, *first;
  int *by_group = rows_by_group(ref, &n_groups, &first);
  double *spread = hb_calloc((size_t)n * (size_t)nc + 1, sizeof *spread);
  double *cell = hb_malloc(((size_t)n + 1) * sizeof *cell);   /* (n) the column on its scale, nan where no number */
  double *values = hb_malloc(((size_t)n + 1) * sizeof *values); /* one group's cells */
  double *sd = hb_malloc(((size_t)n_groups + 1) * sizeof *sd);  /* (n_groups) */
  for (int c = 0; c < nc; c++) {
    if (ref->kind[c] < HB_KIND_BY_METRIC || ref->seed_col < 0) continue;
    for (int r = 0; r < n; r++) {
      double v;
      int number = ref->keep[r] && hb_tsv_parse_double(&ref->t, r, c, &v);
      cell[r] = number && to_scale(&v, v, hb_band_rule(cell_kind(ref, r, c))) ? v : NAN;
    }
    for (int g = 0; g < n_groups; g++) {
      int k = 0;
      for (int i = first[g]; i < first[g + 1]; i++) values[k++] = cell[by_group[i]];
      HbSeedStats s = hb_seed_stats(values, k);
      sd[g] = s.n >= 2 ? s.sd : k == 1 ? NAN : 0; /* NAN: one seed, no spread (one_run) */
    }
    /* Every row of a group takes its spread (filtered rows too: they are not compared). */
    for (int r = 0; r < n; r++) spread[(size_t)r * nc + c] = ref->group[r] < n_groups ? sd[ref->group[r]] : 0;
  }
  free(sd);
  free(values);
  free(cell);
  free(by_group);
  free(first);
  return spread;
}

/* The number of seeds behind a summary's mean: the t50 family averages the
 * seeds whose fit is ok, the t_cross family those that crossed, the rest all;
 * -1 when the table does not say. */
static int seeds_behind_mean(const Table *ref, int row, const char *column) {
  const char *count = strncmp(column, "t50", 3) == 0       ? "n_ok"
                      : strncmp(column, "t_cross", 7) == 0 ? "n_cross"
                                                           : "n_seeds";
  int c = hb_tsv_col(&ref->t, count);
  double n;
  if (c < 0 || !hb_tsv_parse_double(&ref->t, row, c, &n)) return -1;
  return (int)n;
}

/* Whether a summary cell (one with a companion sd column) averages fewer than
 * two seeds: a mean of one run has no spread to band it. */
static int summary_of_one_run(const Table *ref, int row, int col) {
  const char *h = ref->t.header[col];
  int n = check_companion_sd_col(&ref->t, h) >= 0 ? seeds_behind_mean(ref, row, h) : -1;
  return n >= 0 && n < 2;
}

/* A summary row's spread: its mean's companion sd column (t_cross_mean ->
 * t_cross_sd, far_acc -> far_acc_sd), on the kind's scale, as the standard
 * error of the difference of two means over n seeds, sd sqrt(2 / n) (a
 * per-seed cell's spread is the sd itself); 0 if none. */
static double companion_spread(const Table *ref, int row, int col, const HbBandRule *rule) {
  const char *h = ref->t.header[col];
  int sd_col = check_companion_sd_col(&ref->t, h);
  double sd, x;
  if (sd_col < 0 || !hb_tsv_parse_double(&ref->t, row, sd_col, &sd) || sd <= 0 ||
      !hb_tsv_parse_double(&ref->t, row, col, &x))
    return 0;
  int n = seeds_behind_mean(ref, row, h);
  double se = n >= 2 ? sd * sqrt(2.0 / n) : sd;
  if (!rule->log_scale) return se;
  return x > 0 ? se / x : 0; /* d log x = dx / x */
}

static void record_failure(HbTableCheck *res, int max_print, FILE *fp, const char *msg) {
  res->failures++;
  if (res->failures <= max_print) fprintf(fp, "REGRESSION %s\n", msg);
}

/* A detail table's cell outside its band in stat mode: counted and reported. */
static void record_beyond(HbTableCheck *res, int max_print, FILE *fp, const char *msg) {
  res->beyond++;
  if (res->beyond <= max_print / 2) fprintf(fp, "detail %s\n", msg);
}

static void compare_rows_bit(HbTableCheck *res, const Table *ref, int r, const Table *fresh, int f,
                             const int *fresh_col, const char *name, int max_print, FILE *fp) {
  for (int c = 0; c < ref->t.n_cols; c++) {
    const char *a = hb_tsv_str(&ref->t, r, c), *b = hb_tsv_str(&fresh->t, f, fresh_col[c]);
    res->cells++;
    if (strcmp(a, b) == 0) continue;
    char key[512], msg[1024];
    key_text(key, sizeof key, ref, r);
    snprintf(msg, sizeof msg, "%s [%s] column %s: %s -> %s (bit mode: identical cells expected)", name, key,
             ref->t.header[c], a, b);
    record_failure(res, max_print, fp, msg);
  }
}

/* Which numbers an outcome column decides: a logistic fit's status (and the
 * count of seeds whose fit is ok) decides the t50 family, a crossing's status
 * (and the count of seeds that crossed) the t_cross family. Any other outcome
 * that changes (a bound, the top head) decides the whole row. */
static const struct {
  const char *outcome, *prefix;
} outcome_scope[] = {{"status", "t50"},      {"n_ok", "t50"},           {"n_not_risen", "t50"},
                     {"n_other", "t50"},     {"cross_status", "t_cross"}, {"n_cross", "t_cross"}};

static int depends_on_changed_outcome(const Table *ref, int col, const int *changed, int n_changed) {
  const char *h = ref->t.header[col];
  for (int i = 0; i < n_changed; i++) {
    const char *o = ref->t.header[changed[i]];
    int scoped = 0;
    for (size_t k = 0; k < sizeof outcome_scope / sizeof outcome_scope[0]; k++) {
      if (strcmp(o, outcome_scope[k].outcome) != 0) continue;
      scoped = 1;
      if (strncmp(h, outcome_scope[k].prefix, strlen(outcome_scope[k].prefix)) == 0) return 1;
    }
    if (!scoped) return 1;
  }
  return 0;
}

static void compare_rows_stat(HbTableCheck *res, const Table *ref, int r, const Table *fresh, int f,
                              const int *fresh_col, const double *spreads, const char *name, int max_print,
                              FILE *fp) {
  int detail = hb_table_is_detail(name);
  /* Outcomes that changed: the numbers that summarise them are reported, not failed. */
  int changed[256] = {0}, n_changed = 0;
  for (int c = 0; c < ref->t.n_cols && n_changed < 256; c++)
    if (cell_kind(ref, r, c) == HB_KIND_CATEGORY &&
        strcmp(hb_tsv_str(&ref->t, r, c), hb_tsv_str(&fresh->t, f, fresh_col[c])) != 0)
      changed[n_changed++] = c;
  char key[512], msg[1024];
  for (int c = 0; c < ref->t.n_cols; c++) {
    const char *a = hb_tsv_str(&ref->t, r, c), *b = hb_tsv_str(&fresh->t, f, fresh_col[c]);
    HbColumnKind kind = cell_kind(ref, r, c);
    if (kind == HB_KIND_EXACT || kind == HB_KIND_BIT_ONLY) continue; /* keys matched; internals skipped */
    if (kind == HB_KIND_CATEGORY && strcmp(a, b) == 0) continue;
    key_text(key, sizeof key, ref, r);
    const HbBandRule *rule = hb_band_rule(kind);
    double x = 0, y = 0, tx = 0, ty = 0;
    int nx = hb_tsv_parse_double(&ref->t, r, c, &x) && to_scale(&tx, x, rule);
    int ny = hb_tsv_parse_double(&fresh->t, f, fresh_col[c], &y) && to_scale(&ty, y, rule);
    if (kind == HB_KIND_CATEGORY || !nx || !ny) {
      if (strcmp(a, b) == 0) continue;
      res->notes++;
      if (res->notes <= 5)
        fprintf(fp, "note %s [%s] column %s: %s -> %s (an outcome changed; the claims decide)\n", name, key,
                ref->t.header[c], a, b);
      continue;
    }
    double spread = spreads[(size_t)r * ref->t.n_cols + c];
    /* One run of a model on another machine class is another draw: with no
     * seed spread to band it, its cells are reported, not failed. */
    int one_run = isnan(spread) || summary_of_one_run(ref, r, c);
    if (isnan(spread)) spread = 0;
    if (spread <= 0) spread = companion_spread(ref, r, c, rule);
    double floor = rule->relative_floor ? rule->floor * fabs(x) : rule->floor;
    if (floor <= 0) floor = rule->floor; /* a zero reference: the floor as an absolute */
    double band = HB_BAND_K * (spread > floor ? spread : floor);
    double dev = fabs(ty - tx) / band;
    res->cells++;
    if (dev > res->widest) {
      res->widest = dev;
      snprintf(res->widest_at, sizeof res->widest_at, "[%s] %s %s -> %s", key, ref->t.header[c], a, b);
    }
    if (dev > 1) {
      snprintf(msg, sizeof msg,
               "%s [%s] column %s: %s -> %s: %.2f bands (band +-%.3g on the %s scale = %.2g x max(seed spread %.3g, floor %.3g))",
               name, key, ref->t.header[c], a, b, dev, band, rule->log_scale ? "log" : "raw", HB_BAND_K, spread,
               floor);
      if (detail || one_run || depends_on_changed_outcome(ref, c, changed, n_changed))
        record_beyond(res, max_print, fp, msg);
      else record_failure(res, max_print, fp, msg);
    }
  }
}

void hb_table_check(HbTableCheck *res, const char *ref_path, const char *fresh_path, HbCheckMode mode,
                    const HbRowFilter *filter, int max_print, FILE *fp) {
  memset(res, 0, sizeof *res);
  res->mode = mode;
  const char *name = strrchr(ref_path, '/') ? strrchr(ref_path, '/') + 1 : ref_path;
  Table ref, fresh;
  table_load(&ref, ref_path, filter);
  table_load(&fresh, fresh_path, filter);
  int *fresh_col = hb_calloc((size_t)ref.t.n_cols, sizeof *fresh_col);
  char msg[1024], key[512];
  int columns_ok = ref.t.n_cols == fresh.t.n_cols;
  for (int c = 0; c < ref.t.n_cols; c++) {
    fresh_col[c] = hb_tsv_col(&fresh.t, ref.t.header[c]);
    if (fresh_col[c] < 0) {
      snprintf(msg, sizeof msg, "%s: column %s missing", name, ref.t.header[c]);
      record_failure(res, max_print, fp, msg);
      columns_ok = 0;
    }
  }
  if (!columns_ok && res->failures == 0) {
    snprintf(msg, sizeof msg, "%s: the fresh table has columns the reference has not", name);
    record_failure(res, max_print, fp, msg);
  }
  if (columns_ok) {
    double *spreads = mode == HB_MODE_STAT ? seed_spreads(&ref) : NULL;
    /* Pair rows by their exact columns: the k-th reference row with a key
     * pairs with the k-th fresh row with that key (a merge of sorted lists). */
    int nr, nf;
    int *ri = sorted_rows(&ref, ref.key, &nr), *fi = sorted_rows(&fresh, fresh.key, &nf);
    int i = 0, j = 0;
    while (i < nr || j < nf) {
      int cmp = i >= nr ? 1 : j >= nf ? -1 : strcmp(ref.key[ri[i]], fresh.key[fi[j]]);
      if (cmp < 0) {
        key_text(key, sizeof key, &ref, ri[i++]);
        snprintf(msg, sizeof msg, "%s [%s]: row missing", name, key);
        record_failure(res, max_print, fp, msg);
      } else if (cmp > 0) {
        key_text(key, sizeof key, &fresh, fi[j++]);
        snprintf(msg, sizeof msg, "%s [%s]: extra row", name, key);
        record_failure(res, max_print, fp, msg);
      } else {
        if (mode == HB_MODE_BIT) compare_rows_bit(res, &ref, ri[i], &fresh, fi[j], fresh_col, name, max_print, fp);
        else compare_rows_stat(res, &ref, ri[i], &fresh, fi[j], fresh_col, spreads, name, max_print, fp);
        i++;
        j++;
      }
    }
    free(ri);
    free(fi);
    free(spreads);
  }
  if (res->failures > max_print) fprintf(fp, "REGRESSION %s: %d more\n", name, res->failures - max_print);
  if (res->notes > 5) fprintf(fp, "note %s: %d more outcome changes\n", name, res->notes - 5);
  free(fresh_col);
  table_free(&ref);
  table_free(&fresh);
}
