/* Scaling-law fit: objective, multistart BFGS2 on a bound-respecting
 * transform, projected Newton polish, limit (vanishing-term) detection,
 * Hessian eigenvalues and bootstrap. The method is described in fit.h. */
#include "hybench/fit.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "hybench/common.h"
#include "hybench/tsv.h"

#define NP HB_SC_NP

/* Multistart BFGS2 is a screening stage: it stops when the transformed
 * gradient is this small or after this many iterations (in the flat valleys
 * of this objective BFGS crawls); the Newton polish decides convergence. */
#define BFGS_GTOL 1e-6
#define BFGS_MAXITER 100
/* A start on a bound is moved inside by this fraction of the width (two-sided)
 * or by this much (one-sided): the transform's derivative is 0 on the bound. */
#define START_NUDGE 1e-3
/* Endpoints polished per model: the best, in order, within this factor of the
 * best objective. */
#define POLISH_MAX 64
#define POLISH_FACTOR 1.05
#define POLISH_MAXITER 500
/* Relative change of the objective below rounding noise (its terms are summed
 * in double precision): steps within it are judged by the gradient. */
#define POLISH_FLOOR 1e-14
#define POLISH_MAX_STEP 2.0 /* longest step of the polish (Euclidean, parameter units) */
/* Two polished minima are the same when every parameter agrees to this
 * (relative to 1 + |value|). */
#define SAME_MIN_TOL 1e-4
/* A term vanishes when its share of L is below this at every point. */
#define VANISH_SHARE 1e-8

static const char *const param_names[NP] = {"a", "b", "c", "alpha", "beta"};

const char *hb_scaling_param_name(int k) {
  HB_ASSERT(k >= 0 && k < NP, "parameter slot in range");
  return param_names[k];
}

const char *hb_scaling_formula_name(HbFormula formula) {
  return formula == HB_FORMULA_DEFAULT ? "default" : "no_constant";
}

static void set_grid(HbScalingModel *m, int k, const double *v, int n) {
  HB_ASSERT(n <= HB_SCALING_MAX_GRID, "grids are small");
  memcpy(m->grid[k], v, (size_t)n * sizeof *v);
  m->grid_n[k] = n;
}

void hb_scaling_model_init(HbScalingModel *m, HbFormula formula, double epsilon) {
  memset(m, 0, sizeof *m);
  m->formula = formula;
  m->epsilon = epsilon;
  for (int k = 0; k < NP; k++) m->lo[k] = -INFINITY, m->hi[k] = INFINITY;
  m->has_term[HB_TERM_N] = m->has_term[HB_TERM_D] = 1;
  m->lo[HB_SC_BETA] = 0;
  if (formula == HB_FORMULA_NO_CONSTANT) {
    m->lo[HB_SC_ALPHA] = 0.2, m->hi[HB_SC_ALPHA] = 0.3;
    set_grid(m, HB_SC_ALPHA, (const double[]){0.1, 0.2, 0.25, 0.5, 1, 1.5, 2}, 7);
    set_grid(m, HB_SC_BETA, (const double[]){0.1, 0.2, 0.5, 0.8, 1.0, 1.2}, 6);
    set_grid(m, HB_SC_B, (const double[]){0, 1, 2, 4, 6, 8, 10, 12}, 8);
    set_grid(m, HB_SC_C, (const double[]){0, 1, 2, 8, 10, 12}, 6);
  } else {
    m->has_term[HB_TERM_A] = 1;
    m->lo[HB_SC_ALPHA] = 0;
    set_grid(m, HB_SC_ALPHA, (const double[]){0, 0.5, 1, 1.5, 2}, 5);
    set_grid(m, HB_SC_BETA, (const double[]){0, 0.5, 1, 1.5, 2}, 5);
    set_grid(m, HB_SC_A, (const double[]){-1, -0.5, 0, 0.5, 1, 1.5}, 6);
    set_grid(m, HB_SC_B, (const double[]){0, 3, 6, 9, 12}, 5);
    set_grid(m, HB_SC_C, (const double[]){0, 3, 6, 9, 12}, 5);
  }
}

int hb_scaling_param_used(const HbScalingModel *m, int k) {
  switch (k) {
  case HB_SC_A: return m->has_term[HB_TERM_A];
  case HB_SC_B:
  case HB_SC_ALPHA: return m->has_term[HB_TERM_N];
  case HB_SC_C:
  case HB_SC_BETA: return m->has_term[HB_TERM_D];
  }
  return 0;
}

int hb_scaling_nparams(const HbScalingModel *m) {
  int n = 0;
  for (int k = 0; k < NP; k++) n += hb_scaling_param_used(m, k);
  return n;
}

void hb_scaling_reported(double *dst, const double *p) {
  dst[HB_SC_A] = exp(p[HB_SC_A]);
  dst[HB_SC_B] = exp(p[HB_SC_B]);
  dst[HB_SC_C] = exp(p[HB_SC_C]);
  dst[HB_SC_ALPHA] = p[HB_SC_ALPHA];
  dst[HB_SC_BETA] = p[HB_SC_BETA];
}

/* ---- objective -------------------------------------------------------- */

/* The terms at one point: t (HB_NTERMS) and which are present; returns the
 * log-sum-exp and fills w (HB_NTERMS) with each term's share exp(t_k - lse). */
