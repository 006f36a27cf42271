/* Layer letter -> mixer. A letter is implemented exactly when it is here. */
#include "hybench/mixer.h"

extern const MixerOps attention_full_ops, attention_sliding_ops;
extern const MixerOps lightning_ops;
extern const MixerOps mamba2_ops;
extern const MixerOps gdn_ops;

static const MixerOps *const MIXERS[] = {&attention_full_ops, &attention_sliding_ops, &lightning_ops, &mamba2_ops, &gdn_ops};

const MixerOps *mixer_ops(char letter) {
  for (size_t i = 0; i < sizeof MIXERS / sizeof MIXERS[0]; i++)
    if (MIXERS[i]->letter == letter) return MIXERS[i];
  return NULL;
}
