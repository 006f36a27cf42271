/* GSL fits: scaling laws (src/fit/scaling.c), emergence points
 * (src/fit/emergence.c; over a whole metrics table, src/fit/emergence_table.c),
 * the logistic-step law (src/fit/step.c) and a straight-line trend
 * (src/fit/trend.c). The command line is `hybench fit
 * scaling|emergence|step|seeds|trend` (src/cli/cmd_fit.c); this header is the
 * library API the command and the tests use.
 *
 * GSL errors are data (STYLE.md rule 9): hb_fit_gsl_init() turns the abort
 * handler off, every status is checked and ends up in the fit's output. */
#ifndef HYBENCH_FIT_H
#define HYBENCH_FIT_H

#include "hybench/tsv.h"

/* Turns GSL's abort-on-error handler off (idempotent). Every fit calls it. */
void hb_fit_gsl_init(void);

/* ===== Scaling law =======================================================
 *
 * The method of the paper's released code (thunlp/rethinking-hybrid-attention,
 * src/scaling/fit_scaling.py), fitted in log space:
 *   no_constant: log L = LSE(B - alpha log N, C - beta log D)       b = e^B, c = e^C
 *   default:     log L = LSE(A, B - alpha log N, C - beta log D)    a = e^A
 * i.e. L = [a +] b N^-alpha + c D^-beta, N parameters, D = token_multiplier x N
 * training tokens, L the loss (or log LongPPL with --longppl). Objective:
 *   sum_i Huber(log L_pred_i - log L_i),  Huber(r) = r^2/2 for |r| <= eps,
 *   eps (|r| - eps/2) otherwise, eps = 1e-3.
 * Bounds as in the reference: no_constant alpha in [0.2, 0.3], beta >= 0;
 * default alpha >= 0, beta >= 0; A, B, C free.
 *
 * Minimisation (hb_scaling_fit):
 *  1. multistart: every point of the start grid (hb_scaling_model_init) is
 *     refined by gsl_multimin BFGS2 with the analytic gradient, on a
 *     bound-respecting transform (x = lo + (hi - lo)(1 + sin u)/2 for a
 *     two-sided bound, x = lo + u^2 for a one-sided one). A start on a bound
 *     is moved inside by 1e-3 (times the width) since the transform's
 *     derivative vanishes there. This is a screening stage (gradient 1e-6 in
 *     the transformed variables or 100 iterations: in the flat valleys of
 *     this objective BFGS crawls, and the result does not change with more);
 *  2. polish: the endpoints within 5% of the best objective (at most 64) are
 *     refined by a projected, Levenberg-damped Newton method on the
 *     untransformed parameters with the analytic Hessian (a parameter sits on
 *     its bound while the gradient pushes outward) until the gradient norm
 *     over the free parameters is < HB_SCALING_GTOL; the distinct minima are
 *     kept, and each is refined further, to the floor of rounding;
 *  3. limits: for each term of the log-sum-exp the model without that term is
 *     fitted the same way. It is the limit of the full model as the term's
 *     coefficient -> 0 (e.g. a -> 0, A -> -inf). When it is at least as good as
 *     every finite minimiser found (or a term's share of L fell below 1e-8 at
 *     every point of the best finite one), there is no finite minimiser: the
 *     fit reports the limit (limit_term) instead of a number for that
 *     coefficient.
 */

enum { HB_SC_A, HB_SC_B, HB_SC_C, HB_SC_ALPHA, HB_SC_BETA, HB_SC_NP };
/* Terms of the log-sum-exp: A; B - alpha log N; C - beta log D. */
enum { HB_TERM_A, HB_TERM_N, HB_TERM_D, HB_NTERMS };

#define HB_SCALING_GTOL 1e-9 /* gradient norm over the free parameters at convergence */
#define HB_SCALING_MAX_MINIMA 8
#define HB_SCALING_MAX_GRID 8

