/* `hybench bench step`: training-step throughput on random tokens, with the
 * share of step time in linear-layer GEMMs, attention and the rest. */
#include <omp.h>
#include <string.h>

#include "hybench/attention.h"
#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/dnn.h"
#include "hybench/model.h"
#include "hybench/optim.h"
#include "hybench/rng.h"

static const char USAGE[] =
    "bench step --model M.conf [--seq-len T] [--batch B] [--steps N] [--warmup N] [--threads K]\n\n"
    "Times N full training steps (forward, backward, AdamW) on random tokens after a warm-up.\n"
    "The last line printed is `tokens_per_s <value>`. Set ONEDNN_VERBOSE=1 to see the kernels.";

static int bench_step(int argc, char **argv) {
  const char *model = NULL;
  long T = 512, B = 8, steps = 10, warmup = 3, threads = 2, seed = 1;
  HbOpt opts[] = {
      {"model", HB_OPT_STR, &model, "model config file", 1},
      {"seq-len", HB_OPT_LONG, &T, "context length T", 0},
      {"batch", HB_OPT_LONG, &B, "sequences per step", 0},
      {"steps", HB_OPT_LONG, &steps, "timed steps", 0},
      {"warmup", HB_OPT_LONG, &warmup, "untimed steps first (primitive creation, caches)", 0},
      {"threads", HB_OPT_LONG, &threads, "OpenMP threads", 0},
      {"seed", HB_OPT_LONG, &seed, "seed of weights and tokens", 0},
      {0},
  };
  hb_parse_args("bench step", USAGE, opts, argc, argv);
  if (T < 1 || B < 1 || steps < 1 || warmup < 0 || threads < 1)
    hb_input_error("bench step", "--seq-len, --batch, --steps, --threads must be >= 1 and --warmup >= 0");
  omp_set_num_threads((int)threads);
  ModelConfig cfg;
  config_load(&cfg, model);
  Model m;
  model_create(&m, &cfg);
  model_init_params(&m, (uint64_t)seed);
  OptimConfig oc = {.lr = 1e-3, .lr_min = 1e-4, .warmup_steps = 0, .total_steps = steps + warmup,
                    .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.0, .clip = 1.0};
  Optimizer opt;
  optim_create(&opt, &m, &oc);
  HbRng rng;
  rng_seed(&rng, (uint64_t)seed, 3);
  size_t n = (size_t)(B * T);
  int32_t *inputs = hb_malloc(n * sizeof(int32_t)), *targets = hb_malloc(n * sizeof(int32_t));
  for (size_t i = 0; i < n; i++) {
    inputs[i] = (int32_t)rng_below(&rng, (uint64_t)cfg.vocab);
    targets[i] = (int32_t)rng_below(&rng, (uint64_t)cfg.vocab);
  }
  double t0 = 0, loss = 0;
  for (long s = 0; s < warmup + steps; s++) {
    if (s == warmup) {
      dnn_reset_timers();
      attention_reset_timer();
      t0 = hb_now_seconds();
    }
    model_zero_grad(&m);
    loss = model_forward(&m, inputs, targets, (int)B, (int)T);
    model_backward(&m);
    optim_step(&opt, &m, NULL);
  }
  double total = hb_now_seconds() - t0;
  double mm = dnn_matmul_seconds(), att = attention_seconds(), att_mm = attention_matmul_seconds();
  double linear = mm - att_mm, rest = total - linear - att;
  printf("model %s pattern %s window %d  T %ld B %ld threads %ld  params %zu  final loss %.4f\n", cfg.name,
         cfg.pattern, cfg.window, T, B, threads, m.n_floats, loss);
  printf("step time %.2f ms: linear GEMMs %.1f%%, attention %.1f%% (of which batched matmuls %.1f%%), rest %.1f%%\n",
         1e3 * total / steps, 100 * linear / total, 100 * att / total, 100 * att_mm / total, 100 * rest / total);
  printf("tokens_per_s %.1f\n", (double)n * steps / total);
  free(inputs), free(targets);
  optim_free(&opt);
  model_free(&m);
  return 0;
}

int cmd_bench(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "step") == 0) return bench_step(argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: hybench bench step [options]   (hybench bench step --help)\n");
    return 0;
  }
  hb_input_error("bench", "expected a benchmark name: step (see hybench bench --help)");
}
