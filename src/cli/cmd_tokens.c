/* `hybench tokens`: token files from raw bytes or from integer .npy arrays,
 * token files to the (B, T) int32 .npy batches of the interop contract, and a
 * summary of a token file.
 * Every input is validated before an output is opened, so a failed command
 * leaves nothing behind. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hybench/cli.h"
#include "hybench/common.h"
#include "hybench/tensorio.h"

/* hb_read_file on a directory would ask for an absurd allocation (ftell of a
 * directory is not its size), so refuse anything but a regular file first. */
static void require_regular_file(const char *path) {
  struct stat sb;
  if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) hb_input_error(path, "not a regular file");
}

/* --vocab becomes the u32 vocab field of the .tok header. */
static void check_vocab_option(const char *command, long vocab) {
  if (vocab < 1 || vocab > (long)UINT32_MAX) {
    char where[128];
    snprintf(where, sizeof where, "%s --vocab", command);
    hb_input_error(where, "%ld is outside [1, %" PRIu32 "]", vocab, UINT32_MAX);
  }
}

static int tokens_from_bytes(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  long vocab = 256;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in, "input file; each byte becomes one token id 0-255", 1},
      {"out", HB_OPT_STR, &out, "output token file (.tok)", 1},
      {"vocab", HB_OPT_LONG, &vocab, "vocab written to the header; every byte must be below it", 0},
      {0},
  };
  hb_parse_args("tokens from-bytes", "Converts raw bytes into a token file: byte b becomes id b.", opts, argc,
                argv);
  check_vocab_option("tokens from-bytes", vocab);

  size_t len;
  require_regular_file(in);
  unsigned char *bytes = (unsigned char *)hb_read_file(in, &len);
  uint32_t *ids = hb_malloc(len * sizeof *ids); /* (len); len < SIZE_MAX / 4 as it was read */
  for (size_t i = 0; i < len; i++) {
    if (bytes[i] >= vocab) {
      char where[512];
      snprintf(where, sizeof where, "%s: byte %zu", in, i);
      unsigned value = bytes[i];
      free(bytes);
      free(ids);
      hb_input_error(where, "value %u >= --vocab %ld", value, vocab);
    }
    ids[i] = bytes[i];
  }
  hb_tokens_write(out, ids, len, (uint32_t)vocab);
  free(bytes);
  free(ids);
  return 0;
}

/* The values of an integer (B, T) .npy, row after row, as ids; each must lie
 * in [0, vocab). *count gets B * T. */
static uint32_t *ids_from_npy(uint64_t *count, const char *path, long vocab) {
  int64_t rows, cols;
  int64_t *values = hb_npy_read_int2d(path, &rows, &cols); /* (rows, cols); dtype and shape checked there */
  const uint64_t n = (uint64_t)rows * (uint64_t)cols;     /* fits: the reader held n int64 values */
  uint32_t *ids = hb_malloc((size_t)n * sizeof *ids);      /* (n) */
  for (uint64_t i = 0; i < n; i++) {
    if (values[i] < 0 || values[i] >= vocab) {
      char where[512];
      snprintf(where, sizeof where, "%s: element [%" PRIu64 ", %" PRIu64 "]", path, i / (uint64_t)cols,
               i % (uint64_t)cols);
      int64_t value = values[i];
      free(values);
      free(ids);
      hb_input_error(where, "value %" PRId64 " is outside [0, --vocab %ld)", value, vocab);
    }
    ids[i] = (uint32_t)values[i];
  }
  free(values);
  *count = n;
  return ids;
}

static int tokens_from_npy(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  long vocab = 0;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in, "input .npy: integer (B, T), e.g. int32 or int64, C order", 1},
      {"out", HB_OPT_STR, &out, "output token file (.tok)", 1},
      {"vocab", HB_OPT_LONG, &vocab, "vocab written to the header; every value must be in [0, vocab)", 1},
      {0},
  };
  hb_parse_args("tokens from-npy", "Converts an integer .npy array into a token file, row after row.", opts,
                argc, argv);
  check_vocab_option("tokens from-npy", vocab);
  uint64_t count;
  uint32_t *ids = ids_from_npy(&count, in, vocab); /* (count) */
  hb_tokens_write(out, ids, count, (uint32_t)vocab);
  free(ids);
  return 0;
}

/* A rows x cols window of the corpus starting at token `offset`, as int32. */
static int32_t *tokens_window(const HbTokens *tok, const char *path, uint64_t offset, int64_t rows, int64_t cols) {
  uint64_t need = (uint64_t)rows * (uint64_t)cols;
  if (offset > tok->count || need > tok->count - offset) {
    char where[512];
    snprintf(where, sizeof where, "%s: count", path);
    hb_input_error(where,
                   "%" PRIu64 " tokens, but --offset %" PRIu64 " + --batch %" PRId64 " x --seq-len %" PRId64
                   " needs %" PRIu64,
                   tok->count, offset, rows, cols, offset + need);
  }
  int32_t *dst = hb_malloc((size_t)need * sizeof *dst); /* (rows, cols) */
  for (uint64_t i = 0; i < need; i++) {
    uint32_t id = tok->ids[offset + i];
    if (id > INT32_MAX) {
      char where[512];
      snprintf(where, sizeof where, "%s: token %" PRIu64, path, offset + i);
      hb_input_error(where, "id %" PRIu32 " does not fit in int32", id);
    }
    dst[i] = (int32_t)id;
  }
  return dst;
}