static double terms_lse(const HbScalingModel *m, const double *p, double log_n, double log_d, double *w) {
  double t[HB_NTERMS];
  t[HB_TERM_A] = p[HB_SC_A];
  t[HB_TERM_N] = p[HB_SC_B] - p[HB_SC_ALPHA] * log_n;
  t[HB_TERM_D] = p[HB_SC_C] - p[HB_SC_BETA] * log_d;
  double mx = -INFINITY;
  for (int k = 0; k < HB_NTERMS; k++)
    if (m->has_term[k] && t[k] > mx) mx = t[k];
  double s = 0;
  for (int k = 0; k < HB_NTERMS; k++) {
    w[k] = m->has_term[k] ? exp(t[k] - mx) : 0.0;
    s += w[k];
  }
  for (int k = 0; k < HB_NTERMS; k++) w[k] /= s;
  return mx + log(s);
}

double hb_scaling_log_predict(const HbScalingModel *m, const double *p, double log_n, double log_d) {
  double w[HB_NTERMS];
  return terms_lse(m, p, log_n, log_d, w);
}

double hb_scaling_objective(const HbScalingModel *m, const HbScalingData *d, const double *p, double *grad,
                            double *hess) {
  const double eps = m->epsilon;
  if (grad) memset(grad, 0, NP * sizeof *grad);
  if (hess) memset(hess, 0, NP * NP * sizeof *hess);
  double f = 0;
  for (int i = 0; i < d->n; i++) {
    double w[HB_NTERMS];
    double r = terms_lse(m, p, d->log_n[i], d->log_d[i], w) - d->y[i];
    double psi, dpsi; /* Huber'(r), Huber''(r) */
    if (fabs(r) <= eps) {
      f += 0.5 * r * r;
      psi = r, dpsi = 1;
    } else {
      f += eps * (fabs(r) - 0.5 * eps);
      psi = r > 0 ? eps : -eps, dpsi = 0;
    }
    if (!grad && !hess) continue;
    if (!hess) { /* the lean path used by BFGS: d r / d p written out */
      grad[HB_SC_A] += psi * w[HB_TERM_A];
      grad[HB_SC_B] += psi * w[HB_TERM_N];
      grad[HB_SC_ALPHA] -= psi * w[HB_TERM_N] * d->log_n[i];
      grad[HB_SC_C] += psi * w[HB_TERM_D];
      grad[HB_SC_BETA] -= psi * w[HB_TERM_D] * d->log_d[i];
      continue;
    }
    /* d t_k / d p: (HB_NTERMS, NP); every term is linear in p. */
    double dt[HB_NTERMS][NP] = {{0}};
    dt[HB_TERM_A][HB_SC_A] = 1;
    dt[HB_TERM_N][HB_SC_B] = 1, dt[HB_TERM_N][HB_SC_ALPHA] = -d->log_n[i];
    dt[HB_TERM_D][HB_SC_C] = 1, dt[HB_TERM_D][HB_SC_BETA] = -d->log_d[i];
    double gr[NP] = {0}; /* d r / d p = sum_k w_k dt_k */
    for (int k = 0; k < HB_NTERMS; k++)
      for (int j = 0; j < NP; j++) gr[j] += w[k] * dt[k][j];
    if (grad)
      for (int j = 0; j < NP; j++) grad[j] += psi * gr[j];
    if (hess) /* Huber'' gr gr^T + Huber' (sum_k w_k dt_k dt_k^T - gr gr^T) */
      for (int a = 0; a < NP; a++)
        for (int b = 0; b < NP; b++) {
          double wtt = 0;
          for (int k = 0; k < HB_NTERMS; k++) wtt += w[k] * dt[k][a] * dt[k][b];
          hess[a * NP + b] += dpsi * gr[a] * gr[b] + psi * (wtt - gr[a] * gr[b]);
        }
  }
  return f;
}

/* Smallest share, over terms present, of the term's largest share over points:
 * which term vanishes (-1 if none falls below VANISH_SHARE). */
static int vanishing_term(const HbScalingModel *m, const HbScalingData *d, const double *p) {
  double max_share[HB_NTERMS] = {0};
  for (int i = 0; i < d->n; i++) {
    double w[HB_NTERMS];
    terms_lse(m, p, d->log_n[i], d->log_d[i], w);
    for (int k = 0; k < HB_NTERMS; k++)
      if (w[k] > max_share[k]) max_share[k] = w[k];
  }
  int present = 0;
  for (int k = 0; k < HB_NTERMS; k++) present += m->has_term[k];
  if (present < 2) return -1;
  for (int k = 0; k < HB_NTERMS; k++)
    if (m->has_term[k] && max_share[k] < VANISH_SHARE) return k;
  return -1;
}

/* ---- bound-respecting transform for BFGS2 ------------------------------ */

static double u_to_x(double lo, double hi, double u, double *dxdu) {
  double x;
  if (isfinite(lo) && isfinite(hi)) {
    *dxdu = 0.5 * (hi - lo) * cos(u);
    x = lo + 0.5 * (hi - lo) * (1 + sin(u));
    return x < lo ? lo : x > hi ? hi : x;
  }
  if (isfinite(lo)) {
    *dxdu = 2 * u;
    return lo + u * u;
  }
  if (isfinite(hi)) {
    *dxdu = -2 * u;
    return hi - u * u;
  }
  *dxdu = 1;
  return u;
}

