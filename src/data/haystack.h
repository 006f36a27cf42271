/* Private to src/data: haystack sources (see haystack.c). */
#ifndef HYBENCH_DATA_HAYSTACK_H
#define HYBENCH_DATA_HAYSTACK_H

#include <stddef.h>
#include <stdint.h>

#include "hybench/dataset.h"
#include "hybench/rng.h"

typedef struct {
  const DatasetSpec *spec;
  unsigned char *text;   /* kjv: the whole cleaned text */
  size_t len, begin, end; /* the split's slice [begin, end) */
  double *cumulative;    /* markov: (contexts, markov_vocab) cumulative probabilities */
  size_t n_contexts;
} Haystack;

typedef struct {
  const Haystack *h;
  HbRng *rng;
  size_t pos;     /* kjv: next byte */
  size_t context; /* markov: the last `order` ids as a number */
} FillerStream;

void haystack_open(Haystack *h, const DatasetSpec *s, const char *spec_path, const char *split);
void haystack_close(Haystack *h);
/* One sequence's filler: a contiguous run of text from a random offset, or fresh draws. */
void filler_start(FillerStream *f, const Haystack *h, HbRng *rng);
uint32_t filler_next(FillerStream *f);

#endif
