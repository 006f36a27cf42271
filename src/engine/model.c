#include "hybench/model.h"

#include <stdio.h>
#include <string.h>

#include "hybench/common.h"
#include "hybench/dnn.h"
#include "hybench/rng.h"

/* ---------- parameter table ---------- */

static ParamSpec *add_param(Model *m, const char *name, int decay, int ndim, const int64_t *shape, InitKind init,
                            int layer) {
  HB_ASSERT(m->n_params < HB_MAX_PARAMS, "HB_MAX_PARAMS covers HB_MAX_LAYERS layers");
  HB_ASSERT(ndim >= 1 && ndim <= 4, "tensors have 1 to 4 dims");
  ParamSpec *p = &m->params[m->n_params++];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->ndim = ndim;
  p->numel = 1;
  for (int d = 0; d < 4; d++) {
    p->shape[d] = d < ndim ? shape[d] : 0;
    if (d < ndim) p->numel *= (size_t)shape[d];
  }
  p->offset = m->n_floats;
  p->decay = decay;
  p->init = init;
  p->layer = layer;
  p->mixer_index = -1;
  m->n_floats += p->numel;
  return p;
}

static void add_layer_param(Model *m, int i, const char *suffix, int decay, int ndim, int64_t d0, int64_t d1,
                            InitKind init) {
  char name[96];
  snprintf(name, sizeof name, "layers.%d.%s", i, suffix);
  int64_t shape[2] = {d0, d1};
  add_param(m, name, decay, ndim, shape, init, i);
}

static void add_mixer_params(Model *m, int i) {
  const MixerOps *ops = m->mixer[i];
  MixerParamSpec specs[HB_MAX_MIXER_PARAMS];
  int n = ops->param_specs(specs, &m->cfg);
  HB_ASSERT(n <= HB_MAX_MIXER_PARAMS, "a mixer registers at most HB_MAX_MIXER_PARAMS tensors");
  for (int k = 0; k < n; k++) {
    char name[96];
    snprintf(name, sizeof name, "layers.%d.%s.%s", i, ops->prefix, specs[k].suffix);
    ParamSpec *p = add_param(m, name, specs[k].decay, specs[k].ndim, specs[k].shape, specs[k].init, i);
    p->mixer_index = k;
  }
}

/* The order here is the arena layout: gate and up adjacent (see LayerView).
 * Checkpoint tensors keep their separate names. */
static void build_param_table(Model *m) {
  const ModelConfig *c = &m->cfg;
  int64_t C = c->d_model, Hm = c->mlp_hidden;
  int64_t emb_shape[2] = {c->vocab, C}, norm_shape[1] = {C};
  add_param(m, "tok_emb.weight", 1, 2, emb_shape, INIT_NORMAL, -1);
  for (int i = 0; i < c->n_layers; i++) {
    add_layer_param(m, i, "norm1.weight", 0, 1, C, 0, INIT_ONES);
    add_mixer_params(m, i);
    add_layer_param(m, i, "norm2.weight", 0, 1, C, 0, INIT_ONES);
    add_layer_param(m, i, "mlp.gate_proj.weight", 1, 2, Hm, C, INIT_NORMAL);
    add_layer_param(m, i, "mlp.up_proj.weight", 1, 2, Hm, C, INIT_NORMAL);
    add_layer_param(m, i, "mlp.down_proj.weight", 1, 2, C, Hm, INIT_NORMAL);
  }
  add_param(m, "norm_f.weight", 0, 1, norm_shape, INIT_ONES, -1);
  if (!c->tie_embeddings) add_param(m, "lm_head.weight", 1, 2, emb_shape, INIT_NORMAL, -1);
}

const ParamSpec *model_find_param(const Model *m, const char *name) {
  for (int i = 0; i < m->n_params; i++)
    if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
  return NULL;
}

static float *param_ptr(const Model *m, float *arena, const char *name) {
  const ParamSpec *p = model_find_param(m, name);
  HB_ASSERT(p != NULL, "every view field has a table entry");
  return arena + p->offset;
}

static float *layer_ptr(const Model *m, float *arena, int i, const char *suffix) {
  char name[96];
  snprintf(name, sizeof name, "layers.%d.%s", i, suffix);
  return param_ptr(m, arena, name);
}