static double x_to_u(double lo, double hi, double x) {
  if (isfinite(lo) && isfinite(hi)) {
    double w = hi - lo, a = lo + START_NUDGE * w, b = hi - START_NUDGE * w;
    x = x < a ? a : x > b ? b : x;
    return asin(2 * (x - lo) / w - 1);
  }
  if (isfinite(lo)) return sqrt(x < lo + START_NUDGE ? START_NUDGE : x - lo);
  if (isfinite(hi)) return sqrt(x > hi - START_NUDGE ? START_NUDGE : hi - x);
  return x;
}

typedef struct {
  const HbScalingModel *m;
  const HbScalingData *d;
  int nu;
  int idx[NP]; /* (nu) parameter slot of each transformed variable */
} TrCtx;

static void tr_x(const TrCtx *c, const gsl_vector *u, double *x, double *dxdu) {
  for (int k = 0; k < NP; k++) x[k] = 0, dxdu[k] = 0;
  for (int j = 0; j < c->nu; j++) {
    int k = c->idx[j];
    x[k] = u_to_x(c->m->lo[k], c->m->hi[k], gsl_vector_get(u, (size_t)j), &dxdu[k]);
  }
}

static void tr_fdf(const gsl_vector *u, void *params, double *f, gsl_vector *g) {
  const TrCtx *c = params;
  double x[NP], dxdu[NP], gx[NP];
  tr_x(c, u, x, dxdu);
  double v = hb_scaling_objective(c->m, c->d, x, g ? gx : NULL, NULL);
  if (f) *f = isfinite(v) ? v : GSL_POSINF;
  if (g)
    for (int j = 0; j < c->nu; j++) gsl_vector_set(g, (size_t)j, gx[c->idx[j]] * dxdu[c->idx[j]]);
}

static double tr_f(const gsl_vector *u, void *params) {
  double f;
  tr_fdf(u, params, &f, NULL);
  return f;
}

static void tr_df(const gsl_vector *u, void *params, gsl_vector *g) { tr_fdf(u, params, NULL, g); }

/* ---- multistart -------------------------------------------------------- */

typedef struct {
  double p[NP];
  double f;
} Endpoint;

static int cmp_endpoint(const void *a, const void *b) {
  double fa = ((const Endpoint *)a)->f, fb = ((const Endpoint *)b)->f;
  return (fa > fb) - (fa < fb);
}

/* Runs BFGS2 from every grid start of m; returns the endpoints sorted by
 * objective (failed ones dropped) and adds the outcomes to fit's counters. */
static Endpoint *multistart(const HbScalingModel *m, const HbScalingData *d, int *n_out, HbScalingFit *fit) {
  TrCtx c = {.m = m, .d = d, .nu = 0};
  /* Per used parameter: the grid in transformed variables, deduplicated
   * (clipping several values to one bound makes duplicates). */
  double ugrid[NP][HB_SCALING_MAX_GRID];
  int un[NP];
  size_t n_starts = 1;
  for (int k = 0; k < NP; k++) {
    if (!hb_scaling_param_used(m, k)) continue;
    HB_ASSERT(m->grid_n[k] > 0, "every used parameter has start values");
    c.idx[c.nu] = k;
    un[c.nu] = 0;
    for (int g = 0; g < m->grid_n[k]; g++) {
      double u = x_to_u(m->lo[k], m->hi[k], m->grid[k][g]);
      int dup = 0;
      for (int h = 0; h < un[c.nu]; h++) dup |= ugrid[c.nu][h] == u;
      if (!dup) ugrid[c.nu][un[c.nu]++] = u;
    }
    n_starts *= (size_t)un[c.nu];
    c.nu++;
  }
  Endpoint *ends = hb_malloc(n_starts * sizeof *ends);
  int n_ends = 0;
  gsl_multimin_function_fdf fdf = {.f = tr_f, .df = tr_df, .fdf = tr_fdf, .n = (size_t)c.nu, .params = &c};
  gsl_multimin_fdfminimizer *s = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, (size_t)c.nu);
  gsl_vector *u0 = gsl_vector_alloc((size_t)c.nu);
  if (!s || !u0) HB_FATAL("gsl allocation of a %d-parameter minimiser failed", c.nu);
  for (size_t st = 0; st < n_starts; st++) {
    size_t rest = st; /* mixed-radix digits of st pick the grid values */
    for (int j = 0; j < c.nu; j++) {
      gsl_vector_set(u0, (size_t)j, ugrid[j][rest % (size_t)un[j]]);
      rest /= (size_t)un[j];
    }
    fit->starts++;
    /* Outcome: converged (gradient test passed), stalled (GSL_ENOPROG: the
     * line search can make no progress), capped (iteration limit), failed. */
    int status = gsl_multimin_fdfminimizer_set(s, &fdf, u0, 0.1, 0.1);
    int converged = 0;
    for (int it = 0; status == GSL_SUCCESS && it < BFGS_MAXITER && !converged; it++) {
      status = gsl_multimin_fdfminimizer_iterate(s);
      if (status == GSL_SUCCESS)
        converged = gsl_multimin_test_gradient(gsl_multimin_fdfminimizer_gradient(s), BFGS_GTOL) == GSL_SUCCESS;
    }
    double fv = gsl_multimin_fdfminimizer_minimum(s);
    if (!isfinite(fv) || (status != GSL_SUCCESS && status != GSL_ENOPROG)) {
      fit->starts_failed++;
      continue;
    }
    if (converged) fit->starts_converged++;
    else if (status == GSL_ENOPROG) fit->starts_stalled++;
    else fit->starts_capped++;
    double dxdu[NP];
    tr_x(&c, gsl_multimin_fdfminimizer_x(s), ends[n_ends].p, dxdu);
    ends[n_ends].f = fv;
    n_ends++;
  }
  gsl_vector_free(u0);
  gsl_multimin_fdfminimizer_free(s);
  qsort(ends, (size_t)n_ends, sizeof *ends, cmp_endpoint);
  *n_out = n_ends;
  return ends;
}

