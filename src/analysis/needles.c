/* Analysis samples from a generated dataset: the answers of one dependency
 * kind, each with its query position, needle position and class. */
#include <string.h>

#include "hybench/analysis.h"
#include "hybench/common.h"

/* Whether answer d is a sample: of the kind, and its needle farther back than min_distance. */
static int is_sample(const Dataset *ds, long d, DepKind kind, int min_distance) {
  return ds->dep_kind[d] == (int32_t)kind && ds->dep_distance[d] > min_distance;
}

void needle_set_from_dataset(NeedleSet *ns, const Dataset *ds, DepKind kind, int min_distance) {
  memset(ns, 0, sizeof *ns);
  int T = ds->seq_len;
  size_t L = (size_t)T + 1;
  ns->T = T;
  long n = 0;
  long n_kind = 0;
  for (long d = 0; d < ds->n_deps; d++) n_kind += ds->dep_kind[d] == (int32_t)kind;
  if (n_kind == 0)
    hb_input_error(ds->path, "deps.tsv: no answer of kind %s (a NIAH set comes from a spec with niah = on)",
                   dep_kind_name(kind));
  for (long d = 0; d < ds->n_deps; d++) n += is_sample(ds, d, kind, min_distance);
  if (n == 0)
    hb_input_error(ds->path, "deps.tsv: none of its %ld %s answers lies farther back than %d tokens (--min-distance)",
                   n_kind, dep_kind_name(kind), min_distance);
  /* row_of[s]: the set's row of dataset sequence s, or -1 */
  long *row_of = hb_malloc((size_t)ds->n_seqs * sizeof(long));
  for (long s = 0; s < ds->n_seqs; s++) row_of[s] = -1;
  ns->n = n;
  ns->seq = hb_malloc((size_t)n * sizeof(int32_t));
  ns->query = hb_malloc((size_t)n * sizeof(int32_t));
  ns->needle = hb_malloc((size_t)n * sizeof(int32_t));
  ns->cls = hb_malloc((size_t)n * sizeof(int32_t));
  long i = 0;
  for (long d = 0; d < ds->n_deps; d++) {
    if (!is_sample(ds, d, kind, min_distance)) continue;
    long s = ds->dep_seq[d];
    if (row_of[s] < 0) row_of[s] = ns->n_seqs++;
    int pos = ds->dep_pos[d], evidence = pos - ds->dep_distance[d];
    if (evidence < 0 || evidence >= pos - 1)
      hb_input_error(ds->path, "deps.tsv: answer at %d of sequence %ld: its evidence %d does not lie before its "
                     "query token", pos, s, evidence);
    ns->seq[i] = (int32_t)row_of[s];
    ns->query[i] = pos - 1; /* the input whose next token is the answer */
    ns->needle[i] = evidence;
    ns->cls[i] = ds->dep_class[d];
    if (ns->cls[i] < 0) hb_input_error(ds->path, "deps.tsv: class %d of a %s answer is negative", ns->cls[i], dep_kind_name(kind));
    if (ns->cls[i] + 1 > ns->n_classes) ns->n_classes = ns->cls[i] + 1;
    i++;
  }
  ns->tokens = hb_malloc((size_t)ns->n_seqs * T * sizeof(int32_t));
  for (long s = 0; s < ds->n_seqs; s++) {
    if (row_of[s] < 0) continue;
    for (int t = 0; t < T; t++) ns->tokens[(size_t)row_of[s] * T + t] = (int32_t)ds->tokens.ids[(size_t)s * L + t];
  }
  free(row_of);
}

void needle_set_free(NeedleSet *ns) {
  free(ns->tokens), free(ns->seq), free(ns->query), free(ns->needle), free(ns->cls);
  memset(ns, 0, sizeof *ns);
}
