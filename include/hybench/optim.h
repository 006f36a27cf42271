/* AdamW with decoupled weight decay (matrices only), linear warmup then cosine
 * decay, and global-norm gradient clipping. */
#ifndef HYBENCH_OPTIM_H
#define HYBENCH_OPTIM_H

#include <stdint.h>

#include "hybench/model.h"

typedef struct {
  double lr;           /* peak learning rate */
  double lr_min;       /* floor of the cosine decay */
  long warmup_steps;   /* linear warmup from lr/warmup to lr */
  long total_steps;    /* cosine decays from the end of warmup to here */
  double beta1, beta2, eps;
  double weight_decay; /* decoupled; applied to ParamSpec.decay tensors only */
  double clip;         /* global gradient-norm limit; <= 0 disables */
} OptimConfig;

typedef struct {
  OptimConfig cfg;
  long step;   /* steps taken */
  float *m;    /* (n_floats) first moment */
  float *v;    /* (n_floats) second moment */
} Optimizer;

void optim_create(Optimizer *opt, const Model *model, const OptimConfig *cfg);
void optim_free(Optimizer *opt);
/* The learning rate of step `step` (0-based). */
double optim_lr(const OptimConfig *cfg, long step);
/* Clips, updates the model's parameters from its gradients; returns the
 * gradient norm before clipping. */
double optim_step(Optimizer *opt, Model *model, double *lr_out);
double grad_global_norm(const Model *model);

#endif