/* ---- projected Newton polish ------------------------------------------- */

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* Free parameters at x given the gradient: a parameter on a bound stays
 * there while the gradient pushes it outward. Returns their count. */
static int active_set(const HbScalingModel *m, const double *x, const double *g, int *bound, int *fr) {
  int nf = 0;
  for (int k = 0; k < NP; k++) {
    bound[k] = 0;
    if (!hb_scaling_param_used(m, k)) continue;
    if (x[k] <= m->lo[k] && g[k] > 0) bound[k] = -1;
    else if (x[k] >= m->hi[k] && g[k] < 0) bound[k] = 1;
    else fr[nf++] = k;
  }
  return nf;
}

static double grad_norm_at(const HbScalingModel *m, const double *x, const double *g) {
  int bound[NP], fr[NP];
  int nf = active_set(m, x, g, bound, fr);
  double s = 0;
  for (int i = 0; i < nf; i++) s += g[fr[i]] * g[fr[i]];
  return sqrt(s);
}

/* Solves (H_FF + mu I) dir = -g_F; 0 when the matrix is not positive definite. */
static int damped_newton(const double *H, const double *g, const int *fr, int nf, double mu, double *dir) {
  double a[NP * NP], b[NP];
  for (int i = 0; i < nf; i++) {
    for (int j = 0; j < nf; j++) a[i * nf + j] = H[fr[i] * NP + fr[j]];
    a[i * nf + i] += mu;
    b[i] = -g[fr[i]];
  }
  gsl_matrix_view av = gsl_matrix_view_array(a, (size_t)nf, (size_t)nf);
  gsl_vector_view bv = gsl_vector_view_array(b, (size_t)nf);
  if (gsl_linalg_cholesky_decomp1(&av.matrix) != GSL_SUCCESS) return 0;
  if (gsl_linalg_cholesky_svx(&av.matrix, &bv.vector) != GSL_SUCCESS) return 0;
  double norm = 0;
  for (int i = 0; i < nf; i++) norm += b[i] * b[i];
  norm = sqrt(norm);
  if (!isfinite(norm)) return 0;
  double cap = norm > POLISH_MAX_STEP ? POLISH_MAX_STEP / norm : 1.0;
  for (int i = 0; i < nf; i++) dir[i] = b[i] * cap;
  return 1;
}

/* Projected, Levenberg-damped Newton: the step solves (H_FF + mu I) d = -g_F
 * over the free parameters, is capped at POLISH_MAX_STEP and projected onto
 * the bounds; mu rises 4x on a rejected step (towards projected steepest
 * descent, which always descends) and falls 4x on an accepted one (towards
 * the pure Newton step, quadratic convergence near the minimum). */
