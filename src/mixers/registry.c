/* Layer letter -> mixer. A letter is implemented exactly when it is here. */
#include "hybench/attention.h"
#include "hybench/gdn.h"
#include "hybench/lightning.h"
#include "hybench/mamba2.h"
#include "hybench/mixer.h"

static const MixerOps *const MIXERS[] = {&attention_full_ops, &attention_sliding_ops, &lightning_ops, &mamba2_ops, &gdn_ops};

const MixerOps *mixer_ops(char letter) {
  for (size_t i = 0; i < sizeof MIXERS / sizeof MIXERS[0]; i++)
    if (MIXERS[i]->letter == letter) return MIXERS[i];
  return NULL;
}
