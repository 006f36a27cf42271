/* TSV reader and writer: parsing (CRLF, blank lines, column lookup, numbers),
 * located errors (file, row, line, column), the writer's %.9g numbers and its
 * atomic commit / abort. */
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

int main(void) {
  if (!mkdtemp(dir)) HB_FATAL("mkdtemp %s failed", dir);
  test_read();
  test_read_errors();
  test_write();
  const char *names[] = {"a.tsv", "ragged.tsv", "dup.tsv", "empty.tsv", "out.tsv"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    remove(path);
  }
  rmdir(dir);
  TEST_MAIN_END();
}
