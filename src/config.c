#include "hybench/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"

#include "hybench/mixer.h"

typedef enum { KEY_INT, KEY_BOOL, KEY_DOUBLE, KEY_NAME, KEY_PATTERN } KeyType;

typedef struct {
  const char *key;
  KeyType type;
  size_t offset;
  int required;
} KeySpec;

#define FIELD(k) offsetof(ModelConfig, k)
static const KeySpec KEYS[] = {
    {"name", KEY_NAME, FIELD(name), 1},
    {"vocab", KEY_INT, FIELD(vocab), 1},
    {"d_model", KEY_INT, FIELD(d_model), 1},
    {"n_heads", KEY_INT, FIELD(n_heads), 1},
    {"head_dim", KEY_INT, FIELD(head_dim), 1},
    {"mlp_hidden", KEY_INT, FIELD(mlp_hidden), 1},
    {"pattern", KEY_PATTERN, FIELD(pattern), 1},
    {"window", KEY_INT, FIELD(window), 0},
    {"rope_F", KEY_BOOL, FIELD(rope_F), 0},
    {"rope_S", KEY_BOOL, FIELD(rope_S), 0},
    {"tie_embeddings", KEY_BOOL, FIELD(tie_embeddings), 0},
    {"init_std", KEY_DOUBLE, FIELD(init_std), 0},
    {"expand", KEY_INT, FIELD(expand), 0},
    {"state_size", KEY_INT, FIELD(state_size), 0},
    {"mamba_head_dim", KEY_INT, FIELD(mamba_head_dim), 0},
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

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

static void parse_value(ModelConfig *cfg, const KeySpec *spec, const char *value, const char *where) {
  char *field = (char *)cfg + spec->offset;
  long v;
  double d;
  switch (spec->type) {
  case KEY_INT:
    if (!hb_parse_long(value, &v) || v < 0 || v > 1L << 30)
      hb_input_error(where, "%s: '%s' is not a non-negative integer", spec->key, value);
    *(int *)field = (int)v;
    break;
  case KEY_BOOL:
    if (!strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "1")) *(int *)field = 1;
    else if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "0")) *(int *)field = 0;
    else hb_input_error(where, "%s: '%s' is not on/off", spec->key, value);
    break;
  case KEY_DOUBLE:
    if (!hb_parse_double(value, &d)) hb_input_error(where, "%s: '%s' is not a number", spec->key, value);
    *(double *)field = d;
    break;
  case KEY_NAME:
    if (strlen(value) >= sizeof cfg->name || !*value)
      hb_input_error(where, "%s: must be 1-%zu characters", spec->key, sizeof cfg->name - 1);
    for (const char *c = value; *c; c++)
      if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
        hb_input_error(where, "%s: '%s' may hold only letters, digits, '-', '_', '.'", spec->key, value);
    strcpy(field, value);
    break;
  case KEY_PATTERN:
    if (strlen(value) == 0 || strlen(value) > HB_MAX_LAYERS)
      hb_input_error(where, "%s: needs 1 to %d layer letters", spec->key, HB_MAX_LAYERS);
    for (const char *c = value; *c; c++) {
      if (!strchr("FSLMG", *c))
        hb_input_error(where, "%s: '%c' is not a layer letter (F S L M G)", spec->key, *c);
      if (!mixer_ops(*c)) hb_input_error(where, "%s: layer letter '%c' is not implemented yet", spec->key, *c);
    }
    strcpy(field, value);
    break;
  }
}

static void require_positive(int value, const char *key, const char *origin) {
  if (value <= 0) hb_input_error(origin, "%s: must be positive, got %d", key, value);
}

static void validate(ModelConfig *cfg, const char *origin) {
  require_positive(cfg->vocab, "vocab", origin);
  require_positive(cfg->d_model, "d_model", origin);
  require_positive(cfg->n_heads, "n_heads", origin);
  require_positive(cfg->head_dim, "head_dim", origin);
  require_positive(cfg->mlp_hidden, "mlp_hidden", origin);
  if (cfg->head_dim % 2 != 0)
    hb_input_error(origin, "head_dim: %d must be even (RoPE rotates pairs j, j + head_dim/2)", cfg->head_dim);
  cfg->n_layers = (int)strlen(cfg->pattern);
  if (strchr(cfg->pattern, 'S') && cfg->window <= 0)
    hb_input_error(origin, "window: pattern '%s' has S layers but window is %d (must be >= 1)", cfg->pattern,
                   cfg->window);
  if (!(cfg->init_std > 0 && cfg->init_std < 10))
    hb_input_error(origin, "init_std: %g is outside (0, 10)", cfg->init_std);
  if (cfg->n_heads * cfg->head_dim > 1 << 16)
    hb_input_error(origin, "n_heads: n_heads x head_dim = %d is implausibly large", cfg->n_heads * cfg->head_dim);
}

void config_parse(ModelConfig *cfg, const char *text, const char *origin) {
  set_defaults(cfg);
  int seen[N_KEYS] = {0};
  char *copy = hb_strdup(text);
  char *save = NULL;
  int lineno = 0;
  char where[512];
  /* strtok_r would merge empty lines and shift the numbering, so split by hand. */
  for (char *line = copy; line; line = save) {
    lineno++;
    char *nl = strchr(line, '\n');
    save = nl ? nl + 1 : NULL;
    if (nl) *nl = '\0';
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *s = trim(line);
    if (!*s) continue;
    snprintf(where, sizeof where, "%s:%d", origin, lineno);
    char *eq = strchr(s, '=');
    if (!eq) {
      free(copy);
      hb_input_error(where, "expected 'key = value', got '%s'", s);
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    size_t k = 0;
    while (k < N_KEYS && strcmp(KEYS[k].key, key) != 0) k++;
    if (k == N_KEYS) hb_input_error(where, "%s: unknown key", key);
    if (seen[k]) hb_input_error(where, "%s: given twice", key);
    seen[k] = 1;
    parse_value(cfg, &KEYS[k], value, where);
  }
  free(copy);
  for (size_t k = 0; k < N_KEYS; k++)
    if (KEYS[k].required && !seen[k]) hb_input_error(origin, "%s: missing required key", KEYS[k].key);
  validate(cfg, origin);
}

void config_load(ModelConfig *cfg, const char *path) {
  char *text = hb_read_file(path, NULL);
  config_parse(cfg, text, path);
  free(text);
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