typedef enum { HB_FORMULA_NO_CONSTANT, HB_FORMULA_DEFAULT } HbFormula;

typedef struct {
  HbFormula formula;
  int has_term[HB_NTERMS];
  double lo[HB_SC_NP], hi[HB_SC_NP];          /* bounds; -inf / +inf when free */
  double grid[HB_SC_NP][HB_SCALING_MAX_GRID]; /* start values per parameter */
  int grid_n[HB_SC_NP];
  double epsilon; /* Huber threshold on log residuals */
} HbScalingModel;

/* Start grids:
 *  no_constant: the reference grid alpha {0.1,0.2,0.5,1,1.5,2} x beta
 *    {0.1,0.2,0.5,0.8,1,1.2} x B {0,1,2,4,6,8,10,12} x C {0,1,2,8,10,12},
 *    plus alpha 0.25 (every reference alpha clips to a bound, 0.2 or 0.3);
 *  default: the reference grid alpha, beta {0,0.5,1,1.5,2} x B, C
 *    {0,3,6,9,12} x A {-1,-0.5,0,0.5,1} plus A = 1.5.
 * Starts are clipped into the bounds and duplicates dropped. */
void hb_scaling_model_init(HbScalingModel *m, HbFormula formula, double epsilon);
const char *hb_scaling_formula_name(HbFormula formula);
int hb_scaling_param_used(const HbScalingModel *m, int k);
int hb_scaling_nparams(const HbScalingModel *m);
const char *hb_scaling_param_name(int k); /* "a", "b", "c", "alpha", "beta" */
/* Reported scale: a = e^A, b = e^B, c = e^C; alpha, beta as they are. */
void hb_scaling_reported(double *dst, const double *p); /* (HB_SC_NP) each */

typedef struct {
  int n;
  const double *log_n; /* (n) log parameters */
  const double *log_d; /* (n) log training tokens */
  const double *y;     /* (n) log of the fitted quantity */
} HbScalingData;

/* The objective at p (HB_SC_NP; unused slots ignored). grad (HB_SC_NP) and
 * hess (HB_SC_NP, HB_SC_NP) row-major may be NULL; slots of unused parameters
 * are zero. The Hessian is exact away from |r| = eps. */
double hb_scaling_objective(const HbScalingModel *m, const HbScalingData *d, const double *p, double *grad,
                            double *hess);
/* Predicted log L at one point. */
double hb_scaling_log_predict(const HbScalingModel *m, const double *p, double log_n, double log_d);

typedef struct {
  double p[HB_SC_NP]; /* A, B, C, alpha, beta (internal scale) */
  double objective;
  double grad_norm;   /* over the free parameters */
  int bound[HB_SC_NP]; /* -1 on its lower bound, +1 on its upper, 0 free or unused */
  int converged;      /* grad_norm < HB_SCALING_GTOL */
  int iterations;     /* Newton iterations of the polish */
  int hits;           /* polished endpoints that ended here */
  int vanished;       /* term whose share of L is < 1e-8 at every point, or -1 */
} HbScalingMin;

typedef struct {
  HbScalingModel model;  /* the formula's model */
  HbScalingModel fitted; /* the model of `best`: model, or model without limit_term */
  HbScalingMin best;
  /* -1: a finite minimiser. Else the term whose coefficient -> 0: best is the
   * fit of `fitted` (the model without it) and its dropped parameters are set
   * to the limit, A = -inf (a = 0), or B / C = -inf with alpha / beta nan. */
  int limit_term;
  double limit_objective;   /* objective of the best limit (sub-model) fit, or nan */
  double interior_objective; /* best objective at finite parameters of the full model */
  double limit_slope;       /* limit_term A only: d objective / d a at a = 0 */
  HbScalingMin minima[HB_SCALING_MAX_MINIMA]; /* distinct minima of the full model, best first */
  int n_minima;
  /* BFGS2 outcomes over all models fitted (formula and limits): converged,
   * stalled (GSL_ENOPROG), capped (iteration limit), failed (other status or
   * a non-finite objective). Endpoints of all but failed starts are kept. */
  int starts, starts_converged, starts_stalled, starts_capped, starts_failed;
  int polished;
  int n_eig;                 /* eigenvalues of the Hessian over fitted's parameters, ascending */
  double hess_eig[HB_SC_NP];
  int n_eig_free;            /* ... and over the free (not on a bound) ones */
  double hess_eig_free[HB_SC_NP];
  int eig_status;            /* GSL status of the eigen solver */
  double seconds;
} HbScalingFit;

