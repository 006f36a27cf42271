/* `hybench gen-data`: datasets with planted long-range dependencies. */
#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/dataset.h"

int cmd_gendata(int argc, char **argv) {
  const char *spec_path = NULL, *split = "train", *out = NULL;
  long seed = 1;
  HbOpt opts[] = {
      {"spec", HB_OPT_STR, &spec_path, "dataset spec (datasets/*.conf)", 1},
      {"split", HB_OPT_STR, &split, "train, val or test (disjoint haystack text)", 0},
      {"seed", HB_OPT_LONG, &seed, "generation seed", 0},
      {"out", HB_OPT_STR, &out, "output token file; OUT.labels, OUT.deps.tsv, OUT.info beside it", 1},
      {0},
  };
  hb_parse_args("gen-data",
                "gen-data --spec datasets/NAME.conf --split train|val|test --seed S --out FILE\n\n"
                "Generates a split as a pure function of (spec, split, seed): the token file, a label per\n"
                "token (text / planted / answer), every planted dependency with its distance, and an\n"
                "info file. See include/hybench/dataset.h for the formats and the vocabulary layout.",
                opts, argc, argv);
  if (seed < 0) hb_input_error("gen-data --seed", "must be >= 0");
  DatasetSpec spec;
  dataset_spec_load(&spec, spec_path);
  dataset_generate(&spec, spec_path, split, (uint64_t)seed, out);
  return 0;
}