ParamView model_view(const Model *m, float *arena) {
  ParamView v;
  memset(&v, 0, sizeof v);
  v.tok_emb = param_ptr(m, arena, "tok_emb.weight");
  v.norm_f = param_ptr(m, arena, "norm_f.weight");
  v.lm_head = m->cfg.tie_embeddings ? v.tok_emb : param_ptr(m, arena, "lm_head.weight");
  for (int i = 0; i < m->cfg.n_layers; i++) {
    LayerView *l = &v.layer[i];
    l->norm1 = layer_ptr(m, arena, i, "norm1.weight");
    l->norm2 = layer_ptr(m, arena, i, "norm2.weight");
    l->wgu = layer_ptr(m, arena, i, "mlp.gate_proj.weight");
    l->wdown = layer_ptr(m, arena, i, "mlp.down_proj.weight");
    HB_ASSERT(layer_ptr(m, arena, i, "mlp.up_proj.weight") == l->wgu + (size_t)m->cfg.mlp_hidden * m->cfg.d_model,
              "gate and up are adjacent in the arena, forming one matrix");
  }
  for (int k = 0; k < m->n_params; k++) {
    const ParamSpec *p = &m->params[k];
    if (p->mixer_index >= 0) v.layer[p->layer].mix[p->mixer_index] = arena + p->offset;
  }
  return v;
}

size_t model_param_count(const ModelConfig *cfg) {
  Model *m = hb_calloc(1, sizeof *m); /* the parameter table only: no arenas, no oneDNN */
  m->cfg = *cfg;
  for (int i = 0; i < cfg->n_layers; i++) m->mixer[i] = mixer_ops(cfg->pattern[i]);
  build_param_table(m);
  size_t n = m->n_floats;
  free(m);
  return n;
}

void model_create(Model *m, const ModelConfig *cfg) {
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  for (int i = 0; i < cfg->n_layers; i++) {
    m->mixer[i] = mixer_ops(cfg->pattern[i]);
    HB_ASSERT(m->mixer[i] != NULL, "config_parse accepts only implemented layer letters");
  }
  build_param_table(m);
  m->param_mem = hb_aligned_alloc(m->n_floats * sizeof(float));
  m->grad_mem = hb_aligned_alloc(m->n_floats * sizeof(float));
  m->w = model_view(m, m->param_mem);
  m->g = model_view(m, m->grad_mem);
  dnn_init();
}

void model_free(Model *m) {
  free(m->param_mem);
  free(m->grad_mem);
  free(m->act_mem);
  rope_table_free(&m->rope);
  memset(m, 0, sizeof *m);
}

void model_init_params(Model *m, uint64_t seed) {
  HbRng rng;
  rng_seed(&rng, seed, 1);
  for (int i = 0; i < m->n_params; i++) {
    const ParamSpec *p = &m->params[i];
    float *dst = m->param_mem + p->offset;
    for (size_t j = 0; j < p->numel; j++) {
      switch (p->init) {
      case INIT_NORMAL: dst[j] = (float)(m->cfg.init_std * rng_normal(&rng)); break;
      case INIT_ONES: dst[j] = 1.0f; break;
      case INIT_ZEROS:
      case INIT_MIXER: dst[j] = 0.0f; break;
      }
    }
  }
  /* Mixer-specific initialisations draw from their own stream, after the
   * generic ones, so adding a mixer never shifts the draws of the others. */
  HbRng mixer_rng;
  rng_seed(&mixer_rng, seed, 4);
  for (int i = 0; i < m->cfg.n_layers; i++)
    if (m->mixer[i]->init_custom) m->mixer[i]->init_custom(m->w.layer[i].mix, &m->cfg, &mixer_rng);
}

void model_zero_grad(Model *m) { memset(m->grad_mem, 0, m->n_floats * sizeof(float)); }

/* ---------- activations ---------- */

