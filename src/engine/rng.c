#include "hybench/rng.h"

#include <math.h>

#include "hybench/common.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void rng_seed(HbRng *rng, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(HbRng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double rng_uniform(HbRng *rng) { return (double)(rng_next(rng) >> 11) * 0x1.0p-53; }

uint64_t rng_below(HbRng *rng, uint64_t n) {
  HB_ASSERT(n > 0, "an empty range has nothing to draw");
  /* Rejection keeps every value equally likely whatever n is. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = rng_next(rng);
  while (x >= limit);
  return x % n;
}

double rng_normal(HbRng *rng) {
  double u1 = rng_uniform(rng), u2 = rng_uniform(rng);
  if (u1 < 1e-300) u1 = 1e-300; /* log(0) would give an infinite draw */
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
