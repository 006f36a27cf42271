/* Finite-difference gradient checks shared by the tests: random buffers, float
 * helpers in double, the directional central-difference check and the
 * "whole model" case that checks every parameter tensor of a small model.
 *
 * gc_check_direction compares the analytic directional derivative g.u with
 * (f(x + eps u) - f(x - eps u)) / (2 eps) for GC_DIRECTIONS random unit
 * directions u over one buffer x, relative to max(|fd|, |an|, |g| / sqrt(n)),
 * prints the worst relative error and CHECKs it against a tolerance.
 *
 * Everything random draws from gc_rng, which each test seeds in main().
 * A test may define before including this header:
 *   GC_LABEL_WIDTH  width of the label column of the printed lines (44);
 *   GC_EXACT_STEP   1: the analytic side is g . (the step actually taken,
 *                   x0 +- eps u rounded to float) / (2 eps) instead of g.u,
 *                   so the rounding of the step to float is not counted as
 *                   error (what a float64 objective at a small eps needs). */
#ifndef HYBENCH_GRADCHECK_H
#define HYBENCH_GRADCHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/model.h"
#include "hybench/rng.h"
#include "testutil.h"

#ifndef GC_LABEL_WIDTH
#define GC_LABEL_WIDTH 44
#endif
#ifndef GC_EXACT_STEP
#define GC_EXACT_STEP 0
#endif
#define GC_DIRECTIONS 3

__attribute__((unused)) static HbRng gc_rng;

/* ---------- buffers ---------- */

/* x[0..n) = scale * N(0, 1) from rng. */
__attribute__((unused)) static void gc_fill_normal(float *x, size_t n, HbRng *rng, double scale) {
  for (size_t i = 0; i < n; i++) x[i] = (float)(scale * rng_normal(rng));
}

/* A new buffer of n values scale * N(0, 1) from gc_rng (caller frees). */
__attribute__((unused)) static float *gc_randn(size_t n, double scale) {
  float *x = malloc(n * sizeof(float));
  gc_fill_normal(x, n, &gc_rng, scale);
  return x;
}

__attribute__((unused)) static float *gc_zeros(size_t n) { return calloc(n, sizeof(float)); }

/* ---------- float buffers measured in double ---------- */

__attribute__((unused)) static double gc_dot(const float *a, const float *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

__attribute__((unused)) static double gc_max_abs(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

/* max |a - b| over n values (NaN in a or b makes it NaN). */
__attribute__((unused)) static double gc_max_abs_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

/* max |a - b| over max |b|, over rows of w values ld apart (a part of a
 * row-major buffer: pass the part's first column). NaN in a makes it NaN. */
__attribute__((unused)) static double gc_rel_max_diff_rows(const float *a, const float *b, int64_t rows, int64_t ld,
                                                           int64_t w) {
  double diff = 0, scale = 0;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < w; j++) {
      double x = a[r * ld + j], y = b[r * ld + j];
      if (!(fabs(x - y) <= diff)) diff = fabs(x - y);
      if (fabs(y) > scale) scale = fabs(y);
    }
  return diff / fmax(scale, 1e-30);
}

/* max |a - b| / max |b| over n values (NaN in a makes it NaN). */
__attribute__((unused)) static double gc_rel_max_diff(const float *a, const float *b, size_t n) {
  return gc_rel_max_diff_rows(a, b, 1, (int64_t)n, (int64_t)n);
}

__attribute__((unused)) static int gc_all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}

/* ---------- directional central differences ---------- */

typedef double (*GcObjective)(void *ctx);

/* Checks grad (n) of f with respect to x (n) along random unit directions;
 * x is restored. Returns the worst relative error (NaN if any was NaN). */
