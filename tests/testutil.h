/* Minimal test harness: CHECK records a failure with file:line and goes on;
 * TEST_MAIN_END prints "N checks, N failed" and returns non-zero on failure. */
#ifndef HYBENCH_TESTUTIL_H
#define HYBENCH_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "hybench/common.h"

static int tu_checks, tu_failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    tu_checks++;                                                               \
    if (!(cond)) {                                                             \
      tu_failures++;                                                           \
      fprintf(stderr, "%s:%d: FAILED `%s`: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

/* Relative error that stays meaningful near zero. */
static inline double tu_rel_err(double a, double b) {
  double den = fabs(a) + fabs(b);
  return den < 1e-12 ? 0.0 : 2.0 * fabs(a - b) / den;
}

/* Input-error capture: EXPECT_INPUT_ERROR(stmt, "substring") runs stmt and
 * checks that it raised hb_input_error with a message containing substring. */
static jmp_buf tu_jmp;
static char tu_msg[1024];
__attribute__((unused)) static void tu_hook(const char *message) {
  snprintf(tu_msg, sizeof tu_msg, "%s", message);
  longjmp(tu_jmp, 1);
}
#define EXPECT_INPUT_ERROR(stmt, substring)                                    \
  do {                                                                         \
    tu_msg[0] = '\0';                                                          \
    hb_set_input_error_hook(tu_hook);                                          \
    if (setjmp(tu_jmp) == 0) {                                                 \
      stmt;                                                                    \
      CHECK(0, "expected an input error containing '%s'", substring);          \
    } else {                                                                   \
      CHECK(strstr(tu_msg, substring) != NULL, "message '%s' lacks '%s'",      \
            tu_msg, substring);                                                \
    }                                                                          \
    hb_set_input_error_hook(NULL);                                             \
  } while (0)

#define TEST_MAIN_END()                                                        \
  do {                                                                         \
    printf("%d checks, %d failed\n", tu_checks, tu_failures);                  \
    return tu_failures ? 1 : 0;                                                \
  } while (0)

#endif