static void polish(HbScalingMin *out, const HbScalingModel *m, const HbScalingData *d, const double *p0,
                   double gtol, int maxiter) {
  double x[NP], g[NP], H[NP * NP];
  for (int k = 0; k < NP; k++) x[k] = hb_scaling_param_used(m, k) ? clamp(p0[k], m->lo[k], m->hi[k]) : 0.0;
  double f = hb_scaling_objective(m, d, x, g, H);
  int bound[NP], fr[NP], nf, it;
  double gnorm, mu = 0;
  for (it = 0; it < maxiter; it++) {
    nf = active_set(m, x, g, bound, fr);
    gnorm = 0;
    double scale = 0;
    for (int i = 0; i < nf; i++) {
      gnorm += g[fr[i]] * g[fr[i]];
      scale = fmax(scale, fabs(H[fr[i] * NP + fr[i]]));
    }
    gnorm = sqrt(gnorm);
    if (gnorm < gtol || !isfinite(f)) break;
    const double mu_min = 1e-12 * (scale + gnorm);
    double xt[NP], gt[NP], Ht[NP * NP], ft = f;
    int accepted = 0;
    for (int attempt = 0; attempt < 80 && !accepted; attempt++) {
      double dir[NP];
      if (!damped_newton(H, g, fr, nf, mu, dir)) {
        mu = mu < mu_min ? mu_min : 4 * mu;
        continue;
      }
      memcpy(xt, x, sizeof xt);
      double slope = 0;
      int moved = 0;
      for (int i = 0; i < nf; i++) {
        int k = fr[i];
        xt[k] = clamp(x[k] + dir[i], m->lo[k], m->hi[k]);
        slope += g[k] * (xt[k] - x[k]);
        moved |= xt[k] != x[k];
      }
      if (!moved) break;
      ft = hb_scaling_objective(m, d, xt, gt, Ht);
      if (isfinite(ft) && slope < 0 && ft <= f + 1e-4 * slope) {
        accepted = 1;
        mu = mu / 4 < mu_min ? 0 : mu / 4;
      } else if (isfinite(ft) && ft <= f + POLISH_FLOOR * fabs(f) && grad_norm_at(m, xt, gt) < gnorm) {
        /* At the floor of rounding the objective cannot tell the points
         * apart; the step is taken when it lowers the gradient instead. */
        accepted = 1;
      } else {
        mu = mu < mu_min ? mu_min : 4 * mu;
      }
    }
    if (!accepted) break;
    memcpy(x, xt, sizeof x);
    memcpy(g, gt, sizeof g);
    memcpy(H, Ht, sizeof H);
    f = ft;
  }
  /* The state at x (the loop may end on the iteration cap after a step). */
  active_set(m, x, g, bound, fr);
  gnorm = grad_norm_at(m, x, g);
  memcpy(out->p, x, sizeof x);
  out->objective = f;
  out->grad_norm = gnorm;
  memcpy(out->bound, bound, sizeof bound);
  out->converged = gnorm < HB_SCALING_GTOL && isfinite(f);
  out->iterations = it;
  out->hits = 1;
  out->vanished = -1;
}

void hb_scaling_polish(HbScalingMin *out, const HbScalingModel *m, const HbScalingData *d, const double *p0) {
  polish(out, m, d, p0, HB_SCALING_GTOL, POLISH_MAXITER);
}

/* The reported minimum is refined past HB_SCALING_GTOL, to the floor of
 * rounding: with Hessian eigenvalues near 1e-6 a gradient of 1e-9 still
 * leaves ~1e-3 of slack in the weakest direction. */
static void polish_final(HbScalingMin *mn, const HbScalingModel *m, const HbScalingData *d) {
  HbScalingMin fine;
  polish(&fine, m, d, mn->p, 1e-15, 50);
  if (fine.objective <= mn->objective + POLISH_FLOOR * fabs(mn->objective) && fine.grad_norm <= mn->grad_norm) {
    fine.hits = mn->hits;
    fine.vanished = mn->vanished;
    fine.iterations += mn->iterations;
    *mn = fine;
    mn->converged = mn->grad_norm < HB_SCALING_GTOL;
  }
}

/* Parameters of a term that vanished carry no information (A -> -inf moves
 * freely), so two minima in which the same term vanished are compared on
 * the other parameters only. */
static int term_of_param(int k) {
  return k == HB_SC_A ? HB_TERM_A : (k == HB_SC_B || k == HB_SC_ALPHA) ? HB_TERM_N : HB_TERM_D;
}

static int same_min(const HbScalingModel *m, const HbScalingMin *a, const HbScalingMin *b, double tol) {
  if (a->vanished != b->vanished) return 0;
  for (int k = 0; k < NP; k++) {
    if (!hb_scaling_param_used(m, k) || term_of_param(k) == a->vanished) continue;
    if (fabs(a->p[k] - b->p[k]) > tol * (1 + fabs(a->p[k]) + fabs(b->p[k]))) return 0;
  }
  return 1;
}

static int same_point(const HbScalingModel *m, const double *a, const double *b, double tol) {
  for (int k = 0; k < NP; k++)
    if (hb_scaling_param_used(m, k) && fabs(a[k] - b[k]) > tol * (1 + fabs(a[k]) + fabs(b[k]))) return 0;
  return 1;
}

/* Inserts mn into the list of distinct minima (sorted by objective). */
static void add_min(const HbScalingModel *m, HbScalingMin *minima, int *n, const HbScalingMin *mn) {
  for (int i = 0; i < *n; i++)
    if (same_min(m, &minima[i], mn, SAME_MIN_TOL)) {
      int hits = minima[i].hits + 1;
      if (mn->objective < minima[i].objective) minima[i] = *mn;
      minima[i].hits = hits;
      return;
    }
  int pos = *n;
  while (pos > 0 && minima[pos - 1].objective > mn->objective) pos--;
  if (pos >= HB_SCALING_MAX_MINIMA) return;
  int last = *n < HB_SCALING_MAX_MINIMA ? *n : HB_SCALING_MAX_MINIMA - 1;
  for (int i = last; i > pos; i--) minima[i] = minima[i - 1];
  minima[pos] = *mn;
  if (*n < HB_SCALING_MAX_MINIMA) (*n)++;
}

