/* `hybench version`: what built this binary and what it links, as
 * `key = value` lines: the body of every result's .meta sidecar
 * (scripts/write-meta.sh adds the git revision, date and thread count). */
#include <gsl/gsl_version.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>

#include "hybench/cli.h"

#ifndef HB_BUILD_FLAGS
#define HB_BUILD_FLAGS "unknown"
#endif

int cmd_version(int argc, char **argv) {
  HbOpt opts[] = {{0}};
  hb_parse_args("version", "version\n\nPrints the build flags and library versions (key = value).", opts, argc, argv);
  const dnnl_version_t *v = dnnl_version();
  printf("hybench_build_flags = %s\n", HB_BUILD_FLAGS);
  printf("compiler = gcc %d.%d.%d\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
  printf("onednn = %d.%d.%d (%s, cpu runtime %u)\n", v->major, v->minor, v->patch, v->hash, v->cpu_runtime);
  printf("gsl = %s\n", gsl_version);
  return 0;
}
