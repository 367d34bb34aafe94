/*
 * The checking macros shared by the C tests: CHECK(cond) and CHECK_STATUS(call, expected) count checks and
 * failures and print the last error on a failure; str_eq and contains are NULL-safe string helpers.
 * Include it once, after toron.h, <stdio.h> and <string.h>.
 */
#ifndef TORON_TEST_CHECK_H
#define TORON_TEST_CHECK_H

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                         \
  do {                                                                                      \
    checks++;                                                                               \
    if (!(cond)) {                                                                          \
      failures++;                                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              toron_last_error_message());                                                  \
    }                                                                                       \
  } while (0)

#define CHECK_STATUS(call, expected)                                                              \
  do {                                                                                            \
    toron_status got_ = (call);                                                                   \
    checks++;                                                                                     \
    if (got_ != (expected)) {                                                                     \
      failures++;                                                                                 \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__, \
              #call, toron_status_name((int)got_), #expected, toron_last_error_message());         \
    }                                                                                             \
  } while (0)

static inline int str_eq(const char *a, const char *b) { return a != NULL && b != NULL && strcmp(a, b) == 0; }
static inline int contains(const char *haystack, const char *needle) {
  return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

#endif