/* Multistart + polish of one model; minima sorted, best first. */
static void fit_model(const HbScalingModel *m, const HbScalingData *d, HbScalingFit *fit, HbScalingMin *minima,
                      int *n_minima) {
  int n_ends;
  Endpoint *ends = multistart(m, d, &n_ends, fit);
  *n_minima = 0;
  int polished = 0;
  for (int e = 0; e < n_ends && polished < POLISH_MAX; e++) {
    if (ends[e].f > ends[0].f * POLISH_FACTOR) break;
    int dup = 0; /* the same BFGS endpoint polishes to the same minimum */
    for (int q = 0; q < e && !dup; q++) dup = same_point(m, ends[q].p, ends[e].p, 1e-9);
    if (dup) continue;
    HbScalingMin mn;
    hb_scaling_polish(&mn, m, d, ends[e].p);
    mn.vanished = vanishing_term(m, d, mn.p);
    polished++;
    if (isfinite(mn.objective)) add_min(m, minima, n_minima, &mn);
  }
  fit->polished += polished;
  free(ends);
}

static void hessian_eigen(HbScalingFit *fit, const HbScalingData *d) {
  double g[NP], H[NP * NP];
  hb_scaling_objective(&fit->fitted, d, fit->best.p, g, H);
  fit->eig_status = GSL_SUCCESS;
  for (int pass = 0; pass < 2; pass++) { /* 0: every parameter, 1: the free ones */
    int idx[NP], n = 0;
    for (int k = 0; k < NP; k++)
      if (hb_scaling_param_used(&fit->fitted, k) && (pass == 0 || fit->best.bound[k] == 0)) idx[n++] = k;
    double *eig = pass == 0 ? fit->hess_eig : fit->hess_eig_free;
    if (pass == 0) fit->n_eig = n;
    else fit->n_eig_free = n;
    if (n == 0) continue;
    double a[NP * NP];
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) a[i * n + j] = H[idx[i] * NP + idx[j]];
    gsl_matrix_view av = gsl_matrix_view_array(a, (size_t)n, (size_t)n);
    gsl_vector_view ev = gsl_vector_view_array(eig, (size_t)n);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc((size_t)n);
    if (!w) HB_FATAL("gsl_eigen_symm_alloc(%d) failed", n);
    int status = gsl_eigen_symm(&av.matrix, &ev.vector, w);
    gsl_eigen_symm_free(w);
    if (status != GSL_SUCCESS) {
      fit->eig_status = status;
      for (int i = 0; i < n; i++) eig[i] = NAN;
    } else {
      gsl_sort(eig, 1, (size_t)n);
    }
  }
}

void hb_scaling_fit(HbScalingFit *fit, const HbScalingModel *model, const HbScalingData *data) {
  hb_fit_gsl_init();
  double t0 = hb_now_seconds();
  memset(fit, 0, sizeof *fit);
  fit->model = *model;
  fit->fitted = *model;
  fit->limit_term = -1;
  fit->limit_objective = NAN;
  fit->limit_slope = NAN;
  fit_model(model, data, fit, fit->minima, &fit->n_minima);
  if (fit->n_minima == 0) HB_FATAL("every start of the scaling fit failed (%d starts)", fit->starts);
  for (int i = 0; i < fit->n_minima; i++) polish_final(&fit->minima[i], model, data);
  for (int i = 1; i < fit->n_minima; i++) /* the refinement may reorder near-ties */
    for (int j = i; j > 0 && fit->minima[j].objective < fit->minima[j - 1].objective; j--) {
      HbScalingMin tmp = fit->minima[j];
      fit->minima[j] = fit->minima[j - 1];
      fit->minima[j - 1] = tmp;
    }
  fit->best = fit->minima[0];
  fit->interior_objective = fit->best.objective;

  /* Limits: the model without one term is the full model with that term's
   * coefficient -> 0. */
  int present = 0;
  for (int k = 0; k < HB_NTERMS; k++) present += model->has_term[k];
  int vanish = vanishing_term(model, data, fit->best.p);
  HbScalingMin sub_best[HB_NTERMS];
  HbScalingModel sub_model[HB_NTERMS];
  int have_sub[HB_NTERMS] = {0};
  for (int term = 0; term < HB_NTERMS && present >= 2; term++) {
    if (!model->has_term[term]) continue;
    sub_model[term] = *model;
    sub_model[term].has_term[term] = 0;
    HbScalingMin sub_min[HB_SCALING_MAX_MINIMA];
    int n_sub;
    fit_model(&sub_model[term], data, fit, sub_min, &n_sub);
    if (n_sub == 0) continue;
    polish_final(&sub_min[0], &sub_model[term], data);
    sub_best[term] = sub_min[0];
    have_sub[term] = 1;
  }
  /* The limit to report: the term that vanished at the best finite point, if
   * any; else the best sub-model. */
  int lim_term = vanish >= 0 && have_sub[vanish] ? vanish : -1;
  for (int term = 0; term < HB_NTERMS && lim_term != vanish; term++)
    if (have_sub[term] && (lim_term < 0 || sub_best[term].objective < sub_best[lim_term].objective))
      lim_term = term;
  if (lim_term >= 0) {
    const HbScalingMin lim_best = sub_best[lim_term];
    const HbScalingModel lim_model = sub_model[lim_term];
    fit->limit_objective = lim_best.objective;
    if (vanish >= 0 || lim_best.objective <= fit->interior_objective * (1 + 1e-10)) {
      fit->limit_term = lim_term;
      fit->fitted = lim_model;
      fit->best = lim_best;
      if (lim_term == HB_TERM_A) {
        fit->best.p[HB_SC_A] = -INFINITY; /* a = 0 */
        /* d objective / d a at a = 0: d r_i / d a = 1 / L_i. */
        double slope = 0;
        for (int i = 0; i < data->n; i++) {
          double lp = hb_scaling_log_predict(&lim_model, lim_best.p, data->log_n[i], data->log_d[i]);
          double r = lp - data->y[i];
          double psi = fabs(r) <= model->epsilon ? r : (r > 0 ? model->epsilon : -model->epsilon);
          slope += psi * exp(-lp);
        }
        fit->limit_slope = slope;
      } else if (lim_term == HB_TERM_N) {
        fit->best.p[HB_SC_B] = -INFINITY, fit->best.p[HB_SC_ALPHA] = NAN;
      } else {
        fit->best.p[HB_SC_C] = -INFINITY, fit->best.p[HB_SC_BETA] = NAN;
      }
    }
  }
  hessian_eigen(fit, data);
  fit->seconds = hb_now_seconds() - t0;
}

