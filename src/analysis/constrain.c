/* The receptive-field constraint (DESIGN.md section 5, claim C2): at
 * inference, the named layers see only their last r inputs. Attention layers
 * take it as their window (t - r < j <= t, the window rule of attention.h);
 * recurrent layers as a truncated context (mixer_context_limited in mixer.h).
 * Both go through Model.window_limit, which model_forward applies. */
#include <stdio.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/common.h"
#include "hybench/eval.h"

void constrain_parse(ConstrainSpec *c, const char *text, const char *where) {
  memset(c, 0, sizeof *c);
  const char *eq = strchr(text, '=');
  if (!eq || eq == text || (size_t)(eq - text) >= sizeof c->label)
    hb_input_error(where, "'%s' is not KINDS=r[,r...] (KINDS: layer letters F S L M G, E = every efficient "
                   "layer, A = all)", text);
  snprintf(c->label, sizeof c->label, "%.*s", (int)(eq - text), text);
  for (const char *k = c->label; *k; k++) {
    char one[2] = {*k, '\0'};
    const char *add = one;
    if (*k == 'E') add = "SLMG";
    else if (*k == 'A') add = "FSLMG";
    else if (!strchr("FSLMG", *k))
      hb_input_error(where, "'%c' in '%s' is not a layer letter (F S L M G), E or A", *k, c->label);
    for (const char *a = add; *a; a++)
      if (!strchr(c->kinds, *a)) c->kinds[strlen(c->kinds)] = *a;
  }
  char list[1024], *save = NULL; /* on the stack: an input error leaves nothing allocated */
  if (strlen(eq + 1) >= sizeof list) hb_input_error(where, "the list of r is longer than %zu characters", sizeof list - 1);
  snprintf(list, sizeof list, "%s", eq + 1);
  /* strtok_r would skip empty items silently: "4,,8" is a typo, not two values. */
  size_t n = strlen(list);
  if (n > 0 && (list[0] == ',' || list[n - 1] == ',' || strstr(list, ",,")))
    hb_input_error(where, "'%s': empty item in the list of r", text);
  for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    long r;
    if (!hb_parse_long(tok, &r) || r < 1 || r > (1L << 30)) hb_input_error(where, "'%s' is not a window r >= 1", tok);
    if (c->n_r == CONSTRAIN_MAX_R) hb_input_error(where, "more than %d values of r", CONSTRAIN_MAX_R);
    c->r[c->n_r++] = (int)r;
  }
  if (c->n_r == 0) hb_input_error(where, "'%s': no value of r after '='", text);
}

void constrain_clear(Model *m) { memset(m->window_limit, 0, sizeof m->window_limit); }

int constrain_apply(Model *m, const char *kinds, int r, const char *where) {
  HB_ASSERT(r >= 1, "constrain_parse accepts r >= 1 only");
  constrain_clear(m);
  int n = 0;
  for (int i = 0; i < m->cfg.n_layers; i++)
    if (strchr(kinds, m->cfg.pattern[i])) m->window_limit[i] = r, n++;
  if (n == 0) hb_input_error(where, "model '%s' (pattern %s) has no layer of kind %s", m->cfg.name, m->cfg.pattern, kinds);
  return n;
}

const char CONSTRAIN_EVAL_HEADER_HEAD[] = "run\tmodel\tseed\ttokens\tckpt\tset\tlayers\tr\t";

void constrain_eval(const char *ckpt, const char *set, const char *distance, const char *spec_text, int far, int batch,
                    const char *out) {
  ConstrainSpec spec;
  constrain_parse(&spec, spec_text, "eval --constrain");
  Model m;
  CkptInfo info;
  analysis_load_ckpt(&m, &info, ckpt);
  Dataset ds;
  dataset_load(&ds, set, m.cfg.vocab);
  dataset_split_by(&ds, distance, "eval --distance");
  constrain_apply(&m, spec.kinds, spec.r[0], "eval --constrain"); /* refuses a model without such layers first */
  HbOut o = {0};
  FILE *fp = stdout;
  if (out) {
    o = hb_out_open(out, "w");
    fp = o.fp;
  }
  fprintf(fp, "%s%s\n", CONSTRAIN_EVAL_HEADER_HEAD, EVAL_HEADER_TAIL);
  for (int k = 0; k < spec.n_r; k++) {
    constrain_apply(&m, spec.kinds, spec.r[k], "eval --constrain");
    EvalResult r;
    eval_dataset(&r, &m, &ds, far, batch);
    char prefix[3400];
    snprintf(prefix, sizeof prefix, "%s\t%s\t%ld\t%ld\t%s\t%s\t%s\t%d\t", info.run, info.model, info.seed, info.tokens,
             ckpt, set, spec.label, spec.r[k]);
    eval_write_rows(fp, prefix, &r);
    fprintf(stderr, "eval --constrain %s=%d: short_loss %.4f, longppl %.4g, far_acc %.3f\n", spec.label, spec.r[k],
            eval_short_loss(&r), eval_longppl(&r), eval_far_acc(&r));
  }
  if (out) hb_out_commit(&o);
  dataset_free(&ds);
  model_free(&m);
}