void hb_scaling_fit(HbScalingFit *fit, const HbScalingModel *model, const HbScalingData *data);
/* Refines p0 with the projected Newton polish only (model's bounds). */
void hb_scaling_polish(HbScalingMin *out, const HbScalingModel *m, const HbScalingData *d, const double *p0);

typedef struct {
  int k;         /* resamples drawn */
  int n_ok;      /* resamples whose refit converged (these make the intervals) */
  int n_failed;  /* resamples whose refit did not converge */
  int n_limit;   /* converged resamples in which a term vanished (a coefficient -> 0) */
  unsigned long seed;
  double lo[HB_SC_NP], hi[HB_SC_NP]; /* 2.5% and 97.5% percentiles, reported scale */
} HbScalingBootstrap;

/* Nonparametric bootstrap: K resamples of the fitted points (with
 * replacement, gsl_rng_mt19937 seeded with `seed`), each refitted with the
 * Newton polish from fit's reported minimum and its other distinct minima
 * (warm starts; the full grid per resample would cost K times the fit); the
 * best refit counts. Intervals are percentile intervals of the reported
 * parameters of fit->fitted. */
void hb_scaling_bootstrap(HbScalingBootstrap *bs, const HbScalingFit *fit, const HbScalingData *data, int k,
                          unsigned long seed);

/* Points of a scaling TSV: columns model_size, token_multiplier ("<number>n"),
 * the parameter column (default "n") and loss. */
typedef struct {
  int n;
  char **model_size;       /* (n) */
  char **token_multiplier; /* (n) as written in the file */
  int *row;                /* (n) 1-based data row in the file */
  double *n_params;        /* (n) N */
  double *tokens;          /* (n) D = token_multiplier x N */
  double *loss;            /* (n) the fitted quantity: loss, or log(LongPPL) with longppl */
  double *log_n, *log_d, *y; /* (n) log N, log D, log(loss) */
} HbScalingPoints;

/* Reads and validates (input error naming file, row and column on a missing
 * column, a non-numeric cell, a token_multiplier without its number, or a
 * value <= 0; with longppl, LongPPL <= 1). */
void hb_scaling_points_read(HbScalingPoints *pts, const char *path, const char *n_col, int longppl);
/* dst = the points of src with keep[i] != 0 (deep copy). */
void hb_scaling_points_select(HbScalingPoints *dst, const HbScalingPoints *src, const int *keep);
void hb_scaling_points_free(HbScalingPoints *pts);
HbScalingData hb_scaling_points_data(const HbScalingPoints *pts);

