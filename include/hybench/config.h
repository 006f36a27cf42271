/* Model configuration: the `key = value` files in models/ (DESIGN.md
 * section 3). Every key is known, every value validated; the resolved text
 * travels in each checkpoint's __metadata__["config"], so a checkpoint alone
 * rebuilds its model. */
#ifndef HYBENCH_CONFIG_H
#define HYBENCH_CONFIG_H

#define HB_MAX_LAYERS 64

/* Layer letters. Which ones the engine implements: see config_letter_supported. */
typedef enum { LAYER_F = 'F', LAYER_S = 'S', LAYER_L = 'L', LAYER_M = 'M', LAYER_G = 'G' } LayerKind;

typedef struct {
  char name[64];
  int vocab;       /* V */
  int d_model;     /* C */
  int n_heads;     /* H */
  int head_dim;    /* dh */
  int mlp_hidden;  /* SwiGLU hidden width */
  char pattern[HB_MAX_LAYERS + 1];
  int n_layers;    /* strlen(pattern) */
  int window;      /* W: an S layer's query at t sees keys t-W < j <= t */
  int rope_F;      /* RoPE on the F layers' q and k */
  int rope_S;      /* RoPE on the S layers' q and k */
  int tie_embeddings;
  double init_std;
  int expand, state_size, mamba_head_dim; /* Mamba-2 (M layers) */
} ModelConfig;

/* Parses a config file; any problem is an input error "FILE:LINE: key: ...". */
void config_load(ModelConfig *cfg, const char *path);
/* Parses config text; `origin` names where it came from in error messages. */
void config_parse(ModelConfig *cfg, const char *text, const char *origin);
/* The resolved config as `key = value` lines (caller frees). */
char *config_to_text(const ModelConfig *cfg);
/* The E2 scaling grid's model of one size (DESIGN.md section 7): d_model =
 * width, heads of 16 (width / 16 of them), SwiGLU hidden 3 x width (the
 * regime's ratio) and name BASE_dWIDTH; everything else stays the base's, so
 * one size axis is all that differs between the grid's models. Input error
 * naming `origin` unless width is a positive multiple of 16. */
void config_scale_width(ModelConfig *cfg, int width, const char *origin);
/* Whether RoPE applies to layers of this kind. */
int config_layer_rope(const ModelConfig *cfg, char kind);
/* The number of keys an attention layer of this kind sees at context length T. */
int config_layer_window(const ModelConfig *cfg, char kind, int T);

#endif
