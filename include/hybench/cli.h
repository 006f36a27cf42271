/* The `hybench` command line: subcommand entry points and one option parser
 * shared by all of them, so every subcommand gets the same --help, the same
 * errors for unknown flags and bad values, and the same exit codes. */
#ifndef HYBENCH_CLI_H
#define HYBENCH_CLI_H

typedef enum {
  HB_OPT_STR,    /* const char * */
  HB_OPT_LONG,   /* long */
  HB_OPT_DOUBLE, /* double */
  HB_OPT_COUNT,  /* long, accepts 1e6, 2.5M, 3k */
  HB_OPT_FLAG,   /* int, set to 1 when present; takes no value */
} HbOptKind;

typedef struct {
  const char *name; /* without the leading "--" */
  HbOptKind kind;
  void *dst;
  const char *help; /* one line; the default is printed from *dst when not required */
  int required;
} HbOpt;

/* Parses argv[1..] (argv[0] is the subcommand name) into opts; the table ends
 * with a {0} entry. --help prints `usage` and the table, then exits 0. An
 * unknown option, a missing or malformed value or a missing required option is
 * an input error (exit 2) naming the option. */
void hb_parse_args(const char *command, const char *usage, HbOpt *opts, int argc, char **argv);
/* Whether option `name` was given on the command line in the last parse. */
int hb_opt_given(const HbOpt *opts, const char *name);

/* The value of a --precision option ("fp32" or "bf16"), made the precision
 * of every product (dnn_set_precision); an input error for another value,
 * and for bf16 on a CPU without native bf16 (neither AMX nor AVX-512 BF16),
 * where oneDNN would emulate it far slower than fp32. Returns the name. */
const char *hb_precision_option(const char *command, const char *text);

/* Subcommands: each returns the process exit code. */
int cmd_gendata(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_scale_model(int argc, char **argv);

#endif