/* ===== Emergence =========================================================
 *
 * A metric m against training tokens t at the checkpoints of one run, fitted
 * with gsl_multifit_nlinear (trust region, Levenberg-Marquardt, analytic
 * Jacobian, several starts) by the logistic curve in log tokens
 *   m(t) = lo + (hi - lo) / (1 + exp(-(log t - log t50) / s)),   s > 0.
 * The parameters fitted are (lo, hi, log t50, log s); t50_se = t50 * se(log t50)
 * from the covariance scaled by the residual variance.
 *
 * Status:
 *   ok          the curve rose, its midpoint lies inside the checkpoints (the
 *               data reject a midpoint beyond either end, below) and at least
 *               two checkpoints are on the slope (5%-95% of the rise; one
 *               cannot fix both t50 and s): t50, t50_se, lo, hi, s are
 *               estimates;
 *   not_risen   no rise: the logistic is no better than a constant (F test,
 *               rise_p >= rise_p_max), or it falls (hi <= lo), or it rises by
 *               less than min_rise (hi - lo: a climb to a known no-skill
 *               plateau is not the rise being timed), or its midpoint
 *               lies after the last checkpoint, or the data do not reject that
 *               (late_p >= rise_p_max: a small completed rise at the end fits
 *               about as well as the start of a large one still ahead). t50 is
 *               nan and t50_lower = the last checkpoint's tokens: the half rise
 *               has not been shown to happen by then. lo is the mean (no rise)
 *               or the fitted start level. When no start converges (a flat or
 *               straight curve has no finite best logistic: s -> inf), the F
 *               tests use the best endpoint found (and lo, hi, s are nan);
 *   early       the mirror image: the midpoint lies (or may lie, early_p >=
 *               rise_p_max) before the first checkpoint: t50_upper = the first
 *               checkpoint's tokens; hi is the fitted end level;
 *   unresolved  the rise is (nearly) a step between consecutive checkpoints
 *               (fewer than two on the slope): t50_lower and t50_upper are the
 *               checkpoints either side of the fitted midpoint; t50 and
 *               t50_se are nan;
 *   failed      no start converged, the best endpoint does show a rise and
 *               the data reject a midpoint beyond either end (gsl_status says
 *               why the starts stopped).
 * late_p / early_p: F tests (1 degree of freedom) of the best logistic whose
 * midpoint is at or beyond the last / before the first checkpoint against the
 * free fit. For fixed (t50, s) the logistic is linear in lo, hi, so the
 * constrained fit is a 2x2 least-squares solve inside a grid over (t50, s)
 * refined by gsl_multimin Nelder-Mead.
 */
typedef enum {
  HB_EMERGE_OK,
  HB_EMERGE_NOT_RISEN,
  HB_EMERGE_EARLY,
  HB_EMERGE_UNRESOLVED,
  HB_EMERGE_FAILED
} HbEmergeStatus;
const char *hb_emergence_status_name(HbEmergeStatus status);

#define HB_EMERGE_MIN_POINTS 5 /* 4 parameters and one residual degree of freedom */

typedef struct {
  int n;
  HbEmergeStatus status;
  double t50, t50_se;     /* nan unless ok */
  double t50_lower;       /* not_risen, unresolved: t50 is above this; else nan */
  double t50_upper;       /* early, unresolved: t50 is below this; else nan */
  double lo, hi, s;       /* nan where not determined */
  double rise_p;          /* F test p-value, logistic against a constant */
  double late_p, early_p; /* F tests of a midpoint beyond the last / before the first checkpoint (nan if not run) */
  double rmse;            /* of the logistic fit */
  int iterations;         /* of the chosen start */
  int gsl_status;         /* driver status of the chosen start; of the last failed start when none converged */
  int starts, starts_failed;
} HbEmergeFit;

/* tokens (n) > 0, metric (n), n >= HB_EMERGE_MIN_POINTS; any order. */
void hb_emergence_fit(HbEmergeFit *fit, const double *tokens, const double *metric, int n, double rise_p_max,
                      double min_rise);

/* Threshold form: the first checkpoint (in token order) at which metric >=
 * level, the crossing interpolated linearly in log tokens from the previous
 * checkpoint. Returns the tokens, or nan when the metric never reaches level.
 * sustained: the crossing after which the metric stays >= level up to the
 * last checkpoint (a level reached and lost again does not count; nan when
 * the last checkpoint is below it). *at_first = 1 when the crossing is at the
 * first checkpoint (it is then at or before it: an upper bound). */
double hb_emergence_cross(const double *tokens, const double *metric, int n, double level, int sustained,
                          int *at_first);

