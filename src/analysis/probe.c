/* Layer-wise probes (DESIGN.md section 5): the residual stream at the query
 * position, and a multinomial logistic regression on it fitted with GSL's
 * BFGS2 (the objective is convex, so the start does not matter; GSL errors are
 * data: the status and iteration count go into the caller's table). */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <math.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/common.h"

void probe_features(float *X, Model *m, const NeedleSet *ns, int batch) {
  int L = m->cfg.n_layers, C = m->cfg.d_model, T = ns->T;
  size_t row_bytes = (size_t)C * sizeof(float);
  batch = model_analysis_batch(m, T, batch);
  for (long s0 = 0; s0 < ns->n_seqs; s0 += batch) {
    int B = (int)(ns->n_seqs - s0 < batch ? ns->n_seqs - s0 : batch);
    model_forward(m, ns->tokens + (size_t)s0 * T, NULL, B, T);
    for (long k = 0; k < ns->n; k++) {
      if (ns->seq[k] < s0 || ns->seq[k] >= s0 + B) continue;
      size_t at = (size_t)(ns->seq[k] - s0) * T + (size_t)ns->query[k];
      for (int l = 0; l <= L; l++) {
        const float *x = l < L ? m->a.layer[l].x : m->a.x_final; /* (B*T, C) */
        memcpy(X + ((size_t)l * ns->n + k) * C, x + at * C, row_bytes);
      }
    }
  }
}

typedef struct {
  const double *Z;      /* (n, d) standardised features */
  const int32_t *y;     /* (n) */
  const uint8_t *train; /* (n) */
  long n, n_train;
  int d, K;
  double lambda;
  double *logits;       /* (K) scratch */
} ProbeProblem;

/* logits (K) = W z + b for theta = [W (K, d) | b (K)] */
static void probe_logits(double *logits, const gsl_vector *theta, const double *z, int d, int K) {
  for (int k = 0; k < K; k++) {
    double s = gsl_vector_get(theta, (size_t)K * d + k);
    for (int j = 0; j < d; j++) s += gsl_vector_get(theta, (size_t)k * d + j) * z[j];
    logits[k] = s;
  }
}

/* Softmax in place; returns log of the normaliser. */
static double softmax_inplace(double *x, int K) {
  double mx = x[0], sum = 0;
  for (int k = 1; k < K; k++) mx = x[k] > mx ? x[k] : mx;
  for (int k = 0; k < K; k++) sum += (x[k] = exp(x[k] - mx));
  for (int k = 0; k < K; k++) x[k] /= sum;
  return mx + log(sum);
}

static void probe_fdf(const gsl_vector *theta, void *params, double *f, gsl_vector *grad) {
  const ProbeProblem *pp = params;
  int d = pp->d, K = pp->K;
  double loss = 0;
  if (grad) gsl_vector_set_zero(grad);
  for (long i = 0; i < pp->n; i++) {
    if (!pp->train[i]) continue;
    const double *z = pp->Z + (size_t)i * d;
    probe_logits(pp->logits, theta, z, d, K);
    double target_logit = pp->logits[pp->y[i]];
    loss += softmax_inplace(pp->logits, K) - target_logit;
    if (!grad) continue;
    for (int k = 0; k < K; k++) {
      double e = (pp->logits[k] - (k == pp->y[i])) / (double)pp->n_train;
      for (int j = 0; j < d; j++) *gsl_vector_ptr(grad, (size_t)k * d + j) += e * z[j];
      *gsl_vector_ptr(grad, (size_t)K * d + k) += e;
    }
  }
  double reg = 0;
  for (size_t e = 0; e < (size_t)K * d; e++) {
    double w = gsl_vector_get(theta, e);
    reg += w * w;
    if (grad) *gsl_vector_ptr(grad, e) += pp->lambda * w;
  }
  if (f) *f = loss / (double)pp->n_train + 0.5 * pp->lambda * reg;
}

static double probe_f(const gsl_vector *theta, void *params) {
  double f;
  probe_fdf(theta, params, &f, NULL);
  return f;
}

static void probe_df(const gsl_vector *theta, void *params, gsl_vector *grad) {
  probe_fdf(theta, params, NULL, grad);
}

void probe_fit(ProbeResult *r, const float *X, const int32_t *y, const uint8_t *train, long n, int d, int K,
               double lambda, int max_iter) {
  memset(r, 0, sizeof *r);
  long n_train = 0;
  for (long i = 0; i < n; i++) n_train += train[i] != 0;
  HB_ASSERT(n_train >= 1 && n_train < n && K >= 2 && d >= 1, "callers split the samples into two non-empty parts");
  gsl_set_error_handler_off();
  /* standardise with the training rows' statistics */
  double *Z = hb_malloc((size_t)n * d * sizeof(double));
  for (int j = 0; j < d; j++) {
    double mean = 0, var = 0;
    for (long i = 0; i < n; i++)
      if (train[i]) mean += X[(size_t)i * d + j];
    mean /= (double)n_train;
    for (long i = 0; i < n; i++)
      if (train[i]) var += (X[(size_t)i * d + j] - mean) * (X[(size_t)i * d + j] - mean);
    double sd = sqrt(var / (double)n_train);
    if (!(sd > 1e-12)) sd = 1;
    for (long i = 0; i < n; i++) Z[(size_t)i * d + j] = (X[(size_t)i * d + j] - mean) / sd;
  }
  ProbeProblem pp = {Z, y, train, n, n_train, d, K, lambda, hb_malloc((size_t)K * sizeof(double))};
  size_t n_params = (size_t)K * (d + 1);
  gsl_multimin_function_fdf fn = {probe_f, probe_df, probe_fdf, n_params, &pp};
  gsl_vector *theta = gsl_vector_calloc(n_params);
  gsl_multimin_fdfminimizer *mz = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, n_params);
  if (!theta || !mz) HB_FATAL("out of memory allocating a probe of %zu parameters", n_params);
  int status = gsl_multimin_fdfminimizer_set(mz, &fn, theta, 0.1, 0.1);
  int iter = 0, converged = 0;
  while (status == GSL_SUCCESS && iter < max_iter && !converged) {
    iter++;
    status = gsl_multimin_fdfminimizer_iterate(mz);
    if (status == GSL_SUCCESS)
      converged = gsl_multimin_test_gradient(gsl_multimin_fdfminimizer_gradient(mz), 1e-6) == GSL_SUCCESS;
  }
  if (status == GSL_SUCCESS && !converged) status = GSL_EMAXITER;
  /* GSL_ENOPROG: the line search made no progress, i.e. at the optimum to machine precision */
  r->status = status;
  r->iters = iter;
  r->loss = gsl_multimin_fdfminimizer_minimum(mz);
  const gsl_vector *best = gsl_multimin_fdfminimizer_x(mz);
  long right_train = 0, right_test = 0;
  for (long i = 0; i < n; i++) {
    probe_logits(pp.logits, best, Z + (size_t)i * d, d, K);
    int arg = 0;
    for (int k = 1; k < K; k++)
      if (pp.logits[k] > pp.logits[arg]) arg = k;
    if (train[i]) right_train += arg == y[i];
    else right_test += arg == y[i];
  }
  r->acc_train = (double)right_train / (double)n_train;
  r->acc_test = (double)right_test / (double)(n - n_train);
  gsl_multimin_fdfminimizer_free(mz);
  gsl_vector_free(theta);
  free(pp.logits);
  free(Z);
}
