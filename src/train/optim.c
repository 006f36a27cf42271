#include "hybench/optim.h"

#include <math.h>
#include <string.h>

#include "hybench/common.h"

void optim_create(Optimizer *opt, const Model *model, const OptimConfig *cfg) {
  memset(opt, 0, sizeof *opt);
  opt->cfg = *cfg;
  opt->m = hb_aligned_alloc(model->n_floats * sizeof(float));
  opt->v = hb_aligned_alloc(model->n_floats * sizeof(float));
}

void optim_free(Optimizer *opt) {
  free(opt->m);
  free(opt->v);
  opt->m = opt->v = NULL;
}

double optim_lr(const OptimConfig *c, long step) {
  if (c->warmup_steps > 0 && step < c->warmup_steps) return c->lr * (double)(step + 1) / (double)c->warmup_steps;
  long decay_steps = c->total_steps - c->warmup_steps;
  if (decay_steps <= 0) return c->lr;
  double progress = (double)(step - c->warmup_steps) / (double)decay_steps;
  if (progress > 1) progress = 1;
  return c->lr_min + 0.5 * (c->lr - c->lr_min) * (1.0 + cos(HB_PI * progress));
}

double grad_global_norm(const Model *model) {
  double ss = 0;
  const float *g = model->grad_mem;
  /* Parameters in a fixed order and one accumulator per tensor: the norm is the same for any thread count. */
  for (int i = 0; i < model->n_params; i++) {
    const ParamSpec *p = &model->params[i];
    double t = 0;
    for (size_t j = 0; j < p->numel; j++) t += (double)g[p->offset + j] * g[p->offset + j];
    ss += t;
  }
  return sqrt(ss);
}

double optim_step(Optimizer *opt, Model *model, double *lr_out) {
  const OptimConfig *c = &opt->cfg;
  double norm = grad_global_norm(model);
  double scale = (c->clip > 0 && norm > c->clip) ? c->clip / norm : 1.0;
  double lr = optim_lr(c, opt->step);
  opt->step++;
  double bc1 = 1.0 - pow(c->beta1, (double)opt->step), bc2 = 1.0 - pow(c->beta2, (double)opt->step);
  for (int i = 0; i < model->n_params; i++) {
    const ParamSpec *p = &model->params[i];
    float *w = model->param_mem + p->offset, *g = model->grad_mem + p->offset;
    float *m = opt->m + p->offset, *v = opt->v + p->offset;
    float decay = p->decay ? (float)(lr * c->weight_decay) : 0.0f;
    float b1 = (float)c->beta1, b2 = (float)c->beta2, fs = (float)scale;
    float step_size = (float)(lr / bc1), inv_bc2 = (float)(1.0 / bc2), eps = (float)c->eps;
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < p->numel; j++) {
      float gj = g[j] * fs;
      m[j] = b1 * m[j] + (1 - b1) * gj;
      v[j] = b2 * v[j] + (1 - b2) * gj * gj;
      w[j] -= decay * w[j] + step_size * m[j] / (sqrtf(v[j] * inv_bc2) + eps);
    }
  }
  if (lr_out) *lr_out = lr;
  return norm;
}
