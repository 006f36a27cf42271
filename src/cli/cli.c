#include "hybench/cli.h"
#include "hybench/dnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybench/common.h"

#define HB_MAX_OPTS 64

static unsigned char given[HB_MAX_OPTS];

static const char *kind_value_name(HbOptKind kind) {
  switch (kind) {
  case HB_OPT_STR: return "STR";
  case HB_OPT_LONG: return "INT";
  case HB_OPT_DOUBLE: return "X";
  case HB_OPT_COUNT: return "N";
  case HB_OPT_FLAG: return "";
  }
  return "";
}

static void print_default(const HbOpt *o) {
  switch (o->kind) {
  case HB_OPT_STR:
    if (*(const char **)o->dst) printf(" (default %s)", *(const char **)o->dst);
    break;
  case HB_OPT_LONG:
  case HB_OPT_COUNT: printf(" (default %ld)", *(long *)o->dst); break;
  case HB_OPT_DOUBLE: printf(" (default %g)", *(double *)o->dst); break;
  case HB_OPT_FLAG: break;
  }
}

static void print_help(const char *command, const char *usage, const HbOpt *opts) {
  printf("usage: hybench %s\n\n%s\n\noptions:\n", command, usage);
  for (const HbOpt *o = opts; o->name; o++) {
    char head[96];
    snprintf(head, sizeof head, "--%s %s", o->name, kind_value_name(o->kind));
    printf("  %-26s %s", head, o->help);
    if (o->required) printf(" (required)");
    else print_default(o);
    printf("\n");
  }
  printf("  %-26s %s\n", "--help", "print this help and exit");
}

static void set_value(const char *command, const HbOpt *o, const char *value) {
  char where[160];
  snprintf(where, sizeof where, "%s --%s", command, o->name);
  switch (o->kind) {
  case HB_OPT_STR: *(const char **)o->dst = value; break;
  case HB_OPT_LONG:
    if (!hb_parse_long(value, (long *)o->dst)) hb_input_error(where, "'%s' is not an integer", value);
    break;
  case HB_OPT_COUNT:
    if (!hb_parse_count(value, (long *)o->dst))
      hb_input_error(where, "'%s' is not a count (e.g. 1000, 1e6, 2.5M)", value);
    break;
  case HB_OPT_DOUBLE:
    if (!hb_parse_double(value, (double *)o->dst)) hb_input_error(where, "'%s' is not a number", value);
    break;
  case HB_OPT_FLAG: *(int *)o->dst = 1; break;
  }
}

void hb_parse_args(const char *command, const char *usage, HbOpt *opts, int argc, char **argv) {
  int n = 0;
  while (opts[n].name) n++;
  HB_ASSERT(n <= HB_MAX_OPTS, "option tables are small");
  memset(given, 0, sizeof given);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      print_help(command, usage, opts);
      exit(0);
    }
    if (strncmp(arg, "--", 2) != 0)
      hb_input_error(command, "unexpected argument '%s' (options start with --; see --help)", arg);
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int k = -1;
    for (int j = 0; j < n; j++)
      if (strlen(opts[j].name) == len && strncmp(opts[j].name, name, len) == 0) k = j;
    if (k < 0) hb_input_error(command, "unknown option '%.*s' (see --help)", (int)len + 2, arg);
    const HbOpt *o = &opts[k];
    if (o->kind == HB_OPT_FLAG) {
      if (eq) hb_input_error(command, "option --%s takes no value", o->name);
      set_value(command, o, NULL);
    } else {
      const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
      if (!value) hb_input_error(command, "option --%s needs a value", o->name);
      set_value(command, o, value);
    }
    given[k] = 1;
  }
  for (int j = 0; j < n; j++)
    if (opts[j].required && !given[j])
      hb_input_error(command, "missing required option --%s (see --help)", opts[j].name);
}

int hb_opt_given(const HbOpt *opts, const char *name) {
  for (int j = 0; opts[j].name; j++)
    if (strcmp(opts[j].name, name) == 0) return given[j];
  return 0;
}

const char *hb_precision_option(const char *command, const char *text) {
  DnnPrecision p;
  if (!dnn_precision_parse(text, &p)) hb_input_error(command, "--precision '%s' is not fp32 or bf16", text);
  if (p == DNN_BF16 && !dnn_bf16_native())
    hb_input_error(command,
                   "--precision bf16 needs AMX or AVX-512 BF16, which this CPU lacks (oneDNN's bf16 "
                   "matmul here: %s); use --precision fp32",
                   dnn_bf16_kernel());
  dnn_set_precision(p);
  return dnn_precision_name(p);
}
