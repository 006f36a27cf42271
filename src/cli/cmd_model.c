/* `hybench init` and `hybench forward` (the interop contract of DESIGN.md section 3). */
#include <omp.h>
#include <string.h>

#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/model.h"
#include "hybench/tensorio.h"

int cmd_init(int argc, char **argv) {
  const char *model = NULL, *out = NULL;
  long seed = 1;
  HbOpt opts[] = {
      {"model", HB_OPT_STR, &model, "model config file", 1},
      {"out", HB_OPT_STR, &out, "checkpoint to write (.safetensors)", 1},
      {"seed", HB_OPT_LONG, &seed, "initialisation seed", 0},
      {0},
  };
  hb_parse_args("init", "init --model M.conf --seed S --out F.safetensors\n\nWrites a randomly initialised checkpoint.",
                opts, argc, argv);
  if (seed < 0) hb_input_error("init --seed", "must be >= 0");
  ModelConfig cfg;
  config_load(&cfg, model);
  Model m;
  model_create(&m, &cfg);
  model_init_params(&m, (uint64_t)seed);
  model_save(&m, out);
  printf("%s: %s, %zu parameters\n", out, cfg.name, m.n_floats);
  model_free(&m);
  return 0;
}

int cmd_scale_model(int argc, char **argv) {
  const char *model = NULL, *out = NULL;
  long width = 0;
  HbOpt opts[] = {
      {"model", HB_OPT_STR, &model, "base model config file", 1},
      {"width", HB_OPT_LONG, &width, "d_model of the grid's model (a multiple of 16)", 1},
      {"out", HB_OPT_STR, &out, "model config to write", 1},
      {0},
  };
  hb_parse_args("scale-model",
                "scale-model --model BASE.conf --width W --out OUT.conf\n\n"
                "The E2 scaling grid's model of one size: BASE with d_model W, heads of 16 (W/16 of\n"
                "them), SwiGLU hidden 3W and name BASE_dW; every other key stays the base's.",
                opts, argc, argv);
  ModelConfig cfg;
  config_load(&cfg, model);
  config_scale_width(&cfg, width > 1 << 20 ? -1 : (int)width, "scale-model --width");
  char *text = config_to_text(&cfg);
  HbOut o = hb_out_open(out, "w");
  fprintf(o.fp, "# E2 scaling grid: %s at d_model %ld (hybench scale-model)\n%s", model, width, text);
  hb_out_commit(&o);
  free(text);
  return 0;
}

/* Targets are the next tokens; the last position of each row has none. */
static int32_t *next_token_targets(const int32_t *tokens, int64_t B, int64_t T) {
  int32_t *targets = hb_malloc((size_t)(B * T) * sizeof(int32_t));
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < T; t++) targets[b * T + t] = t + 1 < T ? tokens[b * T + t + 1] : -1;
  return targets;
}

int cmd_forward(int argc, char **argv) {
  const char *ckpt = NULL, *tokens_path = NULL, *out = NULL, *grads = NULL;
  long threads = 1;
  HbOpt opts[] = {
      {"ckpt", HB_OPT_STR, &ckpt, "checkpoint (.safetensors)", 1},
      {"tokens", HB_OPT_STR, &tokens_path, "int32/int64 .npy array (B, T)", 1},
      {"out", HB_OPT_STR, &out, "float32 .npy logits (B, T, V) to write", 1},
      {"grads", HB_OPT_STR, &grads, "also write parameter gradients of the mean next-token loss", 0},
      {"threads", HB_OPT_LONG, &threads, "OpenMP threads", 0},
      {0},
  };
  hb_parse_args("forward",
                "forward --ckpt F --tokens TOK.npy --out LOGITS.npy [--grads G.safetensors]\n\n"
                "Runs the model on a batch; prints `loss X`, the mean cross-entropy of logits[:, :-1]\n"
                "predicting tokens[:, 1:]; --grads writes its gradient for every parameter under the\n"
                "checkpoint's tensor names.",
                opts, argc, argv);
  if (threads < 1 || threads > 1024) hb_input_error("forward --threads", "%ld is outside 1..1024", threads);
  omp_set_num_threads((int)threads);
  Model m;
  model_load(&m, ckpt);
  int64_t B, T;
  int64_t *raw = hb_npy_read_int2d(tokens_path, &B, &T);
  if (B < 1 || T < 1 || B > (1LL << 31) / T)
    hb_input_error(tokens_path, "shape: (%lld, %lld) is empty or too large", (long long)B, (long long)T);
  if (T < 2) /* the loss is a mean over positions t < T - 1: a single column leaves none */
    hb_input_error(tokens_path, "shape: (%lld, %lld) has no next token to predict (T must be >= 2)", (long long)B,
                   (long long)T);
  int32_t *tokens = hb_malloc((size_t)(B * T) * sizeof(int32_t));
  for (int64_t i = 0; i < B * T; i++) {
    if (raw[i] < 0 || raw[i] >= m.cfg.vocab)
      hb_input_error(tokens_path, "token %lld at flat index %lld is outside the vocab [0, %d)", (long long)raw[i],
                     (long long)i, m.cfg.vocab);
    tokens[i] = (int32_t)raw[i];
  }
  free(raw);
  int32_t *targets = next_token_targets(tokens, B, T);
  double loss = model_forward(&m, tokens, targets, (int)B, (int)T);
  int64_t shape[3] = {B, T, m.cfg.vocab};
  hb_npy_write_f32(out, m.a.logits, 3, shape);
  if (grads) {
    model_zero_grad(&m);
    model_backward(&m);
    const char *keys[] = {"loss"};
    char value[32];
    snprintf(value, sizeof value, "%.9g", loss);
    const char *values[] = {value};
    model_save_arena(&m, m.grad_mem, grads, keys, values, 1);
  }
  printf("loss %.9g\n", loss);
  free(tokens), free(targets);
  model_free(&m);
  return 0;
}
