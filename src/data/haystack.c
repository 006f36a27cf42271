/* Haystack sources: the filler text that planted material is inserted into.
 *   kjv     the King James Bible from Debian's bible-kjv (read with its
 *           /usr/bin/bible), cleaned to one line of ASCII prose: chapter
 *           headings and verse numbers dropped, lines joined with spaces.
 *           Splits are disjoint slices of the text: train the first 80%,
 *           val the next 10%, test the last 10%.
 *   markov  an order-k Markov chain over markov_vocab ids; its transition
 *           table is fixed (seed 0) so every split speaks the same language;
 *           splits differ by their draws (the split's own seed stream).
 *   iid     uniform draws over markov_vocab ids. */
#include "haystack.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "hybench/common.h"

#define BIBLE_COMMAND "/usr/bin/bible"
#define BIBLE_RANGE "gen1:1-rev22:21"

static int is_blank(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r') s++;
  return *s == '\0' || *s == '\n';
}

/* Appends one line of `bible` output to the cleaned text. */
static void clean_line(char *line, int after_blank, char *out, size_t *len) {
  if (is_blank(line)) return;
  if (after_blank && line[0] != ' ') return; /* "Genesis 1": a chapter heading */
  char *s = line;
  if (*s == ' ') { /* "  12 And God said ...": drop the verse number */
    while (*s == ' ') s++;
    while (*s >= '0' && *s <= '9') s++;
    while (*s == ' ') s++;
  }
  if (*len > 0 && out[*len - 1] != ' ') out[(*len)++] = ' ';
  for (; *s && *s != '\n' && *s != '\r'; s++)
    if ((unsigned char)*s < 128) out[(*len)++] = *s;
}

/* HB_BIBLE overrides the reader's path: the tests point it at a missing
 * file to check the error a machine without bible-kjv gives. */
static const char *bible_command(void) {
  const char *env = getenv("HB_BIBLE");
  return env && *env ? env : BIBLE_COMMAND;
}

static void load_kjv(Haystack *h, const char *spec_path) {
  const char *bible = bible_command();
  if (!hb_file_exists(bible))
    hb_input_error(spec_path, "haystack: kjv needs the Debian package bible-kjv (%s not found; run scripts/install-deps.sh)",
                   bible);
  char command[1200];
  snprintf(command, sizeof command, "'%s' -p /usr/lib %s 2>&1", bible, BIBLE_RANGE);
  FILE *p = popen(command, "r");
  if (!p) hb_input_error(spec_path, "haystack: cannot run %s: %s", bible, strerror(errno));
  size_t cap = 8u << 20, len = 0;
  char *text = hb_malloc(cap);
  char line[4096];
  int after_blank = 1;
  while (fgets(line, sizeof line, p)) {
    if (len + sizeof line + 2 > cap) {
      cap *= 2;
      char *grown = realloc(text, cap);
      if (!grown) HB_FATAL("out of memory reading the Bible");
      text = grown;
    }
    clean_line(line, after_blank, text, &len);
    after_blank = is_blank(line);
  }
  int status = pclose(p);
  if (status != 0 || len < 1000000)
    hb_input_error(spec_path, "haystack: %s printed %zu usable bytes (exit status %d); is bible-kjv-text installed?",
                   bible, len, status);
  h->text = (unsigned char *)text;
  h->len = len;
}

/* A peaked random distribution per context, so the chain has learnable
 * structure: weights u^4 for uniform u, normalised, stored cumulatively. */
static void build_markov_table(Haystack *h, const DatasetSpec *s) {
  size_t contexts = 1;
  for (int i = 0; i < s->markov_order; i++) contexts *= (size_t)s->markov_vocab;
  h->n_contexts = contexts;
  h->cumulative = hb_malloc(contexts * (size_t)s->markov_vocab * sizeof(double));
  HbRng rng;
  rng_seed(&rng, 0, 0x6d61726b6f76ULL);
  for (size_t c = 0; c < contexts; c++) {
    double *row = h->cumulative + c * (size_t)s->markov_vocab, total = 0;
    for (int v = 0; v < s->markov_vocab; v++) {
      double u = rng_uniform(&rng);
      total += u * u * u * u;
      row[v] = total;
    }
    for (int v = 0; v < s->markov_vocab; v++) row[v] /= total;
  }
}

void haystack_open(Haystack *h, const DatasetSpec *s, const char *spec_path, const char *split) {
  memset(h, 0, sizeof *h);
  h->spec = s;
  if (strcmp(s->haystack, "kjv") == 0) {
    load_kjv(h, spec_path);
    size_t a = 0, b = h->len * 8 / 10;
    if (strcmp(split, "val") == 0) a = b, b = h->len * 9 / 10;
    else if (strcmp(split, "test") == 0) a = h->len * 9 / 10, b = h->len;
    h->begin = a;
    h->end = b;
    if (b - a < (size_t)s->seq_len * 2)
      hb_input_error(spec_path, "seq_len: %d is too long for the %s split of the Bible (%zu bytes)", s->seq_len, split, b - a);
  } else if (strcmp(s->haystack, "markov") == 0) {
    build_markov_table(h, s);
  }
}

void haystack_close(Haystack *h) {
  free(h->text);
  free(h->cumulative);
  memset(h, 0, sizeof *h);
}

void filler_start(FillerStream *f, const Haystack *h, HbRng *rng) {
  f->h = h;
  f->rng = rng;
  f->context = 0;
  if (h->text) f->pos = h->begin + rng_below(rng, h->end - h->begin);
  else if (h->cumulative) f->context = rng_below(rng, h->n_contexts);
}

uint32_t filler_next(FillerStream *f) {
  const Haystack *h = f->h;
  if (h->text) {
    if (f->pos >= h->end) f->pos = h->begin; /* wrap inside the split: never read another split */
    return h->text[f->pos++];
  }
  int V = h->spec->markov_vocab;
  if (!h->cumulative) return (uint32_t)rng_below(f->rng, (uint64_t)V);
  const double *row = h->cumulative + f->context * (size_t)V;
  double u = rng_uniform(f->rng);
  int v = 0;
  while (v < V - 1 && row[v] <= u) v++;
  f->context = (f->context * (size_t)V + (size_t)v) % h->n_contexts;
  return (uint32_t)v;
}
