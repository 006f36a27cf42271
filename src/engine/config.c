#include "hybench/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/kvconf.h"

#include "hybench/mixer.h"

#define FIELD(k) offsetof(ModelConfig, k)
static const KvKey KEYS[] = {
    {"name", KV_NAME, FIELD(name), 1},
    {"vocab", KV_INT, FIELD(vocab), 1},
    {"d_model", KV_INT, FIELD(d_model), 1},
    {"n_heads", KV_INT, FIELD(n_heads), 1},
    {"head_dim", KV_INT, FIELD(head_dim), 1},
    {"mlp_hidden", KV_INT, FIELD(mlp_hidden), 1},
    {"pattern", KV_STRING, FIELD(pattern), 1},
    {"window", KV_INT, FIELD(window), 0},
    {"rope_F", KV_BOOL, FIELD(rope_F), 0},
    {"rope_S", KV_BOOL, FIELD(rope_S), 0},
    {"tie_embeddings", KV_BOOL, FIELD(tie_embeddings), 0},
    {"init_std", KV_DOUBLE, FIELD(init_std), 0},
    {"expand", KV_INT, FIELD(expand), 0},
    {"state_size", KV_INT, FIELD(state_size), 0},
    {"mamba_head_dim", KV_INT, FIELD(mamba_head_dim), 0},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

static void set_defaults(ModelConfig *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->window = 0;
  cfg->rope_F = 1;
  cfg->rope_S = 1;
  cfg->tie_embeddings = 1;
  cfg->init_std = 0.02;
  cfg->expand = 2;
  cfg->state_size = 16;
  cfg->mamba_head_dim = 16;
}

/* The pattern's line is not known after parsing, so its errors name the key. */
static void validate_pattern(const char *pattern, const char *origin) {
  if (strlen(pattern) > HB_MAX_LAYERS) hb_input_error(origin, "pattern: more than %d layers", HB_MAX_LAYERS);
  for (const char *c = pattern; *c; c++) {
    if (!strchr("FSLMG", *c)) hb_input_error(origin, "pattern: '%c' is not a layer letter (F S L M G)", *c);
    if (!mixer_ops(*c)) hb_input_error(origin, "pattern: layer letter '%c' is not implemented yet", *c);
  }
}

static void require_positive(int value, const char *key, const char *origin) {
  if (value <= 0) hb_input_error(origin, "%s: must be positive, got %d", key, value);
}

/* Size bounds. Every size the engine derives from a config (d_inner, the
 * Mamba-2 in_proj rows 2 d_inner + 2 N + H, a tensor's element count) is then
 * far inside int and size_t; products are formed in 64-bit here, before any
 * int holds them. The shipped configs use at most vocab 544, d_model 128,
 * mlp_hidden 384, state_size 16. */
#define HB_MAX_VOCAB (1L << 20)        /* a byte-level vocabulary plus reserved ids; BPE vocabularies are < 2^18 */
#define HB_MAX_WIDTH (1L << 16)        /* d_model, mlp_hidden, n_heads x head_dim, d_inner */
#define HB_MAX_STATE (1L << 12)        /* Mamba-2 state_size N (Mamba uses 16..256) */
#define HB_MAX_TENSOR_FLOATS (1L << 28) /* one parameter tensor: 1 GiB of float32 */

/* `what` names a derived size (NULL: the key's own value). */
static void require_at_most(int64_t value, int64_t bound, const char *key, const char *what, const char *origin) {
  if (value <= bound) return;
  if (what) hb_input_error(origin, "%s: %s = %lld is above the bound %lld", key, what, (long long)value, (long long)bound);
  hb_input_error(origin, "%s: %lld is above the bound %lld", key, (long long)value, (long long)bound);
}

static void validate_sizes(const ModelConfig *cfg, const char *origin) {
  require_at_most(cfg->vocab, HB_MAX_VOCAB, "vocab", NULL, origin);
  require_at_most(cfg->d_model, HB_MAX_WIDTH, "d_model", NULL, origin);
  require_at_most(cfg->mlp_hidden, HB_MAX_WIDTH, "mlp_hidden", NULL, origin);
  require_at_most((int64_t)cfg->n_heads * cfg->head_dim, HB_MAX_WIDTH, "n_heads", "n_heads x head_dim", origin);
  require_at_most((int64_t)cfg->vocab * cfg->d_model, HB_MAX_TENSOR_FLOATS, "vocab", "the embedding's vocab x d_model",
                  origin);
  require_at_most((int64_t)cfg->mlp_hidden * cfg->d_model, HB_MAX_TENSOR_FLOATS, "mlp_hidden",
                  "the MLP's mlp_hidden x d_model", origin);
}

static void validate_mamba2(const ModelConfig *cfg, const char *origin) {
  require_positive(cfg->expand, "expand", origin);
  require_positive(cfg->state_size, "state_size", origin);
  require_positive(cfg->mamba_head_dim, "mamba_head_dim", origin);
  int64_t d_inner = (int64_t)cfg->expand * cfg->d_model;
  require_at_most(d_inner, HB_MAX_WIDTH, "expand", "d_inner = expand x d_model", origin);
  require_at_most(cfg->state_size, HB_MAX_STATE, "state_size", NULL, origin);
  if (d_inner % cfg->mamba_head_dim != 0)
    hb_input_error(origin, "mamba_head_dim: %d does not divide d_inner = expand x d_model = %lld", cfg->mamba_head_dim,
                   (long long)d_inner);
}

static void validate(ModelConfig *cfg, const char *origin) {
  require_positive(cfg->vocab, "vocab", origin);
  require_positive(cfg->d_model, "d_model", origin);
  require_positive(cfg->n_heads, "n_heads", origin);
  require_positive(cfg->head_dim, "head_dim", origin);
  require_positive(cfg->mlp_hidden, "mlp_hidden", origin);
  validate_sizes(cfg, origin);
  if (cfg->head_dim % 2 != 0)
    hb_input_error(origin, "head_dim: %d must be even (RoPE rotates pairs j, j + head_dim/2)", cfg->head_dim);
  cfg->n_layers = (int)strlen(cfg->pattern);
  if (strchr(cfg->pattern, 'S') && cfg->window <= 0)
    hb_input_error(origin, "window: pattern '%s' has S layers but window is %d (must be >= 1)", cfg->pattern,
                   cfg->window);
  if (!(cfg->init_std > 0 && cfg->init_std < 10))
    hb_input_error(origin, "init_std: %g is outside (0, 10)", cfg->init_std);
  if (strchr(cfg->pattern, 'M')) validate_mamba2(cfg, origin);
}

void config_parse(ModelConfig *cfg, const char *text, const char *origin) {
  set_defaults(cfg);
  int seen[N_KEYS];
  kv_parse(cfg, KEYS, N_KEYS, text, origin, seen);
  validate_pattern(cfg->pattern, origin);
  validate(cfg, origin);
}

void config_scale_width(ModelConfig *cfg, int width, const char *origin) {
  if (width < 16 || width % 16 != 0) hb_input_error(origin, "width: %d is not a positive multiple of 16 (heads of 16)", width);
  char name[sizeof cfg->name];
  int n = snprintf(name, sizeof name, "%s_d%d", cfg->name, width);
  if (n < 0 || (size_t)n >= sizeof name) hb_input_error(origin, "name: '%s_d%d' is too long", cfg->name, width);
  memcpy(cfg->name, name, sizeof name);
  cfg->d_model = width;
  cfg->head_dim = 16;
  cfg->n_heads = width / 16;
  cfg->mlp_hidden = 3 * width;
  validate(cfg, origin);
}

void config_load(ModelConfig *cfg, const char *path) {
  char text[KV_MAX_FILE_BYTES + 1];
  kv_read_file(text, path);
  config_parse(cfg, text, path);
}

char *config_to_text(const ModelConfig *c) {
  size_t cap = 1024;
  char *s = hb_malloc(cap);
  int n = snprintf(s, cap,
                   "name = %s\nvocab = %d\nd_model = %d\nn_heads = %d\nhead_dim = %d\nmlp_hidden = %d\n"
                   "pattern = %s\nwindow = %d\nrope_F = %s\nrope_S = %s\ntie_embeddings = %s\n"
                   "init_std = %.9g\nexpand = %d\nstate_size = %d\nmamba_head_dim = %d\n",
                   c->name, c->vocab, c->d_model, c->n_heads, c->head_dim, c->mlp_hidden, c->pattern,
                   c->window, c->rope_F ? "on" : "off", c->rope_S ? "on" : "off",
                   c->tie_embeddings ? "on" : "off", c->init_std, c->expand, c->state_size, c->mamba_head_dim);
  HB_ASSERT(n > 0 && (size_t)n < cap, "the config text fits its buffer");
  return s;
}

int config_layer_rope(const ModelConfig *cfg, char kind) {
  switch (kind) {
  case LAYER_F: return cfg->rope_F;
  case LAYER_S: return cfg->rope_S;
  default: return 0;
  }
}

int config_layer_window(const ModelConfig *cfg, char kind, int T) {
  if (kind == LAYER_S && cfg->window < T) return cfg->window;
  return T;
}
