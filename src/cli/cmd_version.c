/* `hybench version`: what built this binary, what it links and the machine
 * class it runs on (include/hybench/machine.h), as `key = value` lines: the
 * body of every result's .meta sidecar (scripts/write-meta.sh adds the git
 * revision, date and thread count). */
#include <gsl/gsl_version.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>

#include "hybench/cli.h"
#include "hybench/machine.h"

#ifndef HB_BUILD_FLAGS
#define HB_BUILD_FLAGS "unknown"
#endif

int cmd_version(int argc, char **argv) {
  HbOpt opts[] = {{0}};
  hb_parse_args("version", "version\n\nPrints the build flags, library versions and the machine class (key = value).", opts, argc, argv);
  const dnnl_version_t *v = dnnl_version();
  printf("hybench_build_flags = %s\n", HB_BUILD_FLAGS);
  printf("compiler = gcc %d.%d.%d\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
  printf("onednn = %d.%d.%d (%s, cpu runtime %u)\n", v->major, v->minor, v->patch, v->hash, v->cpu_runtime);
  printf("gsl = %s\n", gsl_version);
  HbMachine m;
  hb_machine_describe(&m);
  printf("cpu_vendor = %s\n", m.vendor);
  printf("cpu_family = %s\n", m.family);
  printf("cpu_model = %s\n", m.model);
  printf("cpu_stepping = %s\n", m.stepping);
  printf("cpu_model_name = %s\n", m.model_name);
  printf("cpu_flags = avx512f:%s avx512_bf16:%s amx_bf16:%s\n", m.avx512f ? "yes" : "no",
         m.avx512_bf16 ? "yes" : "no", m.amx_bf16 ? "yes" : "no");
  printf("cpus = %d\n", m.n_cpus);
  printf("onednn_isa = %s\n", m.onednn_isa);
  return 0;
}
