/* Datasets with planted long-range dependencies (DESIGN.md sections 5, 8).
 *
 * A dataset is a pure function of (spec, split, seed): `hybench gen-data`
 * writes four files next to each other, OUT being the name given:
 *   OUT            token file (tensorio.h format): n_seqs sequences of
 *                  seq_len + 1 tokens back to back (inputs t < seq_len, each
 *                  predicting token t + 1)
 *   OUT.labels     token file with vocab 3, one label per token:
 *                    0 TEXT     haystack text (counts for the short loss)
 *                    1 PLANTED  planted random material (fact, key, query and
 *                               first-of-repeat tokens): unpredictable draws
 *                    2 ANSWER   a key token: predictable only from evidence
 *                               earlier in the sequence (LongPPL, accuracy)
 *   OUT.deps.tsv   one row per ANSWER token: seq, pos, evidence, distance
 *                  (= pos - evidence), nearest (= pos - the nearest earlier
 *                  position carrying the answer's value: the fact itself or
 *                  the answer of an earlier query of the same fact, so
 *                  nearest <= distance), kind, class, depth (NIAH depth in
 *                  percent, else -1)
 *   OUT.info       `key = value`: split, seed, seq_len, n_seqs, vocab, and
 *                  the resolved spec
 *
 * Vocabulary: haystack ids first (bytes 0-255, or the Markov source's
 * alphabet inside 0-255), then reserved ids, in this order:
 *   one-hop facts   F(k,v) for k < onehop_keys, v < onehop_values
 *                   (id = base + k*onehop_values + v), then Q(k), then V(v)
 *   key-value facts <K>, <Q>, kv_key_vocab key tokens, kv_value_vocab values
 *   entity repeats  repeat_vocab tokens
 * The spec's `vocab` must equal the total; a model must have exactly it.
 *
 * Worked toy example (onehop_keys = 2, onehop_values = 2; ids 256-259 are
 * F(0,0) F(0,1) F(1,0) F(1,1), 260-261 Q(0) Q(1), 262-263 V(0) V(1)): with
 * the map {0 -> 1, 1 -> 0} a sequence might read
 *   "the " F(0,1) "lord" F(1,0) " said" Q(0) V(1) ...
 * labels  0000   1     0000   1     00000 1    2
 * and deps.tsv gets the row (pos of V(1), evidence = pos of F(0,1), distance,
 * nearest = distance, kind onehop, class 1). A later "Q(0) V(1)" in the same
 * sequence has the same evidence, but its nearest copy is the first V(1). */
#ifndef HYBENCH_DATASET_H
#define HYBENCH_DATASET_H

#include <stdint.h>

#include "hybench/kvconf.h"
#include "hybench/tensorio.h"

enum { LABEL_TEXT = 0, LABEL_PLANTED = 1, LABEL_ANSWER = 2, N_LABELS = 3 };

/* NIAH sets place their fact at depths 0, 10, ..., 100% of the sequence. */
#define NIAH_DEPTHS 11

typedef enum { DEP_ONEHOP, DEP_KV, DEP_REPEAT, DEP_NIAH } DepKind;

typedef struct {
  char name[KV_NAME_LEN];
  char haystack[KV_NAME_LEN]; /* kjv | markov | iid */
  int markov_order, markov_vocab;
  int seq_len;                /* T: tokens a model sees; sequences hold T + 1 */
  long n_train, n_val, n_test; /* sequences per split */
  int vocab;                  /* declared total vocabulary (checked) */
  /* one-hop facts (DESIGN.md section 8) */
  int onehop_keys, onehop_values;
  double p_fact, p_query;
  int onehop_query_once;      /* the no-repeat ablation (issue 14): a query of an already
                                 queried fact becomes text, so each fact is queried at most
                                 once, at the distance its first query has in the full
                                 process, and no answer has a nearer copy than its fact */
  /* key-value facts */
  double kv_density;          /* facts per 1000 tokens */
  int kv_key_len, kv_value_len, kv_key_vocab, kv_value_vocab;
  /* entity repeats */
  double repeat_density;      /* repeats per 1000 tokens */
  int repeat_len, repeat_vocab;
  /* distances of kv facts and repeats */
  char dist[KV_NAME_LEN];     /* uniform | loguniform */
  int dist_min, dist_max;
  /* needle in a haystack: one (niah_facts = 1) or several facts at depths
   * 0, 10, ..., 100% of the sequence, queried at its end */
  int niah;
  int niah_facts;
  long niah_per_depth;
} DatasetSpec;

/* Parses and validates a spec file (unknown keys, impossible settings and
 * a wrong `vocab` are input errors naming the file and field). */
void dataset_spec_load(DatasetSpec *spec, const char *path);
/* The vocabulary the spec needs. */
int dataset_vocab(const DatasetSpec *spec);
/* First reserved id of each planted kind. */
int dataset_onehop_base(const DatasetSpec *spec);
int dataset_kv_base(const DatasetSpec *spec);
int dataset_repeat_base(const DatasetSpec *spec);

/* Generates a split ("train", "val", "test") into the four files of OUT. */
void dataset_generate(const DatasetSpec *spec, const char *spec_path, const char *split, uint64_t seed,
                      const char *out);

/* A generated dataset in memory, as train and eval read it. */
typedef struct {
  char *path;
  int seq_len;        /* T */
  long n_seqs;
  int vocab;
  HbTokens tokens;    /* (n_seqs, T + 1) */
  HbTokens labels;    /* (n_seqs, T + 1) */
  /* dependencies, one per ANSWER token, in file order */
  long n_deps;
  int32_t *dep_seq, *dep_pos, *dep_distance, *dep_kind, *dep_class, *dep_depth;
  int32_t *dep_nearest;   /* distance to the nearest earlier copy of the value (<= dep_distance) */
  const int32_t *dep_far_by; /* the distance the metrics split by (far, buckets): dep_distance
                                unless dataset_split_by(ds, "nearest") */
} Dataset;

/* Whether PATH.info exists, i.e. PATH is a gen-data output. */
int dataset_exists(const char *path);
/* Loads and cross-checks the four files; model_vocab > 0 must equal the dataset's. */
void dataset_load(Dataset *ds, const char *path, int model_vocab);
void dataset_free(Dataset *ds);
/* Which distance decides "far" and the distance buckets in evaluations:
 * "evidence" (the fact's distance; the default) or "nearest" (the nearest
 * copy's: a repeated query answered nearby is not long-range). Input error
 * naming `what` for anything else. */
void dataset_split_by(Dataset *ds, const char *which, const char *what);
const char *dep_kind_name(int kind);

#endif
