/* TSV reader and writer: parsing (CRLF, blank lines, column lookup, numbers),
 * located errors (file, row, line, column), the writer's %.9g numbers and its
 * atomic commit / abort, grouping rows by key columns, and a table whose
 * columns are described once (header, rows and --help from one list). */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "hybench/tsv.h"
#include "testutil.h"

static char dir[] = "/tmp/hb_test_tsv_XXXXXX";

static void write_text(const char *path, const char *text) {
  FILE *fp = fopen(path, "wb");
  if (!fp) HB_FATAL("cannot write %s", path);
  fputs(text, fp);
  fclose(fp);
}

static void test_read(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/a.tsv", dir);
  /* CRLF endings, a blank line before and inside the data, a text column. */
  write_text(path, "\nmodel\tseed\tloss\r\nsf\t1\t2.5\r\n\nswa\t2\t1e-3\r\nmamba\t3\tabc\n");
  HbTsv t;
  hb_tsv_read(&t, path);
  CHECK(t.n_cols == 3 && t.n_rows == 3, "shape %d x %d, want 3 x 3", t.n_rows, t.n_cols);
  CHECK(t.header_line == 2, "header on line %d, want 2", t.header_line);
  CHECK(t.line[0] == 3 && t.line[1] == 5 && t.line[2] == 6, "data lines %d %d %d, want 3 5 6", t.line[0],
        t.line[1], t.line[2]);
  int loss = hb_tsv_col(&t, "loss"), model = hb_tsv_require_col(&t, "model");
  CHECK(loss == 2 && model == 0, "columns loss=%d model=%d", loss, model);
  CHECK(hb_tsv_col(&t, "nope") == -1, "absent column gives -1");
  CHECK(strcmp(hb_tsv_str(&t, 1, model), "swa") == 0, "cell text '%s'", hb_tsv_str(&t, 1, model));
  CHECK(hb_tsv_double(&t, 0, loss) == 2.5, "2.5 parsed as %g", hb_tsv_double(&t, 0, loss));
  CHECK(hb_tsv_double(&t, 1, loss) == 1e-3, "1e-3 parsed (the \\r is gone)");
  double v;
  CHECK(!hb_tsv_parse_double(&t, 2, loss, &v), "'abc' is not a number");
  char where[256];
  hb_tsv_where(where, sizeof where, &t, 2, loss);
  CHECK(strstr(where, "a.tsv:6 (row 3), column loss") != NULL, "location '%s'", where);
  EXPECT_INPUT_ERROR(hb_tsv_double(&t, 2, loss), "a.tsv:6 (row 3), column loss: 'abc' is not a number");
  EXPECT_INPUT_ERROR(hb_tsv_require_col(&t, "far_acc"), "column far_acc: missing");
  hb_tsv_free(&t);
  printf("read: 3 rows, CRLF and blank lines handled, errors located\n");
}

static void test_read_errors(void) {
  char path[256];
  HbTsv t;
  snprintf(path, sizeof path, "%s/ragged.tsv", dir);
  write_text(path, "a\tb\n1\t2\n3\n");
  EXPECT_INPUT_ERROR(hb_tsv_read(&t, path), "ragged.tsv:3 (row 2): 1 cells, the header has 2");
  snprintf(path, sizeof path, "%s/dup.tsv", dir);
  write_text(path, "a\tb\ta\n1\t2\t3\n");
  EXPECT_INPUT_ERROR(hb_tsv_read(&t, path), "column a: the name appears twice");
  snprintf(path, sizeof path, "%s/empty.tsv", dir);
  write_text(path, "\n\n");
  EXPECT_INPUT_ERROR(hb_tsv_read(&t, path), "empty file");
  snprintf(path, sizeof path, "%s/absent.tsv", dir);
  EXPECT_INPUT_ERROR(hb_tsv_read(&t, path), "absent.tsv: cannot open");
  printf("read errors: ragged row, duplicate column, empty and absent file\n");
}

static void test_write(void) {
  char path[256], tmp_glob[300];
  snprintf(path, sizeof path, "%s/out.tsv", dir);
  const char *header[] = {"model", "seed", "x"};
  HbTsvWriter w;
  hb_tsv_writer_open(&w, path, header, 3);
  CHECK(!hb_file_exists(path), "nothing at the path before the commit");
  hb_tsv_put_str(&w, "sf");
  hb_tsv_put_long(&w, 7);
  hb_tsv_put_double(&w, 1.0 / 3.0);
  hb_tsv_end_row(&w);
  hb_tsv_put_str(&w, "");
  hb_tsv_put_long(&w, -1);
  hb_tsv_put_double(&w, NAN);
  hb_tsv_end_row(&w);
  hb_tsv_writer_commit(&w);
  size_t len;
  char *text = hb_read_file(path, &len);
  const char *want = "model\tseed\tx\nsf\t7\t0.333333333\n-\t-1\tnan\n";
  CHECK(strcmp(text, want) == 0, "file text:\n%s\nwant:\n%s", text, want);
  free(text);
  HbTsv t;
  hb_tsv_read(&t, path);
  CHECK(t.n_rows == 2 && fabs(hb_tsv_double(&t, 0, 2) - 1.0 / 3.0) < 1e-9, "reads back (%.9g)",
        hb_tsv_double(&t, 0, 2));
  hb_tsv_free(&t);

  snprintf(path, sizeof path, "%s/aborted.tsv", dir);
  hb_tsv_writer_open(&w, path, header, 3);
  hb_tsv_put_str(&w, "half");
  snprintf(tmp_glob, sizeof tmp_glob, "%s", w.out.tmp_path);
  CHECK(hb_file_exists(tmp_glob), "the temporary file exists while writing");
  hb_tsv_writer_abort(&w);
  CHECK(!hb_file_exists(path) && !hb_file_exists(tmp_glob), "abort leaves neither file nor temporary");
  printf("write: %%.9g numbers, nan, '-' for empty text, atomic commit, abort leaves nothing\n");
}