/* One pass sizes the arena (base NULL), a second points into it. */
static void carve_activations(Model *m, HbCarver *cv) {
  const ModelConfig *c = &m->cfg;
  size_t R = (size_t)m->B * m->T, C = c->d_model, Hm = c->mlp_hidden;
  size_t scratch = 0;
  Activations *a = &m->a;
  for (int i = 0; i < c->n_layers; i++) {
    LayerActs *l = &a->layer[i];
    l->x = hb_carve(cv, R * C);
    l->ln1 = hb_carve(cv, R * C);
    l->rstd1 = hb_carve(cv, R);
    l->saved = hb_carve(cv, m->mixer[i]->saved_floats(&m->shape[i]));
    l->h = hb_carve(cv, R * C);
    l->ln2 = hb_carve(cv, R * C);
    l->rstd2 = hb_carve(cv, R);
    l->gu = hb_carve(cv, R * 2 * Hm);
    l->act = hb_carve(cv, R * Hm);
    size_t s = m->mixer[i]->scratch_floats(&m->shape[i]);
    scratch = s > scratch ? s : scratch;
  }
  a->x_final = hb_carve(cv, R * C);
  a->lnf = hb_carve(cv, R * C);
  a->rstdf = hb_carve(cv, R);
  a->logits = hb_carve(cv, R * c->vocab);
  a->dlogits = hb_carve(cv, R * c->vocab);
  a->dx = hb_carve(cv, R * C);
  a->dln = hb_carve(cv, R * C);
  a->dgu = hb_carve(cv, R * 2 * Hm);
  a->dact = hb_carve(cv, R * Hm);
  a->mix_scratch = hb_carve(cv, scratch);
}

static void shape_layers(Model *m) {
  const ModelConfig *c = &m->cfg;
  for (int i = 0; i < c->n_layers; i++) {
    char kind = c->pattern[i];
    MixerShape *s = &m->shape[i];
    s->cfg = &m->cfg;
    s->layer = i;
    s->kind = kind;
    s->B = m->B;
    s->T = m->T;
    s->rope = config_layer_rope(c, kind);
    s->rope_table = &m->rope;
    int is_attention = kind == LAYER_F || kind == LAYER_S;
    int window = is_attention ? config_layer_window(c, kind, m->T) : 0;
    int limit = m->window_limit[i];
    if (limit > 0 && (window == 0 || limit < window)) window = limit;
    s->window = window;
  }
}

size_t model_activation_bytes(Model *m, int B, int T) {
  /* Measured on a (B, T) shape, then the model's own shape and views put back. */
  int B0 = m->B, T0 = m->T;
  MixerShape shape0[HB_MAX_LAYERS];
  memcpy(shape0, m->shape, sizeof shape0);
  Activations a0 = m->a;
  m->B = B, m->T = T;
  shape_layers(m);
  HbCarver measure = {NULL, 0};
  carve_activations(m, &measure);
  m->B = B0, m->T = T0;
  memcpy(m->shape, shape0, sizeof shape0);
  m->a = a0;
  return measure.used * sizeof(float);
}

int model_analysis_batch(Model *m, int T, int batch) {
  size_t per_seq = model_activation_bytes(m, 1, T), fit = MODEL_ANALYSIS_BYTES / (per_seq ? per_seq : 1);
  if (fit < 1) fit = 1;
  return (size_t)batch < fit ? batch : (int)fit;
}

/* Sizes activations for (B, T); re-shapes when the window limits changed. */
static void model_prepare(Model *m, int B, int T) {
  int same_shape = m->act_mem && m->B == B && m->T == T;
  m->B = B;
  m->T = T;
  shape_layers(m);
  HbCarver measure = {NULL, 0};
  carve_activations(m, &measure);
  if (!same_shape || measure.used > m->act_floats) {
    free(m->act_mem);
    m->act_mem = hb_aligned_alloc(measure.used * sizeof(float));
    m->act_floats = measure.used;
  }
  HbCarver cv = {m->act_mem, 0};
  carve_activations(m, &cv);
  if (m->rope.T < T) {
    rope_table_free(&m->rope);
    rope_table_build(&m->rope, T, m->cfg.head_dim);
  }
}

/* ---------- forward / backward ---------- */

/* h = x + mixer(ln1) */
static void mixer_forward(Model *m, int i) {
  LayerActs *l = &m->a.layer[i];
  size_t RC = (size_t)m->B * m->T * m->cfg.d_model;
  memcpy(l->h, l->x, RC * sizeof(float));
  m->mixer[i]->forward(l->h, l->saved, m->a.mix_scratch, l->ln1, (const float *const *)m->w.layer[i].mix,
                       &m->shape[i]);
}

