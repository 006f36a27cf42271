/* The project's one random number generator, so every run is reproducible
 * from its seed on any libc (rand() is never used).
 *
 * xoshiro256** (Blackman & Vigna, 2018) with its 256-bit state seeded by
 * splitmix64 from a 64-bit seed and a stream id, so independent streams
 * (initialisation, data sampling, ...) come from one user seed. Normals use
 * Box-Muller in double precision. The state is four u64 words and is saved in
 * the optimizer-state file so a resumed run draws the same numbers. */
#ifndef HYBENCH_RNG_H
#define HYBENCH_RNG_H

#include <stdint.h>

typedef struct {
  uint64_t s[4];
} HbRng;

void rng_seed(HbRng *rng, uint64_t seed, uint64_t stream);
uint64_t rng_next(HbRng *rng);
double rng_uniform(HbRng *rng);              /* [0, 1) with 53 random bits */
uint64_t rng_below(HbRng *rng, uint64_t n);  /* uniform in [0, n), unbiased */
double rng_normal(HbRng *rng);               /* standard normal */

#endif