static void test_group(void) {
  char path[256], key[64];
  snprintf(path, sizeof path, "%s/runs.tsv", dir);
  write_text(path, "model\tseed\tx\nsf\t1\t1\nff\t1\t2\nsf\t2\t3\nsf\t1\t4\nff\t1\t5\n");
  HbTsv t;
  hb_tsv_read(&t, path);
  int group[5], by_run[] = {0, 1}, by_model[] = {0};
  int n = hb_tsv_group_rows(group, &t, by_run, 2);
  CHECK(n == 3 && group[0] == 0 && group[1] == 1 && group[2] == 2 && group[3] == 0 && group[4] == 1,
        "runs (model, seed) in order of first appearance: %d groups, %d %d %d %d %d", n, group[0], group[1], group[2],
        group[3], group[4]);
  n = hb_tsv_group_rows(group, &t, by_model, 1);
  CHECK(n == 2 && group[2] == 0 && group[4] == 1, "models: %d groups", n);
  n = hb_tsv_group_rows(group, &t, NULL, 0);
  CHECK(n == 1 && group[4] == 0, "no columns: one group (%d)", n);
  CHECK(strcmp(hb_tsv_key_text(key, sizeof key, &t, 2, by_run, 2), "model=sf seed=2") == 0, "key text '%s'", key);
  CHECK(strcmp(hb_tsv_key_text(key, sizeof key, &t, 2, by_run, 0), "") == 0, "no key columns: '%s'", key);
  CHECK(strcmp(hb_tsv_key_text(key, 9, &t, 2, by_run, 2), "model=sf") == 0, "truncated key text '%s'", key);
  hb_tsv_free(&t);
  printf("group rows: runs and models in order of first appearance, key text\n");
}

/* A table described once: header, rows and --help text from one X-macro list. */
#define TOY_COLUMNS(X, X_IF)                       \
  X("model", str, model[i], "the model")           \
  X("loss", double, loss[i], "nats")               \
  X_IF(with_ppl, "ppl", double, exp(loss[i]), "e^loss") \
  X("seed", long, i + 1, "the seed")

static void test_columns(void) {
  const char *model[] = {"sf", "ff"};
  const double loss[] = {0, 1};
  char path[256];
  snprintf(path, sizeof path, "%s/cols.tsv", dir);
  for (int with_ppl = 0; with_ppl < 2; with_ppl++) {
    const HbColumn cols[] = {TOY_COLUMNS(HB_COLUMN, HB_COLUMN_IF)};
    const char *keys[] = {"run"};
    HbTsvWriter writer, *w = &writer;
    hb_tsv_writer_open_columns(w, path, keys, 1, cols, HB_NCOLS(cols));
    for (int i = 0; i < 2; i++) {
      hb_tsv_put_str(w, "r");
      TOY_COLUMNS(HB_PUT, HB_PUT_IF)
      hb_tsv_end_row(w);
    }
    hb_tsv_writer_commit(w);
    char *text = hb_read_file(path, NULL);
    const char *want = with_ppl ? "run\tmodel\tloss\tppl\tseed\nr\tsf\t0\t1\t1\nr\tff\t1\t2.71828183\t2\n"
                                : "run\tmodel\tloss\tseed\nr\tsf\t0\t1\nr\tff\t1\t2\n";
    CHECK(strcmp(text, want) == 0, "with_ppl %d: file text:\n%s\nwant:\n%s", with_ppl, text, want);
    free(text);
  }
  static const HbColumn doc[] = {TOY_COLUMNS(HB_COLUMN, HB_COLUMN_DOC_IF)};
  const HbTableDoc tables[] = {{"--out T.tsv", doc, HB_NCOLS(doc)}};
  char *usage = hb_usage_with_tables("toy.", tables, 1);
  const char *want = "toy.\n\n--out T.tsv:\n  model              the model\n  loss               nats\n"
                     "  ppl                e^loss\n  seed               the seed";
  CHECK(strcmp(usage, want) == 0, "usage:\n%s\nwant:\n%s", usage, want);
  free(usage);
  printf("columns described once: header, conditional column, rows and help from one list\n");
}

int main(void) {
  if (!mkdtemp(dir)) HB_FATAL("mkdtemp %s failed", dir);
  test_read();
  test_read_errors();
  test_write();
  test_group();
  test_columns();
  const char *names[] = {"a.tsv", "ragged.tsv", "dup.tsv", "empty.tsv", "out.tsv", "runs.tsv", "cols.tsv"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    remove(path);
  }
  rmdir(dir);
  TEST_MAIN_END();
}