/* Per hybrid across seeds. Rules for seeds that have not risen: their t50 is
 * only a lower bound, so
 *   - t50_mean / t50_sd (sample sd) are over all seeds and only when every seed
 *     is ok; otherwise nan;
 *   - t50_min / t50_max are over the ok seeds;
 *   - t50_mean_lower, when every seed is ok or not_risen and at least one is
 *     not_risen: the mean with each lower bound in place of its t50, a lower
 *     bound on the hybrid's mean t50; otherwise nan;
 *   - status: "ok" (all ok), "lower_bound" (some not_risen, the rest ok),
 *     "incomplete" (some early, unresolved or failed).
 * Threshold crossings likewise: t_cross_mean / t_cross_sd only when every seed
 * crossed after its first checkpoint. */
typedef struct {
  int n_seeds, n_ok, n_not_risen, n_other;
  double t50_mean, t50_sd, t50_min, t50_max, t50_mean_lower;
  const char *status;
  int n_cross;
  double t_cross_mean, t_cross_sd;
} HbEmergeSummary;

void hb_emergence_summarize(HbEmergeSummary *sum, const HbEmergeFit *const *fits, const double *t_cross,
                            const int *cross_at_first, int n);

/* Emergence over a metrics table (src/fit/emergence_table.c), one row per
 * checkpoint. Runs: the rows sharing the values of the key columns, in order
 * of first appearance (no key columns: the whole table is one run), each
 * fitted (hb_emergence_fit) and, with a threshold, crossed
 * (hb_emergence_cross). Hybrids: the runs sharing every key column but the
 * seed column, in order of first appearance, summarised across seeds
 * (hb_emergence_summarize). Input errors name the file, row and column: no
 * data rows, an x or y that is not a number, an x <= 0, a run with fewer than
 * HB_EMERGE_MIN_POINTS rows; they come before anything is allocated. */
#define HB_EMERGE_MAX_KEYS 16

typedef struct {
  int x_col, y_col;                    /* training tokens (> 0, fitted in log) and the metric */
  int n_keys;
  int key_cols[HB_EMERGE_MAX_KEYS];    /* (n_keys) the columns naming a run */
  int seed_key;                        /* the seed column's index in key_cols, or -1 */
  double threshold;                    /* the crossing's level; nan: none */
  int sustained;                       /* hb_emergence_cross's sustained */
  double rise_p_max, min_rise;         /* hb_emergence_fit's */
} HbEmergeSpec;

typedef struct {
  int row;             /* its first data row (0-based): the key cells there name the run */
  int n_rows;
  HbEmergeFit fit;
  double t_cross;      /* nan when it never crossed, or without a threshold */
  int cross_at_first;  /* crossed at (or before) the first checkpoint */
  const char *cross_status; /* crossed | at_first | never | - (no threshold) */
  double t_cross_cens; /* t_cross, or the run's last x when it never crossed (censored at
                          the budget: a lower bound that claims can average); nan without a threshold */
} HbEmergeRun;

typedef struct {
  int row;             /* the first data row of its first run: its key cells name the hybrid */
  HbEmergeSummary summary;
} HbEmergeHybrid;

typedef struct {
  int n_runs;
  HbEmergeRun *runs;         /* (n_runs) */
  int n_hybrid_cols;
  int hybrid_cols[HB_EMERGE_MAX_KEYS]; /* (n_hybrid_cols) the key columns but the seed */
  int n_hybrids;
  HbEmergeHybrid *hybrids;   /* (n_hybrids) */
} HbEmergeTable;

void hb_emergence_table(HbEmergeTable *et, const HbTsv *t, const HbEmergeSpec *spec);
void hb_emergence_table_free(HbEmergeTable *et);

