/* The machine class a result was made on: what decides whether two runs of
 * the same code can be bit-identical. Training amplifies a last-bit rounding
 * difference into another, equally valid trajectory, so results compare bit
 * for bit only within one class (scripts/check-results.sh, hybench check):
 *   CPU vendor, family, model and stepping (/proc/cpuinfo): -march=native and
 *     oneDNN's kernels are chosen from them;
 *   the ISA oneDNN actually dispatches to (dnnl_get_effective_cpu_isa);
 *   the compiler and the build flags (in `hybench version`).
 * The model name is kept for people: two classes can print the same one.
 * The flags that matter for the engine (avx512f, avx512_bf16, amx_bf16) are
 * recorded too, though the family/model/stepping already imply them. */
#ifndef HYBENCH_MACHINE_H
#define HYBENCH_MACHINE_H

typedef struct {
  char vendor[32];      /* e.g. GenuineIntel, AuthenticAMD; "unknown" when unreadable */
  char family[16];      /* decimal, as /proc/cpuinfo prints it */
  char model[16];
  char stepping[16];
  char model_name[128];
  int avx512f, avx512_bf16, amx_bf16; /* 1 when the CPU flag is present */
  int n_cpus;           /* online processors */
  char onednn_isa[32];  /* e.g. avx512_core_amx, avx2 */
} HbMachine;

/* Fills m from /proc/cpuinfo and oneDNN; fields it cannot read are "unknown". */
void hb_machine_describe(HbMachine *m);

#endif
