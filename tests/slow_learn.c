/* Learning: a 2-layer SF model learns a copy (induction) task within 60 s.
 * Each sequence is 32 random tokens followed by the same 32 tokens again;
 * the second copy is predictable only by looking back 32 positions, past
 * the S layer's window of 8, so the F layer has to learn an induction head.
 * Pass: mean loss on the copied half below 0.3 nats (chance: log 64 = 4.16),
 * while the random first half stays at chance (no look-ahead). */
#include <stdlib.h>

#include "hybench/model.h"
#include "hybench/optim.h"
#include "hybench/rng.h"
#include "testutil.h"

#define HALF 32
#define T (2 * HALF)
#define B 32
#define V 64
#define MAX_SECONDS 60.0
#define TARGET_LOSS 0.3

/* copied = 1: targets on the copied half; 0: on the random first half. */
static void copy_batch(int32_t *inputs, int32_t *targets, HbRng *rng, int copied) {
  for (int b = 0; b < B; b++) {
    int32_t seq[T + 1];
    for (int i = 0; i < HALF; i++) seq[i] = seq[i + HALF] = (int32_t)rng_below(rng, V);
    seq[T] = (int32_t)rng_below(rng, V);
    for (int t = 0; t < T; t++) {
      inputs[b * T + t] = seq[t];
      /* Only the copied half counts: the first half is noise by construction. */
      int in_copy = t + 1 >= HALF + 1 && t + 1 < T, in_first = t + 1 < HALF;
      targets[b * T + t] = (copied ? in_copy : in_first) ? seq[t + 1] : -1;
    }
  }
}

int main(void) {
  ModelConfig cfg;
  config_parse(&cfg,
               "name = copy\nvocab = 64\nd_model = 64\nn_heads = 4\nhead_dim = 16\nmlp_hidden = 128\n"
               "pattern = SF\nwindow = 8\n",
               "slow_learn");
  Model m;
  model_create(&m, &cfg);
  model_init_params(&m, 1);
  long steps = 1500;
  OptimConfig oc = {.lr = 3e-3, .lr_min = 3e-4, .warmup_steps = 50, .total_steps = steps,
                    .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.0, .clip = 1.0};
  Optimizer opt;
  optim_create(&opt, &m, &oc);
  HbRng rng;
  rng_seed(&rng, 1, 9);
  int32_t inputs[B * T], targets[B * T];
  double t0 = hb_now_seconds(), loss = 99, elapsed = 0;
  long step;
  for (step = 1; step <= steps; step++) {
    copy_batch(inputs, targets, &rng, 1);
    model_zero_grad(&m);
    loss = model_forward(&m, inputs, targets, B, T);
    model_backward(&m);
    optim_step(&opt, &m, NULL);
    elapsed = hb_now_seconds() - t0;
    if (step % 100 == 0) printf("  step %4ld  %5.1f s  copy loss %.4f\n", step, elapsed, loss);
    if (loss < TARGET_LOSS / 3 || elapsed > MAX_SECONDS) break;
  }
  /* Fresh batch: the loss must hold on sequences never trained on. */
  copy_batch(inputs, targets, &rng, 1);
  double held_out = model_forward(&m, inputs, targets, B, T);
  /* Causality: the random first half stays at chance, or the model sees the future. */
  copy_batch(inputs, targets, &rng, 0);
  double first_half = model_forward(&m, inputs, targets, B, T);
  printf("random first half: loss %.4f (chance log %d = %.4f)\n", first_half, V, log((double)V));
  CHECK(first_half > log((double)V) - 0.5, "loss %.4f below chance on unpredictable tokens: future leaks", first_half);
  printf("copy task: held-out copy loss %.4f after %ld steps, %.1f s (target < %.2f within %.0f s)\n", held_out,
         step, elapsed, TARGET_LOSS, MAX_SECONDS);
  CHECK(held_out < TARGET_LOSS, "the model did not learn to copy: loss %.4f", held_out);
  CHECK(elapsed <= MAX_SECONDS + 5, "learning took %.1f s", elapsed);
  optim_free(&opt);
  model_free(&m);
  TEST_MAIN_END();
}