__attribute__((unused)) static double gc_check_direction(const char *what, GcObjective f, void *ctx, float *x,
                                                         const float *grad, size_t n, double eps, double tol) {
  double worst = 0;
  for (int d = 0; d < GC_DIRECTIONS; d++) {
    float *u = gc_randn(n, 1.0);
    double norm = sqrt(gc_dot(u, u, n));
    for (size_t i = 0; i < n; i++) u[i] = (float)(u[i] / norm);
    float *x0 = malloc(n * sizeof(float));
    double an = 0;
    memcpy(x0, x, n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = x0[i] + (float)eps * u[i];
    if (GC_EXACT_STEP)
      for (size_t i = 0; i < n; i++) an += (double)grad[i] * x[i];
    double fp = f(ctx);
    for (size_t i = 0; i < n; i++) x[i] = x0[i] - (float)eps * u[i];
    if (GC_EXACT_STEP)
      for (size_t i = 0; i < n; i++) an -= (double)grad[i] * x[i];
    double fm = f(ctx);
    memcpy(x, x0, n * sizeof(float));
    an = GC_EXACT_STEP ? an / (2 * eps) : gc_dot(grad, u, n);
    double fd = (fp - fm) / (2 * eps);
    /* |g.u| is about |g| / sqrt(n) for a random unit u; that floor keeps a
     * direction that happens to be nearly orthogonal to g from dividing
     * noise by almost nothing. */
    double typical = sqrt(gc_dot(grad, grad, n) / (double)n);
    double den = fmax(fmax(fmax(fabs(fd), fabs(an)), typical), 1e-8);
    double err = fabs(fd - an) / den;
    if (!(err <= worst)) worst = err;
    free(u), free(x0);
  }
  printf("  %-*s max rel err %.2e\n", GC_LABEL_WIDTH, what, worst);
  CHECK(worst < tol, "%s: gradient differs from finite differences (rel err %g, tol %g)", what, worst, tol);
  return worst;
}

/* ---------- a whole model ---------- */

typedef struct {
  Model m;
  int32_t *inputs, *targets;
  int B, T;
} GcModelCtx;

/* The mean loss: model_forward with targets. */
__attribute__((unused)) static double gc_model_objective(void *p) {
  GcModelCtx *c = p;
  return model_forward(&c->m, c->inputs, c->targets, c->B, c->T);
}

/* What differs between the tests' model cases; NULL members do nothing. */
typedef struct {
  const char *label; /* printed before each tensor name, separator included ("LF T=38: ") */
  /* Called for every tensor in table order, after its INIT_ONES gains are
   * redrawn: sets other trained-scale values (w: the tensor's weights). */
  void (*init)(const ParamSpec *ps, float *w);
  /* The step for one tensor, given the default eps. */
  double (*eps_for)(const ParamSpec *ps, double eps);
  /* Runs on the model after the checks, before it is freed. */
  void (*after)(const Model *m);
} GcModelOptions;

/* Builds the model of config_text with model_init_params(seed 5), redraws the
 * norm gains (INIT_ONES) as 1 + 0.3 N(0, 1) so their gradients are exercised
 * away from 1, draws B x T inputs and targets (those at i % 7 == 3 masked
 * with -1), and checks the gradient of the mean loss for every parameter
 * tensor with step eps (or opt->eps_for) against tol. opt may be NULL. */
__attribute__((unused)) static void gc_check_model(const char *config_text, int B, int T, double eps, double tol,
                                                   const GcModelOptions *opt) {
  static const GcModelOptions none = {0};
  if (!opt) opt = &none;
  ModelConfig cfg;
  config_parse(&cfg, config_text, "gc_check_model");
  GcModelCtx c;
  c.B = B, c.T = T;
  model_create(&c.m, &cfg);
  model_init_params(&c.m, 5);
  for (int i = 0; i < c.m.n_params; i++) {
    const ParamSpec *ps = &c.m.params[i];
    float *w = c.m.param_mem + ps->offset;
    if (ps->init == INIT_ONES)
      for (size_t j = 0; j < ps->numel; j++) w[j] = (float)(1 + 0.3 * rng_normal(&gc_rng));
    if (opt->init) opt->init(ps, w);
  }
  uint64_t V = (uint64_t)c.m.cfg.vocab;
  c.inputs = malloc((size_t)B * T * sizeof(int32_t));
  c.targets = malloc((size_t)B * T * sizeof(int32_t));
  for (int i = 0; i < B * T; i++) {
    c.inputs[i] = (int32_t)rng_below(&gc_rng, V);
    c.targets[i] = i % 7 == 3 ? -1 : (int32_t)rng_below(&gc_rng, V);
  }
  model_zero_grad(&c.m);
  gc_model_objective(&c);
  model_backward(&c.m);
  for (int i = 0; i < c.m.n_params; i++) {
    const ParamSpec *ps = &c.m.params[i];
    char what[192];
    snprintf(what, sizeof what, "%s%s", opt->label ? opt->label : "", ps->name);
    gc_check_direction(what, gc_model_objective, &c, c.m.param_mem + ps->offset, c.m.grad_mem + ps->offset,
                       ps->numel, opt->eps_for ? opt->eps_for(ps, eps) : eps, tol);
  }
  if (opt->after) opt->after(&c.m);
  model_free(&c.m);
  free(c.inputs), free(c.targets);
}

#endif