/* ---- bootstrap --------------------------------------------------------- */

void hb_scaling_bootstrap(HbScalingBootstrap *bs, const HbScalingFit *fit, const HbScalingData *data, int k,
                          unsigned long seed) {
  hb_fit_gsl_init();
  memset(bs, 0, sizeof *bs);
  bs->k = k;
  bs->seed = seed;
  for (int j = 0; j < NP; j++) bs->lo[j] = bs->hi[j] = NAN;
  if (k <= 0) return;
  const int n = data->n;
  const HbScalingModel *m = &fit->fitted;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!rng) HB_FATAL("gsl_rng_alloc failed");
  gsl_rng_set(rng, seed);
  double *buf = hb_malloc((size_t)3 * (size_t)n * sizeof *buf);
  double *vals = hb_malloc((size_t)NP * (size_t)k * sizeof *vals); /* (NP, k) reported scale */
  HbScalingData rd = {.n = n, .log_n = buf, .log_d = buf + n, .y = buf + 2 * n};
  /* Warm starts: the reported minimum, and the other minima of the same model. */
  const double *starts[1 + HB_SCALING_MAX_MINIMA];
  int n_starts = 0;
  starts[n_starts++] = fit->best.p;
  if (fit->limit_term < 0)
    for (int i = 1; i < fit->n_minima; i++) starts[n_starts++] = fit->minima[i].p;
  for (int r = 0; r < k; r++) {
    for (int i = 0; i < n; i++) {
      int j = (int)gsl_rng_uniform_int(rng, (unsigned long)n);
      buf[i] = data->log_n[j], buf[n + i] = data->log_d[j], buf[2 * n + i] = data->y[j];
    }
    HbScalingMin best;
    for (int s = 0; s < n_starts; s++) {
      double p0[NP];
      for (int q = 0; q < NP; q++) p0[q] = isfinite(starts[s][q]) ? starts[s][q] : 0.0;
      HbScalingMin mn;
      hb_scaling_polish(&mn, m, &rd, p0);
      if (s == 0 || mn.objective < best.objective) best = mn;
    }
    if (!best.converged) {
      bs->n_failed++;
      continue;
    }
    if (vanishing_term(m, &rd, best.p) >= 0) bs->n_limit++;
    double rep[NP];
    hb_scaling_reported(rep, best.p);
    for (int q = 0; q < NP; q++) vals[(size_t)q * (size_t)k + (size_t)bs->n_ok] = rep[q];
    bs->n_ok++;
  }
  for (int q = 0; q < NP && bs->n_ok > 0; q++) {
    if (!hb_scaling_param_used(m, q)) continue;
    double *v = vals + (size_t)q * (size_t)k;
    gsl_sort(v, 1, (size_t)bs->n_ok);
    bs->lo[q] = gsl_stats_quantile_from_sorted_data(v, 1, (size_t)bs->n_ok, 0.025);
    bs->hi[q] = gsl_stats_quantile_from_sorted_data(v, 1, (size_t)bs->n_ok, 0.975);
  }
  free(vals);
  free(buf);
  gsl_rng_free(rng);
}

/* ---- points ------------------------------------------------------------ */

void hb_scaling_points_free(HbScalingPoints *pts) {
  for (int i = 0; i < pts->n; i++) {
    if (pts->model_size) free(pts->model_size[i]);
    if (pts->token_multiplier) free(pts->token_multiplier[i]);
  }
  free(pts->model_size);
  free(pts->token_multiplier);
  free(pts->row);
  free(pts->n_params);
  free(pts->tokens);
  free(pts->loss);
  free(pts->log_n);
  free(pts->log_d);
  free(pts->y);
  memset(pts, 0, sizeof *pts);
}

static void points_alloc(HbScalingPoints *pts, int n) {
  memset(pts, 0, sizeof *pts);
  pts->model_size = hb_calloc((size_t)n, sizeof *pts->model_size);
  pts->token_multiplier = hb_calloc((size_t)n, sizeof *pts->token_multiplier);
  pts->row = hb_calloc((size_t)n, sizeof *pts->row);
  pts->n_params = hb_calloc((size_t)n, sizeof(double));
  pts->tokens = hb_calloc((size_t)n, sizeof(double));
  pts->loss = hb_calloc((size_t)n, sizeof(double));
  pts->log_n = hb_calloc((size_t)n, sizeof(double));
  pts->log_d = hb_calloc((size_t)n, sizeof(double));
  pts->y = hb_calloc((size_t)n, sizeof(double));
  pts->n = n;
}

