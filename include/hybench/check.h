/* Result checks (`hybench check`, run by `make check-results`): the paper's
 * claims as inequalities over result tables, and the regression of fresh
 * tables against a committed reference, in one of two modes.
 *
 * ---- Claims (results/claims.tsv) ------------------------------------------
 * Columns: id, claim, left, op, right, margin, factor, profiles (the
 * profiles whose tables can decide the claim: "all" or e.g. "full"), test
 * ("-", "mannwhitney" on the per-seed values behind both sides, "fisher" on
 * seed counts out of n_seeds; one-sided in the claimed direction, reported
 * beside the verdict, include/hybench/stats.h). LEFT, RIGHT and MARGIN
 * are numbers or cell references TABLE:FILTERS:COLUMN, FILTERS = col=value
 * pairs joined by commas (value "max": the rows where that column is largest
 * among the rows matching the other filters). A cell's value is the mean of
 * COLUMN over the matching rows whose value is a number (e.g. over seeds); its
 * spread is their sd (n >= 2), else the row's companion sd column (t_cross_mean
 * -> t_cross_sd, far_acc -> far_acc_sd), else 0. The claim holds when
 *   LEFT op RIGHT * factor + MARGIN          (op is < or >)
 * Its margin is how far LEFT is past the threshold on the holding side
 * (negative: does not hold), its spread sqrt(sd_left^2 + (factor sd_right)^2):
 * the seed-to-seed uncertainty of the comparison. A claim is marginal when
 * |margin| < spread: another machine (another trajectory) may flip it.
 * A table, column or filter that names nothing, or filters that match no row,
 * is an input error (exit 2), never "unknown"; "unknown" means the cells exist
 * but hold no number (e.g. no seed crossed the threshold).
 *
 * ---- Regression: two modes, chosen per table from the .meta sidecars -------
 * bit:  the reference and the fresh table were made on the same machine class
 *       (include/hybench/machine.h: CPU vendor, family, model and stepping,
 *       oneDNN ISA, compiler, build flags) and precision (fp32 when the
 *       sidecar names none). The same code then gives the same bits: every
 *       cell must be identical.
 * stat: any other machine or precision (or a sidecar that does not name its
 *       class): bf16 tables against the fp32 reference come here. Rows
 *       are matched on their identifying columns; each number must lie inside
 *       its band:
 *         |t(fresh) - t(ref)| <= HB_BAND_K * max(spread, floor)
 *       t is the kind's scale (identity, or log for positive quantities that
 *       vary by ratios); spread is the reference's own seed-to-seed sd of that
 *       cell on that scale: the sd over the rows that differ from it only in
 *       the seed column, else its companion sd column scaled to the standard
 *       error of a difference of two n-seed means, sd sqrt(2 / n) (a
 *       summary's mean), else nothing; floor is the column kind's stated minimum (hb_band_rules).
 *       Tables of trajectory detail (per-checkpoint curves, head traces,
 *       small buckets, one seed's analyses; hb_table_is_detail) are compared
 *       and reported but do not fail in stat mode: a second machine is
 *       another trajectory, and they are decided through the tables derived
 *       from them and through the claims. Categorical outcomes (status, the top head's index, counts of crossed
 *       seeds) and a number turning nan (e.g. a threshold not crossed) are
 *       listed, not failed: the claims decide those. Fit internals (iterations,
 *       p-values, Hessian eigenvalues) and the sd columns are compared in bit
 *       mode only. Claims: verdicts must equal the reference's, except on a
 *       claim the reference marks marginal.
 * The kind of every column is looked up by its name in one table (check.c); a
 * column the table does not know is an input error, so a new column gets a
 * kind before any check of it can pass. */
#ifndef HYBENCH_CHECK_H
#define HYBENCH_CHECK_H

#include <stdio.h>

#include "hybench/tsv.h"

/* The band half-width in spreads. A cell moved by 3 seed spreads fails; one
 * within 2.5 (on the order of two independent trajectories' difference, sqrt 2
 * sd, with room for the noise of a 2-3 seed sd estimate) passes. */
#define HB_BAND_K 2.5