/* ===== The logistic-step law (issue 14) ===================================
 * Long-context loss switches on as a step: the paper's power law cannot
 * follow LongPPL's plateau-then-drop. Fitted beside it, on y = log LongPPL:
 *   y(N, D) = lo + (hi - lo) / (1 + exp(k (log D - m0 + g (log N - n_center))))
 * hi, lo > 0: the plateaus before and after emergence; k > 0: the step's
 * steepness in log tokens; m0: the log-token midpoint at the fitted points'
 * mean log N (n_center); g: how much earlier (in log tokens per log
 * parameter) a larger model emerges. Least squares (gsl_multifit_nlinear,
 * trust region, analytic Jacobian) from 24 starts; the best end point. */
#define HB_STEP_MIN_POINTS 6 /* 5 parameters and one residual degree of freedom */
#define HB_STEP_MAX_P 0.01   /* F test of the step against a constant */
typedef enum { HB_STEP_OK, HB_STEP_OUTSIDE, HB_STEP_NOT_CONVERGED, HB_STEP_FLAT, HB_STEP_FAILED } HbStepStatus;
typedef struct {
  double lo, hi, k, m0, g, n_center;
  double r2, rmse;            /* on the fitted points, in log LongPPL */
  double step_p;              /* F test, step vs a constant; above HB_STEP_MAX_P: no_step */
  int n, iterations, starts, starts_failed, gsl_status;
  HbStepStatus status;        /* ok; midpoint_outside: no point lies on both sides of the step;
                                 not_converged: the best end point ran off (k -> inf between
                                 two neighbouring points: a jump, not a resolved step); no_step:
                                 the step explains no more than noise (step_p); failed */
} HbStepFit;
void hb_step_fit(HbStepFit *fit, const double *log_n, const double *log_d, const double *y, int n);
double hb_step_predict(const HbStepFit *fit, double log_n, double log_d);
const char *hb_step_status_name(HbStepStatus status);

/* ===== Straight-line trend ================================================
 * Ordinary least squares y = a + b x (gsl_fit_linear) with its uncertainty,
 * e.g. "does the delay of retrieval emergence grow with log2 w, or with
 * log2(w/T)?". With n points and RSS the residual sum of squares:
 *   resid_sd = sqrt(RSS / (n - 2)); the standard errors of a and b are those of
 *   gsl_fit_linear's covariance (scaled by resid_sd^2);
 *   slope_lo95 / slope_hi95 = b -/+ t_{0.975, n-2} slope_se (gsl_cdf_tdist_Pinv);
 *   slope_p = 2 P(T_{n-2} > |b| / slope_se), two-sided, of b = 0; when the
 *     residuals are exactly zero (slope_se 0): 0 if b != 0, else 1;
 *   r2 = 1 - RSS / TSS; nan when y is constant (TSS 0).
 * Status: ok; too_few when the points have fewer than HB_TREND_MIN_X distinct
 * x (every estimate nan; not an error); failed when gsl_fit_linear reports an
 * error or a result overflows (finite input this large only).
 * Toy example: x {1, 2, 3}, y {1, 3, 2}: a 1, b 0.5, RSS 1.5, resid_sd 1.22,
 * slope_se 0.866, slope_p 0.667, r2 0.25. */
#define HB_TREND_MIN_X 3 /* distinct x: two for the line, one more for its uncertainty */
typedef enum { HB_TREND_OK, HB_TREND_TOO_FEW, HB_TREND_FAILED } HbTrendStatus;
typedef struct {
  int n;   /* points fitted */
  int n_x; /* distinct x values among them */
  double intercept, intercept_se, slope, slope_se;
  double slope_lo95, slope_hi95, slope_p;
  double resid_sd, r2;
  HbTrendStatus status;
} HbTrendFit;
/* x (n), y (n) finite (asserted; the caller reports bad input), any order. */
void hb_trend_fit(HbTrendFit *fit, const double *x, const double *y, int n);
const char *hb_trend_status_name(HbTrendStatus status); /* ok | too_few | failed */

#endif