static int tokens_to_npy(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  long seq_len = 0, batch = 0, offset = 0;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in, "input token file (.tok)", 1},
      {"seq-len", HB_OPT_COUNT, &seq_len, "T, tokens per row", 1},
      {"batch", HB_OPT_COUNT, &batch, "B, number of rows", 1},
      {"offset", HB_OPT_COUNT, &offset, "index of the first token taken", 0},
      {"out", HB_OPT_STR, &out, "output .npy, int32 (B, T)", 1},
      {0},
  };
  hb_parse_args("tokens to-npy", "Writes B consecutive rows of T tokens, starting at --offset, as an int32 .npy.",
                opts, argc, argv);
  if (seq_len < 1) hb_input_error("tokens to-npy --seq-len", "%ld, must be >= 1", seq_len);
  if (batch < 1) hb_input_error("tokens to-npy --batch", "%ld, must be >= 1", batch);
  /* B * T must fit the (B, T) int64 shape and a size_t buffer of int32. */
  if (batch > (long)(SIZE_MAX / sizeof(int32_t) / 2) / seq_len)
    hb_input_error("tokens to-npy --batch", "%ld x --seq-len %ld is too many tokens", batch, seq_len);

  HbTokens tok;
  hb_tokens_read(&tok, in, 0);
  int32_t *window = tokens_window(&tok, in, (uint64_t)offset, batch, seq_len); /* (B, T) */
  const int64_t shape[2] = {batch, seq_len};
  hb_npy_write_i32(out, window, 2, shape);
  free(window);
  hb_tokens_free(&tok);
  return 0;
}

static int tokens_info(int argc, char **argv) {
  const char *in = NULL;
  HbOpt opts[] = {
      {"in", HB_OPT_STR, &in, "token file (.tok)", 1},
      {0},
  };
  hb_parse_args("tokens info", "Prints `key = value` lines: file, count, vocab, min_id, max_id.", opts, argc,
                argv);
  HbTokens tok;
  hb_tokens_read(&tok, in, 0);
  uint32_t lo = UINT32_MAX, hi = 0;
  for (uint64_t i = 0; i < tok.count; i++) {
    if (tok.ids[i] < lo) lo = tok.ids[i];
    if (tok.ids[i] > hi) hi = tok.ids[i];
  }
  printf("file = %s\ncount = %" PRIu64 "\nvocab = %" PRIu32 "\n", in, tok.count, tok.vocab);
  if (tok.count) printf("min_id = %" PRIu32 "\nmax_id = %" PRIu32 "\n", lo, hi);
  else printf("min_id = none\nmax_id = none\n");
  hb_tokens_free(&tok);
  return 0;
}

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} tokens_commands[] = {
    {"from-bytes", tokens_from_bytes, "--in FILE --out X.tok [--vocab V]: each byte becomes one id"},
    {"from-npy", tokens_from_npy, "--in X.npy --out X.tok --vocab V: an integer (B, T) array, row after row"},
    {"to-npy", tokens_to_npy, "--in X.tok --seq-len T --batch B [--offset O] --out TOK.npy: int32 (B, T)"},
    {"info", tokens_info, "--in X.tok: count, vocab, min and max id"},
};
#define N_TOKENS_COMMANDS (sizeof tokens_commands / sizeof tokens_commands[0])

static void tokens_usage(void) {
  printf("usage: hybench tokens SUBCOMMAND [options]   (hybench tokens SUBCOMMAND --help for each)\n\n"
         "subcommands:\n");
  for (size_t i = 0; i < N_TOKENS_COMMANDS; i++)
    printf("  %-11s %s\n", tokens_commands[i].name, tokens_commands[i].summary);
}

/* argv[0] is "tokens", argv[1] the subcommand; each subcommand parses
 * argv[1..] so its own name is the parser's argv[0]. */
int cmd_tokens(int argc, char **argv) {
  if (argc < 2) hb_input_error("tokens", "missing subcommand (from-bytes, from-npy, to-npy or info; see --help)");
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
    tokens_usage();
    return 0;
  }
  for (size_t i = 0; i < N_TOKENS_COMMANDS; i++)
    if (strcmp(sub, tokens_commands[i].name) == 0) return tokens_commands[i].run(argc - 1, argv + 1);
  hb_input_error("tokens", "unknown subcommand '%s' (from-bytes, from-npy, to-npy or info; see --help)", sub);
}
