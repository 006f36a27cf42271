/* hybench: one CLI, one subcommand per stage of the data flow
 * (gen-data -> init/train -> eval/trace/probe -> fit); see --help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybench/cli.h"

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
    {"gen-data", cmd_gendata, "generate a dataset split with planted long-range dependencies"},
    {"init", cmd_init, "write a randomly initialised checkpoint of a model config"},
    {"scale-model", cmd_scale_model, "a model config of the E2 scaling grid: the base at another width"},
    {"train", cmd_train, "train a model on a token file; metrics, checkpoints, resume"},
    {"eval", cmd_eval, "short loss, LongPPL, retrieval and NIAH accuracy of a checkpoint on a dataset"},
    {"forward", cmd_forward, "logits (and gradients) of a checkpoint on a .npy batch (interop)"},
    {"tokens", cmd_tokens, "convert between token files and raw bytes / .npy"},
    {"bench", cmd_bench, "throughput benchmarks (bench step)"},
    {"fit", cmd_fit, "GSL fits: scaling laws and emergence points"},
    {"run", cmd_run, "a run directory of train as a TSV row (run info): model, seed, final checkpoint, ..."},
    {"trace", cmd_trace, "retrieval heads, their entropy and Q/K drift over a run; gradient influence"},
    {"probe", cmd_probe, "layer-wise logistic-regression probes of the needle's class"},
    {"check", cmd_check, "the paper's claims over result tables; regression against a reference"},
    {"version", cmd_version, "build flags and library versions (the body of .meta sidecars)"},
};

static void usage(FILE *fp) {
  fprintf(fp, "usage: hybench COMMAND [options]   (hybench COMMAND --help for each)\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

/* OpenMP threads wait passively (sleep at once) unless the environment says
 * otherwise. libgomp's default spins first; measured on the 2-core machine
 * (bench/bench-step.sh, FFFF reference shape, 2 threads): spinning gives 36k
 * tokens/s idle but 11k with one core busy elsewhere (0.30x, below 1 thread),
 * passive 32k idle and 18k busy (0.50x: it loses the busy core, not more).
 * The 1-thread runs of the pipeline are unaffected either way. libgomp reads
 * the variable when it loads, before main, hence one re-execution; set
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT yourself to choose otherwise. */
static void wait_passively(char **argv) {
  if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
  const char *engine_commands[] = {"train", "bench", "eval", "forward", "trace", "probe"};
  for (size_t i = 0; i < sizeof engine_commands / sizeof engine_commands[0]; i++)
    if (strcmp(argv[1], engine_commands[i]) == 0) {
      setenv("OMP_WAIT_POLICY", "passive", 1);
      execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
      return;
    }
}

int main(int argc, char **argv) {
  if (argc >= 2) wait_passively(argv);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "hybench: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