/* Frees what the reader holds, then reports the input error (so that tests
 * intercepting input errors leak nothing). */
HB_NORETURN HB_PRINTF(4, 5) static void read_fail(HbTsv *t, HbScalingPoints *pts, const char *where,
                                                  const char *fmt, ...) {
  char w[512], msg[512];
  snprintf(w, sizeof w, "%s", where);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  hb_scaling_points_free(pts);
  hb_tsv_free(t);
  hb_input_error(w, "%s", msg);
}

static int find_col(HbTsv *t, HbScalingPoints *pts, const char *name, const char *n_col) {
  int j = hb_tsv_col(t, name);
  if (j < 0) {
    char where[512];
    snprintf(where, sizeof where, "%s:%d (header), column %s", t->path, t->header_line, name);
    read_fail(t, pts, where, "missing (a scaling table has model_size, token_multiplier, %s, loss)", n_col);
  }
  return j;
}

static double cell_positive(HbTsv *t, HbScalingPoints *pts, int r, int col) {
  double v;
  char where[512];
  hb_tsv_where(where, sizeof where, t, r, col);
  if (!hb_tsv_parse_double(t, r, col, &v)) read_fail(t, pts, where, "'%s' is not a number", hb_tsv_str(t, r, col));
  if (!(v > 0)) read_fail(t, pts, where, "%s must be > 0", hb_tsv_str(t, r, col));
  return v;
}

void hb_scaling_points_read(HbScalingPoints *pts, const char *path, const char *n_col, int longppl) {
  HbTsv t;
  hb_tsv_read(&t, path);
  memset(pts, 0, sizeof *pts);
  int c_size = find_col(&t, pts, "model_size", n_col);
  int c_mult = find_col(&t, pts, "token_multiplier", n_col);
  int c_n = find_col(&t, pts, n_col, n_col);
  int c_loss = find_col(&t, pts, "loss", n_col);
  if (t.n_rows == 0) {
    char where[512];
    snprintf(where, sizeof where, "%s:%d (header), column loss", t.path, t.header_line);
    read_fail(&t, pts, where, "no data rows");
  }
  points_alloc(pts, t.n_rows);
  for (int r = 0; r < t.n_rows; r++) {
    char where[512];
    pts->row[r] = r + 1;
    pts->model_size[r] = hb_strdup(hb_tsv_str(&t, r, c_size));
    const char *mult_text = hb_tsv_str(&t, r, c_mult);
    pts->token_multiplier[r] = hb_strdup(mult_text);
    /* "<number>n": the number of training tokens per parameter. */
    size_t len = strlen(mult_text);
    char num[128];
    double mult;
    hb_tsv_where(where, sizeof where, &t, r, c_mult);
    if (len < 2 || len >= sizeof num || mult_text[len - 1] != 'n')
      read_fail(&t, pts, where, "'%s' is not a number followed by 'n' (e.g. 200n)", mult_text);
    memcpy(num, mult_text, len - 1);
    num[len - 1] = '\0';
    if (!hb_parse_double(num, &mult))
      read_fail(&t, pts, where, "'%s' is not a number followed by 'n' (e.g. 200n)", mult_text);
    if (!(mult > 0)) read_fail(&t, pts, where, "'%s': the multiplier must be > 0", mult_text);
    pts->n_params[r] = cell_positive(&t, pts, r, c_n);
    double loss = cell_positive(&t, pts, r, c_loss);
    if (longppl) {
      if (!(loss > 1))
        read_fail(&t, pts, hb_tsv_where(where, sizeof where, &t, r, c_loss),
                  "%s: a LongPPL must be > 1 (--longppl fits log(log PPL))", hb_tsv_str(&t, r, c_loss));
      loss = log(loss);
    }
    pts->tokens[r] = mult * pts->n_params[r];
    pts->loss[r] = loss;
    pts->log_n[r] = log(pts->n_params[r]);
    pts->log_d[r] = log(pts->tokens[r]);
    pts->y[r] = log(loss);
  }
  hb_tsv_free(&t);
}

void hb_scaling_points_select(HbScalingPoints *dst, const HbScalingPoints *src, const int *keep) {
  int n = 0;
  for (int i = 0; i < src->n; i++) n += keep[i] != 0;
  points_alloc(dst, n);
  int j = 0;
  for (int i = 0; i < src->n; i++) {
    if (!keep[i]) continue;
    dst->model_size[j] = hb_strdup(src->model_size[i]);
    dst->token_multiplier[j] = hb_strdup(src->token_multiplier[i]);
    dst->row[j] = src->row[i];
    dst->n_params[j] = src->n_params[i];
    dst->tokens[j] = src->tokens[i];
    dst->loss[j] = src->loss[i];
    dst->log_n[j] = src->log_n[i];
    dst->log_d[j] = src->log_d[i];
    dst->y[j] = src->y[i];
    j++;
  }
}

HbScalingData hb_scaling_points_data(const HbScalingPoints *pts) {
  HbScalingData d = {.n = pts->n, .log_n = pts->log_n, .log_d = pts->log_d, .y = pts->y};
  return d;
}
