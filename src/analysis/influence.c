/* Gradient influence by distance (DESIGN.md section 5): how strongly the
 * model's output at the end of a sequence depends on each input embedding.
 * One backward per batch from the output gradient d f / d logits = 1/last on
 * every vocabulary entry of the last `last` positions (zero elsewhere), read at
 * the embedding output (model_embedding_grad). */
#include <math.h>
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/common.h"

void influence_measure(double *infl, Model *m, const int32_t *tokens, long n_seqs, int T, int last, int batch) {
  HB_ASSERT(last >= 1 && last <= T && batch >= 1 && n_seqs >= 1, "callers validate --last, --batch and the data");
  int V = m->cfg.vocab, C = m->cfg.d_model;
  memset(infl, 0, (size_t)T * sizeof(double));
  for (long s0 = 0; s0 < n_seqs; s0 += batch) {
    int B = (int)(n_seqs - s0 < batch ? n_seqs - s0 : batch);
    model_forward(m, tokens + (size_t)s0 * T, NULL, B, T);
    float *dlogits = model_output_grad(m); /* (B*T, V), zeroed */
    for (int b = 0; b < B; b++)
      for (int t = T - last; t < T; t++) {
        float *r = dlogits + ((size_t)b * T + t) * V;
        for (int v = 0; v < V; v++) r[v] = 1.0f / (float)last;
      }
    model_backward(m);
    const float *dx = model_embedding_grad(m); /* (B*T, C) */
    for (int b = 0; b < B; b++)
      for (int i = 0; i < T; i++) {
        const float *g = dx + ((size_t)b * T + i) * C;
        double ss = 0;
        for (int c = 0; c < C; c++) ss += (double)g[c] * g[c];
        infl[T - 1 - i] += sqrt(ss);
      }
  }
  for (int d = 0; d < T; d++) infl[d] /= (double)n_seqs;
}