/* Consumes dx = dL/dh (the residual passes through), adds dL/dx_i through the mixer into dx. */
static void mixer_backward(Model *m, int i) {
  LayerActs *l = &m->a.layer[i];
  Activations *a = &m->a;
  int64_t R = (int64_t)m->B * m->T;
  m->mixer[i]->backward(a->dln, m->g.layer[i].mix, l->saved, a->mix_scratch, a->dx, l->ln1,
                        (const float *const *)m->w.layer[i].mix, &m->shape[i]);
  rmsnorm_backward(a->dx, m->g.layer[i].norm1, a->dln, l->x, l->rstd1, m->w.layer[i].norm1, R, m->cfg.d_model);
}

static void mlp_forward(Model *m, int i, float *out) {
  const ModelConfig *c = &m->cfg;
  LayerActs *l = &m->a.layer[i];
  const LayerView *w = &m->w.layer[i];
  int64_t R = (int64_t)m->B * m->T, C = c->d_model, Hm = c->mlp_hidden;
  rmsnorm_forward(l->ln2, l->rstd2, l->h, w->norm2, R, (int)C);
  dnn_linear_forward(l->gu, l->ln2, w->wgu, R, C, 2 * Hm);
  swiglu_forward(l->act, l->gu, R, (int)Hm);
  memcpy(out, l->h, (size_t)(R * C) * sizeof(float));
  dnn_matmul(out, l->act, w->wdown, 1, R, Hm, C, 0, 1, 1); /* out = h + act . Wdown^T */
}

/* Consumes dx = dL/dx_{i+1}, leaves dx = dL/dh (the residual passes through). */
static void mlp_backward(Model *m, int i) {
  const ModelConfig *c = &m->cfg;
  LayerActs *l = &m->a.layer[i];
  const LayerView *w = &m->w.layer[i];
  LayerView *g = &m->g.layer[i];
  Activations *a = &m->a;
  int64_t R = (int64_t)m->B * m->T, C = c->d_model, Hm = c->mlp_hidden;
  dnn_linear_backward(a->dact, g->wdown, a->dx, l->act, w->wdown, R, Hm, C, 0);
  swiglu_backward(a->dgu, a->dact, l->gu, R, (int)Hm);
  dnn_linear_backward(a->dln, g->wgu, a->dgu, l->ln2, w->wgu, R, C, 2 * Hm, 0);
  rmsnorm_backward(a->dx, g->norm2, a->dln, l->h, l->rstd2, w->norm2, R, (int)C);
}

double model_forward(Model *m, const int32_t *inputs, const int32_t *targets, int B, int T) {
  const ModelConfig *c = &m->cfg;
  model_prepare(m, B, T);
  int64_t R = (int64_t)B * T, C = c->d_model;
  Activations *a = &m->a;
  m->tokens = inputs;
  embedding_forward(c->n_layers ? a->layer[0].x : a->x_final, inputs, m->w.tok_emb, R, (int)C);
  for (int i = 0; i < c->n_layers; i++) {
    LayerActs *l = &a->layer[i];
    rmsnorm_forward(l->ln1, l->rstd1, l->x, m->w.layer[i].norm1, R, (int)C);
    mixer_forward(m, i);
    mlp_forward(m, i, i + 1 < c->n_layers ? a->layer[i + 1].x : a->x_final);
  }
  rmsnorm_forward(a->lnf, a->rstdf, a->x_final, m->w.norm_f, R, (int)C);
  dnn_linear_forward(a->logits, a->lnf, m->w.lm_head, R, C, c->vocab);
  m->has_targets = targets != NULL;
  if (!targets) return 0.0;
  return crossentropy_forward_backward(a->dlogits, NULL, a->logits, targets, R, c->vocab);
}

void model_backward(Model *m) {
  HB_ASSERT(m->has_targets, "backward needs the loss of a forward with targets");
  const ModelConfig *c = &m->cfg;
  Activations *a = &m->a;
  int64_t R = (int64_t)m->B * m->T, C = c->d_model;
  dnn_linear_backward(a->dln, m->g.lm_head, a->dlogits, a->lnf, m->w.lm_head, R, C, c->vocab, 0);
  memset(a->dx, 0, (size_t)(R * C) * sizeof(float));
  rmsnorm_backward(a->dx, m->g.norm_f, a->dln, a->x_final, a->rstdf, m->w.norm_f, R, (int)C);
  for (int i = c->n_layers - 1; i >= 0; i--) {
    mlp_backward(m, i);
    mixer_backward(m, i);
  }
  embedding_backward(m->g.tok_emb, a->dx, m->tokens, R, (int)C);
}

