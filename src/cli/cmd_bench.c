/* `hybench bench step`: training-step throughput on random tokens, with the
 * share of step time in linear-layer GEMMs, attention and the rest. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "hybench/attention.h"
#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/dnn.h"
#include "hybench/model.h"
#include "hybench/optim.h"
#include "hybench/rng.h"

static const char USAGE[] =
    "bench step --model M.conf [--seq-len T] [--batch B] [--steps N] [--warmup N] [--threads K] [--precision P]\n\n"
    "Times N full training steps (forward, backward, AdamW) on random tokens after a warm-up.\n"
    "Prints the split of step time, `peak_rss_mb <value>` (the process's peak resident memory)\n"
    "and, last, `tokens_per_s <value>`. Set ONEDNN_VERBOSE=1 to see the kernels.";

/* Peak resident memory of this process so far, in MiB (Linux reports KiB). */
static double peak_rss_mib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

/* FLOPs of the linear layers' GEMMs in one training step of M tokens:
 * forward, dX and dW products (3 x 2MKN) for each projection of each layer,
 * plus the tied output projection. Mixers' own projections differ by kind;
 * this counts the attention-shaped ones (qkv, out) and the SwiGLU MLP, which
 * is exact for F and S layers and a lower bound for the others. */
static double linear_gemm_flops(const ModelConfig *c, long M) {
  double D = c->d_model, HD = (double)c->n_heads * c->head_dim, F = c->mlp_hidden;
  double per_layer = D * 3 * HD + HD * D + D * 2 * F + F * D;
  return 6.0 * (double)M * (per_layer * c->n_layers + D * c->vocab);
}

static int bench_step(int argc, char **argv) {
  const char *model = NULL;
  long T = 512, B = 8, steps = 10, warmup = 3, threads = 2, seed = 1;
  const char *precision = "fp32";
  HbOpt opts[] = {
      {"precision", HB_OPT_STR, &precision, "fp32 or bf16 (bf16 products, fp32 accumulation and master weights)", 0},
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
  hb_precision_option("bench step", precision);
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
  double conv = dnn_convert_seconds();
  double linear = mm - att_mm, rest = total - linear - att;
  printf("model %s pattern %s window %d  T %ld B %ld threads %ld  precision %s  params %zu  final loss %.4f\n",
         cfg.name, cfg.pattern, cfg.window, T, B, threads, precision, m.n_floats, loss);
  printf("step time %.2f ms: linear GEMMs %.1f%%, attention %.1f%% (of which batched matmuls %.1f%%), rest %.1f%%"
         "; bf16 rounding of operands %.1f%% (inside the matmul shares)\n",
         1e3 * total / steps, 100 * linear / total, 100 * att / total, 100 * att_mm / total, 100 * rest / total,
         100 * conv / total);
  /* Rounding time included: it is what the bf16 path costs. */
  printf("linear_gemm_gflops %.1f\n", linear_gemm_flops(&cfg, B * T) * steps / linear / 1e9);
  printf("peak_rss_mb %.1f\n", peak_rss_mib());
  printf("tokens_per_s %.1f\n", (double)n * steps / total);
  free(inputs), free(targets);
  optim_free(&opt);
  model_free(&m);
  return 0;
}

static const char GEMM_USAGE[] =
    "bench gemm [--size N] [--threads K] [--precision P] [--reps R]\n\n"
    "The machine's GEMM peak as this build reaches it: R products of two N x N matrices\n"
    "through the engine's oneDNN wrapper (bf16: operands rounded first, not timed).\n"
    "Prints the kernel and, last, `gflops <value>`.";

static int bench_gemm(int argc, char **argv) {
  long n = 2048, threads = 2, reps = 10;
  const char *precision = "fp32";
  HbOpt opts[] = {
      {"size", HB_OPT_LONG, &n, "matrix size N", 0},
      {"threads", HB_OPT_LONG, &threads, "OpenMP threads", 0},
      {"precision", HB_OPT_STR, &precision, "fp32 or bf16", 0},
      {"reps", HB_OPT_LONG, &reps, "timed products", 0},
      {0},
  };
  hb_parse_args("bench gemm", GEMM_USAGE, opts, argc, argv);
  if (n < 16 || n > 16384 || threads < 1 || reps < 1)
    hb_input_error("bench gemm", "--size must be in 16..16384, --threads and --reps >= 1");
  hb_precision_option("bench gemm", precision);
  omp_set_num_threads((int)threads);
  size_t nn = (size_t)(n * n);
  float *a = hb_aligned_alloc(nn * sizeof(float)), *b = hb_aligned_alloc(nn * sizeof(float));
  float *c = hb_aligned_alloc(nn * sizeof(float));
  HbRng rng;
  rng_seed(&rng, 1, 4);
  for (size_t i = 0; i < nn; i++) a[i] = (float)rng_uniform(&rng) - 0.5f, b[i] = (float)rng_uniform(&rng) - 0.5f;
  dnn_init();
  dnn_matmul(c, a, b, 1, n, n, n, 0, 0, 0); /* builds the primitive */
  dnn_reset_timers();
  for (long r = 0; r < reps; r++) dnn_matmul(c, a, b, 1, n, n, n, 0, 0, 0);
  double t = dnn_matmul_seconds() - dnn_convert_seconds();
  printf("gemm %ld x %ld x %ld  precision %s  threads %ld  kernel %s  %.2f ms per product\n", n, n, n, precision,
         threads, dnn_precision() == DNN_BF16 ? dnn_bf16_kernel() : "fp32 (see ONEDNN_VERBOSE)", 1e3 * t / reps);
  printf("gflops %.1f\n", 2.0 * (double)n * n * n * reps / t / 1e9);
  free(a), free(b), free(c);
  return 0;
}

int cmd_bench(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "step") == 0) return bench_step(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "gemm") == 0) return bench_gemm(argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: hybench bench step|gemm [options]   (hybench bench step --help, hybench bench gemm --help)\n");
    return 0;
  }
  hb_input_error("bench", "expected a benchmark name: step or gemm (see hybench bench --help)");
}