typedef enum {
  HB_KIND_UNKNOWN = 0,
  HB_KIND_EXACT,     /* identifies the row, or is fixed by code and data: equal in both modes */
  HB_KIND_CATEGORY,  /* an outcome that may flip with the trajectory: listed in stat mode */
  HB_KIND_BIT_ONLY,  /* fit internals, seed sds: compared in bit mode only */
  HB_KIND_BY_METRIC, /* a long table's `value`: the kind of its row's `metric` */
  HB_KIND_LOSS,      /* nats */
  HB_KIND_ACCURACY,  /* fractions and attention scores in [0, 1] */
  HB_KIND_PPL,       /* perplexities (LongPPL) */
  HB_KIND_TOKENS,    /* token counts: emergence points, crossings */
  HB_KIND_MAGNITUDE, /* positive magnitudes and ratios (gradient influence, Q/K distance) */
  HB_KIND_LOGLOSS,   /* scaling-fit points in log LongPPL */
  HB_KIND_FIT,       /* fitted law parameters and fit quality */
  HB_KIND_COUNT_
} HbColumnKind;

typedef struct {
  HbColumnKind kind;
  const char *name;
  int log_scale;      /* compare log(values) */
  int relative_floor; /* the floor is a fraction of |reference| */
  double floor;       /* the smallest spread, on the kind's scale */
  const char *why;
} HbBandRule;

/* The kind of a column (HB_KIND_UNKNOWN when the table does not list it). */
HbColumnKind hb_column_kind(const char *column);
const HbBandRule *hb_band_rule(HbColumnKind kind);
/* Prints the band rule and the column table (for REPRODUCE.md). */
void hb_bands_print(FILE *fp);

typedef enum { HB_MODE_AUTO, HB_MODE_BIT, HB_MODE_STAT } HbCheckMode;

/* Row filter for a partial comparison (--only): rows whose `column` is one of
 * `values` (a |-separated list); tables without the column are unfiltered. */
typedef struct {
  const char *column;
  const char *values;
} HbRowFilter;

typedef struct {
  int cells;          /* numbers compared against a band (stat) or cells compared (bit) */
  int failures;       /* cells, rows or columns that regress */
  int notes;          /* stat mode: categorical / nan changes, listed */
  int beyond;         /* stat mode: cells outside their band in detail tables or in rows
                         whose outcome changed, reported */
  double widest;      /* widest deviation in band units (stat) */
  char widest_at[256];
  HbCheckMode mode;
} HbTableCheck;

/* Whether a table is trajectory detail (bands.c detail_tables): in stat mode
 * its cells are compared and reported, and fail only through the tables
 * derived from it and the claims. */
int hb_table_is_detail(const char *name);

/* The mode for one table: bit when both sidecars name the same machine class,
 * else stat; `why` gets the reason (the first key that differs). */
HbCheckMode hb_check_mode(const char *ref_table, const char *fresh_table, char *why, size_t why_size);

/* Compares one table; prints failures (at most `max_print`) and notes to fp. */
void hb_table_check(HbTableCheck *res, const char *ref_path, const char *fresh_path, HbCheckMode mode,
                    const HbRowFilter *filter, int max_print, FILE *fp);

#define HB_CLAIM_ALPHA 0.05
#define HB_CLAIM_P_NEAR_LO 0.01
#define HB_CLAIM_P_NEAR_HI 0.2

typedef struct {
  char *id, *claim, *op;
  double left, sd_left, right, sd_right, threshold, margin, spread;
  int n_left, n_right;
  const char *holds; /* "holds", "does_not_hold", "not_decided", "unknown" */
  int marginal;
  int applies; /* the claim belongs to the profile checked; holds "n/a" otherwise */
  const char *test;        /* "-", "mannwhitney" or "fisher" (stats.h), one-sided as claimed */
  double statistic, p;     /* U (mannwhitney) or the difference of counts (fisher); NaN without a test */
  int n_a, n_b;            /* seeds behind the two sides */
} HbClaim;

typedef struct {
  HbClaim *items;
  int n;
} HbClaims;

/* Evaluates every claim of claims_path that applies to `profile` (NULL: all)
 * on the tables in dir (input errors exit 2 naming the claims file, row and
 * column). Claims of other profiles are listed with holds "n/a". */
void hb_claims_eval(HbClaims *out, const char *claims_path, const char *dir, const char *profile);
/* Writes the evaluated claims that apply as TSV (atomically), the columns
 * hb_claims_columns (their names and help, for --help). */
void hb_claims_write(const HbClaims *c, const char *path);
extern const HbColumn hb_claims_columns[];
extern const int hb_claims_n_columns;
void hb_claims_free(HbClaims *c);

#endif