float *model_output_grad(Model *m) {
  HB_ASSERT(m->act_mem != NULL, "a forward sized the activations first");
  size_t n = (size_t)m->B * m->T * m->cfg.vocab;
  memset(m->a.dlogits, 0, n * sizeof(float));
  m->has_targets = 1; /* dlogits now holds the caller's gradient: model_backward may run */
  return m->a.dlogits;
}

/* model_backward leaves dL/dx_0 in a.dx; embedding_backward only reads it. */
const float *model_embedding_grad(const Model *m) { return m->a.dx; }

/* ---------- checkpoints ---------- */

void model_arena_tensors(const Model *m, const float *arena, const char *prefix, HbStTensor *ts, char *names) {
  for (int i = 0; i < m->n_params; i++) {
    const ParamSpec *p = &m->params[i];
    char *name = names + (size_t)i * 128;
    snprintf(name, 128, "%s%s", prefix, p->name);
    ts[i].name = name;
    ts[i].ndim = p->ndim;
    memcpy(ts[i].shape, p->shape, sizeof p->shape);
    ts[i].data = arena + p->offset;
  }
}

void model_save_arena(const Model *m, const float *arena, const char *path, const char *const *meta_keys,
                      const char *const *meta_values, int n_meta) {
  HbStTensor *ts = hb_calloc((size_t)m->n_params, sizeof *ts);
  char *names = hb_malloc((size_t)m->n_params * 128);
  model_arena_tensors(m, arena, "", ts, names);
  hb_st_save(path, ts, m->n_params, meta_keys, meta_values, n_meta);
  free(ts);
  free(names);
}

void model_save(const Model *m, const char *path) {
  char *config = config_to_text(&m->cfg);
  const char *keys[] = {"config", "format"};
  const char *values[] = {config, "hybench-1"};
  model_save_arena(m, m->param_mem, path, keys, values, 2);
  free(config);
}

void model_read_arena(const Model *m, float *arena, const HbSafetensors *st, const char *prefix) {
  char name[160];
  for (int i = 0; i < m->n_params; i++) {
    const ParamSpec *p = &m->params[i];
    snprintf(name, sizeof name, "%s%s", prefix, p->name);
    const float *src = hb_st_get_f32(st, name, p->ndim, p->shape);
    memcpy(arena + p->offset, src, p->numel * sizeof(float));
  }
}

void model_check_no_extra(const Model *m, const HbSafetensors *st, const char *const *prefixes, int n_prefixes) {
  /* A tensor the config does not know means the file belongs to another model. */
  for (int i = 0; i < st->n_entries; i++) {
    const char *name = st->entries[i].name;
    int known = 0;
    for (int k = 0; k < n_prefixes && !known; k++) {
      size_t n = strlen(prefixes[k]);
      known = strncmp(name, prefixes[k], n) == 0 && model_find_param(m, name + n) != NULL;
    }
    if (!known) {
      char where[1024];
      snprintf(where, sizeof where, "%s: tensor %s", st->path, name);
      hb_input_error(where, "not a parameter of model '%s' (pattern %s)", m->cfg.name, m->cfg.pattern);
    }
  }
}

void model_load(Model *m, const char *path) {
  HbSafetensors st;
  hb_st_load(&st, path);
  const char *config = hb_st_meta(&st, "config");
  if (!config) hb_input_error(path, "__metadata__: no \"config\" entry (not a hybench checkpoint?)");
  ModelConfig cfg;
  char origin[1024];
  snprintf(origin, sizeof origin, "%s: __metadata__.config", path);
  config_parse(&cfg, config, origin);
  model_create(m, &cfg);
  model_read_arena(m, m->param_mem, &st, "");
  const char *no_prefix = "";
  model_check_no_extra(m, &st, &no_prefix, 1);
  hb_st_free(&st);
}
